//! The suite every [`GraphDriver`] must pass, run against overlay and vfs: layers stack, whiteouts
//! and opaque dirs hide lower content in the mounted tree, a container layer records exactly the
//! changes made through its mount, diffs round-trip as layer tars, removal leaves nothing, and the
//! hostile-tar corpus changes nothing outside a layer's directory.

use std::path::Path;

use super::*;
use crate::archive::hostile::{hostile_corpus, Sandbox};
use crate::archive::{apply_tar, ApplyOptions, ChangeKind};
use crate::mount::{MountGuard, Mounter};

fn tar_of(entries: &[(&str, Option<&[u8]>, u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match data {
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            }
            Some(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(d.len() as u64);
                b.append_data(&mut h, name, *d).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn apply(driver: &dyn GraphDriver, id: &str, tar: &[u8]) {
    let opts = ApplyOptions {
        no_overwrite_dir_non_dir: false,
        skip_devices: false,
        whiteouts: driver.whiteout_mode(),
        root_metadata: false,
        owner: None,
    };
    apply_tar(tar, &driver.apply_dir(id), &opts).unwrap();
}

fn mount(
    driver: &dyn GraphDriver,
    id: &str,
    writable: bool,
) -> (std::path::PathBuf, Vec<MountGuard>) {
    let rootfs = driver.rootfs(id, writable).unwrap();
    let guards = Mounter::linux().mount_all_scoped(&rootfs.mounts).unwrap();
    (rootfs.path, guards)
}

/// Base layer, a layer deleting a file and making a dir opaque, and a container layer on top.
fn stack(driver: &dyn GraphDriver) {
    driver.create("base", None).unwrap();
    apply(
        driver,
        "base",
        &tar_of(&[
            ("data/", None, 0o750),
            ("data/a.txt", Some(b"hello\n"), 0o644),
            ("data/sub/", None, 0o755),
            ("data/sub/b.txt", Some(b"bee\n"), 0o644),
            ("etcx/", None, 0o755),
            ("etcx/c.conf", Some(b"c=1\n"), 0o644),
            ("empty/", None, 0o755),
            ("tmp/", None, 0o1777),
        ]),
    );
    driver.create("top", Some("base")).unwrap();
    apply(
        driver,
        "top",
        &tar_of(&[
            ("data/sub/.wh.b.txt", Some(b""), 0o600),
            ("etcx/.wh..wh..opq", Some(b""), 0o755),
            ("etcx/n.conf", Some(b"new\n"), 0o644),
        ]),
    );
    driver.create("ctr", Some("top")).unwrap();
}

fn run_suite(kind: DriverKind) {
    let t = tempfile::tempdir().unwrap();
    let driver = kind.open(t.path()).unwrap();
    let d = driver.as_ref();
    stack(d);

    // The read-only view of the image.
    {
        let (root, guards) = mount(d, "top", false);
        assert_eq!(std::fs::read(root.join("data/a.txt")).unwrap(), b"hello\n");
        assert!(
            !root.join("data/sub/b.txt").exists(),
            "whiteout hides the lower file"
        );
        let mut etcx: Vec<_> = std::fs::read_dir(root.join("etcx"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        etcx.sort();
        assert_eq!(
            etcx,
            ["n.conf"],
            "opaque dir hides lower children; markers never show"
        );
        drop(guards);
    }

    // Spec §1.5's example, through the container's writable mount.
    {
        let (root, guards) = mount(d, "ctr", true);
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("data/a.txt"))
            .unwrap()
            .write_all(b"more\n")
            .unwrap();
        std::fs::remove_file(root.join("etcx/n.conf")).unwrap();
        std::fs::remove_dir(root.join("etcx")).unwrap();
        std::fs::create_dir(root.join("etcx")).unwrap();
        std::fs::write(root.join("etcx/x.conf"), b"x\n").unwrap();
        std::fs::write(root.join("newfile"), b"x\n").unwrap();
        std::fs::create_dir(root.join("newdir")).unwrap();
        std::fs::write(root.join("newdir/f"), b"").unwrap();
        std::fs::remove_dir(root.join("empty")).unwrap();
        std::fs::set_permissions(
            root.join("tmp"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        for g in guards {
            g.unmount().unwrap();
        }
    }
    // Image layers are untouched by the container's writes.
    {
        let (root, guards) = mount(d, "top", false);
        assert_eq!(std::fs::read(root.join("data/a.txt")).unwrap(), b"hello\n");
        assert!(root.join("empty").is_dir());
        drop(guards);
    }

    let changes = d.changes("ctr", Some("top")).unwrap();
    let got: Vec<String> = changes
        .iter()
        .map(|c| {
            let k = match c.kind {
                ChangeKind::Added => 'A',
                ChangeKind::Modified => 'C',
                ChangeKind::Deleted => 'D',
            };
            format!("{k} {}", c.path)
        })
        .collect();
    let mut want = vec![
        "C /data",
        "C /data/a.txt",
        "D /empty",
        "C /etcx",
        "D /etcx/n.conf",
        "A /etcx/x.conf",
        "A /newdir",
        "A /newdir/f",
        "A /newfile",
        "C /tmp",
    ];
    want.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want, "{}: {got:?}", d.name());

    // The diff as a layer tar re-creates the container's view on a copy of the image.
    let mut tarbuf = Vec::new();
    d.write_diff("ctr", Some("top"), &mut tarbuf).unwrap();
    let names: Vec<String> = tar::Archive::new(&tarbuf[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n == "empty/.wh..wh..opq" || n == ".wh.empty"),
        "{names:?}"
    );
    d.create("replay", Some("top")).unwrap();
    apply(d, "replay", &tarbuf);
    {
        let (root, guards) = mount(d, "replay", false);
        assert_eq!(
            std::fs::read(root.join("data/a.txt")).unwrap(),
            b"hello\nmore\n"
        );
        assert!(!root.join("empty").exists());
        let mut etcx: Vec<_> = std::fs::read_dir(root.join("etcx"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        etcx.sort();
        assert_eq!(etcx, ["x.conf"]);
        assert!(root.join("newdir/f").exists());
        drop(guards);
    }
    assert!(d.diff_size("ctr", Some("top")).unwrap() >= 11);
    // Both drivers split the writable layer alike, and the split adds up to its size.
    let written = d.written("ctr", Some("top")).unwrap();
    assert_eq!(written.bytes, d.diff_size("ctr", Some("top")).unwrap());
    let rows: Vec<(&str, u64)> = written
        .dirs
        .iter()
        .map(|r| (r.path.as_str(), r.bytes))
        .collect();
    assert_eq!(
        rows,
        [("/", 2), ("/data", 11), ("/etcx", 2), ("/newdir", 0)],
        "{}",
        d.name()
    );

    // Removed to a trash directory: gone from the driver at once, deleted with the trash.
    let trash = t.path().join("trash");
    std::fs::create_dir(&trash).unwrap();
    for id in ["replay", "ctr"] {
        let moved = d.remove_to(id, &trash.join(id)).unwrap();
        assert!(d.rootfs(id, true).is_err(), "{} still has {id}", d.name());
        assert!(
            trash.join(id).is_dir(),
            "{}: {id} not in the trash",
            d.name()
        );
        // What it returns is everything it moved: all of it is in the trash.
        assert!(moved.contains(&trash.join(id)), "{}: {moved:?}", d.name());
        let mut listed: Vec<_> = std::fs::read_dir(&trash)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_stem() == Some(std::ffi::OsStr::new(id)))
            .collect();
        listed.sort();
        let mut moved = moved;
        moved.sort();
        assert_eq!(listed, moved, "{}", d.name());
    }
    d.remove_to("ctr", &trash.join("again")).unwrap();
    crate::fsutil::remove_tree(&trash).unwrap();
    for id in ["top", "base"] {
        d.remove(id).unwrap();
    }
    let left: Vec<_> = std::fs::read_dir(t.path().join("layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "l")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    if kind == DriverKind::Overlay {
        assert_eq!(
            std::fs::read_dir(t.path().join("layers/l"))
                .unwrap()
                .count(),
            0
        );
    }
    // Removing what is already gone is not an error (crash recovery relies on it).
    d.remove("base").unwrap();
}

#[test]
#[ignore = "needs root"]
fn overlay_passes_the_suite() {
    run_suite(DriverKind::Overlay);
}

#[test]
#[ignore = "needs root"]
fn vfs_passes_the_suite() {
    run_suite(DriverKind::Vfs);
}

/// 120 layers: the mount data would not fit in a page with absolute paths; short links do.
#[test]
#[ignore = "needs root"]
fn overlay_mounts_a_120_layer_image() {
    let t = tempfile::tempdir().unwrap();
    // A long root path makes absolute mount data hopeless.
    let root = t
        .path()
        .join("a-rather-long-directory-name-to-make-every-path-longer".repeat(2));
    let driver = DriverKind::Overlay.open(&root).unwrap();
    let d = driver.as_ref();
    let mut parent: Option<String> = None;
    for i in 0..120 {
        let id = format!("{:064x}", i);
        d.create(&id, parent.as_deref()).unwrap();
        let name = format!("f{i}");
        apply(d, &id, &tar_of(&[(&name, Some(name.as_bytes()), 0o644)]));
        parent = Some(id);
    }
    let top = parent.unwrap();
    d.create("ctr", Some(&top)).unwrap();
    let rootfs = d.rootfs("ctr", true).unwrap();
    assert!(
        rootfs.mounts[0].cwd.is_some(),
        "relative lower dirs are used"
    );
    assert!(rootfs.mounts[0].options.join(",").len() < 4096);
    let (path, guards) = mount(d, "ctr", true);
    for i in [0, 59, 119] {
        assert_eq!(
            std::fs::read(path.join(format!("f{i}"))).unwrap(),
            format!("f{i}").as_bytes()
        );
    }
    drop(guards);
}

/// Every tar of the hostile corpus, applied through each driver onto a layer whose parent
/// holds symlinks pointing out of the tree, leaves everything outside the layer dir unchanged.
fn hostile_under(kind: DriverKind) {
    for h in hostile_corpus() {
        let t = tempfile::tempdir().unwrap();
        let driver = kind.open(t.path()).unwrap();
        let d = driver.as_ref();
        d.create("parent", None).unwrap();
        let pdir = d.apply_dir("parent");
        std::os::unix::fs::symlink("/", pdir.join("rootlink")).unwrap();
        std::os::unix::fs::symlink("../../..", pdir.join("uplink")).unwrap();
        d.create("layer", Some("parent")).unwrap();
        let layer_dir = d.apply_dir("layer");
        let sandbox = Sandbox::around(&layer_dir).unwrap();
        let opts = ApplyOptions {
            no_overwrite_dir_non_dir: false,
            skip_devices: false,
            whiteouts: d.whiteout_mode(),
            root_metadata: false,
            owner: None,
        };
        let _ = apply_tar(&h.tar[..], &layer_dir, &opts);
        if let Err(diff) = sandbox.check() {
            panic!(
                "{} under {}: changed outside the layer:\n{diff}",
                h.name,
                d.name()
            );
        }
        assert!(!Path::new("/berth-hostile-escape").exists());
    }
}

#[test]
fn hostile_corpus_stays_inside_overlay_layers() {
    hostile_under(DriverKind::Overlay);
}

#[test]
fn hostile_corpus_stays_inside_vfs_layers() {
    hostile_under(DriverKind::Vfs);
}
