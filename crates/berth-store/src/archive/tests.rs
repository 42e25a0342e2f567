//! Scenario tests of the archive module on real files, real xattrs, real device nodes and real
//! overlay mounts (as root; without root they print why they skip).

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rustix::fs::{AtFlags, FileType, Mode, Timespec, Timestamps, XattrFlags, CWD};
use tar::EntryType;

use super::hostile::{
    self, diff_snapshots, portable, snapshot_entry, snapshot_tree, Raw, TreeSnapshot,
};
use super::*;

const DELETE: ApplyOptions = ApplyOptions {
    no_overwrite_dir_non_dir: false,
    skip_devices: false,
    whiteouts: WhiteoutMode::Delete,
    root_metadata: false,
    owner: None,
};
const OVERLAY: ApplyOptions = ApplyOptions {
    no_overwrite_dir_non_dir: false,
    skip_devices: false,
    whiteouts: WhiteoutMode::Overlay,
    root_metadata: false,
    owner: None,
};

/// An overlay mount that is undone when dropped, even when the test panics.
struct OverlayMount(#[allow(dead_code)] crate::mount::MountGuard);

impl OverlayMount {
    fn new(lowers: &[&Path], upper: &Path, work: &Path, target: &Path) -> OverlayMount {
        let lowers: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
        let data = format!(
            "lowerdir={},upperdir={},workdir={}",
            lowers.join(":"),
            upper.display(),
            work.display()
        );
        let m = crate::mount::Mount {
            fstype: "overlay".into(),
            source: "overlay".into(),
            target: target.to_path_buf(),
            options: vec![data],
            cwd: None,
        };
        OverlayMount(
            crate::mount::Mounter::linux()
                .mount_scoped(&m)
                .expect("mount overlay"),
        )
    }
}

fn stamp(p: &Path, sec: i64, nsec: i64) {
    let t = Timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    };
    rustix::fs::utimensat(
        CWD,
        p,
        &Timestamps {
            last_access: t,
            last_modification: t,
        },
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

fn lchown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn lsetxattr(p: &Path, name: &str, value: &[u8]) {
    rustix::fs::lsetxattr(p, name, value, XattrFlags::empty()).unwrap();
}

fn mknod(p: &Path, ft: FileType, mode: u32, major: u32, minor: u32) {
    rustix::fs::mknodat(
        CWD,
        p,
        ft,
        Mode::from_raw_mode(mode),
        rustix::fs::makedev(major, minor),
    )
    .unwrap();
    chmod(p, mode);
}

/// Every kind of entry with every kind of metadata a layer can carry.
fn rich_tree(d: &Path) {
    let mk = |p: &str| fs::create_dir_all(d.join(p)).unwrap();
    mk("bin");
    fs::write(d.join("bin/su"), b"#!setuid\n").unwrap();
    chmod(&d.join("bin/su"), 0o4755);
    fs::write(d.join("bin/sg"), b"#!setgid\n").unwrap();
    lchown(&d.join("bin/sg"), 0, 50);
    chmod(&d.join("bin/sg"), 0o2755);
    mk("tmp");
    chmod(&d.join("tmp"), 0o1777);
    mk("data/sub");
    fs::write(d.join("data/a.txt"), b"hello\n").unwrap();
    fs::write(d.join("data/sub/b.txt"), b"bee\n").unwrap();
    for p in ["data", "data/a.txt", "data/sub", "data/sub/b.txt"] {
        lchown(&d.join(p), 1000, 2000);
    }
    chmod(&d.join("data"), 0o750);
    chmod(&d.join("data/sub"), 0o2770);
    lsetxattr(&d.join("data/a.txt"), "user.mime", b"text/plain");
    lsetxattr(&d.join("data/a.txt"), "trusted.berth", b"\x00\x01binary");
    lsetxattr(&d.join("data"), "user.dir", b"yes");
    // Overlay's private xattrs never travel.
    lsetxattr(&d.join("data/sub/b.txt"), "trusted.overlay.origin", b"x");
    let big: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(d.join("big.bin"), &big).unwrap();
    fs::write(d.join("empty"), b"").unwrap();
    mk("links");
    fs::write(d.join("links/one"), b"shared inode\n").unwrap();
    fs::hard_link(d.join("links/one"), d.join("links/two")).unwrap();
    fs::hard_link(d.join("links/one"), d.join("links/zzz-three")).unwrap();
    lchown(&d.join("links/one"), 7, 7);
    chmod(&d.join("links/one"), 0o600);
    symlink("data/a.txt", d.join("sym-rel")).unwrap();
    symlink("/etc/passwd", d.join("sym-abs")).unwrap();
    symlink("nowhere", d.join("sym-dangling")).unwrap();
    symlink("x".repeat(300), d.join("sym-long")).unwrap();
    lchown(&d.join("sym-rel"), 33, 33);
    lsetxattr(&d.join("sym-rel"), "trusted.link", b"1");
    mk("dev");
    mknod(&d.join("dev/null"), FileType::CharacterDevice, 0o666, 1, 3);
    mknod(&d.join("dev/loop9"), FileType::BlockDevice, 0o660, 7, 9);
    lchown(&d.join("dev/loop9"), 0, 6);
    mknod(&d.join("dev/fifo"), FileType::Fifo, 0o620, 0, 0);
    let long_dir = d.join("long").join("n".repeat(150));
    fs::create_dir_all(&long_dir).unwrap();
    fs::write(long_dir.join("f".repeat(200)), b"long name\n").unwrap();
    use std::os::unix::ffi::OsStrExt;
    fs::write(
        d.join(std::ffi::OsStr::from_bytes(b"weird-\xff-name")),
        b"not utf-8\n",
    )
    .unwrap();
    // Times last, children before parents' final stamps do not matter: writing a child's time
    // leaves its directory's mtime alone.
    let mut all: Vec<PathBuf> = snapshot_tree(d, &[]).unwrap().into_keys().collect();
    all.sort();
    for (i, p) in all.iter().enumerate() {
        stamp(&d.join(p), 1_500_000_000 + i as i64 * 97, 123_456_789);
    }
}

fn assert_same_trees(a: &TreeSnapshot, b: &TreeSnapshot, what: &str) {
    let diffs = diff_snapshots(a, b);
    assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
}

/// Portable snapshot with directory mtimes left out (overlay and implicit parents make them
/// differ legitimately).
fn without_dir_mtimes(t: &TreeSnapshot) -> TreeSnapshot {
    portable(t)
        .into_iter()
        .map(|(p, mut e)| {
            if e.kind == "dir" {
                e.mtime = (0, 0);
            }
            (p, e)
        })
        .collect()
}

/// `rich_tree` in `<dir>/src`, and its tar.
fn rich_tree_tar(dir: &Path) -> (PathBuf, Vec<u8>) {
    let src = dir.join("src");
    fs::create_dir(&src).unwrap();
    rich_tree(&src);
    let tar = write_tree_tar(&src, Vec::new()).unwrap();
    (src, tar)
}

fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect()
}

#[test]
#[ignore = "needs root"]
fn tree_round_trips_with_full_metadata() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir(&src).unwrap();
    rich_tree(&src);
    let before = snapshot_tree(&src, &[]).unwrap();
    let tar = write_tree_tar(&src, Vec::new()).unwrap();
    // The tree is unchanged by being read.
    assert_same_trees(
        &portable(&before),
        &portable(&snapshot_tree(&src, &[]).unwrap()),
        "source after write",
    );

    let names = tar_names(&tar);
    assert_eq!(names[0], "big.bin");
    assert!(names.contains(&"bin/".to_string()));
    assert!(names
        .iter()
        .all(|n| !n.starts_with("./") && !n.starts_with('/')));
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(pos("data/") < pos("data/a.txt"));

    let total_files: u64 = before
        .values()
        .filter(|e| e.kind == "file" && e.hardlink_of.is_none())
        .map(|e| e.size)
        .sum();
    for opts in [OVERLAY, DELETE] {
        let dst = t.path().join(format!("dst-{:?}", opts.whiteouts));
        fs::create_dir(&dst).unwrap();
        let written = apply_tar(&tar[..], &dst, &opts).unwrap();
        // Content bytes plus the symlinks' target lengths (`du`'s count, as Docker's sizes).
        let symlink_targets =
            ("data/a.txt".len() + "/etc/passwd".len() + "nowhere".len() + 300) as u64;
        assert_eq!(written, total_files + symlink_targets);
        let after = snapshot_tree(&dst, &[]).unwrap();
        assert_same_trees(&portable(&before), &portable(&after), "round trip");
        // Hardlinks share one inode; the private overlay xattr was dropped.
        let ino = |p: &str| fs::symlink_metadata(dst.join(p)).unwrap().ino();
        assert_eq!(ino("links/one"), ino("links/two"));
        assert_eq!(ino("links/one"), ino("links/zzz-three"));
        assert_eq!(
            fs::symlink_metadata(dst.join("links/one")).unwrap().nlink(),
            3
        );
        assert!(snapshot_entry(&dst.join("data/sub/b.txt"))
            .unwrap()
            .xattrs
            .is_empty());
        assert_eq!(
            fs::symlink_metadata(dst.join("bin/su"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o4755
        );
        assert!(fs::symlink_metadata(dst.join("dev/null"))
            .unwrap()
            .file_type()
            .is_char_device());
    }
}

#[test]
#[ignore = "needs root"]
fn a_fixed_owner_replaces_every_entrys_owner_and_nothing_else() {
    let t = tempfile::tempdir().unwrap();
    let (src, tar) = rich_tree_tar(t.path());
    let dst = t.path().join("dst");
    fs::create_dir(&dst).unwrap();
    let opts = ApplyOptions {
        no_overwrite_dir_non_dir: false,
        skip_devices: false,
        owner: Some((4321, 8765)),
        ..DELETE
    };
    apply_tar(&tar[..], &dst, &opts).unwrap();
    let after = without_dir_mtimes(&snapshot_tree(&dst, &[]).unwrap());
    assert!(after.values().all(|e| (e.uid, e.gid) == (4321, 8765)));
    let mut expected = without_dir_mtimes(&snapshot_tree(&src, &[]).unwrap());
    for e in expected.values_mut() {
        (e.uid, e.gid) = (4321, 8765);
    }
    assert_same_trees(
        &expected,
        &after,
        "modes, contents, links and times are kept",
    );
}

#[test]
#[ignore = "needs root"]
fn compressed_layers_apply() {
    let t = tempfile::tempdir().unwrap();
    let (src, tar) = rich_tree_tar(t.path());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    for (name, blob) in [("gz", gz), ("zst", zst), ("plain", tar.clone())] {
        let dst = t.path().join(name);
        fs::create_dir(&dst).unwrap();
        apply_tar(decompress(&blob[..]).unwrap(), &dst, &DELETE).unwrap();
        assert_same_trees(
            &portable(&snapshot_tree(&src, &[]).unwrap()),
            &portable(&snapshot_tree(&dst, &[]).unwrap()),
            name,
        );
    }
}

/// Counts the bytes read through it, like the hashing reader that computes a diff-id.
struct Counting<R>(R, usize);

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1 += n;
        Ok(n)
    }
}

