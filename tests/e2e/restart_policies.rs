//! Restart policies end to end: `--restart on-failure:N` and `always` bring a container back
//! when its process ends (counted in `RestartCount`), and a user's stop, kill or rm ends that.

use crate::harness::*;

fn restart_count(b: &Berth, name: &str) -> i64 {
    b.inspect(name)["RestartCount"].as_i64().unwrap()
}

/// How many times the container's process has run, from its log (one `run` line per run).
fn runs(b: &Berth, name: &str) -> usize {
    b.run(&["logs", name]).ok().stdout.lines().count()
}

#[test]
fn on_failure_restarts_up_to_its_limit_and_only_on_failure() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run_d(&[
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 3",
    ]);
    wait_for("two restarts and a final exit", SOON, || {
        restart_count(&b, "flaky") == 2 && b.status_of("flaky") == "exited"
    });
    let state = &b.inspect("flaky")["State"];
    assert_eq!(state["ExitCode"], 3);
    assert_eq!(runs(&b, "flaky"), 3, "the first run and two restarts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(restart_count(&b, "flaky"), 2, "no restart past the limit");

    // A clean exit is not a failure.
    b.run(&[
        "run",
        "--name",
        "fine",
        "--restart",
        "on-failure",
        "busybox",
        "true",
    ])
    .ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        (b.status_of("fine"), restart_count(&b, "fine")),
        ("exited".to_string(), 0)
    );
}

#[test]
fn always_restarts_until_the_user_stops_kills_or_removes_it() {
    let b = Berth::new();
    b.busybox("busybox");
    let script = "echo run; sleep 0.2";
    for name in ["bystop", "bykill", "byrm", "byrestart"] {
        b.run_d(&[
            "--name",
            name,
            "--restart",
            "always",
            "busybox",
            "sh",
            "-c",
            script,
        ]);
    }
    for name in ["bystop", "bykill", "byrm", "byrestart"] {
        wait_for("two restarts", SOON, || restart_count(&b, name) >= 2);
    }

    b.run(&["stop", "-t", "1", "bystop"]).ok();
    // `kill` needs the process running: between runs Docker's words say to wait.
    wait_for("a kill between restarts", SOON, || {
        let out = b.run(&["kill", "bykill"]);
        assert!(
            out.code == 0
                || out
                    .stderr
                    .contains("is restarting, wait until the container is running")
                || out.stderr.contains("is not running"),
            "{out:?}"
        );
        out.code == 0
    });
    for name in ["bystop", "bykill"] {
        wait_for("the exit", SOON, || b.status_of(name) == "exited");
        let count = restart_count(&b, name);
        std::thread::sleep(std::time::Duration::from_millis(800));
        assert_eq!(
            (b.status_of(name), restart_count(&b, name)),
            ("exited".to_string(), count),
            "{name} stays stopped"
        );
    }
    b.run(&["rm", "-f", "byrm"]).ok();
    assert_eq!(
        b.run(&["ps", "-aq", "--filter", "name=byrm"]).ok().stdout,
        ""
    );

    // A manual restart is not counted, and the policy holds afterwards; so does a start after
    // a stop.
    let before = restart_count(&b, "byrestart");
    b.run(&["restart", "-t", "1", "byrestart"]).ok();
    let after = restart_count(&b, "byrestart");
    assert!(after <= before + 1, "{before} → {after}");
    wait_for("restarts after a manual restart", SOON, || {
        restart_count(&b, "byrestart") >= after + 2
    });
    b.run(&["start", "bystop"]).ok();
    let count = restart_count(&b, "bystop");
    wait_for("restarts after a start", SOON, || {
        restart_count(&b, "bystop") >= count + 2
    });
    b.run(&["rm", "-f", "byrestart", "bystop", "bykill"]).ok();
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}
