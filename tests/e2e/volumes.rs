//! Volumes as a user sees them (storage spec §2, §3): `volume create/ls/inspect/rm/prune` with
//! their outputs, errors and exit codes; local-driver options (tmpfs and bind volumes, mount
//! errors at start); anonymous volumes from `-v /path`, `--mount type=volume,dst=...` and image
//! `VOLUME`s, their lifetime (`rm`, `rm -v`, `--rm`, `--volumes-from`) and their suppression.
//!
//! Expected texts were checked against Docker 20.10 with the docker 28 CLI (API 1.41). Where
//! berth deliberately follows newer API behaviour (prune default ≥ 1.42, the anonymous label
//! ≥ 23.0) or a §11 fix, the test says so and asserts berth's documented behaviour.

use regex::Regex;

use crate::harness::*;
use crate::vol_harness::*;

// ---------------------------------------------------------------------------------------------
// volume create (§2.2)

#[test]
fn volume_create_prints_the_name_and_checks_it_like_docker() {
    let b = Berth::new();
    let out = b.run(&["volume", "create", "spec-v1"]).ok();
    assert_eq!(out.stdout, "spec-v1\n");
    assert_eq!(out.stderr, "");
    let out = b.run(&["volume", "create", "--name", "spec-v2"]).ok();
    assert_eq!(out.stdout, "spec-v2\n");
    // Two characters are enough; `.`, `_`, `-` after the first.
    b.run(&["volume", "create", "a1"]).ok();
    b.run(&["volume", "create", "A.b_c-d"]).ok();

    let out = b.run(&["volume", "create", "a"]).fails(1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        daemon_error(
            "create a: volume name is too short, names should be at least two alphanumeric characters"
        )
    );
    for bad in ["spec v", "spec/v", ".spec", "spec@x", "_spec"] {
        let out = b.run(&["volume", "create", bad]).fails(1);
        assert_eq!(
            out.stderr,
            daemon_error(&format!(
                "create {bad}: \"{bad}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
            )),
            "{bad}"
        );
    }
    // No length limit of its own: 255 bytes work, 256 fail in mkdir.
    let long = "v".repeat(255);
    assert_eq!(
        b.run(&["volume", "create", &long]).ok().stdout,
        format!("{long}\n")
    );
    let too_long = "w".repeat(256);
    let out = b.run(&["volume", "create", &too_long]).fails(1);
    let dir = b.root().join("volumes").join(&too_long);
    assert_eq!(
        out.stderr,
        daemon_error(&format!(
            "create {too_long}: error while creating volume root path '{d}': mkdir {d}: file name too long",
            d = dir.display()
        ))
    );

    // Positional and --name together: a CLI error, exit 1.
    let out = b.run(&["volume", "create", "--name", "x1", "x2"]).fails(1);
    assert_eq!(
        out.stderr,
        "conflicting options: cannot specify a volume-name through both --name and as a positional arg\n"
    );

    // Unknown driver, also for an existing name (the driver is looked up first).
    for name in ["spec-v7", "spec-v1"] {
        let out = b
            .run(&["volume", "create", "-d", "bogusdrv", name])
            .fails(1);
        assert_eq!(
            out.stderr,
            daemon_error(&format!(
                "create {name}: error looking up volume plugin bogusdrv: plugin \"bogusdrv\" not found"
            ))
        );
    }

    let mut want = vec!["A.b_c-d", "a1", "spec-v1", "spec-v2", long.as_str()];
    want.sort();
    assert_eq!(volume_names(&b), want);
    // Nothing left on disk by the failures.
    assert_eq!(volume_dirs(&b), want);
}

/// A plain volume's two empty directories are not flushed before its row (issue 20: one flush
/// per `volume create`), so a power loss right after the command may keep the row without
/// them. Nothing is lost with them (the volume was new and empty): its next use makes them
/// again, with their modes, and every verb works on such a volume.
#[test]
fn r20_volume_whose_directories_a_power_loss_took_gets_them_back_on_use() {
    let b = vb();
    let names = ["r20-run", "r20-export", "r20-clone", "r20-import", "r20-rm"];
    for name in names {
        b.run(&["volume", "create", name]).ok();
        std::fs::remove_dir_all(b.root().join("volumes").join(name)).unwrap();
    }
    // What volume `name` holds, seen from a container.
    let listing = |name: &str| {
        b.run_rm_sh(&["-v", &format!("{name}:/d")], "ls -A /d")
            .ok()
            .stdout
    };
    let out = b
        .run_rm_sh(&["-v", "r20-run:/d"], "ls -A /d; echo kept > /d/f")
        .ok();
    assert_eq!(out.stdout, "", "the volume is there again, empty");
    let out = b.run_rm_sh(&["-v", "r20-run:/d"], "cat /d/f").ok();
    assert_eq!(out.stdout, "kept\n");
    let mode = |p: std::path::PathBuf| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
            & 0o7777
    };
    assert_eq!(mode(volume_data(&b, "r20-run")), 0o755);
    assert_eq!(mode(b.root().join("volumes").join("r20-run")), 0o701);

    let exported = b
        .command(&["volume", "export", "r20-export"])
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let entries: Vec<String> = tar_entries(&exported.stdout).into_keys().collect();
    assert_eq!(entries, ["./"]);

    b.run(&["volume", "clone", "r20-clone", "r20-copy"]).ok();
    assert_eq!(listing("r20-copy"), "");

    // The export above is a tar of the empty volume: imported, it leaves the volume empty.
    let tar = b.root().join("r20.tar");
    std::fs::write(&tar, &exported.stdout).unwrap();
    b.run(&["volume", "import", "r20-import", tar.to_str().unwrap()])
        .ok();
    std::fs::remove_file(&tar).unwrap();
    assert_eq!(listing("r20-import"), "");

    b.run(&["volume", "rm", "r20-rm"]).ok();
    assert_eq!(
        volume_names(&b),
        [
            "r20-clone",
            "r20-copy",
            "r20-export",
            "r20-import",
            "r20-run"
        ]
    );
    b.run(&[
        "volume",
        "rm",
        "r20-run",
        "r20-export",
        "r20-clone",
        "r20-copy",
        "r20-import",
    ])
    .ok();
    assert!(volume_dirs(&b).is_empty(), "{:?}", volume_dirs(&b));
}

#[test]
fn volume_create_without_a_name_makes_an_anonymous_volume() {
    let b = Berth::new();
    let out = b.run(&["volume", "create"]).ok();
    let name = out.stdout.trim();
    assert!(is_full_id(name), "{out:?}");
    // berth follows Docker ≥ 23.0 here: the anonymous label (20.10 sets no label).
    let v = volume_inspect(&b, name);
    assert_eq!(
        v["Labels"],
        serde_json::json!({"com.docker.volume.anonymous": ""})
    );
    let out = b.run(&["volume", "create", "--label", "k=v"]).ok();
    let v = volume_inspect(&b, out.stdout.trim());
    assert_eq!(
        v["Labels"],
        serde_json::json!({"com.docker.volume.anonymous": "", "k": "v"})
    );
}

