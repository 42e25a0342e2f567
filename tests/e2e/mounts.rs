//! Mounts as a user sees them (storage spec §4–§9): populating volumes from the image (and that
//! the copy cannot be steered outside the container root or the volume), bind mounts (missing
//! sources, single files, read-only and its recursion, propagation, `bind-nonrecursive`), tmpfs
//! mounts (options, modes, lifetime, errors), `--volumes-from`, and how `inspect` and `ps` report
//! all of them.
//!
//! Expected texts were checked against Docker 20.10 with the docker 28 CLI (API 1.41). Where
//! berth deliberately follows a newer API (recursive read-only binds, API ≥ 1.44) or a §11 fix
//! (tmpfs duplicates, inherited `--mount type=tmpfs`), the test says so and asserts berth's
//! documented behaviour.

use std::os::unix::fs::MetadataExt;

use regex::Regex;

use crate::harness::*;
use crate::vol_harness::*;

/// The spec's image: busybox + `/data` (1000:2000 0750) holding `a.txt` (1000:2000 0644),
/// `sub/b.txt`, a symlink `link -> a.txt`, and `/etcx/c.conf`; `VOLUME /data`.
fn spec_image(b: &Berth, tag: &str, volumes: &[&str]) {
    let layer = raw_tar(&[
        raw_dir("data", 0o750, 1000, 2000),
        raw_file("data/a.txt", b"hello\n", 0o644, 1000, 2000),
        raw_dir("data/sub", 0o755, 1000, 2000),
        raw_file("data/sub/b.txt", b"bee\n", 0o640, 1000, 2000),
        RawEntry {
            path: "data/link",
            kind: tar::EntryType::Symlink,
            mode: 0o777,
            uid: 1000,
            gid: 2000,
            data: b"",
            link: Some("a.txt"),
        },
        raw_dir("etcx", 0o755, 0, 0),
        raw_file("etcx/c.conf", b"c=1\n", 0o644, 0, 0),
        raw_dir("empty", 0o755, 0, 0),
    ]);
    load_image(b, tag, &[layer], volumes);
}

fn raw_dir(path: &str, mode: u32, uid: u64, gid: u64) -> RawEntry<'_> {
    RawEntry {
        path,
        kind: tar::EntryType::Directory,
        mode,
        uid,
        gid,
        data: b"",
        link: None,
    }
}

fn raw_file<'a>(path: &'a str, data: &'a [u8], mode: u32, uid: u64, gid: u64) -> RawEntry<'a> {
    RawEntry {
        path,
        kind: tar::EntryType::Regular,
        mode,
        uid,
        gid,
        data,
        link: None,
    }
}

fn raw_symlink<'a>(path: &'a str, target: &'a str) -> RawEntry<'a> {
    RawEntry {
        path,
        kind: tar::EntryType::Symlink,
        mode: 0o777,
        uid: 1000,
        gid: 2000,
        data: b"",
        link: Some(target),
    }
}

/// Checks that `data` holds the spec image's `/data` content with owners and modes.
#[track_caller]
fn assert_populated(data: &std::path::Path) {
    assert_eq!(
        perms(data),
        (0o750, 1000, 2000),
        "the volume root takes the image dir's owner/mode"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("a.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(perms(&data.join("a.txt")), (0o644, 1000, 2000));
    assert_eq!(
        std::fs::symlink_metadata(data.join("a.txt"))
            .unwrap()
            .mtime(),
        1_700_000_000,
        "file mtimes are kept"
    );
    assert_eq!(perms(&data.join("sub")), (0o755, 1000, 2000));
    assert_eq!(
        std::fs::read_to_string(data.join("sub/b.txt")).unwrap(),
        "bee\n"
    );
    assert_eq!(perms(&data.join("sub/b.txt")), (0o640, 1000, 2000));
    let link = data.join("link");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some("a.txt"));
    let (_, uid, gid) = perms(&link);
    assert_eq!((uid, gid), (1000, 2000));
}

fn anon_name(b: &Berth, ctr: &str, dst: &str) -> String {
    mounts_by_dest(&b.inspect(ctr))[dst]["Name"]
        .as_str()
        .unwrap()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// populate (§4)

#[test]
fn empty_volumes_are_populated_from_the_image_with_owners_modes_and_symlinks() {
    let b = Berth::new();
    spec_image(&b, "vimg", &["/data"]);
    // Named via -v, named via --mount, read-only named, the image's anonymous VOLUME, and an
    // anonymous `-v /data`.
    b.run(&[
        "create",
        "--name",
        "c1",
        "-v",
        "spec-pop1:/data",
        "vimg",
        "true",
    ])
    .ok();
    assert_populated(&volume_data(&b, "spec-pop1"));
    b.run(&[
        "create",
        "--name",
        "c2",
        "--mount",
        "type=volume,src=spec-pop2,dst=/data",
        "vimg",
        "true",
    ])
    .ok();
    assert_populated(&volume_data(&b, "spec-pop2"));
    b.run(&[
        "create",
        "--name",
        "c3",
        "-v",
        "spec-pop3:/data:ro",
        "vimg",
        "true",
    ])
    .ok();
    assert_populated(&volume_data(&b, "spec-pop3"));
    b.run(&["create", "--name", "c4", "vimg", "true"]).ok();
    assert_populated(&volume_data(&b, &anon_name(&b, "c4", "/data")));
    b.run(&[
        "create",
        "--name",
        "c5",
        "--mount",
        "type=volume,dst=/data",
        "vimg",
        "true",
    ])
    .ok();
    assert_populated(&volume_data(&b, &anon_name(&b, "c5", "/data")));

    // What the container sees.
    let out = b
        .run(&["run", "--rm", "-v", "spec-pop1:/data", "vimg", "sh", "-c",
            "stat -c '%n %A %u:%g' /data /data/a.txt /data/sub/b.txt; readlink /data/link; cat /data/link"])
        .ok();
    assert_eq!(
        out.stdout,
        "/data drwxr-x--- 1000:2000\n/data/a.txt -rw-r--r-- 1000:2000\n/data/sub/b.txt -rw-r----- 1000:2000\na.txt\nhello\n"
    );
}

#[test]
fn populate_happens_once_per_container_creation() {
    let b = Berth::new();
    spec_image(&b, "vimg", &[]);
    b.run(&[
        "create",
        "--name",
        "c1",
        "-v",
        "spec-p:/data",
        "vimg",
        "true",
    ])
    .ok();
    let data = volume_data(&b, "spec-p");
    assert_populated(&data);
    // Emptied after create: start does not refill it.
    sh_ok(&format!(
        "rm -rf '{d}'/* '{d}'/.[!.]* 2>/dev/null; true",
        d = data.display()
    ));
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    let out = b.run(&["start", "-a", "c1"]).ok();
    assert_eq!(out.stdout, "");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volumes-from",
            "c1",
            "vimg",
            "ls",
            "-A",
            "/data",
        ])
        .ok();
    assert_eq!(out.stdout, "", "inherited mounts are never populated");
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    // The next new container over a non-empty image dir fills it again.
    b.run(&["create", "-v", "spec-p:/data", "vimg", "true"])
        .ok();
    assert_populated(&data);
}

#[test]
fn no_populate_for_nocopy_binds_non_empty_volumes_absent_targets_and_inherited_mounts() {
    let b = Berth::new();
    spec_image(&b, "vimg", &[]);
    let empty = |name: &str| {
        let d = volume_data(&b, name);
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            0,
            "{name} was populated"
        );
        assert_eq!(perms(&d), (0o755, 0, 0), "{name}");
    };
    b.run(&["create", "-v", "spec-nc1:/data:nocopy", "vimg", "true"])
        .ok();
    empty("spec-nc1");
    b.run(&[
        "create",
        "--mount",
        "type=volume,src=spec-nc2,dst=/data,volume-nocopy",
        "vimg",
        "true",
    ])
    .ok();
    empty("spec-nc2");
    b.run(&[
        "create",
        "--mount",
        "type=volume,src=spec-nc3,dst=/data,volume-nocopy=true",
        "vimg",
        "true",
    ])
    .ok();
    empty("spec-nc3");
    // Mode `nocopy` in Mounts[].
    b.run(&[
        "create",
        "--name",
        "nc",
        "-v",
        "spec-nc4:/data:nocopy",
        "vimg",
        "true",
    ])
    .ok();
    assert_eq!(mounts_by_dest(&b.inspect("nc"))["/data"]["Mode"], "nocopy");

    // Target absent in the image: nothing copied, the root stays 0755 root:root.
    b.run(&["create", "-v", "spec-abs:/nothere", "vimg", "true"])
        .ok();
    empty("spec-abs");

    // A non-empty volume is left as it is: nothing merged.
    b.run(&["volume", "create", "spec-pre"]).ok();
    std::fs::write(volume_data(&b, "spec-pre").join("pre"), "x").unwrap();
    b.run(&["create", "-v", "spec-pre:/data", "vimg", "true"])
        .ok();
    let names: Vec<String> = std::fs::read_dir(volume_data(&b, "spec-pre"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["pre"]);

    // Binds: nothing copied either way; the image content is hidden.
    let host = b.scratch("bind");
    std::fs::create_dir_all(&host).unwrap();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &format!("{}:/data", host.display()),
            "vimg",
            "ls",
            "-A",
            "/data",
        ])
        .ok();
    assert_eq!(out.stdout, "");
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0);

    // Inherited: the source (busybox, no /data) made the volume empty; the dependant's image has
    // content at /data but inherited mounts never copy.
    b.busybox("busybox");
    b.run(&[
        "create",
        "--name",
        "src",
        "-v",
        "spec-inh:/data",
        "busybox",
        "true",
    ])
    .ok();
    b.run(&["create", "--volumes-from", "src", "vimg", "true"])
        .ok();
    empty("spec-inh");
}

