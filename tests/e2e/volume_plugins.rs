//! Volume plugins end to end: the real test plugin (`tests/plugins/volume_plugin.py`, a unix-
//! socket HTTP server that keeps volumes as directories under its own root and logs every call)
//! serves `volume create -d`, `ls`, `inspect`, `rm`, containers' mounts, and survives being
//! killed and restarted. Plugin sockets live in the global `/run/docker/plugins`, so each test
//! derives a unique plugin name and its guard removes the socket even when the test fails.
//! Where a test says "as dockerd", the expected output and call log were recorded from a
//! dockerd 20.10 driving the same plugin (issue 17).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::*;
use crate::vol_harness::*;

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A running test plugin, killed and its socket removed when dropped.
pub struct TestPlugin {
    pub name: String,
    pub socket: PathBuf,
    pub root: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl TestPlugin {
    /// Starts a plugin with a name no other test (or helper session) uses, its state and call
    /// log under `dir`.
    pub fn start(dir: &Path) -> TestPlugin {
        let name = format!(
            "berth-tp-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let mut p = TestPlugin {
            socket: PathBuf::from(format!("/run/docker/plugins/{name}.sock")),
            root: dir.join(format!("{name}-root")),
            log: dir.join(format!("{name}.log")),
            name,
            child: None,
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/plugins/volume_plugin.py");
        let _ = std::fs::remove_file(&self.socket);
        let child = Command::new("python3")
            .arg(script)
            .arg("--socket")
            .arg(&self.socket)
            .arg("--root")
            .arg(&self.root)
            .arg("--log")
            .arg(&self.log)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs the test plugin");
        self.child = Some(child);
        let socket = self.socket.clone();
        wait_for("the plugin's socket", Duration::from_secs(60), || {
            socket.exists()
        });
    }

    /// Kills the plugin (SIGKILL: its socket file stays, connections are refused).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the plugin again on the same socket and root (it remembers its volumes).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The calls received so far, `Method {json body}`, without the per-process handshake
    /// (`Plugin.Activate`, `VolumeDriver.Capabilities`): berth has no daemon, so each command
    /// activates the plugin, where dockerd does it once.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!("{} {}", v["method"].as_str().unwrap(), v["body"])
            })
            .filter(|c| {
                !c.starts_with("Plugin.Activate") && !c.starts_with("VolumeDriver.Capabilities")
            })
            .collect()
    }

    /// The calls that change the plugin's state (`Create`, `Remove`, `Mount`, `Unmount`), with
    /// caller IDs replaced by `<id>`: what must match dockerd's log call for call (dockerd adds
    /// `Get` calls of its own around them).
    pub fn changes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| {
                ["Create", "Remove", "Mount", "Unmount"]
                    .iter()
                    .any(|m| c.starts_with(&format!("VolumeDriver.{m} ")))
            })
            .collect()
    }

    /// The data directory the plugin serves for `volume`.
    pub fn data(&self, volume: &str) -> PathBuf {
        self.root.join("volumes").join(volume).join("_data")
    }
}

