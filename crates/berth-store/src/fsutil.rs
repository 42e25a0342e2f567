//! Filesystem helpers the stores share: [`random_hex`] IDs, [`write_durable`] (temp file, fsync,
//! rename, fsync of the directory), [`tree_size`] with Docker's `du` rules, and [`copy_tree`], the
//! metadata-preserving copy behind the vfs driver and `volume clone`, and [`open_in_root`] /
//! [`openat2`], the one way berth opens a path inside a container's root (or beneath a directory).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{AtFlags, Mode, Timespec, Timestamps, CWD};

/// `n` random bytes as lower-case hex (64 hex characters for `n = 32`, like Docker's IDs).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the kernel's random source is available");
    hex::encode(buf)
}

/// A new 64-hex-character ID whose 12-character short form is not all decimal digits, as
/// Docker's: a container's hostname is its short ID, and a resolver takes an all-digit name for
/// an address and never looks it up (busybox's `hostname -i` failed with "Unknown host" for
/// about one container in 280).
pub fn random_id() -> String {
    loop {
        let id = random_hex(32);
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return id;
        }
    }
}

/// Writes `data` to `path` so that a crash leaves either the old file or the new one, never a
/// torn one: temp file in the same directory, fsync, rename over, fsync the directory.
pub fn write_durable(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        random_hex(6)
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// How many times [`openat2`] asks again when the kernel could not vouch for a `..` step.
const OPENAT2_TRIES: usize = 1000;

/// `openat2(2)` that retries the kernel's `EAGAIN` (and `EINTR`) a bounded number of times.
///
/// With `RESOLVE_IN_ROOT` or `RESOLVE_BENEATH`, a path with a `..` component fails with `EAGAIN`
/// whenever a rename or a mount happened anywhere on the system during the lookup: the kernel
/// cannot prove the `..` stayed inside. On a busy host (containers starting, `cp` mounting a
/// stopped container's root) that is common; the call is meant to be retried. The bound keeps
/// a host under constant mount churn from spinning a caller forever.
pub fn openat2<Fd: rustix::fd::AsFd, P: rustix::path::Arg + Copy>(
    dir: Fd,
    path: P,
    flags: rustix::fs::OFlags,
    mode: rustix::fs::Mode,
    resolve: rustix::fs::ResolveFlags,
) -> rustix::io::Result<rustix::fd::OwnedFd> {
    use rustix::io::Errno;
    let mut last = Errno::AGAIN;
    for _ in 0..OPENAT2_TRIES {
        match rustix::fs::openat2(&dir, path, flags, mode, resolve) {
            Err(e @ (Errno::AGAIN | Errno::INTR)) => last = e,
            r => return r,
        }
    }
    Err(last)
}

/// Opens `path` as seen from inside `root` (a container's root filesystem): symlinks and `..`
/// resolve inside it (`RESOLVE_IN_ROOT`, so `/w -> /etc` lands in the root's `/etc`), procfs
/// magic links are refused, a leading `/` is optional and an empty path is the root itself.
/// `O_CLOEXEC` is always added.
pub fn open_in_root<Fd: rustix::fd::AsFd>(
    root: Fd,
    path: impl AsRef<Path>,
    flags: rustix::fs::OFlags,
) -> rustix::io::Result<rustix::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let path = path.as_ref();
    let rel = path.strip_prefix("/").unwrap_or(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    openat2(
        root,
        rel,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// fsyncs a directory so that renames and creations inside it are durable.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Recursive size of a tree the way Docker's `du` counts it: regular files and symlinks by their
/// size, each inode once (hardlinks), directories not at all. Symlinks are never followed (but
/// `path` itself may be one). Entries that vanish during the walk are skipped.
///
/// Written over `openat`/`fstatat` by hand rather than with `walkdir`, which builds every
/// entry's full path and `lstat`s it from the root: `system df -v` walks every file of every
/// volume, and those paths were 1,800 instructions and a full path lookup per file.
pub fn tree_size(path: &Path) -> io::Result<u64> {
    use rustix::fs::{Mode, OFlags};
    let mut seen = HashSet::new();
    let mut size = 0u64;
    match rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(dir) => {
            let mut at = path.to_path_buf();
            dir_size(dir, &mut at, 0, &mut seen, &mut size)?;
        }
        Err(rustix::io::Errno::NOENT) => {}
        // Not a directory: walkdir's rules for a single entry.
        Err(_) => walk_size(path, &mut seen, &mut size)?,
    }
    Ok(size)
}

/// Directories deeper than this are walked by path ([`walk_size`]), so a deep tree does not
/// hold one descriptor per level.
const OPEN_DEPTH: usize = 32;

/// Bytes of directory entries [`dir_size`] reads per `getdents64` (one buffer per level open).
const DIR_BUF: usize = 16 << 10;

/// Adds the sizes below the open directory `dir` (at `path`, used only below [`OPEN_DEPTH`]).
fn dir_size(
    dir: std::os::fd::OwnedFd,
    path: &mut std::path::PathBuf,
    depth: usize,
    seen: &mut HashSet<(u64, u64)>,
    size: &mut u64,
) -> io::Result<()> {
    use rustix::fs::{FileType, Mode, OFlags};
    use rustix::io::Errno;
    use std::os::fd::AsFd;
    use std::os::unix::ffi::OsStrExt;
    // One `getdents64` reads a volume's directory of 100 files whole (about 3.3 KB), and a
    // second finds the end: `rustix::fs::Dir` starts at 768 bytes and grows, four calls for it.
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); DIR_BUF];
    let fd = dir.as_fd();
    let mut entries = rustix::fs::RawDir::new(fd, &mut buf);
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            // Removed while it was read (as `Dir` treats it): nothing more below it.
            Err(Errno::NOENT) => break,
            Err(e) => return Err(e.into()),
        };
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let mut kind = entry.file_type();
        let mut stat = None;
        if kind == FileType::Unknown {
            match rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => {
                    kind = FileType::from_raw_mode(st.st_mode);
                    stat = Some(st);
                }
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if kind == FileType::Directory {
            path.push(std::ffi::OsStr::from_bytes(name.to_bytes()));
            let r = if depth + 1 >= OPEN_DEPTH {
                walk_size(path, seen, size)
            } else {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                match rustix::fs::openat(fd, name, flags, Mode::empty()) {
                    Ok(sub) => dir_size(sub, path, depth + 1, seen, size),
                    // Gone, or replaced by a non-directory since it was read: skipped.
                    Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            };
            path.pop();
            r?;
            continue;
        }
        let st = match stat {
            Some(st) => st,
            None => match rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            },
        };
        let len = st.st_size as u64;
        // Only hard-linked inodes can be met twice: the set stays as small as the links are
        // many, not the files.
        if len == 0 || (st.st_nlink > 1 && !seen.insert((st.st_dev as u64, st.st_ino as u64))) {
            continue;
        }
        *size += len;
    }
    Ok(())
}