#[test]
fn named_volume_over_a_file_in_the_image_is_refused() {
    let b = Berth::new();
    spec_image(&b, "vimg", &[]);
    let out = b
        .run(&["run", "-v", "spec-f:/etcx/c.conf", "vimg", "true"])
        .fails(125);
    let re = Regex::new(&format!(
        "^berth: Error response from daemon: source {}/layers/[0-9a-f]{{64}}/merged/etcx/c\\.conf is not directory\n\nRun 'berth run --help' for more information\n$",
        regex::escape(&b.root().display().to_string())
    ))
    .unwrap();
    assert!(re.is_match(&out.stderr), "{out:?}");
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn tmpfs_option_volume_loses_the_populated_copy() {
    // §4 / §11 #12: replicated — the copy goes to the tmpfs, which is unmounted afterwards.
    let b = Berth::new();
    spec_image(&b, "vimg", &[]);
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
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-tv:/data",
            "vimg",
            "ls",
            "-A",
            "/data",
        ])
        .ok();
    assert_eq!(out.stdout, "");
    assert!(!is_host_mount_point(&volume_data(&b, "spec-tv")));
}

/// A snapshot of what must not change on the host during a hostile populate.
fn host_etc_state() -> (std::collections::BTreeMap<String, String>, String) {
    (
        dir_fingerprint(std::path::Path::new("/etc")),
        sha256_hex(&std::fs::read("/etc/passwd").unwrap()),
    )
}

#[test]
fn populate_through_an_image_volume_symlink_stays_inside_the_container_root() {
    let b = Berth::new();
    // /data -> /etc (absolute) and /up -> ../../../../etc (climbs above the root): both resolve to
    // the image's own /etc, which holds a marker the host's /etc does not have.
    let layer = raw_tar(&[
        raw_dir("etc", 0o755, 0, 0),
        raw_file("etc/berth-marker", b"image\n", 0o644, 0, 0),
        raw_symlink("data", "/etc"),
        raw_symlink("up", "../../../../../../../../etc"),
    ]);
    load_image(&b, "evil", &[layer], &["/data", "/up"]);
    let before = host_etc_state();
    let dirs_before = volume_dirs(&b);
    assert!(dirs_before.is_empty());
    // Whatever berth decides about mounting there, the copy must come from the image.
    let out = b.run(&["create", "--name", "ev", "evil", "true"]);
    if out.code == 0 {
        for dst in ["/data", "/up"] {
            let Some(m) = mounts_by_dest(&b.inspect("ev")).get(dst).cloned() else {
                continue;
            };
            let data = volume_data(&b, m["Name"].as_str().unwrap());
            let mut names: Vec<String> = std::fs::read_dir(&data)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect();
            names.sort();
            // The container's /etc: the image's passwd, group and marker plus the init layer's
            // placeholders; none of the host's files (os-release...).
            assert_eq!(
                names,
                [
                    "berth-marker",
                    "group",
                    "hostname",
                    "hosts",
                    "mtab",
                    "passwd",
                    "resolv.conf"
                ],
                "{dst}"
            );
            assert_eq!(std::fs::read(data.join("hostname")).unwrap(), b"", "{dst}");
            assert_eq!(
                std::fs::read_to_string(data.join("passwd")).unwrap(),
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
            );
        }
    } else {
        assert_eq!(out.code, 1, "{out:?}");
    }
    assert_eq!(host_etc_state(), before, "the host's /etc was touched");
    // Nothing outside the volumes' `_data` dirs.
    for v in volume_dirs(&b) {
        let entries: Vec<String> = std::fs::read_dir(b.root().join("volumes").join(&v))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(entries, ["_data"], "{v}");
    }
}

#[test]
fn populate_copies_symlinks_as_symlinks_and_never_writes_through_them() {
    let b = Berth::new();
    // /data (1000:2000 0750) with symlinks pointing at the host's /etc in every way, owned by
    // 1000:2000: a copy that followed them would chown/chmod or overwrite host files.
    let layer = raw_tar(&[
        raw_dir("data", 0o750, 1000, 2000),
        raw_symlink("data/hostetc", "/etc"),
        raw_symlink("data/up", "../../../../../../../../etc"),
        raw_symlink("data/pw", "/etc/passwd"),
        raw_symlink("data/dangling", "/nonexistent/x"),
        raw_file("data/z.txt", b"z\n", 0o600, 1000, 2000),
    ]);
    load_image(&b, "evil", &[layer], &["/data"]);
    let before = host_etc_state();
    b.run(&[
        "create",
        "--name",
        "ev",
        "-v",
        "spec-sym:/data",
        "evil",
        "true",
    ])
    .ok();
    b.run(&["create", "--name", "ev2", "evil", "true"]).ok();
    for data in [
        volume_data(&b, "spec-sym"),
        volume_data(&b, &anon_name(&b, "ev2", "/data")),
    ] {
        for (name, target) in [
            ("hostetc", "/etc"),
            ("up", "../../../../../../../../etc"),
            ("pw", "/etc/passwd"),
            ("dangling", "/nonexistent/x"),
        ] {
            let p = data.join(name);
            let md = std::fs::symlink_metadata(&p).unwrap();
            assert!(md.file_type().is_symlink(), "{name}");
            assert_eq!(std::fs::read_link(&p).unwrap().to_str(), Some(target));
            assert_eq!(
                (md.uid(), md.gid()),
                (1000, 2000),
                "{name}: lchown, not chown"
            );
        }
        assert_eq!(perms(&data), (0o750, 1000, 2000));
        assert_eq!(perms(&data.join("z.txt")), (0o600, 1000, 2000));
    }
    assert_eq!(host_etc_state(), before, "the host's /etc was touched");
    assert!(!std::path::Path::new("/nonexistent").exists());

    // A non-empty volume holding a symlink to a host dir: no copy, nothing written there.
    let host = b.scratch("target");
    std::fs::create_dir_all(&host).unwrap();
    spec_image(&b, "vimg", &[]);
    b.run(&["volume", "create", "spec-pre"]).ok();
    std::os::unix::fs::symlink(&host, volume_data(&b, "spec-pre").join("sub")).unwrap();
    b.run(&["create", "-v", "spec-pre:/data", "vimg", "true"])
        .ok();
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// binds (§5)

#[test]
fn v_bind_source_is_created_at_start_not_at_create() {
    let b = vb();
    let src = b.scratch("missing/deep/src");
    b.run(&[
        "create",
        "--name",
        "c1",
        "-v",
        &format!("{}:/data", src.display()),
        "busybox",
        "true",
    ])
    .ok();
    assert!(!src.exists(), "created at create");
    assert!(!b.scratch("missing").exists());
    b.run(&["start", "-a", "c1"]).ok();
    assert!(src.is_dir());
    assert_eq!(perms(&src), (0o755, 0, 0));
    assert_eq!(perms(&b.scratch("missing/deep")), (0o755, 0, 0));
    // It stays after the container is removed.
    b.run(&["rm", "-v", "c1"]).ok();
    assert!(src.is_dir());
}

#[test]
fn mount_bind_with_a_missing_source_fails_at_create() {
    let b = vb();
    let src = b.scratch("missing2");
    let text = format!(
        "invalid mount config for type \"bind\": bind source path does not exist: {}",
        src.display()
    );
    let flag = format!("type=bind,src={},dst=/x", src.display());
    let out = b
        .run(&["run", "--mount", &flag, "busybox", "true"])
        .fails(125);
    assert_eq!(out.stderr, run_daemon_error(&text));
    let out = b
        .run(&["create", "--mount", &flag, "busybox", "true"])
        .fails(1);
    assert_eq!(out.stderr, daemon_error(&text));
    assert!(!src.exists());
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn bind_sources_are_cleaned_and_dot_paths_made_absolute() {
    let b = vb();
    let src = b.scratch("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("f"), "x\n").unwrap();
    let raw = format!("{}/./..//src/:/b1", src.display());
    b.run(&["create", "--name", "c1", "-v", &raw, "busybox", "true"])
        .ok();
    let i = b.inspect("c1");
    assert_eq!(
        mounts_by_dest(&i)["/b1"]["Source"],
        src.display().to_string()
    );
    assert_eq!(i["HostConfig"]["Binds"], serde_json::json!([raw]));

    // `./src` relative to the current directory (the CLI makes it absolute).
    let mut cmd = b.command(&[
        "run",
        "--rm",
        "-v",
        "./src:/b2",
        "--mount",
        "type=bind,src=./src,dst=/b3",
        "busybox",
        "cat",
        "/b2/f",
        "/b3/f",
    ]);
    cmd.current_dir(src.parent().unwrap());
    let out = output_timeout(cmd, None, CMD_TIMEOUT).ok();
    assert_eq!(out.stdout, "x\nx\n");
    // Other relative forms are volume names (and fail as such) or errors.
    let out = b
        .run(&["run", "--rm", "-v", "src/:/data", "busybox", "true"])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("create src/: \"src/\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            "type=bind,src=src,dst=/x",
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("invalid mount config for type \"bind\": invalid mount path: 'src' mount path must be absolute")
    );
}

#[test]
fn single_file_binds_both_ways() {
    let b = vb();
    let file = b.scratch("single.txt");
    std::fs::write(&file, "host\n").unwrap();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &format!("{}:/etc/single.txt", file.display()),
            "busybox",
            "sh",
            "-c",
            "cat /etc/single.txt; echo ctr >> /etc/single.txt",
        ])
        .ok();
    assert_eq!(out.stdout, "host\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "host\nctr\n");
    // --mount onto a target that does not exist: an empty file is made as the mount point.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={},dst=/new/dir/file.txt", file.display()),
            "busybox",
            "sh",
            "-c",
            "cat /new/dir/file.txt; echo more >> /new/dir/file.txt",
        ])
        .ok();
    assert_eq!(out.stdout, "host\nctr\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "host\nctr\nmore\n");
}

#[test]
fn bind_hides_the_image_content_at_the_target() {
    let b = Berth::new();
    spec_image(&b, "vimg", &["/data"]);
    let host = b.scratch("h");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("only.txt"), "host\n").unwrap();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &format!("{}:/data", host.display()),
            "vimg",
            "ls",
            "-A",
            "/data",
        ])
        .ok();
    assert_eq!(out.stdout, "only.txt\n");
    let names: Vec<_> = std::fs::read_dir(&host).unwrap().collect();
    assert_eq!(names.len(), 1, "nothing copied to the host");
    // And no anonymous volume for the covered image VOLUME.
    assert!(volume_names(&b).is_empty());
}

