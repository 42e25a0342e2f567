//! Health checks as a user meets them: an image's `HEALTHCHECK` and `--health-*` run on their
//! interval with no daemon, `State.Health` with its log, `(healthy)` in `ps`, `--filter
//! health=`, `health_status` events, a probe killed at its timeout, the monitor gone with its
//! container; and the same through the docker CLI against `berth serve`.

use std::time::Duration;

use crate::api::DockerCli;
use crate::harness::*;

const WAIT: Duration = Duration::from_secs(60);

fn health(b: &Berth, name: &str) -> serde_json::Value {
    b.inspect(name)["State"]["Health"].clone()
}

#[track_caller]
fn wait_health(b: &Berth, name: &str, status: &str) -> serde_json::Value {
    wait_until(&format!("{name} to be {status}"), WAIT, || {
        let h = health(b, name);
        (h["Status"] == status).then_some(h)
    })
}

fn monitors_of(b: &Berth) -> Vec<i32> {
    processes_of(&b.root())
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .split(|c| *c == 0)
                .any(|a| a == b"health-monitor")
        })
        .collect()
}

#[test]
#[ignore = "needs root"]
fn an_images_healthcheck_runs_on_its_interval_and_shows_in_inspect_ps_and_events() {
    let b = Berth::new();
    b.busybox("busybox");
    let dir = b.scratch("ctx");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM busybox\nHEALTHCHECK --interval=1s --retries=2 CMD test -e /tmp/ok && echo fine\n",
    )
    .unwrap();
    b.run(&["build", "-q", "-t", "hc", dir.to_str().unwrap()])
        .ok();
    b.run_d(&["--name", "hc1", "hc", "sleep", "300"]);
    // Starting until a probe passes; the first failures make it unhealthy after 2 in a row.
    let h = health(&b, "hc1");
    assert!(
        h["Status"] == "starting" || h["Status"] == "unhealthy",
        "{h}"
    );
    let h = wait_health(&b, "hc1", "unhealthy");
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    assert_eq!(h["Log"][0]["ExitCode"], 1, "{h}");
    assert!(b.ps_status("hc1").unwrap().ends_with("(unhealthy)"));
    // It recovers once the check passes.
    b.run(&["exec", "hc1", "touch", "/tmp/ok"]).ok();
    let h = wait_health(&b, "hc1", "healthy");
    assert_eq!(h["FailingStreak"], 0);
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["ExitCode"].clone(), last["Output"].clone()),
        (0.into(), "fine\n".into())
    );
    let status = b.ps_status("hc1").unwrap();
    assert!(
        status.starts_with("Up ") && status.ends_with("(healthy)"),
        "{status}"
    );
    // At most the last five results are kept.
    wait_for("five results", WAIT, || {
        health(&b, "hc1")["Log"].as_array().unwrap().len() == 5
    });
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(health(&b, "hc1")["Log"].as_array().unwrap().len(), 5);

    // --no-healthcheck switches the image's off; health=none finds it.
    b.run_d(&["--name", "nohc", "--no-healthcheck", "hc", "sleep", "300"]);
    let n = b.inspect("nohc");
    assert_eq!(
        n["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    assert!(n["State"].get("Health").is_none(), "{n}");
    let names = |filter: &str| {
        b.run(&["ps", "--filter", filter, "--format", "{{.Names}}"])
            .ok()
            .stdout
    };
    assert_eq!(names("health=healthy"), "hc1\n");
    assert_eq!(names("health=none"), "nohc\n");
    assert_eq!(names("health=unhealthy"), "");
    let bad = b.run(&["ps", "--filter", "health=bogus"]);
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr
            .contains("Unrecognised filter value for health: bogus"),
        "{bad:?}"
    );

    // The status changes were events.
    let events = b
        .run(&[
            "events",
            "--since",
            "0",
            "--until",
            "0s",
            "--filter",
            "event=health_status",
            "--format",
            "{{.Action}} {{.Actor.Attributes.name}}",
        ])
        .ok()
        .stdout;
    assert!(
        events.contains("health_status: unhealthy hc1\n"),
        "{events}"
    );
    assert!(events.contains("health_status: healthy hc1\n"), "{events}");

    // A stopped container keeps its last health; started again it is starting over.
    assert_eq!(monitors_of(&b).len(), 1);
    b.run(&["stop", "-t", "0", "hc1"]).ok();
    assert_eq!(health(&b, "hc1")["Status"], "healthy");
    wait_for("the monitor to go", WAIT, || monitors_of(&b).is_empty());
    b.run(&["start", "hc1"]).ok();
    let h = health(&b, "hc1");
    assert!(h["Status"] == "starting" || h["Status"] == "healthy", "{h}");
    assert_eq!(h["Log"].as_array().unwrap().len(), 5, "the log stays: {h}");
    b.run(&["rm", "-f", "hc1", "nohc"]).ok();
    wait_for("the monitor to go", WAIT, || monitors_of(&b).is_empty());
}