/// [`tree_size`]'s rules by path, with `walkdir` (a non-directory root, deep subtrees).
fn walk_size(path: &Path, seen: &mut HashSet<(u64, u64)>, size: &mut u64) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(path).follow_links(false) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.io_error().map(|e| e.kind()) == Some(io::ErrorKind::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let md = entry.metadata()?;
        if md.len() == 0 || (md.nlink() > 1 && !seen.insert((md.dev(), md.ino()))) {
            continue;
        }
        *size += md.len();
    }
    Ok(())
}

/// Removes a tree if it exists (a missing tree is not an error).
pub fn remove_tree(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Moves `path` (a file or a tree) to `to`, a new path on the same file system, so that it is
/// gone from where it was at the cost of a rename, not of deleting each file (on a file system
/// mounted with `discard`, every freed block waits for the device); where the rename fails (`to`
/// on another file system, say) `path` is removed at once. A missing `path` is not an error.
pub fn move_or_remove_tree(path: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(path, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(_) => remove_tree(path),
    }
}

/// Copies the tree `src` into the new directory `dst` keeping everything a layer can hold: file
/// types (incl. devices and fifos), owners, modes, xattrs, hardlinks and times. Regular files are
/// reflinked where the filesystem can share extents, copied otherwise.
///
/// Written by hand because no maintained crate preserves owners, xattrs, devices and hardlinks
/// together; this is the core of the vfs driver and of `volume clone`.
pub fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    let mut links: std::collections::HashMap<(u64, u64), std::path::PathBuf> = Default::default();
    let mut dirs = Vec::new();
    for entry in walkdir::WalkDir::new(src).follow_links(false) {
        let entry = entry.map_err(io::Error::from)?;
        let rel = entry
            .path()
            .strip_prefix(src)
            .expect("walkdir yields paths under its root");
        let target = dst.join(rel);
        let md = entry.metadata().map_err(io::Error::from)?;
        let ft = md.file_type();
        if ft.is_dir() {
            if rel.as_os_str().is_empty() {
                match fs::create_dir(&target) {
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    r => r?,
                }
            } else {
                fs::create_dir(&target)?;
            }
            dirs.push((entry.path().to_path_buf(), target, md));
            continue;
        }
        if md.nlink() > 1 {
            if let Some(first) = links.get(&(md.dev(), md.ino())) {
                fs::hard_link(first, &target)?;
                continue;
            }
            links.insert((md.dev(), md.ino()), target.clone());
        }
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else if ft.is_file() {
            copy_file(entry.path(), &target)?;
        } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() || ft.is_socket() {
            let kind = rustix::fs::FileType::from_raw_mode(md.mode());
            rustix::fs::mknodat(
                CWD,
                &target,
                kind,
                Mode::from_raw_mode(md.mode() & 0o7777),
                md.rdev(),
            )?;
        }
        copy_metadata(entry.path(), &target, &md)?;
    }
    // Directory times last: creating children changed them.
    for (from, to, md) in dirs.into_iter().rev() {
        copy_metadata(&from, &to, &md)?;
    }
    Ok(())
}

