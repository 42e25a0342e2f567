//! A container's files as a user reaches them: `diff` (spec §1.5's example, exactly), `commit`
//! (spec §1.6: one layer of changes, none when nothing changed, volumes and tmpfs excluded,
//! `--change`), `export`, `cp` both ways — never escaping the container's root through its
//! symlinks (the CVE-2018-15664 class) — `top` and `rename`.

use std::collections::BTreeSet;

use crate::harness::*;

/// The spec's image with `/data`, `/etcx`, `/empty` loaded as `spec3:v1`.
fn spec_image(b: &Berth) {
    let (archive, _) = three_layer_archive("spec3:v1");
    b.run_stdin(&["load"], &archive).ok();
}

fn diff_set(b: &Berth, name: &str) -> BTreeSet<String> {
    b.run(&["diff", name])
        .ok()
        .lines()
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// Spec §1.5: the changes of the example command, as a set (Docker's order is not stable).
fn diff_example(driver: &'static str) {
    let b = Berth::with_driver(Some(driver));
    spec_image(&b);
    // The example's image has /data/sub/b.txt and /etcx/c.conf in the *same* lower layer view;
    // the spec3 image deletes b.txt in its top layer, so recreate the spec's starting point.
    b.run(&[
        "run",
        "--name",
        "prep",
        "spec3:v1",
        "sh",
        "-c",
        "echo bee > /data/sub/b.txt; rm -f /etcx/n.conf; echo c=1 > /etcx/c.conf; mkdir -p /tmp",
    ])
    .ok();
    b.run(&["commit", "prep", "spec15:base"]).ok();
    b.run(&["run", "--name", "ex", "spec15:base", "sh", "-c",
        "echo more >> /data/a.txt; rm /data/sub/b.txt; rm -rf /etcx; mkdir /etcx; echo new > /etcx/n.conf; \
         echo x > /newfile; mkdir /newdir; touch /newdir/f; rmdir /empty; chmod 700 /tmp"]).ok();
    let want: BTreeSet<String> = [
        "A /newfile",
        "C /data",
        "C /data/sub",
        "D /data/sub/b.txt",
        "C /data/a.txt",
        "C /etcx",
        "A /etcx/n.conf",
        "D /etcx/c.conf",
        "A /newdir",
        "A /newdir/f",
        "C /tmp",
        "D /empty",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(diff_set(&b, "ex"), want, "{driver}");
    // No changes: nothing printed, exit 0.
    b.run(&["create", "--name", "quiet", "spec15:base", "true"])
        .ok();
    assert_eq!(b.run(&["diff", "quiet"]).ok().stdout, "");
}

#[test]
fn diff_prints_the_spec_example_overlay() {
    diff_example("overlay");
}

#[test]
fn diff_prints_the_spec_example_vfs() {
    diff_example("vfs");
}

#[test]
fn diff_lists_mount_targets_but_never_mount_contents_or_init_files() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "run",
        "--name",
        "mm",
        "-v",
        "vol:/vol",
        "--tmpfs",
        "/tmpfs",
        "busybox",
        "sh",
        "-c",
        "echo x > /vol/inside; echo y > /tmpfs/inside; cat /etc/hosts >/dev/null",
    ])
    .ok();
    let d = diff_set(&b, "mm");
    assert!(d.contains("A /vol") && d.contains("A /tmpfs"), "{d:?}");
    assert!(
        !d.iter()
            .any(|l| l.contains("inside") || l.contains("/etc/hosts") || l.contains(".dockerenv")),
        "{d:?}"
    );
}