#[test]
fn read_only_binds_and_volumes_refuse_writes_with_erofs() {
    let b = vb();
    let host = b.scratch("ro");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f.txt"), "keep\n").unwrap();
    let script =
        "echo x > /data/new; touch /data/f.txt; mkdir /data/d; rm /data/f.txt; cat /data/f.txt";
    let want_err = "sh: can't create /data/new: Read-only file system\n\
                    touch: /data/f.txt: Read-only file system\n\
                    mkdir: can't create directory '/data/d': Read-only file system\n\
                    rm: can't remove '/data/f.txt': Read-only file system\n";
    let h = host.display().to_string();
    for flags in [
        vec!["-v".to_string(), format!("{h}:/data:ro")],
        vec![
            "--mount".to_string(),
            format!("type=bind,src={h},dst=/data,readonly"),
        ],
        vec![
            "--mount".to_string(),
            format!("type=bind,src={h},dst=/data,ro=true"),
        ],
        vec![
            "--mount".to_string(),
            format!("type=bind,source={h},target=/data,readonly=1"),
        ],
    ] {
        let mut args: Vec<&str> = vec!["run", "--name", "ro1"];
        args.extend(flags.iter().map(String::as_str));
        args.extend_from_slice(&["busybox", "sh", "-c", script]);
        let out = b.run(&args).ok();
        assert_eq!(out.stdout, "keep\n", "{flags:?}");
        assert_eq!(out.stderr, want_err, "{flags:?}");
        let m = mounts_by_dest(&b.inspect("ro1"));
        assert_eq!(m["/data"]["RW"], false, "{flags:?}");
        b.run(&["rm", "ro1"]).ok();
    }
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 1);
    // A read-only named volume likewise.
    b.run(&["volume", "create", "spec-rov"]).ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-rov:/data:ro",
            "busybox",
            "touch",
            "/data/f.txt",
        ])
        .fails(1);
    assert_eq!(out.stderr, "touch: /data/f.txt: Read-only file system\n");
}

#[test]
fn read_only_binds_are_recursively_read_only() {
    // berth follows API ≥ 1.44 (Engine ≥ 25): `ro` makes submounts read-only too (20.10, API
    // 1.41, leaves them writable; §5.5, §11 #11).
    let b = vb();
    let host = b.scratch("rro");
    std::fs::create_dir_all(host.join("sub")).unwrap();
    let _sub = HostMount::tmpfs(&host.join("sub"));
    std::fs::write(host.join("sub/in-tmpfs"), "t\n").unwrap();
    let h = host.display().to_string();
    for flag in [
        vec!["-v".to_string(), format!("{h}:/b:ro")],
        vec![
            "--mount".to_string(),
            format!("type=bind,src={h},dst=/b,readonly"),
        ],
    ] {
        let mut args: Vec<&str> = vec!["run", "--rm"];
        args.extend(flag.iter().map(String::as_str));
        args.extend_from_slice(&[
            "busybox",
            "sh",
            "-c",
            "cat /b/sub/in-tmpfs; touch /b/sub/x; touch /b/y",
        ]);
        let out = b.run(&args).fails(1);
        assert_eq!(out.stdout, "t\n", "{flag:?}");
        assert_eq!(
            out.stderr,
            "touch: /b/sub/x: Read-only file system\ntouch: /b/y: Read-only file system\n",
            "{flag:?}"
        );
    }
    assert!(!host.join("sub/x").exists());
}

#[test]
fn bind_propagation_defaults_to_rprivate() {
    let b = vb();
    let host = b.scratch("p");
    std::fs::create_dir_all(&host).unwrap();
    let h = host.display().to_string();
    b.run(&[
        "create",
        "--name",
        "p1",
        "-v",
        &format!("{h}:/b1"),
        "--mount",
        &format!("type=bind,src={h},dst=/b2"),
        "busybox",
        "sh",
        "-c",
        "grep -E ' /b[12] ' /proc/self/mountinfo",
    ])
    .ok();
    let m = mounts_by_dest(&b.inspect("p1"));
    assert_eq!(m["/b1"]["Propagation"], "rprivate");
    assert_eq!(m["/b2"]["Propagation"], "rprivate");
    let out = b.run(&["start", "-a", "p1"]).ok();
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    for l in out.stdout.lines() {
        let optional = l.split(" - ").next().unwrap();
        assert!(
            !optional.contains("shared:") && !optional.contains("master:"),
            "{l}"
        );
    }
}

#[test]
fn shared_and_slave_propagation_need_a_shared_host_mount() {
    let b = vb();
    let base = b.scratch("priv");
    let _m = HostMount::private_bind(&base);
    let src = base.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let s = src.display().to_string();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &format!("{s}:/s:rshared"),
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error(&format!(
            "path {s} is mounted on {} but it is not a shared mount",
            base.display()
        ))
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={s},dst=/s,bind-propagation=shared"),
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error(&format!(
            "path {s} is mounted on {} but it is not a shared mount",
            base.display()
        ))
    );
    for p in ["rslave", "slave"] {
        let out = b
            .run(&[
                "run",
                "--rm",
                "--mount",
                &format!("type=bind,src={s},dst=/s,bind-propagation={p}"),
                "busybox",
                "true",
            ])
            .fails(125);
        assert_eq!(
            out.stderr,
            run_daemon_error(&format!(
                "path {s} is mounted on {} but it is not a shared or slave mount",
                base.display()
            ))
        );
    }
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={s},dst=/s,bind-propagation=bogus"),
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("invalid mount config for type \"bind\": invalid propagation mode: bogus")
    );
    // --rm: the failed container is gone.
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");

    // Made shared: rshared works and a mount made later on the host appears inside.
    sh_ok(&format!("mount --make-shared '{}'", base.display()));
    b.run_d(&[
        "--name",
        "sh1",
        "-v",
        &format!("{s}:/s:rshared"),
        "busybox",
        "sleep",
        "1000",
    ]);
    let m = mounts_by_dest(&b.inspect("sh1"));
    assert_eq!(m["/s"]["Propagation"], "rshared");
    assert_eq!(m["/s"]["Mode"], "rshared");
    let out = b
        .run(&["exec", "sh1", "grep", " /s ", "/proc/self/mountinfo"])
        .ok();
    assert!(
        out.stdout.split(" - ").next().unwrap().contains("shared:"),
        "{}",
        out.stdout
    );
    let _late = HostMount::tmpfs(&src.join("late"));
    std::fs::write(src.join("late/hello"), "late\n").unwrap();
    wait_exec_output(&b, "sh1", "cat /s/late/hello", "late\n");
    b.run(&["rm", "-f", "sh1"]).ok();
}

#[test]
fn bind_nonrecursive_hides_submounts() {
    let b = vb();
    let host = b.scratch("nr");
    std::fs::create_dir_all(host.join("sub")).unwrap();
    let _sub = HostMount::tmpfs(&host.join("sub"));
    std::fs::write(host.join("sub/in-tmpfs"), "t\n").unwrap();
    let h = host.display().to_string();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={h},dst=/b"),
            "busybox",
            "ls",
            "-A",
            "/b/sub",
        ])
        .ok();
    assert_eq!(out.stdout, "in-tmpfs\n", "binds are recursive by default");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={h},dst=/b,bind-nonrecursive"),
            "busybox",
            "ls",
            "-A",
            "/b/sub",
        ])
        .ok();
    assert_eq!(
        out.stdout, "",
        "bind-nonrecursive shows the directory under the submount"
    );
}