#[test]
fn the_whole_stream_is_read_so_diff_ids_cover_it() {
    let t = tempfile::tempdir().unwrap();
    let mut tar = Raw::default()
        .owner(
            rustix::process::geteuid().as_raw().into(),
            rustix::process::getegid().as_raw().into(),
        )
        .file("f", b"x")
        .finish();
    // Trailing zero blocks after the end-of-archive marker, as some tools write them.
    tar.extend_from_slice(&[0u8; 8192]);
    let mut r = Counting(&tar[..], 0);
    apply_tar(&mut r, t.path(), &DELETE).unwrap();
    assert_eq!(r.1, tar.len());
}

#[test]
#[ignore = "needs root"]
fn apply_follows_docker_rules_for_names_order_and_replacement() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    chmod(root, 0o755);
    let long = format!("deep/{}/{}", "d".repeat(120), "f".repeat(120));
    let tar = Raw::default()
        // Children before their directories, with and without `./`.
        .owner(0, 0)
        .at(1_000)
        .file("./a/b/f", b"child first")
        .owner(5, 6)
        .at(2_000)
        .dir("./a/", 0o700)
        .at(3_000)
        .dir("a/b/", 0o750)
        // A later entry replaces an earlier one, whatever their types.
        .owner(0, 0)
        .file("x", b"1")
        .symlink("x", "y")
        .file("x", b"22")
        .dir("d/", 0o755)
        .file("d/inner", b"gone with d")
        .file("d", b"file now")
        // A directory over a directory only updates metadata.
        .dir("keep/", 0o755)
        .file("keep/child", b"stays")
        .owner(9, 9)
        .dir("keep/", 0o711)
        // PAX nanosecond mtime, GNU long name, hardlink to an earlier entry.
        .owner(0, 0)
        .pax(&[("mtime", b"1600000000.123456789"), ("uid", b"3000000")])
        .file("pax-time", b"t")
        .gnu_long(EntryType::GNULongName, &long)
        .file("ignored-short-name", b"long")
        .hardlink("x-link", "./x")
        // The root's own entry is skipped; global PAX headers are ignored.
        .dir("./", 0o700)
        .entry(
            EntryType::XGlobalHeader,
            "global",
            "",
            0o644,
            b"9 a=b\nxx\n",
        )
        .finish();
    let n = apply_tar(&tar[..], root, &DELETE).unwrap();
    // a/b/f, x twice, d/inner, d, keep/child, pax-time, the long one, and the symlink y → x.
    assert_eq!(n, 11 + 1 + 2 + 11 + 8 + 5 + 1 + 4 + 1);

    let m = |p: &str| fs::symlink_metadata(root.join(p)).unwrap();
    assert_eq!(
        (
            m("a").permissions().mode() & 0o7777,
            m("a").uid(),
            m("a").gid()
        ),
        (0o700, 5, 6)
    );
    assert_eq!(m("a").mtime(), 2_000);
    assert_eq!(m("a/b").mtime(), 3_000);
    assert_eq!(m("a/b/f").mtime(), 1_000);
    assert_eq!(fs::read(root.join("x")).unwrap(), b"22");
    assert!(m("d").is_file());
    assert_eq!(
        (m("keep").permissions().mode() & 0o777, m("keep").uid()),
        (0o711, 9)
    );
    assert_eq!(fs::read(root.join("keep/child")).unwrap(), b"stays");
    assert_eq!(
        (
            m("pax-time").mtime(),
            m("pax-time").mtime_nsec(),
            m("pax-time").uid()
        ),
        (1_600_000_000, 123_456_789, 3_000_000)
    );
    assert_eq!(fs::read(root.join(&long)).unwrap(), b"long");
    assert_eq!(m("x-link").ino(), m("x").ino());
    assert_eq!(
        fs::symlink_metadata(root).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

#[test]
#[ignore = "needs root"]
fn overlay_mode_materializes_whiteouts_and_opaque_dirs() {
    let t = tempfile::tempdir().unwrap();
    let tar = Raw::default()
        .dir("etc/", 0o755)
        .owner(12, 34)
        .at(1_234)
        .file("etc/.wh.gone", b"")
        .owner(0, 0)
        .file("etc/.wh..wh..opq", b"")
        .file("etc/new", b"n")
        .file(".wh..wh..plnk", b"")
        .file("top/.wh.x", b"")
        .finish();
    apply_tar(&tar[..], t.path(), &OVERLAY).unwrap();
    let wh = fs::symlink_metadata(t.path().join("etc/gone")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!(
        (
            wh.rdev(),
            wh.permissions().mode() & 0o7777,
            wh.uid(),
            wh.gid(),
            wh.mtime()
        ),
        (0, 0, 12, 34, 1_234)
    );
    let x = snapshot_entry(&t.path().join("etc")).unwrap().xattrs;
    assert_eq!(
        x.get(&b"trusted.overlay.opaque"[..]).map(Vec::as_slice),
        Some(&b"y"[..])
    );
    // Missing parents of a whiteout are created 0755 root:root.
    let top = fs::symlink_metadata(t.path().join("top")).unwrap();
    assert_eq!((top.permissions().mode() & 0o7777, top.uid()), (0o755, 0));
    let names: BTreeSet<String> = snapshot_tree(t.path(), &[])
        .unwrap()
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".wh.")), "{names:?}");
}

