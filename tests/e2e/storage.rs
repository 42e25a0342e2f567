//! Storage made visible (issue 19): `berth container storage` shows, for one container, what
//! backs each path, how long it lives and what was written there; `rm` on a terminal warns
//! before it discards a writable layer's data, and behaves exactly as docker's everywhere else.
//! The warning is tested under a real pty (the harness's [`Pty`]).

use std::time::Duration;

use serde_json::Value;

use crate::harness::*;

const ANSWER: Duration = Duration::from_secs(60);

/// The seed's mistake: a database written into the writable layer, 3 MiB of it in
/// `/var/lib/mysql`, plus a pid file in `/run/mysqld`.
const MYSQL_WRITES: &str = "mkdir -p /var/lib/mysql /run/mysqld \
    && dd if=/dev/zero of=/var/lib/mysql/ibdata1 bs=1M count=3 2>/dev/null \
    && mkdir /var/lib/mysql/mysql && dd if=/dev/zero of=/var/lib/mysql/mysql/user.ibd bs=1k count=64 2>/dev/null \
    && echo 1 > /run/mysqld/mysqld.pid";

fn storage_json(b: &Berth, name: &str) -> Value {
    let out = b
        .run(&["container", "storage", "--format", "json", name])
        .ok();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// The rows of `view` as (path, type) → row.
fn row<'v>(view: &'v Value, path: &str, kind: &str) -> &'v Value {
    view["Paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Path"] == path && r["Type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row at {path}: {view:#}"))
}