#[test]
fn file_onto_directory_bind_fails_at_start() {
    let b = vb();
    let file = b.scratch("file.txt");
    std::fs::write(&file, "x").unwrap();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &format!("{}:/bin", file.display()),
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr
            .starts_with("berth: Error response from daemon: "),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!("error mounting \"{}\" to rootfs at \"/bin\"", file.display()))
            && out.stderr.contains("Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"),
        "{out:?}"
    );
}

#[test]
fn v_and_mount_parse_errors_through_the_cli() {
    // A representative set; every §8 error is unit-tested in berth-volume.
    let b = vb();
    let host = b.scratch("h");
    std::fs::create_dir_all(&host).unwrap();
    let h = host.display().to_string();
    let daemon: Vec<(Vec<String>, String)> = vec![
        (vec!["-v".into(), "/x:ro".into()], "invalid volume specification: '/x:ro'".into()),
        (vec!["-v".into(), "/a:/b:c:d".into()], "invalid volume specification: '/a:/b:c:d'".into()),
        (vec!["-v".into(), "spec-a:/x:bogus".into()], "invalid mode: bogus".into()),
        (vec!["-v".into(), "spec-a:/x:ro,rw".into()], "invalid mode: ro,rw".into()),
        (vec!["-v".into(), "spec-a:/x:z,Z".into()], "invalid mode: z,Z".into()),
        (vec!["-v".into(), "spec-a:rel".into()],
            "invalid volume specification: 'spec-a:rel': invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute".into()),
        (vec!["-v".into(), "spec-a:/".into()],
            "invalid volume specification: 'spec-a:/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'".into()),
        (vec!["-v".into(), format!("{h}:/")],
            format!("invalid volume specification: '{h}:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'")),
        (vec!["-v".into(), "spec-a:/x:rshared".into()],
            "invalid volume specification: 'spec-a:/x:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified".into()),
        (vec!["-v".into(), format!("{h}:/x:nocopy")],
            format!("invalid volume specification: '{h}:/x:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified")),
        (vec!["-v".into(), "spec-a:/x".into(), "-v".into(), "spec-b:/x/".into()], "Duplicate mount point: /x".into()),
        (vec!["-v".into(), "spec-a:/x//y/../z".into(), "-v".into(), "spec-b:/x/z".into()], "Duplicate mount point: /x/z".into()),
        (vec!["--mount".into(), "type=bind,dst=/x".into()],
            "invalid mount config for type \"bind\": field Source must not be empty".into()),
        (vec!["--mount".into(), "type=volume,dst=rel".into()],
            "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute".into()),
        (vec!["--mount".into(), "type=volume,dst=/x,readonly".into()],
            "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes".into()),
        (vec!["--mount".into(), "type=volume,src=/abs,dst=/x".into()],
            "create /abs: \"/abs\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path".into()),
        (vec!["--mount".into(), "type=image,src=x,dst=/x".into()],
            "invalid mount config for type \"image\": mount type unknown".into()),
        // §11 #9: Config.Volumes keys are validated like Mounts targets (20.10 mounts at /rel;
        // berth's text is the Mounts one).
        (vec!["-v".into(), "rel".into()],
            "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute".into()),
        (vec!["--volumes-from".into(), "".into()], "volumes-from specification cannot be an empty string".into()),
    ];
    for (flags, text) in &daemon {
        let mut args: Vec<&str> = vec!["run", "--rm"];
        args.extend(flags.iter().map(String::as_str));
        args.extend_from_slice(&["busybox", "true"]);
        let out = b.run(&args).fails(125);
        assert_eq!(out.stderr, run_daemon_error(text), "{flags:?}");
        // `create` reports the same text, exit 1.
        args[0] = "create";
        args.remove(1);
        let out = b.run(&args).fails(1);
        assert_eq!(out.stderr, daemon_error(text), "{flags:?}");
    }
    // CLI-side errors.
    let out = b
        .run(&["run", "--rm", "-v", "", "busybox", "true"])
        .fails(125);
    assert_eq!(
        out.stderr,
        "berth: invalid empty volume spec\n\nRun 'berth run --help' for more information\n"
    );
    let out = b
        .run(&["run", "--rm", "-v", ":/x", "busybox", "true"])
        .fails(125);
    assert_eq!(out.stderr, "berth: invalid spec: :/x: empty section between colons\n\nRun 'berth run --help' for more information\n");
    let out = b
        .run(&["run", "--rm", "-v", "spec-a:/x:ro:z", "busybox", "true"])
        .fails(125);
    assert_eq!(out.stderr, "berth: invalid spec: spec-a:/x:ro:z: too many colons\n\nRun 'berth run --help' for more information\n");
    for (csv, reason) in [
        ("type=volume", "target is required"),
        ("foo=bar,dst=/x", "unexpected key 'foo' in 'foo=bar'"),
        (
            "type=bind,src=/x,dst=/x,volume-nocopy",
            "cannot mix 'volume-*' options with mount type 'bind'",
        ),
        (
            "type=bind,src=/x,dst=/x,tmpfs-size=1m",
            "cannot mix 'tmpfs-*' options with mount type 'bind'",
        ),
        ("type=volume,dst=/x,ro=maybe", "invalid value for ro: maybe"),
        (
            "type=tmpfs,dst=/t,tmpfs-size=abc",
            "invalid value for tmpfs-size: abc",
        ),
    ] {
        let out = b
            .run(&["run", "--rm", "--mount", csv, "busybox", "true"])
            .fails(125);
        assert_eq!(out.stderr, mount_flag_error(csv, reason), "{csv}");
    }
    // Nothing was created by any of them.
    assert!(volume_names(&b).is_empty(), "{:?}", volume_names(&b));
    assert!(volume_dirs(&b).is_empty());
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

// ---------------------------------------------------------------------------------------------
// tmpfs (§6)

#[test]
fn tmpfs_mount_options_and_modes() {
    let b = Berth::new();
    spec_image(&b, "vimg", &["/data"]);
    let out = b
        .run(&[
            "run",
            "--rm",
            "--tmpfs",
            "/t",
            "--tmpfs",
            "/t2:size=1m,mode=0700",
            "--tmpfs",
            "/t3:ro,exec,suid,dev",
            "--tmpfs",
            "/t4:rw,noexec,uid=1000,gid=1000,nr_inodes=100",
            "--mount",
            "type=tmpfs,destination=/m1",
            "--mount",
            "type=tmpfs,dst=/m2,tmpfs-size=2m,tmpfs-mode=1770",
            "--mount",
            "type=tmpfs,dst=/m3,tmpfs-size=2m,readonly",
            "--mount",
            "type=tmpfs,dst=/m4,tmpfs-size=10",
            "--mount",
            "type=tmpfs,dst=/m5,tmpfs-size=1k",
            "--tmpfs",
            "/data",
            "vimg",
            "sh",
            "-c",
            "cat /proc/mounts; stat -c '%n %A %u:%g' /t /t2 /m1 /m2 /data",
        ])
        .ok();
    for (dst, line) in [
        ("/t", "tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime"),
        (
            "/t2",
            "tmpfs /t2 tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700",
        ),
        ("/t3", "tmpfs /t3 tmpfs ro,relatime"),
        (
            "/t4",
            "tmpfs /t4 tmpfs rw,nosuid,nodev,noexec,relatime,nr_inodes=100,uid=1000,gid=1000",
        ),
        ("/m1", "tmpfs /m1 tmpfs rw,nosuid,nodev,noexec,relatime"),
        (
            "/m2",
            "tmpfs /m2 tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=1770",
        ),
        (
            "/m3",
            "tmpfs /m3 tmpfs ro,nosuid,nodev,noexec,relatime,size=2048k",
        ),
        (
            "/m4",
            "tmpfs /m4 tmpfs rw,nosuid,nodev,noexec,relatime,size=4k",
        ),
        (
            "/m5",
            "tmpfs /m5 tmpfs rw,nosuid,nodev,noexec,relatime,size=4k",
        ),
        ("/data", "tmpfs /data tmpfs rw,nosuid,nodev,noexec,relatime"),
    ] {
        assert_eq!(
            proc_mount_line(&out.stdout, dst).as_deref(),
            Some(line),
            "{}",
            out.stdout
        );
    }
    // Roots: 1777 by default; the image dir's mode (0750) but not its owner (1000:2000).
    assert!(
        out.stdout.ends_with(
            "/t drwxrwxrwt 0:0\n/t2 drwx------ 0:0\n/m1 drwxrwxrwt 0:0\n/m2 drwxrwx--T 0:0\n/data drwxr-x--- 0:0\n"
        ),
        "{}",
        out.stdout
    );
    // The --tmpfs on the image VOLUME path suppressed the anonymous volume.
    assert!(volume_names(&b).is_empty());
}

#[test]
fn tmpfs_content_is_lost_on_stop_and_never_in_diff_or_commit() {
    let b = vb();
    b.run_d(&[
        "--name",
        "t1",
        "--tmpfs",
        "/t",
        "--mount",
        "type=tmpfs,dst=/m",
        "busybox",
        "sleep",
        "1000",
    ]);
    b.run(&["exec", "t1", "sh", "-c", "echo x > /t/f; echo y > /m/g"])
        .ok();
    wait_exec_output(&b, "t1", "cat /t/f /m/g", "x\ny\n");
    let out = b.run(&["diff", "t1"]).ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["A /m", "A /t"],
        "mount targets appear, nothing inside them"
    );
    b.run(&["commit", "t1", "snap"]).ok();
    let out = b
        .run(&["run", "--rm", "snap", "sh", "-c", "ls -A /t /m"])
        .ok();
    assert_eq!(out.stdout, "/m:\n\n/t:\n", "committed as empty directories");
    stop(&b, "t1");
    b.run(&["start", "t1"]).ok();
    let out = b.run(&["exec", "t1", "ls", "-A", "/t", "/m"]).ok();
    assert_eq!(out.stdout, "/m:\n\n/t:\n");
    b.run(&["exec", "t1", "touch", "/t/again"]).ok();
    b.run(&["restart", "-t", "1", "t1"]).ok();
    let out = b.run(&["exec", "t1", "ls", "-A", "/t"]).ok();
    assert_eq!(out.stdout, "");
    b.run(&["rm", "-f", "t1"]).ok();
}

