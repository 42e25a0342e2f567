//! `--storage-opt size=N` (issue 13): a container's writable layer holds at most N bytes — its
//! upper dir lives on an ext4 image of that size on a loop device (Docker needs xfs with
//! `pquota`; berth serves ext4 hosts too) — inspect shows `HostConfig.StorageOpt`, `rm` leaves no
//! loop device and no mount, bad options get dockerd's words, vfs refuses clearly; the same
//! through the docker CLI against `berth serve`.

use crate::api::DockerCli;
use crate::harness::*;

/// Loop devices whose backing file is under `root`.
pub(crate) fn loops_under(root: &std::path::Path) -> Vec<String> {
    let root = root.display().to_string();
    let mut found: Vec<String> = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("loop/backing_file")).ok())
        .map(|f| f.trim().to_string())
        .filter(|f| f.starts_with(&root))
        .collect();
    found.sort();
    found
}

/// After `rm`: no loop device, no mount and no layer directory of container `id` remain.
#[track_caller]
fn nothing_left_of(b: &Berth, id: &str) {
    // The kernel frees an autoclear loop device once its mount is gone (udev may lag).
    wait_for("the loop devices to be freed", SOON, || {
        loops_under(&b.root()).is_empty()
    });
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
    assert!(!b.root().join("layers").join(id).exists());
}

const FILL: &str = "dd if=/dev/zero of=/big bs=1M count=30 2>&1; echo dd=$?; \
                    df -k / | tail -n 1 | awk '{print \"total=\" $2}'";

/// What [`FILL`] printed: whether dd hit ENOSPC, its status, and the size `df` gives `/`.
fn check_fill(out: &str) {
    assert!(out.contains("No space left on device"), "{out}");
    assert!(out.contains("dd=1"), "{out}");
    let total: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("total="))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    // The 20 MiB filesystem, less ext4's own metadata.
    assert!((15 << 10..=20 << 10).contains(&total), "{out}");
}

#[test]
fn a_size_limited_writable_layer_fills_up_and_rm_frees_its_loop_device() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "create",
        "--name",
        "sq",
        "--storage-opt",
        "size=20M",
        "busybox",
        "sh",
        "-c",
        FILL,
    ])
    .ok();
    let id = b.id_of("sq");
    let hc = &b.inspect("sq")["HostConfig"];
    assert_eq!(hc["StorageOpt"], serde_json::json!({"size": "20M"}));
    // The layer's filesystem is mounted for the container's life, on a loop device.
    assert_eq!(
        loops_under(&b.root()),
        [b.root()
            .join(format!("layers/{id}/quota.img"))
            .display()
            .to_string()]
    );
    let out = b.run(&["start", "-a", "sq"]).ok().stdout;
    check_fill(&out);
    // What the layer holds is what fitted; diff and the upper dir see it while it is stopped.
    assert!(b.run(&["diff", "sq"]).ok().stdout.contains("A /big"));
    let upper = b.upper_dir("sq");
    assert!(
        upper.ends_with(format!("{id}/quota/diff")),
        "{}",
        upper.display()
    );
    let big = std::fs::metadata(upper.join("big")).unwrap().len();
    assert!(big < 20 << 20 && big > 10 << 20, "{big}");
    // A commit of it is an ordinary image layer.
    b.run(&["commit", "sq", "filled"]).ok();
    let out = b
        .run(&["run", "--rm", "filled", "stat", "-c", "%s", "/big"])
        .ok();
    assert_eq!(out.stdout.trim(), big.to_string());
    b.run(&["rm", "sq"]).ok();
    nothing_left_of(&b, &id);

    // Without a limit the same write succeeds; `--rm` of a limited one leaves nothing either.
    let out = b
        .run_rm_sh(
            &[],
            "dd if=/dev/zero of=/big bs=1M count=30 2>/dev/null; echo $?",
        )
        .ok();
    assert_eq!(out.stdout, "0\n");
    let out = b.run_rm_sh(&["--storage-opt", "size=20M"], FILL).ok();
    check_fill(&out.stdout);
    wait_for("the loop devices to be freed", SOON, || {
        loops_under(&b.root()).is_empty()
    });
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");

    // rm -f of a running one.
    let id = b.run_d(&["--storage-opt", "size=4m", "busybox", "sleep", "1000"]);
    b.run(&["rm", "-f", &id]).ok();
    nothing_left_of(&b, &id);
}

