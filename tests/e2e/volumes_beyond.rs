//! Storage features beyond Docker's, and reporting: `system df [-v]` volume rows (spec §9.3),
//! `volume export/import/clone/rename`, size-limited volumes (`volume create --opt size=N`:
//! ENOSPC inside the container), and crash safety: a berth killed with SIGKILL in the middle of a
//! volume operation leaves the old or the new state after the next command, never a half state or
//! stray directories.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::harness::*;
use crate::vol_harness::*;

/// A tree snapshot of a volume's data with directory mtimes left out (extraction order decides
/// them) and file mtimes in whole seconds (what a tar keeps).
fn data_snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mtime = Regex::new(r" mtime=(\d+)\.\d+").unwrap();
    tree_snapshot(dir)
        .into_iter()
        .map(|(k, v)| {
            let v = if v.starts_with("dir") {
                mtime.replace(&v, "").into_owned()
            } else {
                mtime.replace(&v, " mtime=$1").into_owned()
            };
            (k, v)
        })
        .collect()
}

/// Panics with a short description of the first differences unless the snapshots are equal.
#[track_caller]
fn assert_same(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>, what: &str) {
    if got == want {
        return;
    }
    let mut diff: Vec<String> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}: want {v}, got {:?}", got.get(k)))
        .chain(
            got.keys()
                .filter(|k| !want.contains_key(*k))
                .map(|k| format!("{k}: unexpected")),
        )
        .collect();
    let n = diff.len();
    diff.truncate(5);
    panic!(
        "{what}: {n} differences ({} vs {} entries), first: {diff:#?}",
        got.len(),
        want.len()
    );
}

/// A volume with a bit of everything: owners, modes, a symlink, a subdirectory, an empty file.
fn rich_volume(b: &Berth, name: &str) {
    b.run(&[
        "run", "--rm", "-v", &format!("{name}:/d"), "busybox", "sh", "-c",
        "echo hi > /d/f; chown 1000:2000 /d/f; chmod 640 /d/f; mkdir -p /d/s/t; echo deep > /d/s/t/g; \
         ln -s f /d/l; touch /d/empty; chmod 750 /d/s; chown 1000:2000 /d",
    ])
    .ok();
}

// ---------------------------------------------------------------------------------------------
// system df (§9.3)

/// `system df -v`'s output and the lines of its "Local Volumes space usage" table, header first.
fn df_volume_rows(b: &Berth) -> (Run, Vec<String>) {
    let out = b.run(&["system", "df", "-v"]).ok();
    let section = out
        .stdout
        .split("Local Volumes space usage:\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let rows = section.split("\n\n").next().unwrap().lines();
    let rows = rows.map(str::to_string).collect();
    (out, rows)
}

#[test]
fn system_df_counts_volumes_without_driver_options() {
    let b = vb();
    fill(&b, "spec-dfb", 102_400);
    b.run(&[
        "run",
        "--rm",
        "-v",
        "spec-dfa:/d",
        "busybox",
        "sh",
        "-c",
        "printf hello! > /d/f",
    ])
    .ok();
    b.run(&[
        "create",
        "--name",
        "dfu",
        "-v",
        "spec-dfa:/d",
        "busybox",
        "true",
    ])
    .ok();
    // Option volumes are left out of system df.
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "spec-dft",
    ])
    .ok();

    let out = b.run(&["system", "df"]).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with("Local Volumes"))
        .unwrap();
    assert_eq!(
        *row,
        "Local Volumes   2         1         102.4kB   102.4kB (99%)"
    );

    let (_, mut rows) = df_volume_rows(&b);
    assert_eq!(rows.remove(0), "VOLUME NAME   LINKS     SIZE");
    rows.sort();
    assert_eq!(
        rows,
        [
            "spec-dfa      1         6B",
            "spec-dfb      0         102.4kB"
        ]
    );

    let out = b.run(&["system", "df", "--format", "{{json .}}"]).ok();
    let vols: serde_json::Value = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["Type"] == "Local Volumes")
        .unwrap();
    assert_eq!(
        vols,
        serde_json::json!({"Active":"1","Reclaimable":"102.4kB (99%)","Size":"102.4kB","TotalCount":"2","Type":"Local Volumes"})
    );
}