#[test]
fn tmpfs_works_with_a_read_only_root() {
    let b = vb();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--read-only",
            "--tmpfs",
            "/t",
            "busybox",
            "sh",
            "-c",
            "touch /t/ok && echo ok; touch /nope",
        ])
        .fails(1);
    assert_eq!(out.stdout, "ok\n");
    assert_eq!(out.stderr, "touch: /nope: Read-only file system\n");
}

#[test]
fn tmpfs_reporting_in_inspect() {
    let b = vb();
    b.run(&[
        "create",
        "--name",
        "t1",
        "--tmpfs",
        "/t2:size=2m,noexec",
        "--mount",
        "type=tmpfs,dst=/t1,tmpfs-size=1m,tmpfs-mode=0700",
        "busybox",
        "true",
    ])
    .ok();
    let i = b.inspect("t1");
    // --tmpfs mounts are not in Mounts[]; --mount tmpfs ones are.
    assert_eq!(
        i["Mounts"],
        serde_json::json!([{"Type":"tmpfs","Source":"","Destination":"/t1","Mode":"","RW":true,"Propagation":""}])
    );
    assert_eq!(
        i["HostConfig"]["Tmpfs"],
        serde_json::json!({"/t2": "size=2m,noexec"})
    );
    assert_eq!(
        i["HostConfig"]["Mounts"],
        serde_json::json!([{"Type":"tmpfs","Target":"/t1","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}])
    );
    assert_eq!(i["HostConfig"]["Binds"], serde_json::Value::Null);
    assert_eq!(i["Config"]["Volumes"], serde_json::Value::Null);
}

#[test]
fn tmpfs_errors() {
    let b = vb();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--tmpfs", "/t:bogus=1"],
            "invalid tmpfs option [\"bogus\" \"1\"]",
        ),
        (
            &["--tmpfs", "rel"],
            "invalid mount path: 'rel' mount path must be absolute",
        ),
        (
            &["--mount", "type=tmpfs,src=foo,dst=/t"],
            "invalid mount config for type \"tmpfs\": field Source must not be specified",
        ),
        (
            &["--tmpfs", "/t", "-v", "spec-x:/t"],
            "Duplicate mount point: /t",
        ),
        // §11 #8: 20.10 misses these three; berth rejects them.
        (
            &["--tmpfs", "/t", "--mount", "type=volume,src=spec-x,dst=/t"],
            "Duplicate mount point: /t",
        ),
        (
            &["--tmpfs", "/t", "--mount", "type=volume,dst=/t"],
            "Duplicate mount point: /t",
        ),
        (
            &[
                "--mount",
                "type=tmpfs,dst=/t",
                "--mount",
                "type=tmpfs,dst=/t",
            ],
            "Duplicate mount point: /t",
        ),
        (
            &[
                "--tmpfs",
                "/t:size=1m",
                "--mount",
                "type=tmpfs,dst=/t,tmpfs-size=2m",
            ],
            "Duplicate mount point: /t",
        ),
    ];
    for (flags, text) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "true"]);
        let out = b.run(&args).fails(125);
        assert_eq!(out.stderr, run_daemon_error(text), "{flags:?}");
    }
    // No volume was created for any of them.
    assert!(volume_names(&b).is_empty(), "{:?}", volume_names(&b));
    // --tmpfs twice at one path: the CLI keeps one, no error.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--tmpfs",
            "/t",
            "--tmpfs",
            "/t",
            "busybox",
            "sh",
            "-c",
            "grep -c ' /t ' /proc/mounts",
        ])
        .ok();
    assert_eq!(out.stdout, "1\n");
    // A size the kernel would refuse at start (Docker lets runc fail with a long OCI error) or
    // saturate (`99999999999999999999`: a 7.5 EB tmpfs) is refused at create (issue 15).
    for size in ["abc", "-1", "1e9", "99999999999999999999"] {
        let out = b
            .run(&[
                "run",
                "--rm",
                "--tmpfs",
                &format!("/t:size={size}"),
                "busybox",
                "true",
            ])
            .fails(125);
        assert!(
            out.stderr.starts_with(&format!(
                "berth: Error response from daemon: invalid value for tmpfs size: {size}\n"
            )),
            "{out:?}"
        );
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

// ---------------------------------------------------------------------------------------------
// --volumes-from (§7)

#[test]
fn volumes_from_inherits_volumes_binds_and_mount_tmpfs_but_not_tmpfs_flags() {
    let b = vb();
    let host = b.scratch("h");
    std::fs::create_dir_all(&host).unwrap();
    let h = host.display().to_string();
    // A created-only source.
    b.run(&[
        "create",
        "--name",
        "src",
        "-v",
        "spec-n:/n",
        "-v",
        "spec-ro:/ro:ro",
        "-v",
        "/anon",
        "-v",
        &format!("{h}:/b:ro,Z"),
        "--tmpfs",
        "/t1",
        "--mount",
        "type=tmpfs,dst=/t2",
        "busybox",
        "true",
    ])
    .ok();
    let out = b
        .run(&["run", "--name", "dep", "--volumes-from", "src", "busybox", "sh", "-c",
            "for d in /n /ro /anon /b /t1 /t2; do l=$(grep \" $d \" /proc/mounts | cut -d' ' -f4 | cut -d, -f1); echo \"$d ${l:-none}\"; done"])
        .ok();
    // §11 #5: the --mount tmpfs is inherited (20.10 fails with a 404 and a pull attempt).
    assert_eq!(
        out.stdout,
        "/n rw\n/ro ro\n/anon rw\n/b ro\n/t1 none\n/t2 rw\n"
    );
    let i = b.inspect("dep");
    assert_eq!(i["HostConfig"]["VolumesFrom"], serde_json::json!(["src"]));
    assert_eq!(i["HostConfig"]["Binds"], serde_json::Value::Null);
    assert_eq!(i["HostConfig"]["Mounts"], serde_json::Value::Null);
    assert_eq!(i["HostConfig"]["Tmpfs"], serde_json::Value::Null);
    assert_eq!(i["Config"]["Volumes"], serde_json::Value::Null);
    let m = mounts_by_dest(&i);
    let src_m = mounts_by_dest(&b.inspect("src"));
    assert_eq!(
        m.keys().collect::<Vec<_>>(),
        ["/anon", "/b", "/n", "/ro", "/t2"]
    );
    for (dst, e) in &m {
        assert_eq!(e["Mode"], "", "inherited mounts report Mode \"\": {e}");
        for k in ["Type", "Name", "Source", "Driver", "RW", "Propagation"] {
            assert_eq!(e.get(k), src_m[dst].get(k), "{dst} {k}");
        }
    }
    // Same volumes, shared data.
    assert_eq!(m["/anon"]["Name"], src_m["/anon"]["Name"]);
    b.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "dep",
        "busybox",
        "sh",
        "-c",
        "echo hi > /n/f",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-n").join("f")).unwrap(),
        "hi\n"
    );
}