#[test]
fn volume_create_is_idempotent_and_keeps_the_original_labels_and_options() {
    let b = Berth::new();
    b.run(&[
        "volume", "create", "--label", "spec.a=1", "--label", "spec.b", "spec-v5",
    ])
    .ok();
    let first = volume_inspect(&b, "spec-v5");
    assert_eq!(
        first["Labels"],
        serde_json::json!({"spec.a": "1", "spec.b": ""})
    );
    // Same name again with other labels and options: success, the name printed, nothing changed
    // (§11 #2: replicated).
    let out = b
        .run(&[
            "volume",
            "create",
            "--label",
            "spec.c=3",
            "-o",
            "type=tmpfs",
            "-o",
            "device=tmpfs",
            "spec-v5",
        ])
        .ok();
    assert_eq!(out.stdout, "spec-v5\n");
    assert_eq!(volume_inspect(&b, "spec-v5"), first);

    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "spec-o",
    ])
    .ok();
    let first = volume_inspect(&b, "spec-o");
    b.run(&["volume", "create", "-o", "o=size=2m", "spec-o"])
        .ok();
    b.run(&["volume", "create", "spec-o"]).ok();
    assert_eq!(volume_inspect(&b, "spec-o"), first);
    assert_eq!(
        first["Options"],
        serde_json::json!({"device": "tmpfs", "o": "size=1m", "type": "tmpfs"})
    );
    assert_eq!(volume_names(&b), ["spec-o", "spec-v5"]);
}

#[test]
fn volume_create_label_flags() {
    let b = Berth::new();
    b.run(&["volume", "create", "--label", "k", "spec-l"]).ok();
    assert_eq!(
        volume_inspect(&b, "spec-l")["Labels"],
        serde_json::json!({"k": ""})
    );
    let out = b
        .run(&["volume", "create", "--label", "=x", "spec-l2"])
        .fails(125);
    assert_eq!(
        out.stderr.lines().next().unwrap(),
        "invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name"
    );
    assert_eq!(volume_names(&b), ["spec-l"]);
}

#[test]
fn volume_create_label_flag_error_shows_the_usage_like_docker() {
    // docker 28 prints the flag error, then the command's usage line and help pointer.
    let b = Berth::new();
    let out = b
        .run(&["volume", "create", "--label", "=x", "spec-l2"])
        .fails(125);
    assert_eq!(
        out.stderr,
        "invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name\n\nUsage:  berth volume create [OPTIONS] [VOLUME]\n\nRun 'berth volume create --help' for more information\n"
    );
}

#[test]
fn volume_create_option_errors() {
    let b = Berth::new();
    let cases: &[(&[&str], &str)] = &[
        (&["-o", "foo=1"], "invalid option: \"foo\""),
        (&["-o", "typetmpfs"], "invalid option: \"typetmpfs\""),
        (&["-o", "=x"], "invalid option: \"\""),
        (&["-o", "type=tmpfs"], "missing required option: \"device\""),
        (&["-o", "device=tmpfs"], "missing required option: \"type\""),
        (
            &["-o", "type=tmpfs", "-o", "o=size=1m"],
            "missing required option: \"device\"",
        ),
    ];
    for (opts, err) in cases {
        let mut args = vec!["volume", "create"];
        args.extend_from_slice(opts);
        args.push("spec-o1");
        let out = b.run(&args).fails(1);
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            daemon_error(&format!("create spec-o1: {err}")),
            "{opts:?}"
        );
    }
    assert!(volume_names(&b).is_empty());
    assert!(volume_dirs(&b).is_empty(), "{:?}", volume_dirs(&b));
}

// ---------------------------------------------------------------------------------------------
// local driver options: tmpfs and bind volumes (§2.2, §10.3)

#[test]
fn tmpfs_option_volume_is_mounted_with_its_options_and_loses_content_after_the_last_user() {
    let b = vb();
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=10m,uid=1000",
        "spec-tv",
    ])
    .ok();
    // Options are only checked at create: nothing is mounted yet.
    assert!(!is_host_mount_point(&volume_data(&b, "spec-tv")));
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-tv:/t",
            "busybox",
            "sh",
            "-c",
            "cat /proc/mounts; stat -c '%A %u:%g' /t",
        ])
        .ok();
    assert_eq!(
        proc_mount_line(&out.stdout, "/t").as_deref(),
        Some("tmpfs /t tmpfs rw,relatime,size=10240k,uid=1000"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("drwxrwxrwt 1000:0\n"),
        "{}",
        out.stdout
    );
    // Unmounted again once the container is gone.
    assert!(!is_host_mount_point(&volume_data(&b, "spec-tv")));

    // Two users: the content lives while one of them runs, and is gone after the last stops.
    b.run_d(&[
        "--name",
        "t1",
        "-v",
        "spec-tv:/t",
        "busybox",
        "sh",
        "-c",
        "echo kept > /t/f; exec sleep 1000",
    ]);
    b.run_d(&[
        "--name",
        "t2",
        "-v",
        "spec-tv:/t",
        "busybox",
        "sleep",
        "1000",
    ]);
    wait_exec_output(&b, "t2", "cat /t/f", "kept\n");
    stop(&b, "t1");
    let out = b.run(&["exec", "t2", "cat", "/t/f"]).ok();
    assert_eq!(out.stdout, "kept\n");
    stop(&b, "t2");
    assert!(!is_host_mount_point(&volume_data(&b, "spec-tv")));
    b.run(&["start", "t2"]).ok();
    let out = b.run(&["exec", "t2", "ls", "-A", "/t"]).ok();
    assert_eq!(out.stdout, "", "a tmpfs volume starts empty again");
    b.run(&["rm", "-f", "t1", "t2"]).ok();
    b.run(&["volume", "rm", "spec-tv"]).ok();
    assert!(volume_dirs(&b).is_empty());
}

#[test]
fn bind_option_volume_shows_the_host_directory_and_writes_go_to_the_host() {
    let b = vb();
    let host = b.scratch("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "hostfile\n").unwrap();
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        &format!("device={}", host.display()),
        "-o",
        "o=bind",
        "spec-bv",
    ])
    .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-bv:/h",
            "busybox",
            "sh",
            "-c",
            "cat /h/f; echo fromctr > /h/g",
        ])
        .ok();
    assert_eq!(out.stdout, "hostfile\n");
    assert_eq!(
        std::fs::read_to_string(host.join("g")).unwrap(),
        "fromctr\n"
    );
    assert!(!is_host_mount_point(&volume_data(&b, "spec-bv")));
    // Removing the volume leaves the host directory alone.
    b.run(&["volume", "rm", "spec-bv"]).ok();
    assert_eq!(
        std::fs::read_to_string(host.join("f")).unwrap(),
        "hostfile\n"
    );
}