fn copy_file(src: &Path, dst: &Path) -> io::Result<()> {
    let mut from = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(src)?;
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dst)?;
    // FICLONE shares extents on btrfs/xfs; elsewhere fall back to a kernel-side copy.
    if rustix::fs::ioctl_ficlone(&to, &from).is_err() {
        io::copy(&mut from, &mut to)?;
    }
    Ok(())
}

/// Copies owner, mode, xattrs and times of `from` (described by `md`) onto `to`.
fn copy_metadata(from: &Path, to: &Path, md: &fs::Metadata) -> io::Result<()> {
    copy_xattrs(from, to)?;
    copy_metadata_from_md(to, md)
}

fn copy_metadata_from_md(to: &Path, md: &fs::Metadata) -> io::Result<()> {
    rustix::fs::chownat(
        CWD,
        to,
        Some(rustix::fs::Uid::from_raw(md.uid())),
        Some(rustix::fs::Gid::from_raw(md.gid())),
        AtFlags::SYMLINK_NOFOLLOW,
    )?;
    if !md.file_type().is_symlink() {
        fs::set_permissions(to, fs::Permissions::from_mode(md.mode() & 0o7777))?;
    }
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: md.atime(),
            tv_nsec: md.atime_nsec() as _,
        },
        last_modification: Timespec {
            tv_sec: md.mtime(),
            tv_nsec: md.mtime_nsec() as _,
        },
    };
    rustix::fs::utimensat(CWD, to, &times, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(())
}