#[test]
fn volumes_from_ro_forces_read_only_and_rw_cannot_upgrade() {
    let b = vb();
    b.run(&[
        "create",
        "--name",
        "src",
        "-v",
        "spec-n:/n",
        "-v",
        "/anon",
        "-v",
        "spec-ro:/ro:ro",
        "busybox",
        "true",
    ])
    .ok();
    let out = b
        .run(&[
            "run",
            "--name",
            "dro",
            "--volumes-from",
            "src:ro",
            "busybox",
            "sh",
            "-c",
            "touch /n/x; touch /anon/x",
        ])
        .fails(1);
    assert_eq!(
        out.stderr,
        "touch: /n/x: Read-only file system\ntouch: /anon/x: Read-only file system\n"
    );
    for e in mounts_by_dest(&b.inspect("dro")).values() {
        assert_eq!(e["RW"], false, "{e}");
    }
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volumes-from",
            "src:rw",
            "busybox",
            "sh",
            "-c",
            "touch /ro/x",
        ])
        .fails(1);
    assert_eq!(out.stderr, "touch: /ro/x: Read-only file system\n");
    // z/Z accepted, no effect; propagation and extra colons are invalid modes.
    b.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "src:ro,z",
        "busybox",
        "true",
    ])
    .ok();
    for (spec, text) in [
        ("src:shared", "invalid mode: shared"),
        ("src:ro:rw", "invalid mode: ro:rw"),
        ("src:nocopy", "invalid mode: nocopy"),
    ] {
        let out = b
            .run(&["run", "--rm", "--volumes-from", spec, "busybox", "true"])
            .fails(125);
        assert_eq!(out.stderr, run_daemon_error(text), "{spec}");
    }
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volumes-from",
            "spec-nonexist",
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("No such container: spec-nonexist")
    );
    let out = b
        .run(&[
            "create",
            "--volumes-from",
            "spec-nonexist",
            "busybox",
            "true",
        ])
        .fails(1);
    assert_eq!(out.stderr, daemon_error("No such container: spec-nonexist"));
}

#[test]
fn volumes_from_running_and_stopped_sources_chaining_and_precedence() {
    let b = vb();
    b.run_d(&[
        "--name",
        "aa",
        "-v",
        "spec-a:/a",
        "-v",
        "/anon",
        "busybox",
        "sh",
        "-c",
        "echo A > /a/f; exec sleep 1000",
    ]);
    wait_exec_output(&b, "aa", "cat /a/f", "A\n");
    // From a running source.
    b.run(&[
        "create",
        "--name",
        "bb",
        "--volumes-from",
        "aa",
        "busybox",
        "true",
    ])
    .ok();
    stop(&b, "aa");
    // C from B (which got them from A), also after A is removed.
    b.run(&["rm", "aa"]).ok();
    let out = b
        .run(&[
            "run",
            "--name",
            "cc",
            "--volumes-from",
            "bb",
            "busybox",
            "sh",
            "-c",
            "cat /a/f; ls -d /anon",
        ])
        .ok();
    assert_eq!(out.stdout, "A\n/anon\n");
    // From a stopped source.
    b.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "cc",
        "busybox",
        "cat",
        "/a/f",
    ])
    .ok();
    // An explicit mount replaces the inherited one at the same destination, silently.
    let out = b
        .run(&[
            "run",
            "--name",
            "dd",
            "--volumes-from",
            "bb",
            "-v",
            "spec-other:/a",
            "busybox",
            "ls",
            "-A",
            "/a",
        ])
        .ok();
    assert_eq!(out.stdout, "");
    assert_eq!(mounts_by_dest(&b.inspect("dd"))["/a"]["Name"], "spec-other");
    // The anonymous volume goes with the last user's rm -v.
    let anon = anon_name(&b, "cc", "/anon");
    b.run(&["rm", "-v", "bb", "cc"]).ok();
    assert!(volume_names(&b).contains(&anon), "dd still uses it");
    b.run(&["rm", "-v", "dd"]).ok();
    assert!(!volume_names(&b).contains(&anon));
}

// ---------------------------------------------------------------------------------------------
// reporting (§9)

#[test]
fn inspect_reports_every_mount_origin_like_docker() {
    let b = vb();
    let host = b.scratch("host");
    std::fs::create_dir_all(&host).unwrap();
    let h = host.display().to_string();
    let r = b.root().display().to_string();
    b.run(&[
        "create",
        "--name",
        "all",
        "-v",
        "spec-named1:/named",
        "-v",
        "spec-iv1:/v1:ro",
        "-v",
        "spec-iv2:/v2:nocopy",
        "-v",
        "/anon1",
        "--mount",
        "type=volume,src=spec-iv3,dst=/v3,readonly",
        "--mount",
        "type=volume,dst=/anon2",
        "-v",
        &format!("{h}:/b1"),
        "-v",
        &format!("{h}/./:/b2:ro,Z"),
        "-v",
        &format!("{h}:/b3:rprivate,ro"),
        "--mount",
        &format!("type=bind,src={h},dst=/b4,readonly"),
        "--mount",
        "type=tmpfs,dst=/t1,tmpfs-size=1m,tmpfs-mode=0700",
        "--tmpfs",
        "/t2:size=2m,noexec",
        "busybox",
        "true",
    ])
    .ok();
    let i = b.inspect("all");
    let m = mounts_by_dest(&i);
    let anon1 = m["/anon1"]["Name"].as_str().unwrap().to_string();
    let anon2 = m["/anon2"]["Name"].as_str().unwrap().to_string();
    let vol = |name: &str, dst: &str, mode: &str, rw: bool| {
        serde_json::json!({"Type":"volume","Name":name,"Source":format!("{r}/volumes/{name}/_data"),
            "Destination":dst,"Driver":"local","Mode":mode,"RW":rw,"Propagation":""})
    };
    let bind = |dst: &str, mode: &str, rw: bool| serde_json::json!({"Type":"bind","Source":h,"Destination":dst,"Mode":mode,"RW":rw,"Propagation":"rprivate"});
    let want = serde_json::json!({
        "/named": vol("spec-named1", "/named", "z", true),
        "/v1": vol("spec-iv1", "/v1", "ro", false),
        "/v2": vol("spec-iv2", "/v2", "nocopy", true),
        "/anon1": vol(&anon1, "/anon1", "", true),
        "/v3": vol("spec-iv3", "/v3", "z", false),
        "/anon2": vol(&anon2, "/anon2", "z", true),
        "/b1": bind("/b1", "", true),
        "/b2": bind("/b2", "ro,Z", false),
        "/b3": bind("/b3", "rprivate,ro", false),
        "/b4": bind("/b4", "", false),
        "/t1": {"Type":"tmpfs","Source":"","Destination":"/t1","Mode":"","RW":true,"Propagation":""},
    });
    assert_eq!(serde_json::to_value(&m).unwrap(), want);
    // Key order within an entry is Docker's.
    let out = b.run(&["container", "inspect", "all"]).ok();
    assert!(
        out.stdout.contains(&format!(
            "{{\n                \"Type\": \"volume\",\n                \"Name\": \"spec-named1\",\n                \"Source\": \"{r}/volumes/spec-named1/_data\",\n                \"Destination\": \"/named\",\n                \"Driver\": \"local\",\n                \"Mode\": \"z\",\n                \"RW\": true,\n                \"Propagation\": \"\"\n            }}"
        )),
        "{}",
        out.stdout
    );
    let mut binds: Vec<String> = serde_json::from_value(i["HostConfig"]["Binds"].clone()).unwrap();
    binds.sort();
    let mut want_binds = vec![
        "spec-named1:/named".to_string(),
        "spec-iv1:/v1:ro".into(),
        "spec-iv2:/v2:nocopy".into(),
        format!("{h}:/b1"),
        format!("{h}/./:/b2:ro,Z"),
        format!("{h}:/b3:rprivate,ro"),
    ];
    want_binds.sort();
    assert_eq!(binds, want_binds);
    assert_eq!(
        i["HostConfig"]["Mounts"],
        serde_json::json!([
            {"Type":"volume","Source":"spec-iv3","Target":"/v3","ReadOnly":true},
            {"Type":"volume","Target":"/anon2"},
            {"Type":"bind","Source":h,"Target":"/b4","ReadOnly":true},
            {"Type":"tmpfs","Target":"/t1","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}
        ])
    );
    assert_eq!(
        i["HostConfig"]["Tmpfs"],
        serde_json::json!({"/t2": "size=2m,noexec"})
    );
    assert_eq!(i["HostConfig"]["VolumesFrom"], serde_json::Value::Null);
    assert_eq!(i["HostConfig"]["VolumeDriver"], "");
    assert_eq!(i["Config"]["Volumes"], serde_json::json!({"/anon1": {}}));

    // A container without mounts: empty Mounts, nulls elsewhere.
    b.run(&["create", "--name", "none", "busybox", "true"]).ok();
    let i = b.inspect("none");
    assert_eq!(i["Mounts"], serde_json::json!([]));
    for k in ["Binds", "Mounts", "Tmpfs", "VolumesFrom"] {
        assert_eq!(i["HostConfig"][k], serde_json::Value::Null, "{k}");
    }
    assert_eq!(i["Config"]["Volumes"], serde_json::Value::Null);
}

#[test]
fn volume_driver_flag_reporting_and_unknown_drivers() {
    let b = vb();
    b.run(&[
        "create",
        "--name",
        "vd",
        "--volume-driver",
        "local",
        "-v",
        "spec-d:/d",
        "-v",
        "/anon",
        "busybox",
        "true",
    ])
    .ok();
    let i = b.inspect("vd");
    assert_eq!(i["HostConfig"]["VolumeDriver"], "local");
    // §11 #6: berth answers 400 (no pull attempt); the text is Docker's.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volume-driver",
            "bogusdrv",
            "-v",
            "spec-v7:/x",
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("create spec-v7: error looking up volume plugin bogusdrv: plugin \"bogusdrv\" not found")
    );
    assert!(!out.stderr.contains("Unable to find image"));
    assert!(!volume_names(&b).contains(&"spec-v7".to_string()));
}