fn every_backing(driver: Option<&'static str>) {
    let b = Berth::with_driver(driver);
    b.busybox("busybox");
    b.run(&["volume", "create", "db"]).ok();
    let host = b.scratch("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("kept"), b"host data").unwrap();
    let bind = format!("{}:/srv", host.display());
    let script = format!(
        "{MYSQL_WRITES} && dd if=/dev/zero of=/data/x bs=1k count=20 2>/dev/null \
         && dd if=/dev/zero of=/anon/y bs=1k count=5 2>/dev/null \
         && dd if=/dev/zero of=/scratch/z bs=1k count=100 2>/dev/null \
         && echo written && sleep 1000"
    );
    let id = b.run_d(&[
        "--name",
        "db1",
        "--network",
        "none",
        "-v",
        "db:/data",
        "-v",
        "/anon",
        "-v",
        &bind,
        "--tmpfs",
        "/scratch:size=64m",
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    wait_for("the container to write", ANSWER, || {
        b.run(&["logs", "db1"]).stdout.contains("written")
    });

    let check = |view: &Value, running: bool| {
        assert_eq!(view["Id"], id.as_str());
        assert_eq!(view["Name"], "db1");
        let image = row(view, "/", "image");
        assert_eq!(image["Lifetime"], "image");
        assert_eq!(image["Layers"], 1);
        assert_eq!(image["Source"], "busybox");
        assert!(image["Size"].as_u64().unwrap() > 100_000, "{image}");
        assert_eq!(image["ReadOnly"], true);

        // The writable layer: its total is what `inspect -s` reports as SizeRw, and its
        // changes are split by the directories that hold them.
        let layer = row(view, "/", "layer");
        assert_eq!(layer["Lifetime"], "container");
        let size_rw = b
            .run(&["inspect", "-s", "--format", "{{.SizeRw}}", "db1"])
            .ok();
        assert_eq!(layer["Written"].to_string(), size_rw.stdout.trim());
        assert_eq!(layer["Written"], 3 * 1024 * 1024 + 64 * 1024 + 2);
        let mysql = row(view, "/var/lib/mysql", "layer");
        assert_eq!(mysql["Written"], 3 * 1024 * 1024 + 64 * 1024);
        assert_eq!(mysql["Entries"], 2);
        assert_eq!(row(view, "/run/mysqld", "layer")["Written"], 2);
        assert_eq!(view["DiscardedByRm"], layer["Written"]);

        let named = row(view, "/data", "volume");
        assert_eq!(named["Lifetime"], "volume");
        assert_eq!(named["Source"], "db");
        assert_eq!(named["Driver"], "local");
        assert_eq!(named["BackedBy"], "volume db (local)");
        assert_eq!(named["Written"], 20 * 1024);

        let anon = row(view, "/anon", "volume");
        assert_eq!(anon["Lifetime"], "anonymous-volume");
        assert_eq!(anon["Written"], 5 * 1024);
        assert_eq!(view["AnonymousVolumeBytes"], 5 * 1024);

        let bind = row(view, "/srv", "bind");
        assert_eq!(bind["Lifetime"], "host");
        assert_eq!(bind["Source"], host.display().to_string());
        assert_eq!(bind["Written"], Value::Null);

        let tmpfs = row(view, "/scratch", "tmpfs");
        assert_eq!(tmpfs["Lifetime"], "memory");
        assert_eq!(tmpfs["Size"], 64 * 1024 * 1024);
        assert_eq!(tmpfs["BackedBy"], "tmpfs (64MiB)");
        if running {
            assert_eq!(tmpfs["Written"], 100 * 1024);
        } else {
            assert_eq!(tmpfs["Written"], Value::Null);
        }
        assert_eq!(view["Paths"].as_array().unwrap().len(), 8, "{view:#}");
    };
    let view = storage_json(&b, "db1");
    assert_eq!(view["State"], "running");
    check(&view, true);

    // The table: one line per row, the lifetimes in words, and what rm would discard.
    let table = b.run(&["storage", "db1"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("PATH")
            && lines[0].contains("BACKED BY")
            && lines[0].contains("LIFETIME")
            && lines[0].ends_with("WRITTEN"),
        "{table}"
    );
    let line = |p: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(&format!("{p} ")))
            .unwrap_or_else(|| panic!("no {p} line: {table}"))
    };
    assert!(line("/var/lib/mysql").contains("writable layer"), "{table}");
    assert!(line("/var/lib/mysql").contains("dies with rm"), "{table}");
    assert!(line("/var/lib/mysql").ends_with("3.21MB"), "{table}");
    assert!(line("/data").contains("outlives the container"), "{table}");
    assert!(line("/anon").contains("rm -v removes it"), "{table}");
    assert!(line("/srv").contains("host data"), "{table}");
    assert!(
        line("/scratch").contains("memory only, gone at stop"),
        "{table}"
    );
    assert!(
        table.ends_with("`berth rm db1` discards 3.21MB written outside volumes.\n"),
        "{table}"
    );
    // Templates run per row.
    let paths = b
        .run(&["storage", "--format", "{{.Path}}={{.Type}}", "db1"])
        .ok()
        .stdout;
    assert_eq!(
        paths,
        "/=image\n/=layer\n/run/mysqld=layer\n/var/lib/mysql=layer\n/anon=volume\n/data=volume\n/scratch=tmpfs\n/srv=bind\n"
    );

    // Stopped: the same rows; the tmpfs holds nothing any more.
    b.run(&["stop", "-t", "0", "db1"]).ok();
    let view = storage_json(&b, "db1");
    assert_eq!(view["State"], "exited");
    check(&view, false);

    // Docker's errors for a container that is not there.
    let out = b.run(&["storage", "nosuch"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
}

#[test]
#[ignore = "needs root"]
fn storage_shows_every_backing_before_and_after_stop() {
    every_backing(None);
}

#[test]
#[ignore = "needs root"]
fn storage_shows_every_backing_on_vfs() {
    every_backing(Some("vfs"));
}

/// A stopped container holding the seed's database in its writable layer.
fn mysql_without_volume(b: &Berth, name: &str) {
    b.run(&[
        "run",
        "--name",
        name,
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        MYSQL_WRITES,
    ])
    .ok();
}

#[test]
#[ignore = "needs root"]
fn rm_on_a_terminal_warns_before_discarding_the_database() {
    let b = Berth::new();
    b.busybox("busybox");
    mysql_without_volume(&b, "db1");

    // Declined: nothing removed, exit 1.
    let mut t = b.spawn_pty(&["rm", "db1"]);
    t.expect(
        "WARNING! Removing container db1 discards 3.21MB of data it wrote:",
        ANSWER,
    );
    t.expect("/var/lib/mysql", ANSWER);
    t.expect("3.21MB", ANSWER);
    t.expect("/run/mysqld", ANSWER);
    t.expect("berth commit db1 IMAGE", ANSWER);
    t.expect("berth cp db1:/var/lib/mysql DEST", ANSWER);
    t.expect("berth run -v NAME:/var/lib/mysql", ANSWER);
    t.expect("Are you sure you want to continue? [y/N] ", ANSWER);
    t.send(b"n\r");
    assert_eq!(t.wait_exit(ANSWER), 1, "terminal: {:?}", t.output());
    assert!(t.output().contains("db1: not removed"), "{:?}", t.output());
    assert_eq!(b.status_of("db1"), "exited");

    // Confirmed: removed, and the name printed as docker prints it.
    let mut t = b.spawn_pty(&["rm", "db1"]);
    t.expect("[y/N] ", ANSWER);
    t.send(b"y\r");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert!(t.output().ends_with("y\r\ndb1\r\n"), "{:?}", t.output());
    assert!(b.ps_status("db1").is_none());

    // -f skips the prompt.
    mysql_without_volume(&b, "db2");
    let mut t = b.spawn_pty(&["rm", "-f", "db2"]);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(t.output(), "db2\r\n");
    assert!(b.ps_status("db2").is_none());

    // Little written: no prompt.
    b.run(&[
        "run",
        "--name",
        "small",
        "busybox",
        "sh",
        "-c",
        "echo hi > /tmp/x",
    ])
    .ok();
    let mut t = b.spawn_pty(&["rm", "small"]);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(t.output(), "small\r\n");
}

/// `run --rm` on a terminal lists, once the container is gone, what its removal discarded (the
/// rows `rm` warns with); in a pipe it says nothing, as docker's; below the threshold nothing.
#[test]
#[ignore = "needs root"]
fn run_rm_on_a_terminal_lists_what_it_discarded() {
    let b = Berth::new();
    b.busybox("busybox");
    let mut t = b.spawn_pty(&[
        "run",
        "--rm",
        "--name",
        "db",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        &format!("{MYSQL_WRITES} && echo written"),
    ]);
    t.expect("written", ANSWER);
    t.expect("berth: --rm discarded 3.21MB the container wrote:", ANSWER);
    t.expect("/var/lib/mysql", ANSWER);
    t.expect("3.21MB", ANSWER);
    t.expect("writable layer", ANSWER);
    t.expect("/run/mysqld", ANSWER);
    t.expect("berth run -v NAME:/var/lib/mysql ...", ANSWER);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert!(b.ps_all().is_empty());
    // The shim deletes the removed files (moved to its staging directory) once the client has
    // its exit code, then leaves.
    let left = || -> Vec<_> {
        std::fs::read_dir(b.root().join("tmp"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect()
    };
    wait_for("the shim's staging to go", SOON, || left().is_empty());

    // In a pipe: the container's output and exit status alone, as docker's.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            MYSQL_WRITES,
        ])
        .ok();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));

    // Little written: nothing said.
    let mut t = b.spawn_pty(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "echo hi > /tmp/x; echo done",
    ]);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(t.output(), "done\r\n");
    assert!(b.ps_all().is_empty());
}

#[test]
#[ignore = "needs root"]
fn rm_in_scripts_and_pipes_behaves_as_docker() {
    let b = Berth::new();
    b.busybox("busybox");
    mysql_without_volume(&b, "db1");
    mysql_without_volume(&b, "db2");
    // stdin not a terminal, stdout a pipe: removed without a word.
    let out = b.run(&["rm", "db1", "nosuch", "db2"]).fails(1);
    assert_eq!(out.stdout, "db1\ndb2\n");
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
    assert!(b.ps_all().is_empty());
}

#[test]
#[ignore = "needs root"]
fn rm_warning_threshold_is_configurable_and_rm_v_counts_anonymous_volumes() {
    let b = Berth::new();
    b.busybox("busybox");
    mysql_without_volume(&b, "db1");
    // 0 disables the warning.
    b.set_setting("rm-warning-threshold", "0".into());
    let mut t = b.spawn_pty(&["rm", "db1"]);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(t.output(), "db1\r\n");
    // A bad value is refused when the file is read.
    b.set_setting("rm-warning-threshold", "lots".into());
    let out = b.run(&["ps"]).fails(125);
    assert!(
        out.stderr.contains("invalid rm-warning-threshold \"lots\""),
        "{out:?}"
    );

    // 2 MiB in an anonymous volume: `rm` keeps it (no warning), `rm -v` discards it.
    b.set_setting("rm-warning-threshold", "1MiB".into());
    let write = "dd if=/dev/zero of=/anon/y bs=1M count=2 2>/dev/null";
    b.run(&[
        "run", "--name", "v1", "-v", "/anon", "busybox", "sh", "-c", write,
    ])
    .ok();
    b.run(&[
        "run", "--name", "v2", "-v", "/anon", "busybox", "sh", "-c", write,
    ])
    .ok();
    let mut t = b.spawn_pty(&["rm", "v1"]);
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert_eq!(t.output(), "v1\r\n");
    let mut t = b.spawn_pty(&["rm", "-v", "v2"]);
    t.expect("discards 2.1MB of data it wrote:", ANSWER);
    t.expect("/anon", ANSWER);
    t.expect("anonymous volume", ANSWER);
    t.expect("[y/N] ", ANSWER);
    t.send(b"y\r");
    assert_eq!(t.wait_exit(ANSWER), 0, "terminal: {:?}", t.output());
    assert!(b.ps_all().is_empty());
}

#[test]
#[ignore = "needs root"]
fn the_api_serves_the_same_storage_view() {
    let b = Berth::new();
    b.busybox("busybox");
    mysql_without_volume(&b, "db1");
    let api = crate::api::Server::start(&b);
    let (code, body) = api.call("GET", "/v1.41/containers/db1/storage", None);
    assert_eq!(code, 200, "{body}");
    let from_api: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(from_api, storage_json(&b, "db1"));
    assert_eq!(
        row(&from_api, "/var/lib/mysql", "layer")["Lifetime"],
        "container"
    );
    // Without a version prefix too, and Docker's 404 for a missing container.
    let (code, _) = api.call("GET", "/containers/db1/storage", None);
    assert_eq!(code, 200);
    let (code, body) = api.call("GET", "/containers/nosuch/storage", None);
    assert_eq!(code, 404, "{body}");
    assert_eq!(body, r#"{"message":"No such container: nosuch"}"#);
}

#[test]
#[ignore = "needs root"]
fn system_df_v_and_prune_dry_run_split_writable_layers() {
    let b = Berth::new();
    b.busybox("busybox");
    mysql_without_volume(&b, "db1");
    b.run(&["run", "--name", "quiet", "busybox", "true"]).ok();
    let db1 = b.id_of("db1")[..12].to_string();
    let quiet = b.id_of("quiet")[..12].to_string();

    // `system df -v`: docker's sections, plus each writable layer by directory.
    let df = b.run(&["system", "df", "-v"]).ok().stdout;
    let section = df
        .split("Writable layers by directory:\n\n")
        .nth(1)
        .and_then(|s| s.split("\n\nLocal Volumes space usage:").next())
        .unwrap_or_else(|| panic!("{df}"));
    let lines: Vec<Vec<&str>> = section
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["CONTAINER", "ID", "NAMES", "PATH", "SIZE"]);
    let mut rows = lines[1..].to_vec();
    rows.sort();
    let mut want = vec![
        vec![db1.as_str(), "db1", "/var/lib/mysql", "3.211MB"],
        vec![db1.as_str(), "db1", "/run/mysqld", "2B"],
        vec![quiet.as_str(), "quiet", "-", "0B"],
    ];
    want.sort();
    assert_eq!(rows, want, "{df}");
    assert!(
        df.contains("Containers space usage:\n\nCONTAINER ID"),
        "{df}"
    );
    // `ps -s` stays docker's.
    let ps = b
        .run(&[
            "ps",
            "-a",
            "-s",
            "--filter",
            "name=db1",
            "--format",
            "{{.Size}}",
        ])
        .ok();
    assert!(ps.stdout.starts_with("3.21MB (virtual "), "{ps:?}");

    // `container prune --dry-run` lists the same and removes nothing.
    let dry = b.run(&["container", "prune", "--dry-run"]).ok().stdout;
    assert!(
        dry.starts_with("Would delete containers:\nCONTAINER ID"),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("{db1}   db1       /var/lib/mysql   3.21MB\n")),
        "{dry}"
    );
    assert!(
        dry.ends_with("\nTotal reclaimable space: 3.211MB\n"),
        "{dry}"
    );
    assert_eq!(b.ps_all().len(), 2);
    let out = b.run(&["container", "prune", "-f"]).ok().stdout;
    assert!(out.ends_with("Total reclaimed space: 3.211MB\n"), "{out}");
    assert!(b.ps_all().is_empty());
}