/// `system df -v` streams its volumes table (the sizes walked a batch of 256 volumes at a time,
/// rows written as they come): every volume is listed once, in name order, with its own size,
/// and the name column is as wide as the longest name even when that one comes in the last
/// batch.
#[test]
fn system_df_v_lists_every_volume_of_many_batches_aligned() {
    let b = vb();
    let names: Vec<String> = (0..300).map(|i| format!("dfs-{i:03}")).collect();
    for n in &names {
        b.run(&["volume", "create", n]).ok();
    }
    let long = format!("dfs-z{}", "y".repeat(60));
    b.run(&["volume", "create", &long]).ok();
    // Sizes in the first batch, the second and the last one.
    for (name, bytes) in [
        ("dfs-000", 1_000),
        ("dfs-257", 2_000),
        (long.as_str(), 3_000),
    ] {
        let mp = b
            .run(&["volume", "inspect", "--format", "{{.Mountpoint}}", name])
            .ok()
            .stdout;
        std::fs::write(Path::new(mp.trim()).join("f"), vec![b'x'; bytes]).unwrap();
    }
    let (out, rows) = df_volume_rows(&b);
    let width = long.len() + 3;
    assert_eq!(rows[0], format!("{:width$}LINKS     SIZE", "VOLUME NAME"));
    let mut want: Vec<String> = names
        .iter()
        .map(|n| {
            let size = match n.as_str() {
                "dfs-000" => "1kB",
                "dfs-257" => "2kB",
                _ => "0B",
            };
            format!("{n:width$}0         {size}")
        })
        .collect();
    want.push(format!("{long:width$}0         3kB"));
    assert_eq!(rows[1..], want[..], "{}", out.stdout);

    let out = b.run(&["system", "df"]).ok();
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Local Volumes"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(
        row,
        "Local Volumes   301       0         6kB       6kB (100%)"
    );
}

// ---------------------------------------------------------------------------------------------
// volume export / import

#[test]
fn volume_export_and_import_round_trip_with_owners_modes_and_symlinks() {
    let b = vb();
    rich_volume(&b, "spec-src");
    // To stdout.
    let out = b
        .command(&["volume", "export", "spec-src"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let entries = tar_entries(&out.stdout);
    let names: Vec<String> = entries
        .keys()
        .map(|k| k.trim_start_matches("./").trim_end_matches('/').to_string())
        .filter(|k| !k.is_empty() && k != ".")
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["empty", "f", "l", "s", "s/t", "s/t/g"]);
    // To a file: nothing on stdout.
    let file = b.scratch("vol.tar");
    let out = b
        .run(&["volume", "export", "-o", file.to_str().unwrap(), "spec-src"])
        .ok();
    assert_eq!(out.stdout, "");
    assert_eq!(std::fs::read(&file).unwrap(), {
        let again = b
            .command(&["volume", "export", "spec-src"])
            .output()
            .unwrap();
        again.stdout
    });
    // Import into a new volume (created), from a file and from stdin.
    let out = b
        .run(&["volume", "import", "spec-copy", file.to_str().unwrap()])
        .ok();
    assert_eq!(out.stdout, "spec-copy\n");
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-copy")),
        &data_snapshot(&volume_data(&b, "spec-src")),
        "round trip",
    );
    let out = b
        .run_stdin(
            &["volume", "import", "spec-copy2", "-"],
            &std::fs::read(&file).unwrap(),
        )
        .ok();
    assert_eq!(out.stdout, "spec-copy2\n");
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-copy2")),
        &data_snapshot(&volume_data(&b, "spec-src")),
        "round trip",
    );
    // Import replaces the content: nothing of the old content stays.
    b.run(&[
        "run",
        "--rm",
        "-v",
        "spec-copy:/d",
        "busybox",
        "sh",
        "-c",
        "echo extra > /d/extra; rm /d/f",
    ])
    .ok();
    b.run(&["volume", "import", "spec-copy", file.to_str().unwrap()])
        .ok();
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-copy")),
        &data_snapshot(&volume_data(&b, "spec-src")),
        "round trip",
    );
    // A gzip stream works too.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &std::fs::read(&file).unwrap()).unwrap();
    let gz = gz.finish().unwrap();
    b.run_stdin(&["volume", "import", "spec-gz", "-"], &gz).ok();
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-gz")),
        &data_snapshot(&volume_data(&b, "spec-src")),
        "round trip",
    );
    // Errors.
    let out = b.run(&["volume", "export", "spec-nonexist"]).fails(1);
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );
    let out = b
        .run(&["volume", "import", "a", file.to_str().unwrap()])
        .fails(1);
    assert!(out.stderr.contains("volume name is too short"), "{out:?}");
}