/// Layer 1 of the spec §1.5 scenario, plus entries that layer 2 deletes or hides.
fn spec_base_layer() -> Vec<u8> {
    Raw::default()
        .dir("bin/", 0o755)
        .file("bin/sh", b"#!shell\n")
        .owner(1000, 2000)
        .dir("data/", 0o750)
        .file("data/a.txt", b"hello\n")
        .dir("data/sub/", 0o755)
        .file("data/sub/b.txt", b"bee\n")
        .owner(0, 0)
        .dir("etcx/", 0o755)
        .file("etcx/c.conf", b"c\n")
        .dir("empty/", 0o755)
        .dir("tmp/", 0o1777)
        .file("old.txt", b"old\n")
        .dir("opq/", 0o755)
        .file("opq/hidden", b"hidden\n")
        .dir("gone-dir/", 0o755)
        .file("gone-dir/f", b"f\n")
        .finish()
}

/// Layer 2: deletes a file and a directory, makes `opq` opaque, adds a file.
fn spec_second_layer() -> Vec<u8> {
    Raw::default()
        .at(1_700_000_000)
        .file(".wh.old.txt", b"")
        .file(".wh.gone-dir", b"")
        .dir("opq/", 0o755)
        .file("opq/.wh..wh..opq", b"")
        .file("opq/shown", b"shown\n")
        .owner(1000, 2000)
        .dir("data/", 0o750)
        .file("data/l2.txt", b"from layer 2\n")
        .finish()
}