#[test]
fn binds_of_the_data_root_or_an_ancestor_of_it_work() {
    // A bind whose source is inside the data root, or contains it (`-v /:/host:ro`, as
    // monitoring containers do), gets `rslave` propagation as in Docker. dockerd makes its root a
    // shared mount at start-up (and 20.10 falls back to private propagation for such implicit
    // rslave binds), so these containers run; berth must not refuse them with "not a shared or
    // slave mount".
    let b = vb();
    b.run(&["volume", "create", "spec-v"]).ok();
    let vols = b.root().join("volumes");
    for (flag, dst) in [
        (format!("{}:/v", vols.display()), "/v"),
        ("/:/host:ro".to_string(), "/host"),
    ] {
        b.run(&[
            "create",
            "--name",
            "dr",
            "-v",
            &flag,
            "busybox",
            "ls",
            "-d",
            &format!("{dst}/"),
        ])
        .ok();
        let m = mounts_by_dest(&b.inspect("dr"));
        assert_eq!(m[dst]["Propagation"], "rslave", "{flag}");
        let out = b.run(&["start", "-a", "dr"]);
        assert_eq!(out.code, 0, "{flag}: {out:?}");
        assert_eq!(out.stdout, format!("{dst}/\n"));
        b.run(&["rm", "dr"]).ok();
    }
}

#[test]
fn nested_mounts_are_applied_parents_first_and_destinations_are_cleaned() {
    let b = vb();
    let host = b.scratch("outer");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("outer.txt"), "o\n").unwrap();
    // Given child first: the parent must still be mounted first, or it would hide the child.
    let out = b
        .run(&[
            "run",
            "--name",
            "nest",
            "-v",
            "spec-inner:/x/y//in/../inner/",
            "--tmpfs",
            "/x/y/t",
            "-v",
            &format!("{}:/x/y", host.display()),
            "busybox",
            "sh",
            "-c",
            "echo i > /x/y/inner/f && echo t > /x/y/t/f && ls /x/y | sort",
        ])
        .ok();
    assert_eq!(out.stdout, "inner\nouter.txt\nt\n");
    let m = mounts_by_dest(&b.inspect("nest"));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["/x/y", "/x/y/inner"]);
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-inner").join("f")).unwrap(),
        "i\n"
    );
}

#[test]
fn volumes_from_references_keep_inherited_volumes_in_use() {
    let b = vb();
    b.run(&[
        "create",
        "--name",
        "src",
        "-v",
        "spec-s:/s",
        "busybox",
        "true",
    ])
    .ok();
    let dep = b
        .run(&[
            "create",
            "--name",
            "dep",
            "--volumes-from",
            "src",
            "busybox",
            "true",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    b.run(&["rm", "src"]).ok();
    let out = b.run(&["volume", "rm", "spec-s"]).fails(1);
    assert_eq!(
        out.stderr,
        daemon_error(&format!("remove spec-s: volume is in use - [{dep}]"))
    );
    let out = b
        .run(&["volume", "ls", "-q", "--filter", "dangling=false"])
        .ok();
    assert_eq!(out.stdout, "spec-s\n");
    let out = b
        .run(&[
            "ps",
            "-a",
            "--filter",
            "volume=spec-s",
            "--format",
            "{{.Names}}",
        ])
        .ok();
    assert_eq!(out.stdout, "dep\n");
}

#[test]
fn mount_volume_labels_and_options_apply_only_when_the_mount_creates_the_volume() {
    let b = vb();
    b.run(&[
        "create", "--name", "m1",
        "--mount", "type=volume,dst=/a,volume-label=spec.k=v",
        "--mount", "type=volume,src=spec-lo,dst=/b,volume-label=spec.k=v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m",
        "busybox", "true",
    ])
    .ok();
    let anon = anon_name(&b, "m1", "/a");
    assert_eq!(
        volume_inspect(&b, &anon)["Labels"],
        serde_json::json!({"com.docker.volume.anonymous": "", "spec.k": "v"})
    );
    let v = volume_inspect(&b, "spec-lo");
    assert_eq!(v["Labels"], serde_json::json!({"spec.k": "v"}));
    assert_eq!(
        v["Options"],
        serde_json::json!({"device": "tmpfs", "o": "size=1m", "type": "tmpfs"})
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volumes-from",
            "m1",
            "busybox",
            "sh",
            "-c",
            "grep ' /b ' /proc/mounts",
        ])
        .ok();
    assert_eq!(out.stdout, "tmpfs /b tmpfs rw,relatime,size=1024k 0 0\n");
    // An existing volume keeps its labels and options.
    b.run(&[
        "create",
        "--mount",
        "type=volume,src=spec-lo,dst=/b,volume-label=spec.other=1,volume-opt=o=size=2m",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(volume_inspect(&b, "spec-lo"), v);
    // Bad options are reported when the mount creates the volume.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            "type=volume,src=spec-bad,dst=/c,volume-opt=foo=1",
            "busybox",
            "true",
        ])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("create spec-bad: invalid option: \"foo\"")
    );
    assert!(!volume_names(&b).contains(&"spec-bad".to_string()));
}

#[test]
fn populate_keeps_hardlinks_fifos_devices_and_xattrs() {
    let b = Berth::new();
    let mut t = tar::Builder::new(Vec::new());
    let hdr = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(size);
        h
    };
    t.append_data(
        &mut hdr(tar::EntryType::Directory, 0o755, 0),
        "data",
        std::io::empty(),
    )
    .unwrap();
    t.append_pax_extensions([("SCHILY.xattr.user.k", &b"val"[..])])
        .unwrap();
    t.append_data(
        &mut hdr(tar::EntryType::Regular, 0o644, 5),
        "data/a",
        &b"same\n"[..],
    )
    .unwrap();
    t.append_link(&mut hdr(tar::EntryType::Link, 0o644, 0), "data/b", "data/a")
        .unwrap();
    t.append_data(
        &mut hdr(tar::EntryType::Fifo, 0o644, 0),
        "data/fifo",
        std::io::empty(),
    )
    .unwrap();
    let mut dev = hdr(tar::EntryType::Char, 0o644, 0);
    dev.set_device_major(1).unwrap();
    dev.set_device_minor(3).unwrap();
    t.append_data(&mut dev, "data/null", std::io::empty())
        .unwrap();
    load_image(&b, "special", &[t.into_inner().unwrap()], &["/data"]);
    b.run(&["create", "--name", "sp", "special", "true"]).ok();
    let data = volume_data(&b, &anon_name(&b, "sp", "/data"));
    let a = std::fs::metadata(data.join("a")).unwrap();
    let bb = std::fs::metadata(data.join("b")).unwrap();
    assert_eq!((a.ino(), a.nlink()), (bb.ino(), 2), "b is a hard link of a");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(data.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    let null = std::fs::symlink_metadata(data.join("null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc::makedev(1, 3));
    assert_eq!(
        xattrs(&data.join("a")).get("user.k").map(Vec::as_slice),
        Some(&b"val"[..])
    );
}

#[test]
fn volume_and_bind_content_is_never_in_diff_or_commit() {
    let b = vb();
    let host = b.scratch("h");
    std::fs::create_dir_all(&host).unwrap();
    b.run(&[
        "run",
        "--name",
        "dc",
        "-v",
        "spec-n:/named",
        "-v",
        "/anon",
        "-v",
        &format!("{}:/bind", host.display()),
        "busybox",
        "sh",
        "-c",
        "echo 1 > /named/f; echo 2 > /anon/f; echo 3 > /bind/f; echo 4 > /layer",
    ])
    .ok();
    let out = b.run(&["diff", "dc"]).ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(lines, ["A /anon", "A /bind", "A /layer", "A /named"]);
    b.run(&["commit", "dc", "snap"]).ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "snap",
            "sh",
            "-c",
            "cat /layer; ls -A /named /anon /bind",
        ])
        .ok();
    assert_eq!(out.stdout, "4\n/anon:\n\n/bind:\n\n/named:\n");
    // `-v /anon` is kept as a VOLUME of the committed image (§1.6).
    let out = b
        .run(&["image", "inspect", "-f", "{{json .Config.Volumes}}", "snap"])
        .ok();
    assert_eq!(out.stdout, "{\"/anon\":{}}\n");
}

// ---------------------------------------------------------------------------------------------
// cp and mounts (`docker cp` sees a container's volumes and binds, also when it is stopped)