#[test]
fn volume_import_into_an_in_use_volume_needs_force() {
    let b = vb();
    rich_volume(&b, "spec-src");
    let file = b.scratch("vol.tar");
    b.run(&["volume", "export", "-o", file.to_str().unwrap(), "spec-src"])
        .ok();
    b.run(&[
        "run",
        "--rm",
        "-v",
        "spec-dst:/d",
        "busybox",
        "sh",
        "-c",
        "echo mine > /d/mine",
    ])
    .ok();
    let id = b
        .run(&["create", "-v", "spec-dst:/d", "busybox", "true"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let out = b
        .run(&["volume", "import", "spec-dst", file.to_str().unwrap()])
        .fails(1);
    assert_eq!(
        out.stderr,
        daemon_error(&format!("import spec-dst: volume is in use - [{id}]"))
    );
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-dst").join("mine")).unwrap(),
        "mine\n"
    );
    b.run(&[
        "volume",
        "import",
        "--force",
        "spec-dst",
        file.to_str().unwrap(),
    ])
    .ok();
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-dst")),
        &data_snapshot(&volume_data(&b, "spec-src")),
        "round trip",
    );
}

#[test]
fn volume_import_of_a_hostile_tar_stays_inside_the_volume() {
    let b = vb();
    let outside = b.scratch("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let o = outside.display().to_string();
    let evil = raw_tar(&[
        RawEntry {
            path: "link",
            kind: tar::EntryType::Symlink,
            mode: 0o777,
            uid: 0,
            gid: 0,
            data: b"",
            link: Some(&o),
        },
        RawEntry {
            path: "link/pwned",
            kind: tar::EntryType::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            data: b"x",
            link: None,
        },
        RawEntry {
            path: "hard",
            kind: tar::EntryType::Link,
            mode: 0o644,
            uid: 0,
            gid: 0,
            data: b"",
            link: Some("/etc/passwd"),
        },
    ]);
    let mut evil2 = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    // `tar` refuses to write `..` paths through set_path; write the name bytes directly.
    h.as_gnu_mut().unwrap().name[..12].copy_from_slice(b"../../escape");
    h.set_cksum();
    evil2.append(&h, &b"x"[..]).unwrap();
    let evil2 = evil2.into_inner().unwrap();
    let before = dir_fingerprint(Path::new("/etc"));
    for t in [evil, evil2] {
        // Refusing is fine; escaping is not.
        b.run_stdin(&["volume", "import", "spec-evil", "-"], &t);
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(!b.root().join("volumes/escape").exists() && !b.root().join("escape").exists());
    assert_eq!(dir_fingerprint(Path::new("/etc")), before);
}

// ---------------------------------------------------------------------------------------------
// volume clone

#[test]
fn volume_clone_copies_everything_and_refuses_a_source_written_by_a_running_container() {
    let b = vb();
    rich_volume(&b, "spec-src");
    b.run(&["volume", "create", "--label", "spec.k=v", "spec-lab"])
        .ok();
    b.run(&["volume", "clone", "spec-src", "spec-dst"]).ok();
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-dst")),
        &data_snapshot(&volume_data(&b, "spec-src")),
        "round trip",
    );
    // Independent copies.
    b.run(&[
        "run",
        "--rm",
        "-v",
        "spec-dst:/d",
        "busybox",
        "sh",
        "-c",
        "echo changed > /d/f",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "spec-src").join("f")).unwrap(),
        "hi\n"
    );
    // Existing target, missing source.
    let out = b.run(&["volume", "clone", "spec-src", "spec-dst"]).fails(1);
    assert!(
        out.stderr.starts_with("Error response from daemon: "),
        "{out:?}"
    );
    let out = b
        .run(&["volume", "clone", "spec-nonexist", "spec-x"])
        .fails(1);
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );
    assert!(!volume_names(&b).contains(&"spec-x".to_string()));

    // A running container writing to it: refused unless --force; read-only users and stopped
    // containers do not count.
    b.run_d(&[
        "--name",
        "rw1",
        "-v",
        "spec-src:/d",
        "busybox",
        "sleep",
        "1000",
    ]);
    let rw1 = b.id_of("rw1");
    let out = b.run(&["volume", "clone", "spec-src", "spec-c1"]).fails(1);
    assert_eq!(
        out.stderr,
        daemon_error(&format!(
            "clone spec-src: volume is mounted read-write by running container {rw1}; stop it or use --force"
        ))
    );
    assert!(!volume_names(&b).contains(&"spec-c1".to_string()));
    b.run(&["volume", "clone", "--force", "spec-src", "spec-c1"])
        .ok();
    b.run(&["rm", "-f", "rw1"]).ok();
    b.run_d(&[
        "--name",
        "ro1",
        "-v",
        "spec-src:/d:ro",
        "busybox",
        "sleep",
        "1000",
    ]);
    b.run(&["volume", "clone", "spec-src", "spec-c2"]).ok();
    b.run(&["rm", "-f", "ro1"]).ok();
    b.run(&["create", "-v", "spec-src:/d", "busybox", "true"])
        .ok();
    b.run(&["volume", "clone", "spec-src", "spec-c3"]).ok();
    for c in ["spec-c1", "spec-c2", "spec-c3"] {
        assert_same(
            &data_snapshot(&volume_data(&b, c)),
            &data_snapshot(&volume_data(&b, "spec-src")),
            c,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// volume rename

#[test]
fn volume_rename_moves_the_volume_and_refuses_while_referenced() {
    let b = vb();
    rich_volume(&b, "spec-old");
    let before = data_snapshot(&volume_data(&b, "spec-old"));
    let labels_before = volume_inspect(&b, "spec-old")["Labels"].clone();
    b.run(&["volume", "rename", "spec-old", "spec-new"]).ok();
    assert_eq!(volume_names(&b), ["spec-new"]);
    assert_eq!(volume_dirs(&b), ["spec-new"]);
    let v = volume_inspect(&b, "spec-new");
    assert_eq!(v["Name"], "spec-new");
    assert_eq!(
        v["Mountpoint"],
        format!("{}/volumes/spec-new/_data", b.root().display())
    );
    assert_eq!(v["Labels"], labels_before);
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-new")),
        &before,
        "renamed",
    );
    let out = b.run(&["volume", "inspect", "spec-old"]).fails(1);
    assert_eq!(out.stderr, daemon_error("get spec-old: no such volume"));

    // Any reference blocks it, even a created-only container.
    let id = b
        .run(&["create", "-v", "spec-new:/d", "busybox", "true"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let out = b
        .run(&["volume", "rename", "spec-new", "spec-newer"])
        .fails(1);
    assert_eq!(
        out.stderr,
        daemon_error(&format!("rename spec-new: volume is in use - [{id}]"))
    );
    b.run(&["rm", &id]).ok();
    // Target exists, bad name, missing source.
    b.run(&["volume", "create", "spec-taken"]).ok();
    let out = b
        .run(&["volume", "rename", "spec-new", "spec-taken"])
        .fails(1);
    assert!(
        out.stderr.starts_with("Error response from daemon: "),
        "{out:?}"
    );
    let out = b
        .run(&["volume", "rename", "spec-new", "bad name"])
        .fails(1);
    assert!(
        out.stderr
            .contains("includes invalid characters for a local volume name"),
        "{out:?}"
    );
    let out = b
        .run(&["volume", "rename", "spec-nonexist", "spec-x"])
        .fails(1);
    assert_eq!(
        out.stderr,
        daemon_error("get spec-nonexist: no such volume")
    );
    assert_eq!(volume_names(&b), ["spec-new", "spec-taken"]);
    assert_same(
        &data_snapshot(&volume_data(&b, "spec-new")),
        &before,
        "renamed",
    );
}

// ---------------------------------------------------------------------------------------------
// size-limited volumes

#[test]
fn size_limited_volumes_fail_with_enospc_inside_the_container() {
    let b = vb();
    b.run(&["volume", "create", "-o", "size=4m", "spec-sz"])
        .ok();
    assert_eq!(
        volume_inspect(&b, "spec-sz")["Options"],
        serde_json::json!({"size": "4m"})
    );
    // Starts empty (no filesystem artifacts such as lost+found), takes 1 MiB, refuses 8 MiB.
    let out = b
        .run(&["run", "--rm", "-v", "spec-sz:/d", "busybox", "sh", "-c",
            "ls -A /d; dd if=/dev/zero of=/d/small bs=1024 count=1024 2>/dev/null && echo small-ok; \
             dd if=/dev/zero of=/d/big bs=1048576 count=8"])
        .fails(1);
    assert_eq!(out.stdout, "small-ok\n");
    assert!(
        out.stderr
            .contains("dd: error writing '/d/big': No space left on device"),
        "{out:?}"
    );
    // The data persists like any volume's.
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-sz:/d",
            "busybox",
            "sh",
            "-c",
            "ls -l /d/small | awk '{print $5}'",
        ])
        .ok();
    assert_eq!(out.stdout, "1048576\n");
    // A tmpfs volume with a size.
    b.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "size=2m",
        "spec-tsz",
    ])
    .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-tsz:/t",
            "busybox",
            "sh",
            "-c",
            "grep ' /t ' /proc/mounts; dd if=/dev/zero of=/t/big bs=1048576 count=4",
        ])
        .fails(1);
    assert!(
        out.stdout
            .starts_with("tmpfs /t tmpfs rw,relatime,size=2048k"),
        "{out:?}"
    );
    assert!(out.stderr.contains("No space left on device"), "{out:?}");
    // Bad sizes are refused at create.
    let out = b
        .run(&["volume", "create", "-o", "size=lots", "spec-bad"])
        .fails(1);
    assert!(
        out.stderr
            .starts_with("Error response from daemon: create spec-bad: "),
        "{out:?}"
    );
    b.run(&["volume", "rm", "spec-sz", "spec-tsz"]).ok();
    assert!(volume_dirs(&b).is_empty());
    assert!(mounts_under(&b.root())
        .iter()
        .all(|m| !m.contains("/volumes/")));
}