/// The command sequence of spec §1.5, done with std::fs on `root` (a merged view or a copy).
fn spec_commands(root: &Path) {
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(root.join("data/a.txt"))
        .unwrap();
    f.write_all(b"more\n").unwrap();
    drop(f);
    fs::remove_file(root.join("data/sub/b.txt")).unwrap();
    fs::remove_dir_all(root.join("etcx")).unwrap();
    fs::create_dir(root.join("etcx")).unwrap();
    fs::write(root.join("etcx/n.conf"), b"new\n").unwrap();
    fs::write(root.join("newfile"), b"x\n").unwrap();
    fs::create_dir(root.join("newdir")).unwrap();
    fs::write(root.join("newdir/f"), b"").unwrap();
    fs::remove_dir(root.join("empty")).unwrap();
    chmod(&root.join("tmp"), 0o700);
    // Create-then-delete leaves no trace (not even `C /tmp`... which chmod already changed).
    fs::write(root.join("bin/tmpfile"), b"x").unwrap();
    fs::remove_file(root.join("bin/tmpfile")).unwrap();
}

const SPEC_CHANGES: &[&str] = &[
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
];

fn as_set(changes: &[Change]) -> BTreeSet<String> {
    changes.iter().map(|c| c.to_string()).collect()
}

fn spec_set() -> BTreeSet<String> {
    SPEC_CHANGES.iter().map(|s| s.to_string()).collect()
}