/// Creates volume `name` as a bind of a host directory that does not exist (so creating works and
/// mounting fails) and returns the mount error Docker reports for it.
fn bind_volume_of_a_missing_dir(b: &Berth, name: &str) -> String {
    let missing = b.scratch("nonexist");
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        &format!("device={}", missing.display()),
        "-o",
        "o=bind",
        name,
    ])
    .ok();
    format!(
        "error while mounting volume '{d}': failed to mount local volume: mount {m}:{d}, flags: 0x1000: no such file or directory",
        d = volume_data(b, name).display(),
        m = missing.display()
    )
}

#[test]
fn option_volume_mount_failure_is_reported_at_start() {
    let b = vb();
    let text = bind_volume_of_a_missing_dir(&b, "spec-bindmissing");
    // `create` works (options are not tried yet); `start` fails, exit 1.
    b.run(&[
        "create",
        "--name",
        "c1",
        "-v",
        "spec-bindmissing:/h",
        "busybox",
        "true",
    ])
    .ok();
    let out = b.run(&["start", "c1"]).fails(1);
    assert_eq!(
        out.stderr,
        format!(
            "{}Error: failed to start containers: c1\n",
            daemon_error(&text)
        )
    );
    assert_eq!(b.status_of("c1"), "created");
}

#[test]
fn option_volume_mount_failure_in_run_exits_127_like_docker() {
    // docker's CLI maps a start error mentioning "no such file or directory" to 127 (spec §0:
    // "observed for volume mount failures at start").
    let b = vb();
    let text = bind_volume_of_a_missing_dir(&b, "spec-bindmissing");
    let out = b
        .run(&["run", "-v", "spec-bindmissing:/h", "busybox", "true"])
        .fails(127);
    assert_eq!(out.stderr, run_daemon_error(&text));
}

#[test]
fn nfs_volume_with_an_unresolvable_addr_fails_at_start_and_leaves_nothing_mounted() {
    let b = vb();
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=nfs",
        "-o",
        "o=addr=nosuch.invalid,rw",
        "-o",
        "device=:/export",
        "nfsv",
    ])
    .ok();
    b.run(&["create", "--name", "c1", "-v", "nfsv:/n", "busybox", "true"])
        .ok();
    let out = b.run(&["start", "c1"]).fails(1);
    let data = volume_data(&b, "nfsv");
    let prefix = format!(
        "Error response from daemon: error while mounting volume '{}': error resolving passed in nfs address: lookup nosuch.invalid: ",
        data.display()
    );
    assert!(out.stderr.starts_with(&prefix), "{out:?}");
    assert!(out
        .stderr
        .ends_with("\nError: failed to start containers: c1\n"));
    assert_eq!(b.status_of("c1"), "created");
    assert!(!is_host_mount_point(&data));
    let root = b
        .run(&["inspect", "-f", "{{.GraphDriver.Data.MergedDir}}", "c1"])
        .ok();
    assert!(!is_host_mount_point(std::path::Path::new(
        root.stdout.trim()
    )));
}

#[test]
fn start_attached_failure_prints_only_the_daemon_error_like_docker() {
    // `docker start -a` prints the daemon's error alone (no "Error: failed to start containers").
    let b = vb();
    let text = bind_volume_of_a_missing_dir(&b, "spec-bm");
    b.run(&[
        "create",
        "--name",
        "c1",
        "-v",
        "spec-bm:/h",
        "busybox",
        "true",
    ])
    .ok();
    let out = b.run(&["start", "-a", "c1"]).fails(1);
    assert_eq!(out.stderr, daemon_error(&text));
}

// ---------------------------------------------------------------------------------------------
// volume ls (§2.3)

fn ls_names(b: &Berth, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["volume", "ls", "-q"];
    for f in filters {
        args.push("--filter");
        args.push(f);
    }
    b.run(&args)
        .ok()
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn volume_ls_filters() {
    let b = vb();
    b.run(&[
        "volume",
        "create",
        "--label",
        "spec.env=prod",
        "--label",
        "spec.tier",
        "spec-v1",
    ])
    .ok();
    b.run(&["volume", "create", "--label", "spec.env=dev", "spec-v2"])
        .ok();
    b.run(&["volume", "create", "other-v1"]).ok();
    b.run(&["volume", "create", "spec-v3"]).ok();
    // spec-v2 is used by a container that was only created, spec-v3 by a stopped one.
    b.run(&["create", "-v", "spec-v2:/d", "busybox", "true"])
        .ok();
    b.run(&["run", "-v", "spec-v3:/d", "busybox", "true"]).ok();

    // name: unanchored regular expression, OR when repeated.
    assert_eq!(ls_names(&b, &["name=v1"]), ["other-v1", "spec-v1"]);
    assert_eq!(ls_names(&b, &["name=^spec-v1"]), ["spec-v1"]);
    assert_eq!(ls_names(&b, &["name=v1$"]), ["other-v1", "spec-v1"]);
    assert_eq!(ls_names(&b, &["name=spec-v[23]"]), ["spec-v2", "spec-v3"]);
    assert_eq!(
        ls_names(&b, &["name=other", "name=v3"]),
        ["other-v1", "spec-v3"]
    );
    // label: key present, or exact key=value; repeated = AND.
    assert_eq!(ls_names(&b, &["label=spec.env"]), ["spec-v1", "spec-v2"]);
    assert_eq!(ls_names(&b, &["label=spec.env=prod"]), ["spec-v1"]);
    assert!(ls_names(&b, &["label=spec.env=pro"]).is_empty());
    assert_eq!(
        ls_names(&b, &["label=spec.env", "label=spec.tier"]),
        ["spec-v1"]
    );
    assert!(ls_names(&b, &["label=spec.env=dev", "label=spec.tier"]).is_empty());
    // driver: exact.
    assert_eq!(ls_names(&b, &["driver=local"]).len(), 4);
    assert!(ls_names(&b, &["driver=loc"]).is_empty());
    // dangling: referenced by no container in any state (created-only containers count).
    assert_eq!(ls_names(&b, &["dangling=true"]), ["other-v1", "spec-v1"]);
    assert_eq!(ls_names(&b, &["dangling=1"]), ["other-v1", "spec-v1"]);
    assert_eq!(ls_names(&b, &["dangling=false"]), ["spec-v2", "spec-v3"]);
    assert_eq!(ls_names(&b, &["dangling=0"]), ["spec-v2", "spec-v3"]);
    // Different keys are ANDed.
    assert_eq!(ls_names(&b, &["dangling=true", "name=spec"]), ["spec-v1"]);
    assert_eq!(
        ls_names(&b, &["dangling=false", "label=spec.env"]),
        ["spec-v2"]
    );

    for (f, err) in [
        ("dangling=maybe", "Invalid filter 'dangling=[maybe]'"),
        ("bogus=1", "Invalid filter 'bogus'"),
        ("label!=x", "Invalid filter 'label!'"),
    ] {
        let out = b.run(&["volume", "ls", "--filter", f]).fails(1);
        assert_eq!(out.stdout, "");
        assert_eq!(out.stderr, daemon_error(err), "{f}");
    }
}

#[test]
fn volume_ls_table_quiet_and_formats() {
    let b = Berth::new();
    b.run(&[
        "volume",
        "create",
        "--label",
        "spec.env=prod",
        "--label",
        "spec.tier",
        "spec-b",
    ])
    .ok();
    b.run(&["volume", "create", "spec-a"]).ok();

    let out = b.run(&["volume", "ls"]).ok();
    assert_eq!(
        out.stdout,
        "DRIVER    VOLUME NAME\nlocal     spec-a\nlocal     spec-b\n"
    );
    assert_eq!(
        b.run(&["volume", "ls", "-q"]).ok().stdout,
        "spec-a\nspec-b\n"
    );

    let root = b.root();
    let out = b
        .run(&[
            "volume",
            "ls",
            "--format",
            "{{.Name}}|{{.Driver}}|{{.Scope}}|{{.Mountpoint}}|{{.Labels}}|{{.Label \"spec.env\"}}|{{.Links}}|{{.Size}}",
        ])
        .ok();
    assert_eq!(
        out.stdout,
        format!(
            "spec-a|local|local|{r}/volumes/spec-a/_data|||N/A|N/A\n\
             spec-b|local|local|{r}/volumes/spec-b/_data|spec.env=prod,spec.tier=|prod|N/A|N/A\n",
            r = root.display()
        )
    );

    let out = b.run(&["volume", "ls", "--format", "json"]).ok();
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1],
        serde_json::json!({
            "Availability": "N/A", "Driver": "local", "Group": "N/A",
            "Labels": "spec.env=prod,spec.tier=", "Links": "N/A",
            "Mountpoint": format!("{}/volumes/spec-b/_data", root.display()),
            "Name": "spec-b", "Scope": "local", "Size": "N/A", "Status": "N/A"
        })
    );
    let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Availability",
            "Driver",
            "Group",
            "Labels",
            "Links",
            "Mountpoint",
            "Name",
            "Scope",
            "Size",
            "Status"
        ]
    );

    let out = b
        .run(&["volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}"])
        .ok();
    assert_eq!(
        out.stdout,
        "VOLUME NAME   LABELS\nspec-a        \nspec-b        spec.env=prod,spec.tier=\n"
    );
    // An empty list still has the header.
    let out = b.run(&["volume", "ls", "--filter", "name=nothing"]).ok();
    assert_eq!(out.stdout, "DRIVER    VOLUME NAME\n");
}