#[test]
fn size_limited_volume_is_populated_from_the_image_like_a_plain_one() {
    let b = Berth::new();
    let layer = tar_of(&[
        Entry::Dir("data", 0o755),
        Entry::File("data/a.txt", b"hello\n", 0o644),
    ]);
    load_image(&b, "vimg", &[layer], &[]);
    b.run(&["volume", "create", "-o", "size=4m", "spec-sz"])
        .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "spec-sz:/data",
            "vimg",
            "ls",
            "-A",
            "/data",
        ])
        .ok();
    assert_eq!(out.stdout, "a.txt\n");
}

// ---------------------------------------------------------------------------------------------
// crash safety

/// Checks the invariants after a crash, through the next berth command: every listed volume has
/// its directory and `_data`, every directory under `<root>/volumes` is a listed volume, and
/// nothing stays mounted below `<root>/volumes`.
#[track_caller]
fn assert_consistent(b: &Berth) -> Vec<String> {
    let names = volume_names(b);
    assert_eq!(volume_dirs(b), names, "stray or missing volume directories");
    for n in &names {
        assert!(volume_data(b, n).is_dir(), "{n} has no _data");
        volume_inspect(b, n);
    }
    let vols = b.root().join("volumes").display().to_string();
    let left: Vec<String> = mounts_under(&b.root())
        .into_iter()
        .filter(|m| m.starts_with(&vols))
        .collect();
    assert!(left.is_empty(), "mounts left: {left:?}");
    names
}