/// A vfs-style copy of the two spec layers: both applied in Delete mode into `dir`.
fn vfs_copy(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    apply_tar(&spec_base_layer()[..], dir, &DELETE).unwrap();
    apply_tar(&spec_second_layer()[..], dir, &DELETE).unwrap();
}

#[test]
#[ignore = "needs root"]
fn overlay_diff_commit_and_reapply_match_the_spec_example() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| {
        let d = t.path().join(n);
        fs::create_dir_all(&d).unwrap();
        d
    };
    let (l1, l2, upper, work, merged) = (p("l1"), p("l2"), p("upper"), p("work"), p("merged"));
    apply_tar(&spec_base_layer()[..], &l1, &OVERLAY).unwrap();
    apply_tar(&spec_second_layer()[..], &l2, &OVERLAY).unwrap();

    {
        let _m = OverlayMount::new(&[&l2, &l1], &upper, &work, &merged);
        // The lower stack reads like the vfs copy: whiteouts hide, the opaque dir hides.
        assert!(fs::symlink_metadata(merged.join("old.txt")).is_err());
        assert!(fs::symlink_metadata(merged.join("gone-dir")).is_err());
        let opq: Vec<_> = fs::read_dir(merged.join("opq"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(opq, ["shown"]);
        let copy = t.path().join("copy-of-lower");
        vfs_copy(&copy);
        assert_same_trees(
            &without_dir_mtimes(&snapshot_tree(&copy, &[]).unwrap()),
            &without_dir_mtimes(&snapshot_tree(&merged, &[]).unwrap()),
            "lower stack vs vfs copy",
        );
        // No change yet.
        assert_eq!(
            overlay_changes(&upper, &[l2.clone(), l1.clone()]).unwrap(),
            vec![]
        );

        spec_commands(&merged);
        let changes = overlay_changes(&upper, &[l2.clone(), l1.clone()]).unwrap();
        assert_eq!(as_set(&changes), spec_set());
        let mut sorted = changes.clone();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(changes, sorted, "sorted by path");

        // Commit: the upper dir as a layer tar, in Docker's form.
        let layer = write_overlay_upper_tar(&upper, Vec::new()).unwrap();
        let names = tar_names(&layer);
        for n in [
            "data/",
            "data/sub/",
            "data/sub/.wh.b.txt",
            "data/a.txt",
            "etcx/",
            "etcx/.wh..wh..opq",
            "etcx/n.conf",
            ".wh.empty",
            "tmp/",
            "newdir/",
            "newdir/f",
            "newfile",
        ] {
            assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
        }
        assert!(
            names.iter().position(|n| n == "etcx/").unwrap()
                < names.iter().position(|n| n == "etcx/.wh..wh..opq").unwrap()
        );
        let mut a = tar::Archive::new(&layer[..]);
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            if name == "data/sub/.wh.b.txt" {
                let h = e.header();
                assert_eq!(
                    (
                        h.entry_type(),
                        h.size().unwrap(),
                        h.mode().unwrap(),
                        h.uid().unwrap()
                    ),
                    (EntryType::Regular, 0, 0o600, 0)
                );
            }
            if name == "etcx/.wh..wh..opq" {
                assert_eq!(
                    (e.header().mode().unwrap(), e.header().mtime().unwrap()),
                    (0o755, 0)
                );
            }
            // No overlay-private xattr made it into the tar.
            if let Some(exts) = e.pax_extensions().unwrap() {
                for x in exts {
                    assert!(!x.unwrap().key().unwrap().contains(".overlay."));
                }
            }
        }

        // Apply the committed layer on a vfs copy of the lower: it reproduces the merged view.
        apply_tar(&layer[..], &copy, &DELETE).unwrap();
        assert_same_trees(
            &without_dir_mtimes(&snapshot_tree(&merged, &[]).unwrap()),
            &without_dir_mtimes(&snapshot_tree(&copy, &[]).unwrap()),
            "merged view vs lower copy + committed layer",
        );
        // And stacked as an overlay lower, it gives the same view again.
        let l3 = p("l3");
        apply_tar(&layer[..], &l3, &OVERLAY).unwrap();
        let (u2, w2, m2) = (p("upper2"), p("work2"), p("merged2"));
        let _m2 = OverlayMount::new(&[&l3, &l2, &l1], &u2, &w2, &m2);
        assert_same_trees(
            &without_dir_mtimes(&snapshot_tree(&merged, &[]).unwrap()),
            &without_dir_mtimes(&snapshot_tree(&m2, &[]).unwrap()),
            "merged view vs committed layer stacked",
        );
    }
    // Unmounted: the merged dir is empty again.
    assert_eq!(fs::read_dir(&merged).unwrap().count(), 0);
}

