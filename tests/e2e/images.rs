//! Image commands end to end: import, load, save, images, inspect, tag, rmi, history, prune,
//! with Docker's output shapes and errors, on both storage drivers.

use crate::harness::*;

fn layer_dirs(b: &Berth) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(b.root().join("layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "l")
        .collect();
    v.sort();
    v
}

fn blobs(b: &Berth) -> usize {
    std::fs::read_dir(b.root().join("blobs/sha256"))
        .unwrap()
        .count()
}

#[test]
fn import_lists_and_inspects_like_docker() {
    let b = Berth::new();
    let id = b.busybox("busybox");
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let out = b.run(&["images"]).ok();
    let lines = out.lines();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    );
    assert!(lines[1].starts_with("busybox "), "{out:?}");
    assert!(lines[1].contains(&id[7..19]), "{out:?}");
    assert_eq!(b.run(&["images", "-q"]).ok().stdout.trim(), &id[7..19]);

    let inspect: serde_json::Value =
        serde_json::from_str(&b.run(&["image", "inspect", "busybox"]).ok().stdout).unwrap();
    let img = &inspect[0];
    let keys: Vec<&str> = img
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "Id",
            "RepoTags",
            "RepoDigests",
            "Parent",
            "Comment",
            "Created",
            "Container",
            "ContainerConfig",
            "DockerVersion",
            "Author",
            "Config",
            "Architecture",
            "Os",
            "Size",
            "VirtualSize",
            "GraphDriver",
            "RootFS",
            "Metadata"
        ]
    );
    assert_eq!(img["Id"], id);
    assert_eq!(img["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(img["Comment"], "Imported from -");
    assert_eq!(img["RootFS"]["Type"], "layers");
    let diff = format!("sha256:{}", sha256_hex(&busybox_tar()));
    assert_eq!(
        img["RootFS"]["Layers"],
        serde_json::json!([diff]),
        "diff-id is the sha256 of the tar as imported"
    );
    assert!(img["Size"].as_u64().unwrap() >= 1_900_000);
    assert_eq!(img["Config"]["Cmd"], serde_json::Value::Null);
    // Generic inspect finds images too; --format renders fields.
    assert_eq!(
        b.run(&["inspect", "--format", "{{.Id}}", "busybox"])
            .ok()
            .stdout
            .trim(),
        id
    );
}

#[test]
fn import_applies_changes_and_message() {
    let b = Berth::new();
    let tar = b.scratch("bb.tar");
    std::fs::write(&tar, busybox_tar()).unwrap();
    let t = tar.to_str().unwrap();
    b.run(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        "-c",
        "ENV A=1",
        "-c",
        "VOLUME /data",
        "-c",
        "WORKDIR /w",
        "-m",
        "my msg",
        t,
        "chg:1",
    ])
    .ok();
    let out = b
        .run(&["image", "inspect", "--format", "{{.Comment}}", "chg:1"])
        .ok();
    assert_eq!(out.stdout.trim(), "my msg");
    let v: serde_json::Value =
        serde_json::from_str(&b.run(&["image", "inspect", "chg:1"]).ok().stdout).unwrap();
    let c = &v[0]["Config"];
    assert_eq!(c["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(c["Env"], serde_json::json!(["A=1"]));
    assert_eq!(c["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(c["WorkingDir"], "/w");
    let bad = b.run(&["import", "-c", "RUN x", t]).fails(1);
    assert_eq!(
        bad.stderr.trim(),
        "Error response from daemon: run is not a valid change command"
    );
    // Stdin works too.
    let out = b
        .run_stdin(&["import", "-", "fromstdin"], &busybox_tar())
        .ok();
    assert!(out.stdout.starts_with("sha256:"));
    let missing = b.run(&["import", "/nonexistent.tar"]).fails(1);
    assert_eq!(
        missing.stderr.trim(),
        "open /nonexistent.tar: no such file or directory"
    );
}

fn three_layers_round_trip(driver: &'static str) {
    let b = Berth::with_driver(Some(driver));
    let (archive, diff_ids) = three_layer_archive("spec3:v1");
    let input = b.scratch("in.tar");
    std::fs::write(&input, &archive).unwrap();
    let out = b.run(&["load", "-i", input.to_str().unwrap()]).ok();
    assert_eq!(out.stdout.trim(), "Loaded image: spec3:v1");
    let layers = b
        .run(&[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            "spec3:v1",
        ])
        .ok();
    assert_eq!(
        layers.stdout.trim(),
        serde_json::to_string(&diff_ids).unwrap()
    );

    for (format, name) in [("docker", "out.tar"), ("oci-archive", "out-oci.tar")] {
        let saved = b.scratch(name);
        b.run(&[
            "save",
            "--format",
            format,
            "-o",
            saved.to_str().unwrap(),
            "spec3:v1",
        ])
        .ok();
        let entries = tar_entries(&std::fs::read(&saved).unwrap());
        // Every layer of the input is in the output byte for byte, so diff-ids survive.
        let mut found: Vec<String> = entries
            .iter()
            .filter(|(n, _)| {
                n.ends_with("layer.tar")
                    || (n.starts_with("blobs/")
                        && diff_ids.contains(&format!("sha256:{}", n.rsplit('/').next().unwrap())))
            })
            .map(|(_, data)| format!("sha256:{}", sha256_hex(data)))
            .collect();
        found.sort();
        let mut want = diff_ids.clone();
        want.sort();
        assert_eq!(found, want, "{format}: layers in the archive");
        assert!(entries.contains_key("manifest.json"));
        if format == "oci-archive" {
            assert!(entries.contains_key("index.json") && entries.contains_key("oci-layout"));
        }
        // A second root loads it to the same image ID.
        let other = Berth::with_driver(Some(driver));
        let out = other.run(&["load", "-i", saved.to_str().unwrap()]).ok();
        assert!(out.stdout.contains("Loaded image: spec3:v1"), "{out:?}");
        let id_a = b.run(&["images", "-q", "--no-trunc", "spec3"]).ok().stdout;
        let id_b = other
            .run(&["images", "-q", "--no-trunc", "spec3"])
            .ok()
            .stdout;
        assert_eq!(id_a, id_b);
    }
    // Stdin and gzip input.
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&archive).unwrap();
        e.finish().unwrap()
    };
    let other = Berth::with_driver(Some(driver));
    let out = other.run_stdin(&["load"], &gz).ok();
    assert_eq!(out.stdout.trim(), "Loaded image: spec3:v1");
}

#[test]
fn three_layer_image_round_trips_overlay() {
    three_layers_round_trip("overlay");
}

#[test]
fn three_layer_image_round_trips_vfs() {
    three_layers_round_trip("vfs");
}

#[test]
fn layers_are_shared_and_freed_only_when_unused() {
    let b = Berth::new();
    let (archive, _) = three_layer_archive("spec3:v1");
    b.run_stdin(&["load"], &archive).ok();
    b.busybox("busybox");
    // busybox's only layer is spec3's bottom layer: stored once.
    assert_eq!(layer_dirs(&b).len(), 3);
    assert_eq!(blobs(&b), 3);
    b.run(&["tag", "busybox", "other:1"]).ok();
    let out = b.run(&["rmi", "other:1"]).ok();
    assert_eq!(out.stdout.trim(), "Untagged: other:1");
    let out = b.run(&["rmi", "busybox"]).ok();
    let lines = out.lines();
    assert_eq!(lines[0], "Untagged: busybox:latest");
    assert!(lines[1].starts_with("Deleted: sha256:"));
    assert_eq!(lines.len(), 2, "the shared layer is not deleted: {out:?}");
    assert_eq!(layer_dirs(&b).len(), 3);
    let out = b.run(&["rmi", "spec3:v1"]).ok();
    assert_eq!(out.lines().len(), 5, "untag, image, three layers: {out:?}");
    assert!(layer_dirs(&b).is_empty());
    assert_eq!(blobs(&b), 0);
    assert_eq!(
        std::fs::read_dir(b.root().join("layers/l"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn rmi_by_id_with_several_names_needs_force() {
    let b = Berth::new();
    let id = b.busybox("busybox");
    b.run(&["tag", "busybox", "x:1"]).ok();
    let short = &id[7..19];
    let err = b.run(&["rmi", short]).fails(1);
    assert_eq!(
        err.stderr.trim(),
        format!("Error response from daemon: conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories")
    );
    let out = b.run(&["rmi", "-f", short]).ok();
    assert_eq!(
        out.lines()[..2],
        ["Untagged: busybox:latest", "Untagged: x:1"]
    );
    let err = b.run(&["rmi", "nosuch"]).fails(1);
    assert_eq!(
        err.stderr.trim(),
        "Error response from daemon: No such image: nosuch:latest"
    );
}

#[test]
fn tag_errors_match_docker() {
    let b = Berth::new();
    b.busybox("busybox");
    let e = b.run(&["tag", "busybox", "BAD"]).fails(1);
    assert_eq!(e.stderr.trim(), "Error parsing reference: \"BAD\" is not a valid repository/tag: invalid reference format: repository name (library/BAD) must be lowercase");
    let e = b.run(&["tag", "busybox", "sha256:aaa"]).fails(1);
    assert_eq!(e.stderr.trim(), "Error response from daemon: refusing to create an ambiguous tag using digest algorithm as name");
    let e = b.run(&["tag", "nosuch", "x"]).fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: No such image: nosuch:latest"
    );
    // All spellings of one official name resolve to the same image.
    b.run(&[
        "tag",
        "docker.io/library/busybox:latest",
        "index.docker.io/library/bb2",
    ])
    .ok();
    let out = b
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .ok();
    let mut names = out.lines();
    names.sort();
    assert_eq!(names, ["bb2:latest", "busybox:latest"]);
}

#[test]
fn images_filters_and_formats() {
    let b = Berth::new();
    b.busybox("busybox");
    b.busybox("other:2");
    let tar = b.busybox_tar_path();
    b.run(&["import", "-c", "LABEL k=v", tar.to_str().unwrap()])
        .ok();
    let dangling = b
        .run(&[
            "images",
            "--filter",
            "dangling=true",
            "--format",
            "{{.Repository}} {{.Tag}}",
        ])
        .ok();
    assert_eq!(dangling.stdout.trim(), "<none> <none>");
    let r = b
        .run(&[
            "images",
            "--filter",
            "reference=busy*",
            "--format",
            "{{.Repository}}",
        ])
        .ok();
    assert_eq!(r.stdout.trim(), "busybox");
    let l = b.run(&["images", "--filter", "label=k=v", "-q"]).ok();
    assert_eq!(l.lines().len(), 1);
    let e = b.run(&["images", "--filter", "bogus=1"]).fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: Invalid filter 'bogus'"
    );
    let e = b.run(&["images", "--filter", "dangling=maybe"]).fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: Invalid filter 'dangling=[maybe]'"
    );
    let j = b.run(&["images", "--format", "json", "busybox"]).ok();
    let v: serde_json::Value = serde_json::from_str(j.stdout.trim()).unwrap();
    assert_eq!(v["Repository"], "busybox");
    assert_eq!(v["Tag"], "latest");
}

#[test]
fn image_prune_removes_dangling_images() {
    let b = Berth::new();
    b.busybox("busybox");
    let tar = b.busybox_tar_path();
    let id = b
        .run(&["import", "-c", "LABEL x=1", tar.to_str().unwrap()])
        .ok()
        .stdout
        .trim()
        .to_string();
    let out = b.run(&["image", "prune", "-f"]).ok();
    assert!(out.stdout.starts_with("Deleted Images:\n"), "{out:?}");
    assert!(out.stdout.contains(&format!("deleted: {id}")), "{out:?}");
    assert!(out
        .stdout
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("Total reclaimed space: "));
    assert_eq!(b.run(&["images", "-q"]).ok().lines().len(), 1);
    let out = b.run(&["image", "prune", "-f"]).ok();
    assert_eq!(out.stdout, "Total reclaimed space: 0B\n");
}

#[test]
fn history_lists_steps() {
    let b = Berth::new();
    let (archive, _) = three_layer_archive("spec3:v1");
    b.run_stdin(&["load"], &archive).ok();
    let out = b
        .run(&["history", "--format", "{{.CreatedBy}}|{{.ID}}", "spec3:v1"])
        .ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("layer 2|") && !lines[0].ends_with("<missing>"));
    assert_eq!(lines[2], "layer 0|<missing>");
}

#[test]
fn the_storage_driver_is_recorded_and_checked() {
    let b = Berth::with_driver(Some("vfs"));
    b.busybox("busybox");
    let info = b.run(&["info", "--format", "{{.Driver}}"]).ok();
    assert_eq!(info.stdout.trim(), "vfs");
    let e = std::process::Command::new(berth_bin())
        .args([
            "--root",
            b.root().to_str().unwrap(),
            "--storage-driver",
            "overlay",
            "images",
        ])
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&e.stderr)
        .contains("uses the vfs storage driver, but overlay2 was requested"));
}