#[test]
fn bad_storage_opts_get_dockerds_words_and_leave_nothing() {
    let b = Berth::new();
    b.busybox("busybox");
    for (opt, words) in [
        ("foo=1", "Unknown option foo"),
        ("size=abc", "invalid size: 'abc'"),
        ("size=100k", "is too small"),
    ] {
        let r = b
            .run(&["run", "--rm", "--storage-opt", opt, "busybox", "true"])
            .fails(125);
        assert!(r.stderr.contains(words), "{opt}: {}", r.stderr);
    }
    // The CLI's own check of the form.
    let r = b
        .run(&["run", "--rm", "--storage-opt", "size", "busybox", "true"])
        .fails(125);
    assert!(r.stderr.contains("invalid storage option"), "{}", r.stderr);
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
    assert!(loops_under(&b.root()).is_empty());
    // size=0 is no limit, as in Docker.
    let out = b
        .run_rm_sh(
            &["--storage-opt", "size=0"],
            "dd if=/dev/zero of=/big bs=1M count=30 2>/dev/null; echo $?",
        )
        .ok();
    assert_eq!(out.stdout, "0\n");
    assert!(loops_under(&b.root()).is_empty());
}

/// daemon.json's `storage-opts` `overlay2.size=` limits every writable layer that names no size
/// of its own (inspect's `StorageOpt` stays the container's own, as in dockerd); a container's
/// `size=` wins and `size=0` opts out; options dockerd refuses at start stop every command, in
/// dockerd's words, and vfs refuses a default size clearly.
#[test]
fn the_settings_files_storage_opts_give_every_writable_layer_a_default_size() {
    let b = Berth::new();
    b.busybox("busybox");
    b.set_setting("storage-opts", serde_json::json!(["overlay2.size=20M"]));
    b.run(&["create", "--name", "dflt", "busybox", "sh", "-c", FILL])
        .ok();
    let id = b.id_of("dflt");
    assert_eq!(
        b.inspect("dflt")["HostConfig"]["StorageOpt"],
        serde_json::Value::Null
    );
    check_fill(&b.run(&["start", "-a", "dflt"]).ok().stdout);
    b.run(&["rm", "dflt"]).ok();
    nothing_left_of(&b, &id);
    // Its own size wins over the default; 0 is no limit.
    let out = b.run_rm_sh(&["--storage-opt", "size=64M"], FILL).ok();
    assert!(out.stdout.contains("dd=0"), "{}", out.stdout);
    let out = b.run_rm_sh(&["--storage-opt", "size=0"], FILL).ok();
    assert!(out.stdout.contains("dd=0"), "{}", out.stdout);
    assert!(loops_under(&b.root()).is_empty());

    for (opts, words) in [
        (
            serde_json::json!(["overlay2.foo=1"]),
            "error initializing graphdriver: overlay2: unknown option overlay2.foo",
        ),
        (
            serde_json::json!(["size=1G"]),
            "error initializing graphdriver: overlay2: unknown option size",
        ),
        (
            serde_json::json!(["overlay2.size=abc"]),
            "error initializing graphdriver: invalid size: 'abc'",
        ),
    ] {
        b.set_setting("storage-opts", opts);
        let r = b.run(&["ps", "-a"]).fails(125);
        assert!(r.stderr.contains(words), "{}", r.stderr);
    }

    let v = Berth::with_driver(Some("vfs"));
    v.set_setting("storage-opts", serde_json::json!(["size=1G"]));
    let r = v.run(&["ps", "-a"]).fails(125);
    assert!(
        r.stderr.contains(
            "error initializing graphdriver: storage option size is not supported for vfs"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn vfs_refuses_a_storage_opt_clearly() {
    let b = Berth::with_driver(Some("vfs"));
    b.busybox("busybox");
    let r = b
        .run(&[
            "run",
            "--rm",
            "--storage-opt",
            "size=20M",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        r.stderr
            .contains("--storage-opt is not supported for vfs: berth limits a writable layer's size on the overlay2 storage driver"),
        "{}",
        r.stderr
    );
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn the_docker_cli_limits_a_writable_layer_through_the_api() {
    let d = DockerCli::start();
    let (code, out, err) = d.run(&[
        "run",
        "--name",
        "sq",
        "--storage-opt",
        "size=20M",
        "busybox",
        "sh",
        "-c",
        FILL,
    ]);
    assert_eq!(code, 0, "{err}");
    check_fill(&out);
    let (_, opts, _) = d.run(&["inspect", "-f", "{{json .HostConfig.StorageOpt}}", "sq"]);
    assert_eq!(opts.trim(), r#"{"size":"20M"}"#);
    let id = d.b.id_of("sq");
    let (code, _, err) = d.run(&["rm", "sq"]);
    assert_eq!(code, 0, "{err}");
    nothing_left_of(&d.b, &id);
    let (code, _, err) = d.run(&["run", "--rm", "--storage-opt", "foo=1", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("Unknown option foo"), "{err}");
}