// ---------------------------------------------------------------------------------------------
// volume inspect (§2.4)

#[test]
fn volume_inspect_field_set_nulls_and_missing_volumes() {
    let b = Berth::new();
    b.run(&["volume", "create", "spec-plain"]).ok();
    b.run(&[
        "volume", "create", "--label", "spec.a=1", "--label", "spec.b", "spec-v5",
    ])
    .ok();
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=10m,uid=1000",
        "spec-opts",
    ])
    .ok();
    let created = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();

    let out = b.run(&["volume", "inspect", "spec-plain"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let v = &v[0];
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "CreatedAt",
            "Driver",
            "Labels",
            "Mountpoint",
            "Name",
            "Options",
            "Scope"
        ],
        "no Status, no UsageData: {v}"
    );
    assert!(
        created.is_match(v["CreatedAt"].as_str().unwrap()),
        "{}",
        v["CreatedAt"]
    );
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Labels"], serde_json::Value::Null);
    assert_eq!(v["Options"], serde_json::Value::Null);
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Name"], "spec-plain");
    assert_eq!(
        v["Mountpoint"],
        format!("{}/volumes/spec-plain/_data", b.root().display())
    );
    // Docker's indented JSON array.
    assert!(
        out.stdout
            .starts_with("[\n    {\n        \"CreatedAt\": \""),
        "{}",
        out.stdout
    );

    let v = volume_inspect(&b, "spec-v5");
    assert_eq!(
        v["Labels"],
        serde_json::json!({"spec.a": "1", "spec.b": ""})
    );
    let v = volume_inspect(&b, "spec-opts");
    assert_eq!(
        v["Options"],
        serde_json::json!({"device": "tmpfs", "o": "size=10m,uid=1000", "type": "tmpfs"})
    );

    // Several names, one missing: the found ones, then the error; exit 1.
    let out = b
        .run(&["volume", "inspect", "spec-plain", "spec-nonexist"])
        .fails(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );
    let out = b.run(&["volume", "inspect", "spec-nonexist"]).fails(1);
    assert_eq!(out.stdout, "[]\n");
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );

    let out = b
        .run(&[
            "volume",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{.Labels}}",
            "spec-v5",
        ])
        .ok();
    assert_eq!(out.stdout, "spec-v5 local map[spec.a:1 spec.b:]\n");
}

#[test]
fn volume_created_at_is_the_creation_time_not_the_data_ctime() {
    // §11 #1: berth stores a real creation time (Docker shows `_data`'s ctime).
    let b = vb();
    b.run(&["volume", "create", "spec-t"]).ok();
    let before = volume_inspect(&b, "spec-t")["CreatedAt"].clone();
    // Let the clock pass a second boundary so that a ctime-based value would differ.
    let start = before.as_str().unwrap().to_string();
    wait_for("the clock to pass a second", SOON, || {
        chrono_like_now() != start
    });
    b.run(&[
        "run",
        "--rm",
        "-v",
        "spec-t:/d",
        "busybox",
        "touch",
        "/d/new",
    ])
    .ok();
    assert_eq!(volume_inspect(&b, "spec-t")["CreatedAt"], before);
}

/// The current UTC time as RFC 3339 seconds, from `date` (no chrono in the tests).
fn chrono_like_now() -> String {
    sh_ok("date -u +%Y-%m-%dT%H:%M:%SZ").trim().to_string()
}

// ---------------------------------------------------------------------------------------------
// volume rm (§2.5)