#[test]
#[ignore = "needs root"]
fn health_flags_time_out_a_probe_and_refuse_bad_values() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run_d(&[
        "--name",
        "slow",
        "--health-cmd",
        "sleep 30",
        "--health-interval",
        "1s",
        "--health-timeout",
        "1s",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "300",
    ]);
    let c = b.inspect("slow");
    assert_eq!(
        c["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "sleep 30"], "Interval": 1_000_000_000i64,
            "Timeout": 1_000_000_000i64, "Retries": 1})
    );
    let h = wait_health(&b, "slow", "unhealthy");
    assert_eq!(h["Log"][0]["ExitCode"], -1, "{h}");
    assert_eq!(h["Log"][0]["Output"], "Health check exceeded timeout (1s)");
    // The probe was killed, not left running in the container.
    let top = b.run(&["top", "slow"]).ok().stdout;
    assert!(
        !top.lines().any(|l| l.trim_end().ends_with(" sleep 30")),
        "{top}"
    );
    b.run(&["rm", "-f", "slow"]).ok();

    for (args, want) in [
        (
            vec!["--health-interval", "-1s"],
            "--health-interval cannot be negative",
        ),
        (
            vec!["--health-retries", "-2"],
            "--health-retries cannot be negative",
        ),
        (
            vec!["--no-healthcheck", "--health-cmd", "true"],
            "--no-healthcheck conflicts with --health-* options",
        ),
        (
            vec!["--health-timeout", "5"],
            "time: missing unit in duration \"5\"",
        ),
    ] {
        let mut all = vec!["create"];
        all.extend(args);
        all.extend(["busybox", "true"]);
        let out = b.run(&all);
        assert_eq!(out.code, 125, "{out:?}");
        assert!(out.stderr.contains(want), "{want}: {out:?}");
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "", "nothing was created");
}

#[test]
#[ignore = "needs root"]
fn the_docker_cli_sees_health_through_berth_serve() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, _, err) = docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "--health-cmd",
        "true",
        "--health-interval",
        "1s",
        "busybox",
        "sleep",
        "300",
    ]);
    assert_eq!(code, 0, "{err}");
    wait_for("web to be healthy in docker ps", WAIT, || {
        docker(&[
            "ps",
            "--filter",
            "health=healthy",
            "--format",
            "{{.Names}} {{.Status}}",
        ])
        .1
        .starts_with("web Up")
    });
    let (_, status, _) = docker(&["ps", "--format", "{{.Status}}"]);
    assert!(status.trim_end().ends_with("(healthy)"), "{status}");
    let (_, h, _) = docker(&[
        "inspect",
        "-f",
        "{{.State.Health.Status}} {{.State.Health.FailingStreak}}",
        "web",
    ]);
    assert_eq!(h, "healthy 0\n");
    // Bad settings are the daemon's 400.
    let (code, _, err) = docker(&[
        "create",
        "--health-cmd",
        "true",
        "--health-interval",
        "10us",
        "busybox",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("Interval in Healthcheck cannot be less than 1ms"),
        "{err}"
    );
    docker(&["rm", "-f", "web"]);
}
