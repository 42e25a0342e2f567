//! Events, daemonless: what any berth process does (the CLI, a container's shim, `berth serve`)
//! is read back by `berth events` and by the docker CLI's `docker events` over the API, in
//! order, with Docker's types, actions and attributes.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::DockerCli;
use crate::harness::*;

/// Now as Docker's `SECONDS.NANOS` timestamp.
fn now() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Type, action, and the actor's name (volumes are named by their ID).
const FORMAT: &str =
    "{{.Type}} {{.Action}} {{with .Actor.Attributes.name}}{{.}}{{else}}{{.Actor.ID}}{{end}}";

#[test]
#[ignore = "needs root"]
fn berth_events_reads_back_what_the_cli_and_the_shim_did() {
    let b = Berth::new();
    b.busybox("busybox");
    let since = now();
    b.run(&["volume", "create", "data"]).ok();
    b.run(&[
        "run", "--name", "one", "-v", "data:/d", "busybox", "sh", "-c", "exit 3",
    ])
    .fails(3);
    b.run(&["tag", "busybox", "mine:1"]).ok();
    b.run(&["network", "create", "evnet"]).ok();
    b.run(&["rm", "one"]).ok();
    b.run(&["network", "rm", "evnet"]).ok();
    let until = now();
    // `berth events` over what happened between `since` and `until`, with `more` flags.
    let past = |more: &[&str]| {
        let mut args = vec!["events", "--since", &since, "--until", &until];
        args.extend_from_slice(more);
        b.run(&args).ok().stdout
    };
    let lines = past(&["--format", FORMAT]);
    let got: Vec<&str> = lines.lines().collect();
    // `die` is the shim's, the rest the CLI's: one log, in the order they happened.
    let want = [
        "volume create data",
        "container create one",
        "container start one",
        "container die one",
        "image tag mine:1",
        "network create evnet",
        "container destroy one",
        "network destroy evnet",
    ];
    let mut at = 0;
    for line in &got {
        if at < want.len() && *line == want[at] {
            at += 1;
        }
    }
    assert_eq!(at, want.len(), "missing {:?} in {got:#?}", want.get(at));
    // Filters as Docker's; the exit code is an attribute of `die`.
    let die = past(&[
        "--filter",
        "event=die",
        "--filter",
        "container=one",
        "--format",
        "{{.Action}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.image}}",
    ]);
    assert_eq!(die, "die 3 busybox\n");
    // The default format: time, type, action, actor, attributes.
    let volumes = past(&["--filter", "type=volume"]);
    assert!(
        volumes.lines().all(|l| l.contains(" volume ")) && volumes.contains("volume mount data"),
        "{volumes}"
    );
    // Docker's JSON.
    let json = past(&[
        "--filter",
        "event=create",
        "--filter",
        "type=container",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["status"], "create");
    assert_eq!(v["from"], "busybox");
    assert_eq!(v["Actor"]["Attributes"]["name"], "one");
    assert_eq!(v["id"], v["Actor"]["ID"]);
    assert_eq!(v["scope"], "local");
    // Bad input is refused with Docker's words.
    let r = b.run(&["events", "--since", &until, "--until", &since]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("cannot be after `until` time"), "{r:?}");
    let r = b.run(&["events", "--until", &until, "--filter", "nope=1"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("Invalid filter 'nope'"), "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn docker_events_follows_what_other_processes_do() {
    let d = DockerCli::start();
    let out = d.b.scratch("events.out");
    let mut follower = d
        .command(&["events", "--filter", "type=container", "--format", FORMAT])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let follower = Kill(&mut follower);
    // The follower is connected once the server answers its request; give it the time to.
    std::thread::sleep(Duration::from_millis(500));
    // Another process (berth's own CLI) acts; the follower sees it.
    d.b.run(&["run", "--name", "two", "busybox", "true"]).ok();
    d.b.run(&["rm", "two"]).ok();
    wait_for("the destroy event", SOON, || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("container destroy two")
    });
    drop(follower);
    let text = std::fs::read_to_string(&out).unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(
        got,
        [
            "container create two",
            "container attach two",
            "container start two",
            "container die two",
            "container destroy two"
        ],
        "{text}"
    );
    // --since/--until over the API: the past only, and the command ends.
    let (code, past, err) = d.run(&[
        "events",
        "--since",
        "0",
        "--until",
        &now(),
        "--filter",
        "event=die",
        "--format",
        "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(past, "two 0\n");
    let (code, _, err) = d.run(&["events", "--filter", "nope=1"]);
    assert_ne!(code, 0);
    assert!(err.contains("Invalid filter 'nope'"), "{err}");
    let (code, _, err) = d.run(&["events", "--since", "20", "--until", "10"]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot be after `until` time"), "{err}");
}