#[test]
fn volume_rm_refuses_a_volume_used_by_a_created_only_container_even_with_force() {
    let b = vb();
    b.run(&["volume", "create", "spec-v1"]).ok();
    let id = b
        .run(&["create", "-v", "spec-v1:/d", "busybox", "true"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let want = daemon_error(&format!("remove spec-v1: volume is in use - [{id}]"));
    let out = b.run(&["volume", "rm", "spec-v1"]).fails(1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, want);
    // -f does not override "in use" (§11 #3).
    let out = b.run(&["volume", "rm", "-f", "spec-v1"]).fails(1);
    assert_eq!(out.stderr, want);

    // Two users: both full IDs, comma+space separated.
    let id2 = b
        .run(&["create", "-v", "spec-v1:/d", "busybox", "true"])
        .ok()
        .stdout
        .trim()
        .to_string();
    b.run(&["start", "-a", &id2]).ok();
    let out = b.run(&["volume", "rm", "spec-v1"]).fails(1);
    let re = Regex::new(
        r"^Error response from daemon: remove spec-v1: volume is in use - \[([0-9a-f]{64}), ([0-9a-f]{64})\]\n$",
    )
    .unwrap();
    let caps = re
        .captures(&out.stderr)
        .unwrap_or_else(|| panic!("{out:?}"));
    let mut got = [caps[1].to_string(), caps[2].to_string()];
    got.sort();
    let mut want = [id.clone(), id2.clone()];
    want.sort();
    assert_eq!(got, want);

    // Data and volume still there; after the containers go, rm works and deletes the files.
    assert!(volume_data(&b, "spec-v1").is_dir());
    b.run(&["rm", &id, &id2]).ok();
    let out = b.run(&["volume", "rm", "spec-v1"]).ok();
    assert_eq!(out.stdout, "spec-v1\n");
    assert!(!b.root().join("volumes/spec-v1").exists());
}

#[test]
fn volume_rm_missing_names_and_several_names() {
    let b = Berth::new();
    let out = b.run(&["volume", "rm", "spec-nonexist"]).fails(1);
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );
    // -f: a missing volume is not an error (the API answers 204, so the docker CLI prints the
    // name as for a removal; checked against docker 28 + 20.10).
    let out = b.run(&["volume", "rm", "-f", "spec-nonexist"]).ok();
    assert_eq!(out.stdout, "spec-nonexist\n");
    assert_eq!(out.stderr, "");

    b.run(&["volume", "create", "spec-a"]).ok();
    b.run(&["volume", "create", "spec-b"]).ok();
    let out = b
        .run(&["volume", "rm", "spec-a", "spec-nonexist", "spec-b"])
        .fails(1);
    assert_eq!(out.stdout, "spec-a\nspec-b\n");
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );
    assert!(volume_names(&b).is_empty());
    assert!(volume_dirs(&b).is_empty());
}

#[test]
fn volume_rm_of_an_option_volume_unmounts_it_first() {
    let b = vb();
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "spec-tv",
    ])
    .ok();
    b.run_d(&[
        "--name",
        "u1",
        "-v",
        "spec-tv:/t",
        "busybox",
        "sleep",
        "1000",
    ]);
    assert!(is_host_mount_point(&volume_data(&b, "spec-tv")));
    b.run(&["rm", "-f", "u1"]).ok();
    b.run(&["volume", "rm", "spec-tv"]).ok();
    assert!(!is_host_mount_point(&volume_data(&b, "spec-tv")));
    assert!(volume_dirs(&b).is_empty());
}

// ---------------------------------------------------------------------------------------------
// volume prune (§2.6) — berth follows API ≥ 1.42: anonymous volumes by default, `-a` for all.

#[test]
fn volume_prune_removes_unused_anonymous_volumes_by_default_and_all_unused_with_all() {
    let b = vb();
    // Named, unused, 102400 bytes.
    fill(&b, "spec-prune1", 102_400);
    // An anonymous volume (no name given) with 6 bytes, unused.
    let anon = b.run(&["volume", "create"]).ok().stdout.trim().to_string();
    b.run(&[
        "run",
        "--rm",
        "-v",
        &format!("{anon}:/d"),
        "busybox",
        "sh",
        "-c",
        "printf hello! > /d/f",
    ])
    .ok();
    // An anonymous volume of a removed container (rm without -v): dangling.
    b.run(&["run", "--name", "gone", "-v", "/anon", "busybox", "true"])
        .ok();
    let dangling = anonymous_volumes(&b)
        .into_iter()
        .find(|n| *n != anon)
        .unwrap();
    b.run(&["rm", "gone"]).ok();
    // In use (created-only container): skipped.
    b.run(&[
        "create",
        "--name",
        "user",
        "-v",
        "spec-used:/d",
        "-v",
        "/anonused",
        "busybox",
        "true",
    ])
    .ok();
    let anon_used = b.inspect("user")["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/anonused")
        .unwrap()["Name"]
        .as_str()
        .unwrap()
        .to_string();
    // Option volumes: never pruned, not even with --all.
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "spec-prune4",
    ])
    .ok();

    let out = b.run(&["volume", "prune", "-f"]).ok();
    let mut deleted = vec![anon.clone(), dangling.clone()];
    deleted.sort();
    let body: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(body[0], "Deleted Volumes:", "{}", out.stdout);
    let mut got: Vec<String> = body[1..3].iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, deleted);
    assert_eq!(
        &body[3..],
        ["", "Total reclaimed space: 6B"],
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    let mut left = vec![
        anon_used.clone(),
        "spec-prune1".to_string(),
        "spec-prune4".to_string(),
        "spec-used".to_string(),
    ];
    left.sort();
    assert_eq!(volume_names(&b), left);

    // Nothing more to delete by default.
    let out = b.run(&["volume", "prune", "-f"]).ok();
    assert_eq!(out.stdout, "Total reclaimed space: 0B\n");

    // --all: every unused volume without options.
    let out = b.run(&["volume", "prune", "-a", "-f"]).ok();
    assert_eq!(
        out.stdout,
        "Deleted Volumes:\nspec-prune1\n\nTotal reclaimed space: 102.4kB\n"
    );
    let mut left = vec![
        anon_used.clone(),
        "spec-prune4".to_string(),
        "spec-used".to_string(),
    ];
    left.sort();
    assert_eq!(volume_names(&b), left);
    assert_eq!(volume_dirs(&b), left);
}