#[test]
fn commit_adds_one_layer_of_changes_or_none() {
    let b = Berth::new();
    b.busybox("busybox");
    let base_layers = b
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{len .RootFS.Layers}}",
            "busybox",
        ])
        .ok();
    b.run(&["run", "--name", "same", "busybox", "true"]).ok();
    let id = b.run(&["commit", "same"]).ok().stdout.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let n = b
        .run(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", &id])
        .ok();
    assert_eq!(
        n.stdout, base_layers.stdout,
        "no layer when nothing changed"
    );
    assert_eq!(
        b.run(&["images", "--filter", "dangling=true", "-q"])
            .ok()
            .stdout
            .trim(),
        &id[7..19],
        "without a name the image is untagged"
    );

    b.run(&[
        "run",
        "--name",
        "chg",
        "-v",
        "cvol:/vol",
        "--tmpfs",
        "/t",
        "busybox",
        "sh",
        "-c",
        "echo x > /f; rm /bin/ls; echo v > /vol/v; echo t > /t/t",
    ])
    .ok();
    let out = b
        .run(&[
            "commit",
            "-a",
            "me",
            "-m",
            "msg",
            "-c",
            "ENV A=1",
            "-c",
            "CMD [\"sh\"]",
            "chg",
            "snap:1",
        ])
        .ok();
    let img = b.run(&["image", "inspect", "snap:1"]).ok();
    let v: serde_json::Value = serde_json::from_str(&img.stdout).unwrap();
    let img = &v[0];
    assert_eq!(img["Id"], out.stdout.trim());
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(img["Author"], "me");
    assert_eq!(img["Comment"], "msg");
    assert_eq!(img["Config"]["Env"], serde_json::json!(["A=1"]));
    assert_eq!(img["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(img["Container"], b.id_of("chg"));
    // The new layer: the change and the whiteout, never the volume's or the tmpfs's content.
    let saved = b.scratch("snap.tar");
    b.run(&["save", "-o", saved.to_str().unwrap(), "snap:1"])
        .ok();
    let entries = tar_entries(&std::fs::read(&saved).unwrap());
    let top = entries
        .iter()
        .filter(|(n, _)| n.ends_with("layer.tar"))
        .map(|(_, data)| tar_entries(data))
        .find(|l| l.contains_key("f"))
        .expect("the committed layer");
    assert!(top.contains_key("bin/.wh.ls"), "{:?}", top.keys());
    assert!(
        top.contains_key("vol/") && !top.contains_key("vol/v"),
        "{:?}",
        top.keys()
    );
    assert!(!top.contains_key("t/t"), "{:?}", top.keys());
    let e = b.run(&["commit", "-c", "RUN x", "chg"]).fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: run is not a valid change command"
    );
    // History names the container's command.
    let h = b
        .run(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "snap:1",
        ])
        .ok();
    assert!(h.lines()[0].starts_with("sh -c echo x > /f"), "{h:?}");
}

#[test]
fn export_is_the_merged_root_filesystem() {
    let b = Berth::new();
    spec_image(&b);
    b.run(&["create", "--name", "ee", "spec3:v1", "true"]).ok();
    let out = b.command(&["export", "ee"]).output().unwrap();
    assert!(out.status.success());
    let entries = tar_entries(&out.stdout);
    assert!(entries.contains_key("data/a.txt") && entries.contains_key("etcx/n.conf"));
    assert!(
        !entries.contains_key("data/sub/b.txt"),
        "deleted in the image"
    );
    assert!(
        !entries.keys().any(|k| k.contains(".wh.")),
        "no whiteouts in a merged view"
    );
    let file = b.scratch("e.tar");
    b.run(&["export", "-o", file.to_str().unwrap(), "ee"]).ok();
    assert_eq!(std::fs::read(&file).unwrap().len(), out.stdout.len());
}

#[test]
fn cp_both_ways_with_docker_rules() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "run",
        "--name",
        "cc",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /d/sub; echo a > /d/sub/a; echo f > /f",
    ])
    .ok();
    let out = b.scratch("out");
    std::fs::create_dir_all(&out).unwrap();
    // A file into an existing directory; a directory to a new name; contents with `/.`.
    b.run(&["cp", "cc:/f", out.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read(out.join("f")).unwrap(), b"f\n");
    b.run(&["cp", "cc:/d", out.join("newd").to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read(out.join("newd/sub/a")).unwrap(), b"a\n");
    std::fs::create_dir_all(out.join("into")).unwrap();
    b.run(&["cp", "cc:/d/.", out.join("into").to_str().unwrap()])
        .ok();
    assert!(out.join("into/sub/a").exists());
    // Into the container: a file to a new name, a directory into a directory.
    std::fs::write(out.join("h.txt"), b"host\n").unwrap();
    b.run(&[
        "cp",
        out.join("h.txt").to_str().unwrap(),
        "cc:/d/renamed.txt",
    ])
    .ok();
    b.run(&["cp", out.join("newd").to_str().unwrap(), "cc:/d"])
        .ok();
    b.run(&["commit", "cc", "cp:check"]).ok();
    let cat = b
        .run(&[
            "run",
            "--rm",
            "cp:check",
            "sh",
            "-c",
            "cat /d/renamed.txt /d/newd/sub/a",
        ])
        .ok();
    assert_eq!(cat.stdout, "host\na\n");
    // `-` streams a tar.
    let tar = b.command(&["cp", "cc:/f", "-"]).output().unwrap();
    assert_eq!(tar_entries(&tar.stdout).keys().collect::<Vec<_>>(), ["f"]);
    // Errors.
    let e = b
        .run(&["cp", "cc:/nonexist", out.to_str().unwrap()])
        .fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: Could not find the file /nonexist in container cc"
    );
    let e = b
        .run(&["cp", out.join("h.txt").to_str().unwrap(), "nosuch:/x"])
        .fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: No such container: nosuch"
    );
}