impl Drop for TestPlugin {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[test]
#[ignore = "needs root"]
fn volume_verbs_through_a_plugin_as_dockerd() {
    let b = Berth::new();
    let p = TestPlugin::start(&b.scratch("plugin"));
    let n = p.name.as_str();

    let r = b.run(&["volume", "create", "-d", n, "v1"]).ok();
    assert_eq!(r.stdout, "v1\n");
    assert!(p.data("v1").is_dir());

    // The plugin refuses an option it does not know: its words, nothing recorded.
    let r = b
        .run(&["volume", "create", "-d", n, "-o", "colour=red", "v2"])
        .fails(1);
    assert_eq!(
        r.stderr,
        daemon_error("create v2: VolumeDriver.Create: unknown option colour")
    );
    let r = b
        .run(&["volume", "create", "-d", "berth-no-such-plugin", "v3"])
        .fails(1);
    assert_eq!(
        r.stderr,
        daemon_error("create v3: error looking up volume plugin berth-no-such-plugin: plugin \"berth-no-such-plugin\" not found")
    );
    let r = b.run(&["volume", "create", "v1"]).fails(1);
    assert_eq!(
        r.stderr,
        daemon_error(&format!(
            "create v1: driver '{n}' already has volume 'v1': volume name must be unique"
        ))
    );
    b.run(&["volume", "create", "-d", "local", "lv"]).ok();
    let r = b.run(&["volume", "create", "-d", n, "lv"]).fails(1);
    assert_eq!(
        r.stderr,
        daemon_error(
            "create lv: driver 'local' already has volume 'lv': volume name must be unique"
        )
    );

    let r = b.run(&["volume", "ls"]).ok();
    let width = n.len().max("DRIVER".len()) + 3;
    assert_eq!(
        r.stdout,
        format!(
            "{:width$}VOLUME NAME\n{:width$}lv\n{:width$}v1\n",
            "DRIVER", "local", n
        )
    );
    let r = b
        .run(&["volume", "ls", "-q", "-f", &format!("driver={n}")])
        .ok();
    assert_eq!(r.stdout, "v1\n");

    let r = b.run(&["volume", "inspect", "v1"]).ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v[0],
        serde_json::json!({
            "CreatedAt": "0001-01-01T00:00:00Z",
            "Driver": n,
            "Labels": null,
            "Mountpoint": p.data("v1").display().to_string(),
            "Name": "v1",
            "Options": null,
            "Scope": "local",
            "Status": {"opts": {}, "refs": 0},
        })
    );

    // Plugin volumes are never pruned (dockerd prunes the local driver's only).
    b.run(&["volume", "prune", "-af"]).ok();
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "v1\n");

    let r = b.run(&["volume", "rm", "v1"]).ok();
    assert_eq!(r.stdout, "v1\n");
    assert!(!p.root.join("volumes/v1").exists());
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");

    // dockerd 20.10, same commands, same plugin: the same state changes in the same order.
    assert_eq!(
        p.changes(),
        [
            r#"VolumeDriver.Create {"Name":"v1","Opts":null}"#,
            r#"VolumeDriver.Create {"Name":"v2","Opts":{"colour":"red"}}"#,
            r#"VolumeDriver.Remove {"Name":"v1"}"#,
        ]
    );
}

#[test]
#[ignore = "needs root"]
fn a_plugin_that_is_down_fails_clearly_and_loses_nothing() {
    let b = Berth::new();
    let mut p = TestPlugin::start(&b.scratch("plugin"));
    let n = p.name.clone();
    b.run(&["volume", "create", "-d", &n, "keep"]).ok();
    p.kill();
    // dockerd retries an unreachable plugin for about 15 seconds before giving up.
    let r = b
        .run_timeout(&["volume", "rm", "keep"], Duration::from_secs(120))
        .fails(1);
    // As dockerd: `get keep: error while checking if volume "keep" exists in driver "NAME":
    // Post "http://%2Frun%2Fdocker%2Fplugins%2FNAME.sock/VolumeDriver.Get": dial unix
    // /run/docker/plugins/NAME.sock: connect: connection refused` (berth, activating the plugin
    // in this process, names `Plugin.Activate` instead of `VolumeDriver.Get`).
    let prefix = format!(
        "Error response from daemon: get keep: error while checking if volume \"keep\" exists in driver \"{n}\": Post \"http://%2Frun%2Fdocker%2Fplugins%2F{n}.sock/"
    );
    assert!(r.stderr.starts_with(&prefix), "{r:#?}");
    assert!(
        r.stderr.ends_with(&format!(
            "\": dial unix /run/docker/plugins/{n}.sock: connect: connection refused\n"
        )),
        "{r:#?}"
    );
    // The record stays; the plugin comes back and the volume is there, with its data.
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "keep\n");
    p.restart();
    b.run(&["volume", "inspect", "keep"]).ok();
    b.run(&["volume", "rm", "keep"]).ok();
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");
}
