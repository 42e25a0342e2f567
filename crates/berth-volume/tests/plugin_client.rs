//! The plugin client against the real test plugin (`tests/plugins/volume_plugin.py`), found
//! through a private discovery folder: every `VolumeDriver` call, dockerd's error forms, and the
//! retry while a plugin starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth_volume::plugin::discovery::Discovery;
use berth_volume::plugin::{PluginError, VolumePlugin};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/plugins/volume_plugin.py")
}

/// The plugin process; killed when dropped.
struct Plugin(Child);

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, name: &str) -> Plugin {
    let child = Command::new("python3")
        .arg(script())
        .arg("--socket")
        .arg(dir.join("run").join(format!("{name}.sock")))
        .arg("--root")
        .arg(dir.join("state"))
        .arg("--log")
        .arg(dir.join("calls.log"))
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs the test plugin");
    Plugin(child)
}

fn wait_socket(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "plugin socket never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn discovery(dir: &Path) -> Discovery {
    Discovery {
        sockets: dir.join("run"),
        specs: vec![dir.join("etc")],
    }
}

fn calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{} {}", v["method"].as_str().unwrap(), v["body"])
        })
        .collect()
}

#[test]
fn every_call_round_trips_with_dockers_error_forms() {
    let d = tempfile::tempdir().unwrap();
    let _p = start(d.path(), "tp");
    wait_socket(&d.path().join("run/tp.sock"));
    let plugin = VolumePlugin::activate(&discovery(d.path()), "tp").unwrap();
    assert_eq!(plugin.capabilities().scope, "local");
    plugin.create("v1", None).unwrap();
    let opts = BTreeMap::from([("size".to_string(), "1m".to_string())]);
    plugin.create("v2", Some(&opts)).unwrap();
    let data = d.path().join("state/volumes/v1/_data");
    assert_eq!(plugin.path("v1").unwrap(), data.display().to_string());
    assert_eq!(
        plugin.mount("v1", "c1").unwrap(),
        data.display().to_string()
    );
    let got = plugin.get("v1").unwrap();
    assert_eq!(got.name, "v1");
    assert_eq!(got.status.unwrap()["refs"], 1);
    let names: Vec<String> = plugin.list().unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["v1", "v2"]);
    // A plugin error on a 500 answer is `METHOD: Err`, as dockerd shows it.
    assert_eq!(
        plugin.remove("v1").unwrap_err().to_string(),
        "VolumeDriver.Remove: volume v1 is in use"
    );
    let bad = BTreeMap::from([("colour".to_string(), "red".to_string())]);
    assert_eq!(
        plugin.create("v3", Some(&bad)).unwrap_err().to_string(),
        "VolumeDriver.Create: unknown option colour"
    );
    plugin.unmount("v1", "c1").unwrap();
    plugin.remove("v1").unwrap();
    assert!(!data.exists());
    assert_eq!(
        calls(d.path()),
        [
            "Plugin.Activate null",
            "VolumeDriver.Capabilities {}",
            r#"VolumeDriver.Create {"Name":"v1","Opts":null}"#,
            r#"VolumeDriver.Create {"Name":"v2","Opts":{"size":"1m"}}"#,
            r#"VolumeDriver.Path {"Name":"v1"}"#,
            r#"VolumeDriver.Mount {"ID":"c1","Name":"v1"}"#,
            r#"VolumeDriver.Get {"Name":"v1"}"#,
            "VolumeDriver.List {}",
            r#"VolumeDriver.Remove {"Name":"v1"}"#,
            r#"VolumeDriver.Create {"Name":"v3","Opts":{"colour":"red"}}"#,
            r#"VolumeDriver.Unmount {"ID":"c1","Name":"v1"}"#,
            r#"VolumeDriver.Remove {"Name":"v1"}"#,
        ]
    );
}

#[test]
fn missing_and_non_volume_plugins_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let disc = discovery(d.path());
    assert_eq!(
        VolumePlugin::activate(&disc, "ghost")
            .unwrap_err()
            .to_string(),
        "plugin \"ghost\" not found"
    );
    // A spec file naming a plain-HTTP server that implements something else.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::fs::create_dir_all(d.path().join("etc")).unwrap();
    std::fs::write(
        d.path().join("etc/other.spec"),
        format!("tcp://127.0.0.1:{port}\n"),
    )
    .unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).unwrap();
        let body = r#"{"Implements":["NetworkDriver"]}"#;
        write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    let err = VolumePlugin::activate(&disc, "other").unwrap_err();
    assert!(matches!(err, PluginError::NotImplemented(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "Plugin does not implement the requested driver"
    );
    server.join().unwrap();
}

#[test]
fn activation_waits_for_a_plugin_that_is_starting() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("run")).unwrap();
    // A socket file nobody listens on yet: connection refused until the plugin binds it.
    let sock = d.path().join("run/slow.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let dir = d.path().to_path_buf();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        start(&dir, "slow")
    });
    let started = Instant::now();
    let plugin = VolumePlugin::activate(&discovery(d.path()), "slow").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1000));
    let _p = starter.join().unwrap();
    plugin.create("x", None).unwrap();
}