#[test]
fn volume_prune_prompts_and_filters() {
    let b = vb();
    b.run(&["volume", "create", "--label", "keep=1", "spec-k"])
        .ok();
    b.run(&["volume", "create", "spec-d"]).ok();

    // Declining the prompt removes nothing.
    let out = b.run_stdin(&["volume", "prune"], b"n\n").ok();
    assert_eq!(
        out.stdout,
        "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    let out = b.run_stdin(&["volume", "prune", "--all"], b"n\n").ok();
    assert_eq!(
        out.stdout,
        "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(volume_names(&b), ["spec-d", "spec-k"]);

    // label! keeps the labelled one; accepting the prompt with "y".
    let out = b
        .run_stdin(
            &["volume", "prune", "-a", "--filter", "label!=keep"],
            b"y\n",
        )
        .ok();
    assert!(
        out.stdout
            .ends_with("[y/N] Deleted Volumes:\nspec-d\n\nTotal reclaimed space: 0B\n"),
        "{}",
        out.stdout
    );
    let out = b
        .run(&[
            "volume",
            "prune",
            "-f",
            "--filter",
            "all=true",
            "--filter",
            "label=keep=1",
        ])
        .ok();
    assert_eq!(
        out.stdout,
        "Deleted Volumes:\nspec-k\n\nTotal reclaimed space: 0B\n"
    );

    for (f, err) in [
        ("name=x", "Invalid filter 'name'"),
        ("dangling=true", "Invalid filter 'dangling'"),
    ] {
        let out = b.run(&["volume", "prune", "-f", "--filter", f]).fails(1);
        assert_eq!(out.stderr, daemon_error(err), "{f}");
    }
}

// ---------------------------------------------------------------------------------------------
// anonymous volumes (§3)

#[test]
fn anonymous_volumes_from_v_mount_and_image_volume_are_fresh_per_container() {
    let b = vb();
    import_image(&b, "vimg", &[Entry::Dir("data", 0o755)], &["VOLUME /data"]);
    b.run(&[
        "create",
        "--name",
        "c1",
        "-v",
        "/anon1",
        "--mount",
        "type=volume,dst=/anon2",
        "vimg",
        "true",
    ])
    .ok();
    let m = mounts_by_dest(&b.inspect("c1"));
    assert_eq!(m.len(), 3, "{m:?}");
    for (dst, mode) in [("/anon1", ""), ("/anon2", "z"), ("/data", "")] {
        let e = &m[dst];
        let name = e["Name"].as_str().unwrap();
        assert!(is_full_id(name), "{e}");
        assert_eq!(e["Type"], "volume");
        assert_eq!(e["Driver"], "local");
        assert_eq!(e["Mode"], mode, "{e}");
        assert_eq!(e["RW"], true);
        assert_eq!(
            e["Source"],
            format!("{}/volumes/{name}/_data", b.root().display())
        );
        // berth follows Docker ≥ 23.0: the anonymous label.
        assert_eq!(
            volume_inspect(&b, name)["Labels"],
            serde_json::json!({"com.docker.volume.anonymous": ""})
        );
    }
    assert_eq!(anonymous_volumes(&b).len(), 3);

    // Never reused: a second container of the same image gets new volumes and does not see
    // what the first one wrote.
    b.run(&[
        "run",
        "--name",
        "wr",
        "vimg",
        "sh",
        "-c",
        "echo secret > /data/f",
    ])
    .ok();
    let out = b
        .run(&["run", "--name", "rd", "vimg", "ls", "-A", "/data"])
        .ok();
    assert_eq!(out.stdout, "");
    let w = mounts_by_dest(&b.inspect("wr"))["/data"]["Name"].clone();
    let r = mounts_by_dest(&b.inspect("rd"))["/data"]["Name"].clone();
    assert_ne!(w, r);
    assert_eq!(anonymous_volumes(&b).len(), 5);
    // "in use" from create on.
    let out = b
        .run(&["volume", "rm", m["/anon1"]["Name"].as_str().unwrap()])
        .fails(1);
    assert!(out.stderr.contains("volume is in use"), "{out:?}");
}

#[test]
fn anonymous_volume_via_import_change_and_commit() {
    let b = vb();
    // `import -c 'VOLUME ...'` puts it in the image config, and so does commit (volumes kept).
    import_image(
        &b,
        "vimg",
        &[Entry::Dir("data", 0o755)],
        &["VOLUME /data", "CMD [\"sh\"]"],
    );
    let out = b
        .run(&["image", "inspect", "-f", "{{json .Config.Volumes}}", "vimg"])
        .ok();
    assert_eq!(out.stdout, "{\"/data\":{}}\n");
    b.run(&["run", "--name", "cc", "-v", "/more", "vimg", "touch", "/x"])
        .ok();
    assert_eq!(
        b.inspect("cc")["Config"]["Volumes"],
        serde_json::json!({"/data": {}, "/more": {}})
    );
    b.run(&["commit", "cc", "vimg2"]).ok();
    let out = b
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{json .Config.Volumes}}",
            "vimg2",
        ])
        .ok();
    assert_eq!(out.stdout, "{\"/data\":{},\"/more\":{}}\n");
    b.run(&["create", "--name", "cd", "vimg2", "true"]).ok();
    let m = mounts_by_dest(&b.inspect("cd"));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["/data", "/more"]);
}

#[test]
fn anonymous_volume_is_the_same_across_stop_and_start() {
    let b = vb();
    b.run(&[
        "run",
        "--name",
        "cc",
        "-v",
        "/anon",
        "busybox",
        "sh",
        "-c",
        "echo one > /anon/f",
    ])
    .ok();
    let name = mounts_by_dest(&b.inspect("cc"))["/anon"]["Name"].clone();
    b.run(&["start", "-a", "cc"]).ok();
    assert_eq!(mounts_by_dest(&b.inspect("cc"))["/anon"]["Name"], name);
    b.run(&["restart", "cc"]).ok();
    assert_eq!(mounts_by_dest(&b.inspect("cc"))["/anon"]["Name"], name);
    assert_eq!(anonymous_volumes(&b).len(), 1);
    let data = volume_data(&b, name.as_str().unwrap());
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "one\n");
}