/// Runs `berth ARGS` in the background and SIGKILLs it after `delay` (or when it ends first).
/// Returns whether it was killed before finishing.
fn kill_after(b: &Berth, args: &[&str], delay: Duration) -> bool {
    let mut p = b.spawn(args);
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if !p.running() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    if !p.running() {
        return false;
    }
    kill9(p.child.id() as i64);
    let _ = p.child.wait();
    true
}

/// A tar of `files` files of `size` bytes each, with distinct contents.
fn big_tar(files: usize, size: usize) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..files {
        let mut h = tar::Header::new_gnu();
        let data = vec![(i % 251) as u8; size];
        h.set_size(size as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, format!("dir{}/f{i}", i % 10), &data[..])
            .unwrap();
    }
    b.into_inner().unwrap()
}

const DELAYS_MS: [u64; 6] = [5, 20, 50, 100, 200, 400];

#[test]
fn killed_volume_import_leaves_the_old_or_the_new_content() {
    let b = vb();
    let tar = b.scratch("big.tar");
    std::fs::write(&tar, big_tar(2000, 16 * 1024)).unwrap();
    // The reference result of a complete import.
    b.run(&["volume", "import", "spec-ref", tar.to_str().unwrap()])
        .ok();
    let complete = data_snapshot(&volume_data(&b, "spec-ref"));
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        // Into a new volume: afterwards no volume, or a complete one.
        let new = format!("spec-new{round}");
        kill_after(
            &b,
            &["volume", "import", &new, tar.to_str().unwrap()],
            Duration::from_millis(*ms),
        );
        let names = assert_consistent(&b);
        if names.contains(&new) {
            assert_same(
                &data_snapshot(&volume_data(&b, &new)),
                &complete,
                &format!("{new} after {ms} ms"),
            );
        }
        // Into an existing volume: the old content or the new one.
        let old = format!("spec-old{round}");
        b.run(&[
            "run",
            "--rm",
            "-v",
            &format!("{old}:/d"),
            "busybox",
            "sh",
            "-c",
            "echo old > /d/old",
        ])
        .ok();
        let old_state = data_snapshot(&volume_data(&b, &old));
        kill_after(
            &b,
            &["volume", "import", &old, tar.to_str().unwrap()],
            Duration::from_millis(*ms),
        );
        assert_consistent(&b);
        let now = data_snapshot(&volume_data(&b, &old));
        assert!(
            now == old_state || now == complete,
            "{old} is half imported after {ms} ms"
        );
    }
}