#[test]
#[ignore = "needs root"]
fn naive_diff_and_changes_tar_match_the_spec_example() {
    let t = tempfile::tempdir().unwrap();
    let (old, new, replay) = (
        t.path().join("old"),
        t.path().join("new"),
        t.path().join("replay"),
    );
    vfs_copy(&old);
    vfs_copy(&new);
    assert_eq!(naive_changes(Some(&old), &new).unwrap(), vec![]);
    spec_commands(&new);
    let changes = naive_changes(Some(&old), &new).unwrap();
    assert_eq!(as_set(&changes), spec_set());

    let layer = write_changes_tar(&new, &changes, Vec::new()).unwrap();
    let names = tar_names(&layer);
    assert!(
        names.contains(&"data/sub/.wh.b.txt".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&".wh.empty".to_string()), "{names:?}");
    assert!(names.contains(&"etcx/.wh.c.conf".to_string()), "{names:?}");
    vfs_copy(&replay);
    apply_tar(&layer[..], &replay, &DELETE).unwrap();
    // Directory mtimes of unchanged directories (`bin`, where a file came and went) differ.
    assert_same_trees(
        &without_dir_mtimes(&snapshot_tree(&new, &[]).unwrap()),
        &without_dir_mtimes(&snapshot_tree(&replay, &[]).unwrap()),
        "replayed changes",
    );

    // Without a parent, everything is added.
    let all = naive_changes(None, &new).unwrap();
    assert!(all.iter().all(|c| c.kind == ChangeKind::Added));
    assert_eq!(all.len(), snapshot_tree(&new, &[]).unwrap().len());
}

