//! Init layers (the placeholders Docker keeps in `<id>-init`: mount targets, `/.dockerenv`):
//! one per image top layer, `<cache_id>-init`, shared by every container on it, built by the
//! first create (also when several race), rebuilt when a killed creator left it half made, kept
//! by `rm` and removed with the image's layer. A container made by an older berth keeps its own
//! `<id>-init` and still diffs, commits, starts and is removed. `diff` and `commit` leave the
//! placeholders out; `export` has them. A create killed while building it leaves none in use.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::*;

/// The driver directory of the only layer of the busybox image.
fn image_layer(b: &Berth) -> String {
    b.sqlite(&[], "SELECT cache_id FROM layers")
}

/// The tree of layer `id` (overlay's `diff`, vfs's `fs`).
fn tree(b: &Berth, id: &str) -> PathBuf {
    let dir = b.root().join("layers").join(id);
    if dir.join("fs").exists() {
        dir.join("fs")
    } else {
        dir.join("diff")
    }
}

fn shared_by_containers_until_the_image_goes(driver: Option<&'static str>) {
    let b = Berth::with_driver(driver);
    b.busybox("busybox");
    let layer = image_layer(&b);
    let init = format!("{layer}-init");
    let one = b
        .run(&[
            "create",
            "--name",
            "one",
            "busybox",
            "sh",
            "-c",
            "echo 1 > /new",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    let two = b
        .run(&["create", "--name", "two", "busybox", "true"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let mut want = vec![layer.clone(), init.clone(), one.clone(), two.clone()];
    want.sort();
    assert_eq!(b.layer_dirs(), want, "one init layer for both");
    assert!(tree(&b, &init).join(".dockerenv").exists());
    assert_eq!(
        b.sqlite(&[], "SELECT DISTINCT init_layer FROM containers"),
        init
    );
    if driver.is_none() {
        for name in ["one", "two"] {
            let lower = b.inspect(name)["GraphDriver"]["Data"]["LowerDir"]
                .as_str()
                .unwrap()
                .to_string();
            assert_eq!(
                lower.split(':').next().unwrap(),
                tree(&b, &init).to_str().unwrap(),
                "{name}: the init layer first"
            );
        }
    }
    // The container sees the placeholders; `diff` and `commit` leave them out.
    b.run(&["start", "-a", "one"]).ok();
    assert_eq!(b.run(&["diff", "one"]).ok().stdout, "A /new\n");
    assert_eq!(b.run(&["diff", "two"]).ok().stdout, "");
    let out = b
        .run(&[
            "run",
            "--rm",
            "busybox",
            "ls",
            "-a",
            "/.dockerenv",
            "/etc/hostname",
        ])
        .ok();
    assert_eq!(out.stdout, "/.dockerenv\n/etc/hostname\n");
    b.run(&["commit", "one", "snap"]).ok();
    let export = b.command(&["export", "one"]).output().unwrap();
    assert!(export.status.success());
    let entries = tar_entries(&export.stdout);
    for p in [".dockerenv", "etc/hostname", "etc/mtab", "new"] {
        assert!(
            entries.keys().any(|k| k.trim_end_matches('/') == p),
            "export lacks {p}"
        );
    }
    // `rm` of both keeps the shared one; so does removing the committed image (its own
    // init layer goes with its layer).
    b.run(&["rm", "one", "two"]).ok();
    assert!(b.root().join("layers").join(&init).exists(), "rm keeps it");
    assert!(!b.root().join("layers").join(&one).exists());
    b.run(&["rmi", "snap"]).ok();
    assert_eq!(b.layer_dirs(), vec![layer.clone(), init.clone()]);
    // The image's removal takes it with its layer: nothing is left.
    b.run(&["rmi", "busybox"]).ok();
    assert_eq!(b.layer_dirs(), Vec::<String>::new());
    if driver.is_none() {
        assert_eq!(
            std::fs::read_dir(b.root().join("layers/l"))
                .unwrap()
                .count(),
            0,
            "short links left"
        );
    }
}

#[test]
fn containers_share_one_init_layer_until_the_image_goes_overlay() {
    shared_by_containers_until_the_image_goes(None);
}

#[test]
fn containers_share_one_init_layer_until_the_image_goes_vfs() {
    shared_by_containers_until_the_image_goes(Some("vfs"));
}

#[test]
fn prune_removes_the_init_layer_with_the_image() {
    let b = Berth::new();
    b.busybox("busybox");
    let layer = image_layer(&b);
    b.run(&["run", "--rm", "busybox", "true"]).ok();
    assert_eq!(b.layer_dirs(), vec![layer.clone(), format!("{layer}-init")]);
    b.run(&["image", "prune", "-a", "-f"]).ok();
    assert_eq!(b.layer_dirs(), Vec::<String>::new());
}

#[test]
fn the_first_creates_racing_share_one_complete_init_layer() {
    let b = Berth::new();
    b.busybox("busybox");
    let layer = image_layer(&b);
    // Spawned at once, not one after the other.
    let children: Vec<_> = (0..8)
        .map(|i| {
            b.command(&[
                "create",
                "--name",
                &format!("r{i}"),
                "busybox",
                "ls",
                "/.dockerenv",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let inits: Vec<String> = b
        .layer_dirs()
        .into_iter()
        .filter(|d| d.ends_with("-init"))
        .collect();
    assert_eq!(inits, vec![format!("{layer}-init")]);
    for i in 0..8 {
        let out = b.run(&["start", "-a", &format!("r{i}")]).ok();
        assert_eq!(out.stdout, "/.dockerenv\n");
    }
    assert_eq!(b.sqlite(&[], "SELECT count(*) FROM journal"), "0");
}

#[test]
fn a_half_built_init_layer_of_a_killed_creator_is_never_used() {
    let b = Berth::new();
    b.busybox("busybox");
    let layer = image_layer(&b);
    let init = format!("{layer}-init");
    b.run(&["run", "--rm", "busybox", "true"]).ok();
    // What a creator killed while filling it leaves: the directory, part of the placeholders,
    // and its journal entry, owned by a process that is gone.
    for p in [".dockerenv", "etc/mtab", "etc/hosts"] {
        std::fs::remove_file(tree(&b, &init).join(p)).unwrap();
    }
    b.sqlite(
        &[],
        &format!("INSERT INTO journal VALUES ('layer', '{init}', 999999999, 1, 'x')"),
    );
    // The next command's repair pass removes it…
    b.run(&["ps", "-a"]).ok();
    assert!(!b.root().join("layers").join(&init).exists());
    assert_eq!(b.sqlite(&[], "SELECT count(*) FROM journal"), "0");
    // …and the next create builds it whole.
    let out = b
        .run(&[
            "run",
            "--rm",
            "busybox",
            "ls",
            "/.dockerenv",
            "/etc/mtab",
            "/etc/hosts",
        ])
        .ok();
    assert_eq!(out.stdout, "/.dockerenv\n/etc/hosts\n/etc/mtab\n");
    // A half-built one found by a create (its builder died just now) is rebuilt as well.
    std::fs::remove_file(tree(&b, &init).join(".dockerenv")).unwrap();
    b.sqlite(
        &[],
        &format!("INSERT INTO journal VALUES ('layer', '{init}', 999999999, 1, 'x')"),
    );
    b.run(&["create", "--name", "after", "busybox", "true"])
        .ok();
    assert!(tree(&b, &init).join(".dockerenv").exists());
    assert_eq!(b.sqlite(&[], "SELECT count(*) FROM journal"), "0");
}

/// Turns container `id` (overlay) into what an older berth made: its own init layer
/// `<id>-init` (a copy of the shared one with its own short link) under its writable layer,
/// recorded as the v11 migration records it; then removes the shared one, which it no longer
/// uses.
fn make_old_layout(b: &Berth, id: &str, shared: &str) -> String {
    let layers = b.root().join("layers");
    let own = format!("{id}-init");
    let status = Command::new("cp")
        .arg("-a")
        .arg(layers.join(shared))
        .arg(layers.join(&own))
        .status()
        .unwrap();
    assert!(status.success());
    let shared_link = std::fs::read_to_string(layers.join(shared).join("link")).unwrap();
    let own_link = "OLDBERTHINITLAYERLINK00001";
    std::fs::write(layers.join(&own).join("link"), own_link).unwrap();
    std::os::unix::fs::symlink(format!("../{own}/diff"), layers.join("l").join(own_link)).unwrap();
    let lower_file = layers.join(id).join("lower");
    let lower = std::fs::read_to_string(&lower_file).unwrap();
    let replaced = lower.replace(
        &format!("l/{}", shared_link.trim()),
        &format!("l/{own_link}"),
    );
    assert_ne!(lower, replaced, "{lower}");
    std::fs::write(&lower_file, replaced).unwrap();
    b.sqlite(
        &[],
        &format!("UPDATE containers SET init_layer = '{own}' WHERE id = '{id}'"),
    );
    std::fs::remove_file(layers.join("l").join(shared_link.trim())).unwrap();
    std::fs::remove_dir_all(layers.join(shared)).unwrap();
    own
}

#[test]
fn a_container_with_its_own_init_layer_from_an_older_berth_keeps_working() {
    let b = Berth::new();
    b.busybox("busybox");
    let layer = image_layer(&b);
    let shared = format!("{layer}-init");
    b.run(&["run", "--name", "old", "busybox", "sh", "-c", "echo x > /f"])
        .ok();
    let id = b.id_of("old");
    let own = make_old_layout(&b, &id, &shared);
    let layers = b.root().join("layers");
    assert_eq!(
        b.inspect("old")["GraphDriver"]["Data"]["LowerDir"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap(),
        layers.join(&own).join("diff").to_str().unwrap()
    );
    assert_eq!(b.run(&["diff", "old"]).ok().stdout, "A /f\n");
    let size = b.run(&["ps", "-as", "--format", "{{.Size}}"]).ok().stdout;
    assert!(size.starts_with("2B (virtual"), "{size}");
    // It starts on its own init layer (the shared one is gone).
    let out = b.run(&["start", "-a", "old"]).ok();
    assert_eq!(out.code, 0);
    assert!(!layers.join(&shared).exists());
    b.run(&["commit", "old", "snap"]).ok();
    let out = b
        .run(&["run", "--rm", "snap", "sh", "-c", "cat /f; ls /.dockerenv"])
        .ok();
    assert_eq!(out.stdout, "x\n/.dockerenv\n");
    // A new container of the image gets the shared one again.
    b.run(&["run", "--rm", "busybox", "true"]).ok();
    assert!(layers.join(&shared).exists());
    // rm removes its own init layer and its short link, and leaves the shared one.
    b.run(&["rm", "old"]).ok();
    assert!(!layers.join(&own).exists());
    assert!(std::fs::symlink_metadata(layers.join("l/OLDBERTHINITLAYERLINK00001")).is_err());
    assert!(layers.join(&shared).exists());
    b.run(&["rmi", "snap", "busybox"]).ok();
    assert_eq!(b.layer_dirs(), Vec::<String>::new());
}

/// A create killed while it builds the shared init layer (vfs: the build copies the image, so
/// there is time to hit it) leaves no half-built one that a container uses: the repair pass
/// of the next command removes it and the next create builds it whole.
#[test]
fn a_create_killed_while_building_the_init_layer_leaves_none_in_use_vfs() {
    let b = Berth::with_driver(Some("vfs"));
    let payload = vec![7u8; 4096];
    let names: Vec<String> = (0..4000).map(|i| format!("bulk/f{i}")).collect();
    let mut entries = vec![Entry::Dir("bulk", 0o755)];
    entries.extend(names.iter().map(|n| Entry::File(n, &payload, 0o644)));
    let (archive, _) = image_archive(
        &[busybox_tar(), tar_of(&entries)],
        "bulk:1",
        serde_json::json!({}),
    );
    let mut mid_build = 0;
    for attempt in 0..3 {
        b.run_stdin(&["load"], &archive).ok();
        let top = b.sqlite(&[], "SELECT cache_id FROM layers WHERE parent IS NOT NULL");
        let init = b.root().join("layers").join(format!("{top}-init"));
        let mut child = b
            .command(&["create", "--name", &format!("k{attempt}"), "bulk:1", "true"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !init.exists() && t0.elapsed() < SOON {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        kill9(child.id() as i64);
        child.wait().unwrap();
        if b.sqlite(&[], "SELECT count(*) FROM journal WHERE key LIKE '%-init'") == "1" {
            mid_build += 1;
        }
        // The repair pass: no entry left, and an init layer that is there is complete.
        b.run(&["ps", "-a"]).ok();
        assert_eq!(b.sqlite(&[], "SELECT count(*) FROM journal"), "0");
        if init.exists() {
            assert!(
                std::fs::symlink_metadata(init.join("fs/etc/mtab")).is_ok(),
                "a half-built init layer survived the repair pass"
            );
        }
        // The next container gets a whole one.
        let out = b
            .run(&[
                "run",
                "--rm",
                "bulk:1",
                "ls",
                "/.dockerenv",
                "/etc/mtab",
                "/bulk/f3999",
            ])
            .ok();
        assert_eq!(out.stdout, "/.dockerenv\n/bulk/f3999\n/etc/mtab\n");
        // Start over: the image's removal takes the init layer with it.
        b.run(&["rm", "-f", &format!("k{attempt}")]);
        b.run(&["rmi", "bulk:1"]).ok();
        assert!(!init.exists());
    }
    // Killed as soon as its directory appears, with 4,000 files still to copy.
    assert!(
        mid_build > 0,
        "no kill landed while the init layer was being built"
    );
}