#[test]
fn rm_keeps_anonymous_volumes_rm_v_and_auto_remove_delete_them_but_never_named_ones() {
    let b = vb();
    // rm: anonymous volume kept, dangling.
    b.run(&[
        "run",
        "--name",
        "c1",
        "-v",
        "/anon",
        "-v",
        "spec-n1:/n",
        "busybox",
        "true",
    ])
    .ok();
    let a1 = mounts_by_dest(&b.inspect("c1"))["/anon"]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    b.run(&["rm", "c1"]).ok();
    assert_eq!(
        ls_names(&b, &["dangling=true"]),
        [a1.clone(), "spec-n1".into()]
    );

    // rm -v: anonymous removed, named kept.
    b.run(&[
        "run",
        "--name",
        "c2",
        "-v",
        "/anon",
        "--mount",
        "type=volume,dst=/m",
        "-v",
        "spec-n2:/n",
        "busybox",
        "true",
    ])
    .ok();
    let m = mounts_by_dest(&b.inspect("c2"));
    let (a2, a3) = (
        m["/anon"]["Name"].as_str().unwrap().to_string(),
        m["/m"]["Name"].as_str().unwrap().to_string(),
    );
    b.run(&["rm", "-v", "c2"]).ok();
    let names = volume_names(&b);
    assert!(!names.contains(&a2) && !names.contains(&a3), "{names:?}");
    assert!(names.contains(&"spec-n2".to_string()));
    assert!(!b.root().join("volumes").join(&a2).exists());

    // rm -f -v of a running container.
    b.run_d(&["--name", "c3", "-v", "/anon", "busybox", "sleep", "1000"]);
    let a4 = mounts_by_dest(&b.inspect("c3"))["/anon"]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    b.run(&["rm", "-f", "-v", "c3"]).ok();
    assert!(!volume_names(&b).contains(&a4));

    // --rm: the same as rm -v once the container exits.
    let before = anonymous_volumes(&b);
    b.run(&[
        "run",
        "--rm",
        "-v",
        "/anon",
        "-v",
        "spec-n3:/n",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(anonymous_volumes(&b), before);
    assert!(volume_names(&b).contains(&"spec-n3".to_string()));

    // A 64-hex name given by the user is a named volume: rm -v keeps it.
    let hex = "ab".repeat(32);
    b.run(&[
        "run",
        "--name",
        "c4",
        "-v",
        &format!("{hex}:/h"),
        "busybox",
        "true",
    ])
    .ok();
    b.run(&["rm", "-v", "c4"]).ok();
    assert!(volume_names(&b).contains(&hex));

    let mut want = vec![
        a1,
        hex,
        "spec-n1".into(),
        "spec-n2".into(),
        "spec-n3".into(),
    ];
    want.sort();
    assert_eq!(volume_names(&b), want);
    assert_eq!(volume_dirs(&b), want);
}

#[test]
fn anonymous_volume_used_through_volumes_from_survives_rm_v_of_its_creator() {
    let b = vb();
    b.run(&[
        "create", "--name", "src", "-v", "/shared", "busybox", "true",
    ])
    .ok();
    let name = mounts_by_dest(&b.inspect("src"))["/shared"]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    b.run(&[
        "run",
        "--name",
        "dep",
        "--volumes-from",
        "src",
        "busybox",
        "sh",
        "-c",
        "echo data > /shared/f",
    ])
    .ok();
    // Silently kept: rm -v prints just the container name.
    let out = b.run(&["rm", "-v", "src"]).ok();
    assert_eq!(out.stdout, "src\n");
    assert_eq!(out.stderr, "");
    assert!(volume_names(&b).contains(&name));
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, &name).join("f")).unwrap(),
        "data\n"
    );
    // The last user's rm -v removes it.
    b.run(&["rm", "-v", "dep"]).ok();
    assert!(volume_names(&b).is_empty(), "{:?}", volume_names(&b));
    assert!(volume_dirs(&b).is_empty());
}

#[test]
fn no_anonymous_volume_where_the_image_volume_path_is_already_covered() {
    let b = vb();
    import_image(
        &b,
        "vimg",
        &[
            Entry::Dir("data", 0o755),
            Entry::File("data/a.txt", b"hello\n", 0o644),
        ],
        &["VOLUME /data"],
    );
    let host = b.scratch("h");
    std::fs::create_dir_all(&host).unwrap();
    let bind = format!("{}:/data", host.display());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("named", vec!["-v", "spec-n:/data"]),
        ("bind", vec!["-v", &bind]),
        ("tmpfs", vec!["--tmpfs", "/data"]),
        (
            "mount-volume",
            vec!["--mount", "type=volume,src=spec-m,dst=/data"],
        ),
        ("mount-tmpfs", vec!["--mount", "type=tmpfs,dst=/data"]),
        // A path-cleaned destination covers it too.
        ("unclean", vec!["-v", "spec-u:/data/"]),
    ];
    for (what, flags) in &cases {
        let mut args = vec!["create", "--name", what];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["vimg", "true"]);
        b.run(&args).ok();
        assert!(
            anonymous_volumes(&b).is_empty(),
            "{what}: {:?}",
            volume_names(&b)
        );
    }
    // Inherited through --volumes-from.
    b.run(&[
        "create",
        "--name",
        "inh",
        "--volumes-from",
        "named",
        "vimg",
        "true",
    ])
    .ok();
    assert!(anonymous_volumes(&b).is_empty(), "{:?}", volume_names(&b));
    let m = mounts_by_dest(&b.inspect("inh"));
    assert_eq!(m["/data"]["Name"], "spec-n");
    assert_eq!(volume_names(&b), ["spec-m", "spec-n", "spec-u"]);
}

#[test]
fn image_volume_over_a_file_is_refused() {
    let b = vb();
    import_image(
        &b,
        "vimg",
        &[
            Entry::Dir("etcx", 0o755),
            Entry::File("etcx/c.conf", b"c=1\n", 0o644),
        ],
        &["VOLUME /etcx/c.conf"],
    );
    let out = b.run(&["create", "--name", "cc", "vimg", "true"]).fails(1);
    let re = Regex::new(&format!(
        r"^Error response from daemon: cannot mount volume over existing file, file exists {}/layers/[0-9a-f]{{64}}/merged/etcx/c\.conf\n$",
        regex::escape(&b.root().display().to_string())
    ))
    .unwrap();
    assert!(re.is_match(&out.stderr), "{out:?}");
    // `-v /etcx/c.conf` likewise; nothing is left behind.
    let out = b
        .run(&["run", "-v", "/etcx/c.conf", "vimg", "true"])
        .fails(125);
    assert!(
        out.stderr
            .starts_with("berth: Error response from daemon: cannot mount volume over existing file, file exists "),
        "{out:?}"
    );
    assert!(volume_names(&b).is_empty());
    assert!(volume_dirs(&b).is_empty());
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn a_failed_create_leaves_no_volume_behind() {
    // §11 #7: volumes created for a request that fails later are removed again.
    let b = vb();
    import_image(
        &b,
        "vimg",
        &[
            Entry::Dir("etcx", 0o755),
            Entry::File("etcx/c.conf", b"c=1\n", 0o644),
        ],
        &[],
    );
    let out = b
        .run(&[
            "create",
            "-v",
            "spec-new:/a",
            "-v",
            "/anon",
            "-v",
            "spec-file:/etcx/c.conf",
            "vimg",
            "true",
        ])
        .fails(1);
    assert!(out.stderr.contains("is not directory"), "{out:?}");
    // Duplicates are found before anything is created.
    let out = b
        .run(&[
            "create",
            "-v",
            "spec-a:/x",
            "-v",
            "spec-b:/x",
            "vimg",
            "true",
        ])
        .fails(1);
    assert_eq!(out.stderr, daemon_error("Duplicate mount point: /x"));
    let out = b
        .run(&[
            "create",
            "--mount",
            "type=volume,dst=/x",
            "-v",
            "spec-b:/x",
            "vimg",
            "true",
        ])
        .fails(1);
    assert_eq!(out.stderr, daemon_error("Duplicate mount point: /x"));
    assert!(volume_names(&b).is_empty(), "{:?}", volume_names(&b));
    assert!(volume_dirs(&b).is_empty(), "{:?}", volume_dirs(&b));
}

#[test]
fn ps_filter_volume_by_name_and_by_destination() {
    let b = vb();
    b.run(&[
        "create",
        "--name",
        "ca",
        "-v",
        "spec-x:/data",
        "busybox",
        "true",
    ])
    .ok();
    b.run(&[
        "create",
        "--name",
        "bb",
        "-v",
        "spec-y:/other",
        "busybox",
        "true",
    ])
    .ok();
    b.run(&["create", "--name", "cc", "busybox", "true"]).ok();
    let ps = |f: &str| {
        b.run(&["ps", "-a", "--filter", f, "--format", "{{.Names}}"])
            .ok()
            .stdout
    };
    assert_eq!(ps("volume=spec-x"), "ca\n");
    assert_eq!(ps("volume=spec-y"), "bb\n");
    assert_eq!(ps("volume=/data"), "ca\n");
    assert_eq!(ps("volume=nothing"), "");
    // Default ps shows running containers only.
    b.run_d(&[
        "--name",
        "rd",
        "-v",
        "spec-x:/data",
        "busybox",
        "sleep",
        "1000",
    ]);
    let out = b
        .run(&["ps", "--filter", "volume=spec-x", "--format", "{{.Names}}"])
        .ok();
    assert_eq!(out.stdout, "rd\n");
}

#[test]
fn auto_remove_detached_and_create_rm_then_start_remove_anonymous_volumes() {
    let b = vb();
    b.run(&["volume", "create", "spec-keep"]).ok();
    let id = b.run_d(&[
        "--rm",
        "-v",
        "/anon",
        "-v",
        "spec-keep:/k",
        "busybox",
        "sh",
        "-c",
        "echo x > /k/f",
    ]);
    wait_for("the --rm container to be removed", SOON, || {
        b.run(&["ps", "-aq", "--no-trunc"])
            .ok()
            .stdout
            .trim()
            .is_empty()
    });
    let _ = id;
    wait_for("its anonymous volume to go", SOON, || {
        anonymous_volumes(&b).is_empty()
    });
    assert_eq!(volume_names(&b), ["spec-keep"]);
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-keep").join("f")).unwrap(),
        "x\n"
    );

    // create --rm, then start: self-removes with its anonymous volumes too.
    b.run(&[
        "create", "--rm", "--name", "cr", "-v", "/anon2", "busybox", "true",
    ])
    .ok();
    assert_eq!(anonymous_volumes(&b).len(), 1);
    b.run(&["start", "cr"]).ok();
    wait_for("the create --rm container to be removed", SOON, || {
        b.run(&["ps", "-aq"]).ok().stdout.trim().is_empty()
    });
    // Its row goes with the container's, its files just after.
    wait_for("its anonymous volume to go", SOON, || {
        anonymous_volumes(&b).is_empty() && volume_dirs(&b) == ["spec-keep"]
    });
}