#[test]
#[ignore = "needs root"]
fn a_layer_survives_its_own_whiteouts_in_either_order() {
    let t = tempfile::tempdir().unwrap();
    let base = Raw::default()
        .dir("d/", 0o755)
        .file("d/old1", b"1")
        .file("d/old2", b"2")
        .dir("d/sub/", 0o755)
        .file("d/sub/old3", b"3")
        .dir("keep/", 0o755)
        .file("keep/x", b"x")
        .file("z", b"lower z")
        .finish();
    let layer = Raw::default()
        .at(1_700_000_000)
        .file("d/new1", b"n1")
        .file("d/sub/new2", b"n2")
        .file("d/.wh..wh..opq", b"")
        .file("d/new3", b"n3")
        .file(".wh.keep", b"")
        .file("keep/y", b"y")
        .file("z", b"upper z")
        .file(".wh.z", b"")
        .finish();

    let vfs = t.path().join("vfs");
    fs::create_dir(&vfs).unwrap();
    apply_tar(&base[..], &vfs, &DELETE).unwrap();
    apply_tar(&layer[..], &vfs, &DELETE).unwrap();
    let names: Vec<String> = snapshot_tree(&vfs, &[])
        .unwrap()
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "d",
            "d/new1",
            "d/new3",
            "d/sub",
            "d/sub/new2",
            "keep",
            "keep/y",
            "z"
        ]
    );
    assert_eq!(fs::read(vfs.join("z")).unwrap(), b"upper z");

    // The same two layers as overlay lowers give the same view.
    let p = |n: &str| {
        let d = t.path().join(n);
        fs::create_dir_all(&d).unwrap();
        d
    };
    let (l1, l2, up, work, merged) = (p("l1"), p("l2"), p("up"), p("work"), p("merged"));
    apply_tar(&base[..], &l1, &OVERLAY).unwrap();
    apply_tar(&layer[..], &l2, &OVERLAY).unwrap();
    let _m = OverlayMount::new(&[&l2, &l1], &up, &work, &merged);
    assert_same_trees(
        &without_dir_mtimes(&snapshot_tree(&vfs, &[]).unwrap()),
        &without_dir_mtimes(&snapshot_tree(&merged, &[]).unwrap()),
        "vfs vs overlay",
    );
}

#[test]
#[ignore = "needs root"]
fn opaque_and_whiteout_diffs_respect_the_lower_stack() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| {
        let d = t.path().join(n);
        fs::create_dir_all(&d).unwrap();
        d
    };
    let (l1, l2, up, work, merged) = (p("l1"), p("l2"), p("up"), p("work"), p("merged"));
    apply_tar(&spec_base_layer()[..], &l1, &OVERLAY).unwrap();
    apply_tar(&spec_second_layer()[..], &l2, &OVERLAY).unwrap();
    let _m = OverlayMount::new(&[&l2, &l1], &up, &work, &merged);
    // Replace opq (whose lower view is only `shown`) and delete a whole lower tree.
    fs::remove_dir_all(merged.join("opq")).unwrap();
    fs::create_dir(merged.join("opq")).unwrap();
    fs::write(merged.join("opq/mine"), b"m").unwrap();
    fs::remove_dir_all(merged.join("data")).unwrap();
    // Recreating a previously hidden name is an addition.
    fs::write(merged.join("old.txt"), b"again").unwrap();
    let got = as_set(&overlay_changes(&up, &[l2.clone(), l1.clone()]).unwrap());
    let want: BTreeSet<String> = [
        "C /opq",
        "D /opq/shown",
        "A /opq/mine",
        "D /data",
        "A /old.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
}

#[derive(Debug, Clone)]
enum Node {
    File { data: Vec<u8>, mode: u32 },
    Dir { mode: u32 },
    Symlink(String),
    Fifo,
    Hardlink(usize),
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => (proptest::collection::vec(any::<u8>(), 0..3000), 0u32..0o7777).prop_map(|(data, mode)| Node::File { data, mode }),
        3 => (0u32..0o7777).prop_map(|mode| Node::Dir { mode }),
        1 => "[a-z./]{1,20}".prop_map(Node::Symlink),
        1 => Just(Node::Fifo),
        1 => (0usize..16).prop_map(Node::Hardlink),
    ]
}