#[test]
fn cp_owners_follow_docker() {
    use std::os::unix::fs::MetadataExt;
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "create", "--name", "asnobody", "-u", "nobody", "busybox", "true",
    ])
    .ok();
    b.run(&["create", "--name", "asroot", "busybox", "true"])
        .ok();
    let src = b.scratch("owned");
    std::fs::write(&src, b"x").unwrap();
    std::os::unix::fs::chown(&src, Some(1234), Some(5678)).unwrap();
    let src = src.to_str().unwrap();
    let owner_in = |c: &str, path: &str| {
        let tar = b
            .command(&["cp", &format!("{c}:{path}"), "-"])
            .output()
            .unwrap();
        let mut archive = tar::Archive::new(&tar.stdout[..]);
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        (entry.header().uid().unwrap(), entry.header().gid().unwrap())
    };
    // Into a container: the host file's owner; with -a, the container's user, looked up in the
    // container's /etc/passwd (nobody is 65534 there); -a without a user keeps the owner.
    b.run(&["cp", src, "asnobody:/plain"]).ok();
    b.run(&["cp", "-a", src, "asnobody:/archived"]).ok();
    b.run(&["cp", "-a", src, "asroot:/archived"]).ok();
    assert_eq!(owner_in("asnobody", "/plain"), (1234, 5678));
    assert_eq!(owner_in("asnobody", "/archived"), (65534, 65534));
    assert_eq!(owner_in("asroot", "/archived"), (1234, 5678));
    // Out of a container: owned by whoever ran `cp`, -a or not; stderr stays quiet off a terminal.
    for flags in [&[][..], &["-a"][..]] {
        let dest = b.scratch(&format!("out{}", flags.len()));
        let mut args = vec!["cp"];
        args.extend_from_slice(flags);
        args.extend(["asnobody:/plain", dest.to_str().unwrap()]);
        let out = b.run(&args).ok();
        assert_eq!(out.stderr, "");
        let md = std::fs::metadata(&dest).unwrap();
        assert_eq!((md.uid(), md.gid()), (0, 0), "cp {flags:?}");
    }
    // A user the container does not know.
    b.run(&[
        "create", "--name", "asghost", "-u", "ghost", "busybox", "true",
    ])
    .ok();
    let e = b.run(&["cp", "-a", src, "asghost:/x"]).fails(1);
    assert!(e.stderr.contains("unable to find user ghost"), "{e:?}");
}

/// The CVE-2018-15664 class: symlinks inside the container — absolute, relative, or swapped in
/// — resolve inside its root; `cp` never reads or writes the host's files through them.
#[test]
fn cp_never_escapes_the_container_root_through_symlinks() {
    let b = Berth::new();
    b.busybox("busybox");
    let marker = b.scratch("host-marker");
    std::fs::write(&marker, b"host secret\n").unwrap();
    let host_dir = marker.parent().unwrap().to_str().unwrap().to_string();
    b.run(&[
        "run",
        "--name",
        "evil",
        "busybox",
        "sh",
        "-c",
        &format!(
            "ln -s / /rootlink; ln -s ../../../../../../.. /uplink; ln -s {host_dir} /hostpath; \
         mkdir -p {host_dir}; echo container > {host_dir}/host-marker; ln -s /etc/passwd /pw"
        ),
    ])
    .ok();
    let out = b.scratch("got");
    std::fs::create_dir_all(&out).unwrap();
    // Reading through links gets the container's files, never the host's.
    for src in [
        "evil:/hostpath/host-marker",
        "evil:/rootlink/hostpath/host-marker",
        "evil:/uplink/hostpath/host-marker",
    ] {
        let dst = out.join("m");
        let _ = std::fs::remove_file(&dst);
        b.run(&["cp", src, dst.to_str().unwrap()]).ok();
        assert_eq!(std::fs::read(&dst).unwrap(), b"container\n", "{src}");
    }
    let passwd = b.command(&["cp", "-L", "evil:/pw", "-"]).output().unwrap();
    let entries = tar_entries(&passwd.stdout);
    assert_eq!(
        entries["pw"],
        std::fs::read(b.busybox_tar_path())
            .map(|_| busybox_passwd())
            .unwrap()
    );
    // Writing through links lands inside the container.
    let payload = out.join("payload");
    std::fs::write(&payload, b"payload\n").unwrap();
    for dst in [
        "evil:/hostpath/",
        "evil:/uplink/hostpath/",
        "evil:/rootlink/tmp/",
    ] {
        b.run(&["cp", payload.to_str().unwrap(), dst]).ok();
    }
    assert_eq!(std::fs::read(&marker).unwrap(), b"host secret\n");
    assert!(
        !marker.with_file_name("payload").exists(),
        "written on the host"
    );
    assert!(
        !std::path::Path::new("/tmp/payload").exists(),
        "written on the host"
    );
    b.run(&["commit", "evil", "evil:check"]).ok();
    let inside = b
        .run(&[
            "run",
            "--rm",
            "evil:check",
            "sh",
            "-c",
            &format!("cat {host_dir}/payload /tmp/payload"),
        ])
        .ok();
    assert_eq!(inside.stdout, "payload\npayload\n");
}