#[test]
fn killed_volume_create_rm_and_prune_leave_the_old_or_the_new_state() {
    let b = vb();
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        // create (a size-limited one takes a while: mkfs).
        let name = format!("spec-c{round}");
        kill_after(
            &b,
            &["volume", "create", "-o", "size=64m", &name],
            Duration::from_millis(*ms),
        );
        assert_consistent(&b);
        // rm of a volume with many files.
        let victim = format!("spec-rm{round}");
        b.run(&[
            "run",
            "--rm",
            "-v",
            &format!("{victim}:/d"),
            "busybox",
            "sh",
            "-c",
            "i=0; while [ $i -lt 3000 ]; do echo $i > /d/f$i; i=$((i+1)); done",
        ])
        .ok();
        let full = data_snapshot(&volume_data(&b, &victim));
        kill_after(&b, &["volume", "rm", &victim], Duration::from_millis(*ms));
        let names = assert_consistent(&b);
        if names.contains(&victim) {
            assert_same(
                &data_snapshot(&volume_data(&b, &victim)),
                &full,
                &format!("{victim} half removed after {ms} ms"),
            );
        }
        // prune --all of two such volumes.
        for v in ["spec-pa", "spec-pb"] {
            b.run(&[
                "run",
                "--rm",
                "-v",
                &format!("{v}:/d"),
                "busybox",
                "sh",
                "-c",
                "i=0; while [ $i -lt 1500 ]; do echo $i > /d/f$i; i=$((i+1)); done",
            ])
            .ok();
        }
        let full: Vec<_> = ["spec-pa", "spec-pb"]
            .iter()
            .map(|v| data_snapshot(&volume_data(&b, v)))
            .collect();
        kill_after(
            &b,
            &["volume", "prune", "-a", "-f"],
            Duration::from_millis(*ms),
        );
        let names = assert_consistent(&b);
        for (i, v) in ["spec-pa", "spec-pb"].iter().enumerate() {
            if names.contains(&v.to_string()) {
                assert_same(
                    &data_snapshot(&volume_data(&b, v)),
                    &full[i],
                    &format!("{v} half pruned after {ms} ms"),
                );
            }
        }
        b.run(&["volume", "prune", "-a", "-f"]).ok();
    }
}