#[test]
fn a_failed_start_with_rm_leaves_no_container_and_no_anonymous_volume() {
    let b = vb();
    let file = b.scratch("file.txt");
    std::fs::write(&file, "x").unwrap();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "/anon",
            "-v",
            &format!("{}:/bin", file.display()),
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr
            .contains("Are you trying to mount a directory onto a file"),
        "{out:?}"
    );
    wait_for("the failed --rm container to be removed", SOON, || {
        b.run(&["ps", "-aq"]).ok().stdout.trim().is_empty()
    });
    assert!(volume_names(&b).is_empty(), "{:?}", volume_names(&b));
    assert!(volume_dirs(&b).is_empty());
}

#[test]
fn concurrent_volume_rm_and_create_never_both_succeed() {
    // design.md: `volume rm` versus a `create -v x:/d`: either the rm fails "in use" or the
    // create fails "no such volume" (or re-creates it), never a container pointing at nothing.
    let b = vb();
    for round in 0..6 {
        let name = format!("spec-race{round}");
        b.run(&["volume", "create", &name]).ok();
        let mut rm = b.spawn(&["volume", "rm", &name]);
        let mut create = b.spawn(&[
            "create",
            "--name",
            &format!("race{round}"),
            "-v",
            &format!("{name}:/d"),
            "busybox",
            "true",
        ]);
        let rm = rm.wait(CMD_TIMEOUT);
        let create = create.wait(CMD_TIMEOUT);
        if create.code == 0 {
            // The container's volume exists, whatever the rm did.
            let m = mounts_by_dest(&b.inspect(&format!("race{round}")));
            let vol = m["/d"]["Name"].as_str().unwrap().to_string();
            assert!(
                volume_names(&b).contains(&vol),
                "round {round}: rm {rm:?} create {create:?}"
            );
            assert!(volume_data(&b, &vol).is_dir());
            if rm.code != 0 {
                assert!(rm.stderr.contains("volume is in use"), "{rm:?}");
            }
        } else {
            assert_eq!(rm.code, 0, "round {round}: both failed: {rm:?} {create:?}");
        }
    }
}

#[test]
fn concurrent_creates_of_one_name_make_one_volume() {
    let b = Berth::new();
    let mut procs: Vec<Background> = (0..4)
        .map(|i| {
            b.spawn(&[
                "volume",
                "create",
                "--label",
                &format!("n={i}"),
                "spec-same",
            ])
        })
        .collect();
    for p in procs.iter_mut() {
        let out = p.wait(CMD_TIMEOUT);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout, "spec-same\n");
    }
    assert_eq!(volume_names(&b), ["spec-same"]);
    assert_eq!(volume_dirs(&b), ["spec-same"]);
    let labels = volume_inspect(&b, "spec-same")["Labels"].clone();
    assert_eq!(labels.as_object().unwrap().len(), 1, "{labels}");
}

/// Several CLIs opening one fresh data root at once (switching the new database to WAL and
/// migrating it race inside SQLite) all succeed.
#[test]
fn concurrent_first_opens_of_a_data_root_all_succeed() {
    for round in 0..25 {
        let b = Berth::new();
        let mut procs: Vec<Background> = (0..6)
            .map(|i| b.spawn(&["volume", "create", &format!("v{i}")]))
            .collect();
        for p in procs.iter_mut() {
            let out = p.wait(CMD_TIMEOUT);
            assert_eq!(out.code, 0, "round {round}: {out:?}");
        }
        assert_eq!(volume_names(&b).len(), 6);
    }
}

/// The generic `inspect` finds volumes too (after containers and images), and `--type volume`
/// only volumes.
#[test]
fn generic_inspect_finds_volumes() {
    let b = Berth::new();
    b.run(&["volume", "create", "--label", "k=v", "gi-vol"])
        .ok();
    let out = b
        .run(&[
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{.Labels}}",
            "gi-vol",
        ])
        .ok();
    assert_eq!(out.stdout, "gi-vol local map[k:v]\n");
    let typed = b.run(&["inspect", "--type", "volume", "gi-vol"]).ok();
    let v: serde_json::Value = serde_json::from_str(&typed.stdout).unwrap();
    assert_eq!(v[0]["Scope"], "local");
    let e = b.run(&["inspect", "--type", "image", "gi-vol"]).fails(1);
    assert_eq!(e.stdout.trim(), "[]");
    assert_eq!(e.stderr.trim(), "Error: No such image: gi-vol");
}