fn copy_xattrs(from: &Path, to: &Path) -> io::Result<()> {
    let mut names = vec![0u8; 4096];
    let n = match rustix::fs::llistxattr(from, &mut names) {
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name);
        let mut value = vec![0u8; 65536];
        let len = rustix::fs::lgetxattr(from, name, &mut value)?;
        rustix::fs::lsetxattr(to, name, &value[..len], rustix::fs::XattrFlags::empty())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One short ID in about 280 would be all digits (10/16 to the 12th): 10,000 IDs hold ~36
    /// of them unless they are drawn again.
    #[test]
    fn new_ids_never_have_an_all_digit_short_form() {
        for _ in 0..10_000 {
            let id = random_id();
            assert_eq!(id.len(), 64);
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            assert!(!id[..12].bytes().all(|b| b.is_ascii_digit()), "{id}");
        }
    }

    /// Links resolve inside the root whatever they say: an absolute one, one that climbs past
    /// the top, and a chain of both.
    #[test]
    fn open_in_root_keeps_links_inside_the_root() {
        use rustix::fs::OFlags;
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("etc/marker"), b"inside").unwrap();
        std::os::unix::fs::symlink("/", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../../..", root.join("up")).unwrap();
        std::os::unix::fs::symlink("/up/etc", root.join("chain")).unwrap();
        let fd = File::open(&root).unwrap();
        for path in [
            "/etc/marker",
            "abs/etc/marker",
            "/up/etc/marker",
            "chain/marker",
        ] {
            let f = open_in_root(&fd, path, OFlags::RDONLY).unwrap();
            assert_eq!(
                io::read_to_string(File::from(f)).unwrap(),
                "inside",
                "{path}"
            );
        }
        assert!(open_in_root(&fd, "", OFlags::RDONLY | OFlags::DIRECTORY).is_ok());
        let proc = File::open("/proc").unwrap();
        assert!(
            open_in_root(&proc, "self/cwd", OFlags::PATH).is_err(),
            "a magic link"
        );
    }

    /// A `..` lookup that races renames elsewhere on the host still opens: the kernel's EAGAIN
    /// is retried (the bare syscall failed here within a few thousand lookups).
    #[test]
    fn open_in_root_survives_renames_racing_a_dotdot_lookup() {
        use rustix::fs::OFlags;
        use std::sync::atomic::{AtomicBool, Ordering};
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("marker"), b"x").unwrap();
        std::os::unix::fs::symlink("../../..", root.join("a/b/up")).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let churn = {
            let (stop, dir) = (stop.clone(), t.path().to_path_buf());
            std::thread::spawn(move || {
                let (x, y) = (dir.join("x"), dir.join("y"));
                fs::write(&x, b"").unwrap();
                while !stop.load(Ordering::Relaxed) {
                    fs::rename(&x, &y).unwrap();
                    fs::rename(&y, &x).unwrap();
                }
            })
        };
        let fd = File::open(&root).unwrap();
        let failures = (0..20_000)
            .filter(|_| open_in_root(&fd, "a/b/up/marker", OFlags::PATH).is_err())
            .count();
        stop.store(true, Ordering::Relaxed);
        churn.join().unwrap();
        assert_eq!(failures, 0);
    }

    #[test]
    fn tree_size_counts_files_once_and_ignores_dirs() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("d")).unwrap();
        fs::write(t.path().join("d/a"), vec![0u8; 102_400]).unwrap();
        fs::hard_link(t.path().join("d/a"), t.path().join("b")).unwrap();
        fs::write(t.path().join("c"), b"hello\n").unwrap();
        assert_eq!(tree_size(t.path()).unwrap(), 102_406);
    }

    /// The descriptor walk counts what the path walk counts: symlinks by their own size (never
    /// followed, but a symlinked root is), hardlinks across levels once, empty files and
    /// directories not at all, and a tree deeper than the descriptor depth.
    #[test]
    fn tree_size_agrees_with_the_path_walk() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let mut deep = root.clone();
        for i in 0..(OPEN_DEPTH + 8) {
            deep.push(format!("d{i}"));
            fs::create_dir_all(&deep).unwrap();
            fs::write(deep.join("f"), vec![1u8; i + 1]).unwrap();
            fs::write(deep.join("empty"), b"").unwrap();
        }
        fs::write(root.join("big"), vec![0u8; 70_000]).unwrap();
        fs::hard_link(root.join("big"), deep.join("big-link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("sym")).unwrap();
        std::os::unix::fs::symlink(&root, t.path().join("via-link")).unwrap();
        let by_path = |p: &Path| {
            let (mut seen, mut size) = (HashSet::new(), 0);
            walk_size(p, &mut seen, &mut size).unwrap();
            size
        };
        let want = by_path(&root);
        let files: u64 = (1..=(OPEN_DEPTH as u64 + 8)).sum();
        assert_eq!(want, files + 70_000 + "/etc/passwd".len() as u64);
        assert_eq!(tree_size(&root).unwrap(), want);
        assert_eq!(tree_size(&t.path().join("via-link")).unwrap(), want);
        assert_eq!(tree_size(&root.join("big")).unwrap(), 70_000);
        assert_eq!(tree_size(&root.join("missing")).unwrap(), 0);
    }

    #[test]
    fn write_durable_replaces_whole_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f.json");
        write_durable(&p, b"one", 0o600).unwrap();
        write_durable(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(t.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    #[ignore = "needs root"]
    fn copy_tree_keeps_metadata_links_and_devices() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("sub/f"), b"data").unwrap();
        rustix::fs::chownat(
            CWD,
            src.join("sub/f"),
            Some(rustix::fs::Uid::from_raw(1000)),
            Some(rustix::fs::Gid::from_raw(2000)),
            AtFlags::empty(),
        )
        .unwrap();
        // chmod after chown: chown clears the setuid bit.
        fs::set_permissions(src.join("sub/f"), fs::Permissions::from_mode(0o4750)).unwrap();
        fs::hard_link(src.join("sub/f"), src.join("hl")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
        rustix::fs::mknodat(
            CWD,
            src.join("fifo"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        rustix::fs::lsetxattr(
            src.join("sub"),
            "user.k",
            b"v",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let dst = t.path().join("dst");
        copy_tree(&src, &dst).unwrap();
        let f = fs::metadata(dst.join("sub/f")).unwrap();
        assert_eq!((f.uid(), f.gid(), f.mode() & 0o7777), (1000, 2000, 0o4750));
        assert_eq!(fs::read(dst.join("sub/f")).unwrap(), b"data");
        assert_eq!(fs::metadata(dst.join("hl")).unwrap().ino(), f.ino());
        assert_eq!(
            fs::read_link(dst.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert!(fs::symlink_metadata(dst.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        let mut v = [0u8; 8];
        let n = rustix::fs::lgetxattr(dst.join("sub"), "user.k", &mut v).unwrap();
        assert_eq!(&v[..n], b"v");
        assert_eq!(
            fs::metadata(dst.join("sub")).unwrap().mtime(),
            fs::metadata(src.join("sub")).unwrap().mtime()
        );
    }
}