fn path() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("c.txt"),
            Just("d e"),
            Just("ünï")
        ],
        1..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    #[ignore = "needs root"]
    fn random_trees_round_trip(
        nodes in proptest::collection::vec((path(), node(), prop_oneof![Just(0u32), Just(1u32), Just(1000u32), Just(65534u32)], 0i64..2_000_000_000), 1..16),
        overlay in any::<bool>(),
    ) {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        fs::create_dir(&src).unwrap();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut made: Vec<(PathBuf, i64)> = Vec::new();
        for (comps, node, owner, mtime) in &nodes {
            let rel: PathBuf = comps.iter().collect();
            let full = src.join(&rel);
            // Never create through a symlink made by an earlier node (it could point anywhere).
            let through_link = (1..comps.len()).any(|i| {
                let prefix: PathBuf = comps[..i].iter().collect();
                fs::symlink_metadata(src.join(prefix)).map(|m| !m.is_dir()).unwrap_or(false)
            });
            if through_link || fs::symlink_metadata(&full).is_ok() || fs::create_dir_all(full.parent().unwrap()).is_err() {
                continue;
            }
            let ok = match node {
                Node::File { data, mode } => {
                    fs::write(&full, data).unwrap();
                    lchown(&full, *owner, *owner);
                    chmod(&full, *mode);
                    files.push(rel.clone());
                    true
                }
                Node::Dir { mode } => {
                    fs::create_dir(&full).unwrap();
                    lchown(&full, *owner, *owner);
                    chmod(&full, *mode);
                    true
                }
                Node::Symlink(target) => {
                    symlink(target, &full).unwrap();
                    lchown(&full, *owner, *owner);
                    true
                }
                Node::Fifo => {
                    mknod(&full, FileType::Fifo, 0o640, 0, 0);
                    true
                }
                Node::Hardlink(i) => match files.get(*i % files.len().max(1)) {
                    Some(target) => fs::hard_link(src.join(target), &full).is_ok(),
                    None => false,
                },
            };
            if ok {
                made.push((rel, *mtime));
            }
        }
        for (rel, mtime) in made.iter().rev() {
            stamp(&src.join(rel), *mtime, 0);
        }
        let before = portable(&snapshot_tree(&src, &[]).unwrap());
        let tar = write_tree_tar(&src, Vec::new()).unwrap();
        let dst = t.path().join("dst");
        fs::create_dir(&dst).unwrap();
        let opts = if overlay { OVERLAY } else { DELETE };
        apply_tar(&tar[..], &dst, &opts).unwrap();
        let after = portable(&snapshot_tree(&dst, &[]).unwrap());
        let diffs = diff_snapshots(&before, &after);
        prop_assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    }
}

#[test]
fn hostile_sandbox_is_usable_from_other_tests() {
    // The helpers the driver- and CLI-level runs use: a corpus, a sandbox, a check.
    let corpus = hostile::hostile_corpus();
    assert!(corpus
        .iter()
        .any(|h| h.expect == hostile::HostileExpect::Contained));
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("layer");
    fs::create_dir(&root).unwrap();
    let sb = hostile::Sandbox::around(&root).unwrap();
    apply_tar(&corpus[0].tar[..], &root, &DELETE).unwrap_err();
    sb.check().unwrap();
}

/// `docker cp`'s `noOverwriteDirNonDir`: an entry may not turn a directory into a file or a
/// file into a directory; without the option it may (a layer replaces what it names).
#[test]
fn no_overwrite_dir_non_dir_refuses_a_change_of_kind() {
    let t = tempfile::tempdir().unwrap();
    let dst = t.path().join("dst");
    fs::create_dir_all(dst.join("d")).unwrap();
    fs::write(dst.join("f"), b"old").unwrap();
    let strict = ApplyOptions {
        no_overwrite_dir_non_dir: true,
        skip_devices: false,
        ..DELETE
    };
    let file_over_dir = Raw::default().file("d", b"x").finish();
    let e = apply_tar(&file_over_dir[..], &dst, &strict).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot overwrite directory "d" with non-directory "d""#
    );
    let dir_over_file = Raw::default().dir("f/", 0o755).finish();
    let e = apply_tar(&dir_over_file[..], &dst, &strict).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot overwrite non-directory "f" with directory "f""#
    );
    assert!(dst.join("d").is_dir());
    assert_eq!(fs::read(dst.join("f")).unwrap(), b"old");
    // Same kinds replace as always.
    let same = Raw::default().file("f", b"new").dir("d/", 0o755).finish();
    apply_tar(&same[..], &dst, &strict).unwrap();
    assert_eq!(fs::read(dst.join("f")).unwrap(), b"new");
    // Without the option, a layer's entry replaces whatever is there.
    apply_tar(&file_over_dir[..], &dst, &DELETE).unwrap();
    assert!(dst.join("d").is_file());
}