#[test]
fn killed_volume_clone_and_rename_leave_the_old_or_the_new_state() {
    let b = vb();
    let tar = b.scratch("big.tar");
    std::fs::write(&tar, big_tar(2000, 16 * 1024)).unwrap();
    b.run(&["volume", "import", "spec-src", tar.to_str().unwrap()])
        .ok();
    let content = data_snapshot(&volume_data(&b, "spec-src"));
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        let dst = format!("spec-dst{round}");
        kill_after(
            &b,
            &["volume", "clone", "spec-src", &dst],
            Duration::from_millis(*ms),
        );
        let names = assert_consistent(&b);
        assert_same(
            &data_snapshot(&volume_data(&b, "spec-src")),
            &content,
            "the clone source",
        );
        if names.contains(&dst) {
            assert_same(
                &data_snapshot(&volume_data(&b, &dst)),
                &content,
                &format!("{dst} half cloned after {ms} ms"),
            );
        }
        // rename: exactly one of the two names, with all the data.
        let (from, to) = (format!("spec-r{round}"), format!("spec-s{round}"));
        b.run(&["volume", "clone", "spec-src", &from]).ok();
        kill_after(
            &b,
            &["volume", "rename", &from, &to],
            Duration::from_millis(*ms),
        );
        let names = assert_consistent(&b);
        let has_from = names.contains(&from);
        let has_to = names.contains(&to);
        assert!(has_from ^ has_to, "after {ms} ms: {names:?}");
        let which = if has_from { &from } else { &to };
        assert_same(
            &data_snapshot(&volume_data(&b, which)),
            &content,
            &format!("{which} after {ms} ms"),
        );
        let v = volume_inspect(&b, which);
        assert_eq!(v["Name"], which.as_str());
    }
}