fn busybox_passwd() -> Vec<u8> {
    tar_entries(&busybox_tar())["etc/passwd"].clone()
}

#[test]
fn top_and_rename() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&["run", "-d", "--name", "t1", "busybox", "sleep", "100"])
        .ok();
    // `run -d` returns once the runtime has started the container; the runtime's init may
    // still be exec'ing the command (top shows `runc init` then), as with Docker.
    let top = wait_until("top to show the container's command", SOON, || {
        let top = b.run(&["top", "t1"]).ok();
        let shown = top.lines().iter().any(|l| l.ends_with("sleep 100"));
        shown.then_some(top)
    });
    assert_eq!(
        top.lines()[0].split_whitespace().collect::<Vec<_>>(),
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    );
    b.run(&["rename", "t1", "t2"]).ok();
    assert_eq!(b.inspect("t2")["Name"], "/t2");
    b.run(&["run", "-d", "--name", "t1", "busybox", "sleep", "100"])
        .ok();
    let e = b.run(&["rename", "t1", "t2"]).fails(1);
    assert!(
        e.stderr
            .contains("Conflict. The container name \"/t2\" is already in use"),
        "{e:?}"
    );
    let e = b.run(&["rename", "t2", "t2"]).fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: Renaming a container with the same name as its current name\nError: failed to rename container named t2"
    );
    b.run(&["rm", "-f", "t1", "t2"]).ok();
    let e = b.run(&["top", "nosuch"]).fails(1);
    assert_eq!(
        e.stderr.trim(),
        "Error response from daemon: No such container: nosuch"
    );
}

/// Issue 15 item 10: `cp CTR:/dir/link/` follows the link inside the container, as dockerd
/// resolves a path with a trailing separator: the directory it points to is copied, under the
/// link's name; without the slash the link itself is copied.
#[test]
fn r15_cp_out_of_a_link_with_a_trailing_slash_follows_it() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&["create", "--name", "cl", "busybox", "true"]).ok();
    let src = b.scratch("tree");
    std::fs::create_dir_all(src.join("dir/target")).unwrap();
    std::fs::write(src.join("dir/target/a"), b"a\n").unwrap();
    std::os::unix::fs::symlink("target", src.join("dir/link")).unwrap();
    std::os::unix::fs::symlink("/dir/target", src.join("dir/abs")).unwrap();
    b.run(&["cp", src.join("dir").to_str().unwrap(), "cl:/"])
        .ok();
    let out = b.scratch("out");
    std::fs::create_dir_all(&out).unwrap();
    for link in ["link", "abs"] {
        b.run(&["cp", &format!("cl:/dir/{link}/"), out.to_str().unwrap()])
            .ok();
        let md = std::fs::symlink_metadata(out.join(link)).unwrap();
        assert!(md.is_dir(), "{link}/ copies the directory it points to");
        assert_eq!(std::fs::read(out.join(link).join("a")).unwrap(), b"a\n");
        // To a new name: the directory's content under that name.
        let fresh = out.join(format!("new-{link}"));
        b.run(&["cp", &format!("cl:/dir/{link}/"), fresh.to_str().unwrap()])
            .ok();
        assert_eq!(std::fs::read(fresh.join("a")).unwrap(), b"a\n");
    }
    // Without the slash, the link itself.
    let plain = b.scratch("plain");
    std::fs::create_dir_all(&plain).unwrap();
    b.run(&["cp", "cl:/dir/link", plain.to_str().unwrap()]).ok();
    assert_eq!(
        std::fs::read_link(plain.join("link")).unwrap(),
        std::path::Path::new("target")
    );
    // A trailing slash on a file is still an error.
    let e = b
        .run(&["cp", "cl:/dir/target/a/", out.to_str().unwrap()])
        .fails(1);
    assert!(e.stderr.contains("not a directory"), "{e:?}");
}