#[test]
fn cp_reaches_the_volumes_and_binds_of_a_stopped_container() {
    let b = vb();
    let host = b.scratch("hb");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("hostfile"), "hostfile\n").unwrap();
    b.run(&[
        "run",
        "--name",
        "cq",
        "-v",
        "spec-cq:/vol",
        "-v",
        &format!("{}:/hb", host.display()),
        "busybox",
        "sh",
        "-c",
        "echo invol > /vol/only",
    ])
    .ok();
    // Out of a volume and a bind.
    let out = b.command(&["cp", "cq:/vol/only", "-"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        tar_entries(&out.stdout).get("only").map(Vec::as_slice),
        Some(&b"invol\n"[..])
    );
    let out = b.command(&["cp", "cq:/hb/hostfile", "-"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        tar_entries(&out.stdout).get("hostfile").map(Vec::as_slice),
        Some(&b"hostfile\n"[..])
    );
    // Into them: the data lands in the volume and on the host, not in the container's layer.
    let src = b.scratch("cpf");
    std::fs::write(&src, "fromcp\n").unwrap();
    b.run(&["cp", src.to_str().unwrap(), "cq:/vol/cpf"]).ok();
    b.run(&["cp", src.to_str().unwrap(), "cq:/hb/cpf"]).ok();
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-cq").join("cpf")).unwrap(),
        "fromcp\n"
    );
    assert_eq!(
        std::fs::read_to_string(host.join("cpf")).unwrap(),
        "fromcp\n"
    );
    let out = b.run(&["diff", "cq"]).ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(lines, ["A /hb", "A /vol"]);
    // A created-only container whose volume was populated from the image.
    spec_image(&b, "vimg", &["/data"]);
    b.run(&[
        "create",
        "--name",
        "cc",
        "-v",
        "spec-pop:/data",
        "vimg",
        "true",
    ])
    .ok();
    b.run(&["cp", src.to_str().unwrap(), "cc:/data/cpf"]).ok();
    assert!(volume_data(&b, "spec-pop").join("cpf").is_file());
}

#[test]
fn cp_into_a_read_only_container_goes_to_its_volumes_only() {
    let b = vb();
    b.run_d(&[
        "--name",
        "ro",
        "--read-only",
        "-v",
        "spec-rov:/v",
        "busybox",
        "sleep",
        "1000",
    ]);
    let src = b.scratch("f");
    std::fs::write(&src, "x\n").unwrap();
    let out = b.run(&["cp", src.to_str().unwrap(), "ro:/v/f"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-rov").join("f")).unwrap(),
        "x\n"
    );
    let out = b.run(&["cp", src.to_str().unwrap(), "ro:/f"]).fails(1);
    assert_eq!(
        out.stderr,
        daemon_error("container rootfs is marked read-only")
    );
}

#[test]
fn cp_errors_are_reported_not_killed_by_sigpipe() {
    // More than a pipe holds, so that berth is still writing when the engine refuses.
    let b = vb();
    let src = b.scratch("f");
    std::fs::write(&src, vec![b'x'; 2 << 20]).unwrap();
    let out = b
        .run(&["cp", src.to_str().unwrap(), "nosuchctr:/x"])
        .fails(1);
    assert_eq!(out.stderr, daemon_error("No such container: nosuchctr"));
    b.run(&["create", "--name", "ce", "busybox", "true"]).ok();
    let out = b
        .run(&["cp", src.to_str().unwrap(), "ce:/nodir/x"])
        .fails(1);
    assert_eq!(
        out.stderr,
        daemon_error("Could not find the file /nodir in container ce")
    );
}

#[test]
fn bind_recursive_option_values() {
    // API ≥ 1.44 `bind-recursive`: writable keeps submounts writable under a read-only bind,
    // readonly forces them read-only (and needs rprivate), disabled is bind-nonrecursive.
    let b = vb();
    let host = b.scratch("rr");
    std::fs::create_dir_all(host.join("sub")).unwrap();
    let _sub = HostMount::tmpfs(&host.join("sub"));
    std::fs::write(host.join("sub/in-tmpfs"), "t\n").unwrap();
    let h = host.display().to_string();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={h},dst=/b,readonly,bind-recursive=writable"),
            "busybox",
            "sh",
            "-c",
            "touch /b/sub/x && echo sub-writable; touch /b/y",
        ])
        .fails(1);
    assert_eq!(out.stdout, "sub-writable\n");
    assert_eq!(out.stderr, "touch: /b/y: Read-only file system\n");
    let csv = format!("type=bind,src={h},dst=/b,readonly,bind-recursive=readonly");
    let out = b
        .run(&["run", "--rm", "--mount", &csv, "busybox", "true"])
        .fails(125);
    assert_eq!(
        out.stderr,
        mount_flag_error(
            &csv,
            "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"
        )
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("{csv},bind-propagation=rprivate"),
            "busybox",
            "touch",
            "/b/sub/z",
        ])
        .fails(1);
    assert_eq!(out.stderr, "touch: /b/sub/z: Read-only file system\n");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={h},dst=/b,bind-recursive=disabled"),
            "busybox",
            "ls",
            "-A",
            "/b/sub",
        ])
        .ok();
    assert_eq!(out.stdout, "");
    assert!(host.join("sub/x").exists() && !host.join("sub/z").exists());
}

#[test]
fn host_config_mounts_keep_bind_volume_and_tmpfs_options_as_sent() {
    let b = vb();
    let host = b.scratch("h");
    std::fs::create_dir_all(&host).unwrap();
    let h = host.display().to_string();
    b.run(&[
        "create", "--name", "hm",
        "--mount", &format!("type=bind,src={h},dst=/b,bind-propagation=rprivate,bind-nonrecursive"),
        "--mount", "type=volume,src=spec-hm,dst=/v,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs,volume-opt=device=tmpfs",
        "--mount", "type=tmpfs,dst=/t,readonly",
        "busybox", "true",
    ])
    .ok();
    // Checked against Docker 20.10 (docker 28 CLI): the same JSON.
    assert_eq!(
        b.inspect("hm")["HostConfig"]["Mounts"],
        serde_json::json!([
            {"Type":"bind","Source":h,"Target":"/b","BindOptions":{"Propagation":"rprivate","NonRecursive":true}},
            {"Type":"volume","Source":"spec-hm","Target":"/v","VolumeOptions":{"NoCopy":true,"Labels":{"a":"b"},"DriverConfig":{"Options":{"device":"tmpfs","type":"tmpfs"}}}},
            {"Type":"tmpfs","Target":"/t","ReadOnly":true}
        ])
    );
    let m = mounts_by_dest(&b.inspect("hm"));
    assert_eq!(m["/t"]["RW"], false);
    assert_eq!(m["/v"]["Mode"], "z");
}

/// Issue 15 item 6 (the storage spec §5.2 decides): the CLI makes `./x`, `../x` and `..` bind
/// sources absolute against its working directory, as docker CLI 28 does, so they bind the
/// directory the user meant and `inspect` shows its absolute path; the API, which has no working
/// directory, refuses every relative source with the daemon's words and creates nothing.
#[test]
fn r15_relative_bind_sources_the_cli_makes_absolute_the_api_refuses() {
    let b = vb();
    let top = b.scratch("rel");
    let cwd = top.join("w/sub");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(top.join("x")).unwrap();
    std::fs::write(top.join("x/f"), "x\n").unwrap();
    let run_in_cwd = |args: &[&str]| {
        let mut cmd = b.command(args);
        cmd.current_dir(&cwd);
        output_timeout(cmd, None, CMD_TIMEOUT).ok()
    };
    // `../../x` is `top/x`, `..` is `top/w`.
    let out = run_in_cwd(&[
        "run",
        "--rm",
        "-v",
        "../../x:/a",
        "-v",
        "..:/b",
        "busybox",
        "sh",
        "-c",
        "cat /a/f; ls /b",
    ]);
    assert_eq!(out.stdout, "x\nsub\n");
    // A missing `../y` is created where it points (next to the working directory's parent's
    // child), never as a volume named `../y` or a directory below the working directory.
    run_in_cwd(&[
        "create",
        "--name",
        "c1",
        "-v",
        "../y:/d",
        "--mount",
        "type=bind,src=..,dst=/e",
        "busybox",
        "true",
    ]);
    let i = b.inspect("c1");
    let w = top.join("w").display().to_string();
    assert_eq!(
        i["HostConfig"]["Binds"],
        serde_json::json!([format!("{w}/y:/d")])
    );
    let m = mounts_by_dest(&i);
    assert_eq!(m["/d"]["Type"], "bind");
    assert_eq!(m["/d"]["Source"], format!("{w}/y"));
    assert_eq!(m["/e"]["Source"], w);
    b.run(&["start", "c1"]).ok();
    assert!(top.join("w/y").is_dir());
    assert!(!cwd.join("y").exists() && !cwd.join("..y").exists());
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");

    // The API refuses relative sources, whatever their form, and creates no container.
    let api = crate::api::Server::start(&b);
    let name_error = |s: &str| {
        format!("create {s}: \"{s}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
    };
    for src in ["../x", "..", "./x", "."] {
        let body = format!(
            r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{{"Binds":["{src}:/d"]}}}}"#
        );
        let (code, text) = api.call("POST", "/containers/create", Some(&body));
        assert_eq!(code, 400, "{src}: {text}");
        let msg: serde_json::Value = serde_json::from_str(&text).unwrap();
        let want = if src.len() == 1 {
            // Docker's local driver checks the length first.
            "create .: volume name is too short, names should be at least two alphanumeric characters".to_string()
        } else {
            name_error(src)
        };
        assert_eq!(msg["message"], want, "{src}");
        let body = format!(
            r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{{"Mounts":[{{"Type":"bind","Source":"{src}","Target":"/d"}}]}}}}"#
        );
        let (code, text) = api.call("POST", "/containers/create", Some(&body));
        assert_eq!(code, 400, "{src}: {text}");
        let msg: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            msg["message"],
            format!("invalid mount config for type \"bind\": invalid mount path: '{src}' mount path must be absolute"),
            "{src}"
        );
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().lines().len(), 1);
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");
}