#[test]
fn load_refuses_non_image_archives() {
    let b = Berth::new();
    let e = b.run_stdin(&["load"], &busybox_tar()).fails(1);
    assert!(
        e.stderr
            .contains("not a docker save archive or an OCI image layout"),
        "{e:?}"
    );
    assert!(b.run(&["images", "-q"]).ok().stdout.is_empty());
}

/// kill -9 in the middle of a load leaves nothing once berth next opens the root.
#[test]
fn a_killed_load_leaves_no_half_state() {
    let b = Berth::new();
    b.run(&["images"]).ok();
    // A large layer so the load is still running when it is killed.
    let big: Vec<u8> = (0..(96u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let layer = tar_of(&[Entry::File("big.bin", &big, 0o644)]);
    let (archive, _) = image_archive(&[layer], "big:1", serde_json::json!({}));
    let input = b.scratch("big.tar");
    std::fs::write(&input, &archive).unwrap();
    let mut child = b
        .command(&["load", "-i", input.to_str().unwrap()])
        .spawn()
        .unwrap();
    // Wait until the layer directory exists, then kill.
    let t0 = std::time::Instant::now();
    while layer_dirs(&b).is_empty() && t0.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    // The next command recovers: no image, no layer dir, no blob, no staging.
    assert!(b.run(&["images", "-q"]).ok().stdout.is_empty());
    assert!(layer_dirs(&b).is_empty(), "{:?}", layer_dirs(&b));
    assert_eq!(blobs(&b), 0);
    assert_eq!(std::fs::read_dir(b.root().join("tmp")).unwrap().count(), 0);
    // And the same load then works.
    b.run(&["load", "-i", input.to_str().unwrap()]).ok();
}
