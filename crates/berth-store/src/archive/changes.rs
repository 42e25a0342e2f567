//! [`overlay_changes`] reads `docker diff` off an overlay upper dir and its lower stack;
//! [`naive_changes`] compares two full trees (vfs). Both walk by directory fd, never follow a
//! symlink, and return changes sorted by path.
//!
//! The rules (spec §1.5): a deleted tree is one `D`; an ancestor of a change is `C` when it
//! existed below, `A` when it is new, as are all its contents; an opaque directory is `C` plus a
//! `D` for every lower child it hides and an `A` for every child of its own. A directory that
//! existed below counts as changed by itself only when its type, mode, owner or xattrs differ:
//! like Docker's naive diff, directory sizes and mtimes are not a measure of change (creating and
//! deleting a file in `/tmp` leaves no trace in the diff).

use std::collections::{BTreeSet, HashSet};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::Stat;
use rustix::io::Errno;

use super::apply::is_whiteout;
use super::safe::{lstat_at, open_subdir, read_entries, read_names, DIR_FLAGS};
use super::xattr::{self, OVERLAY_OPAQUE};
use super::{ArchiveError, Change, ChangeKind};

fn is_dir(st: &Stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

fn err(path: &str, e: impl Into<std::io::Error>) -> ArchiveError {
    ArchiveError::io(if path.is_empty() { "/" } else { path }, e)
}

/// Appends `/name` to `path` (returns the previous length to truncate back to).
fn push(path: &mut String, name: &[u8]) -> usize {
    let len = path.len();
    path.push('/');
    path.push_str(&String::from_utf8_lossy(name));
    len
}

fn record(out: &mut Vec<Change>, path: &str, kind: ChangeKind) {
    out.push(Change {
        path: path.to_string(),
        kind,
    });
}

fn finish(mut out: Vec<Change>) -> Vec<Change> {
    out.sort();
    out.dedup();
    out
}

fn open_root(p: &Path) -> Result<OwnedFd, ArchiveError> {
    rustix::fs::open(p, DIR_FLAGS, rustix::fs::Mode::empty())
        .map_err(|e| ArchiveError::io(p.display().to_string(), e))
}

/// Reports `A` for everything below `dir` (whose path is `path`); with `upper`, overlay
/// whiteouts are not entries.
fn add_all(
    dir: BorrowedFd<'_>,
    path: &mut String,
    upper: bool,
    out: &mut Vec<Change>,
) -> Result<(), ArchiveError> {
    for (name, st) in read_entries(dir).map_err(|e| err(path, e))? {
        if upper && is_whiteout(&st) {
            continue;
        }
        let len = push(path, &name);
        record(out, path, ChangeKind::Added);
        if is_dir(&st) {
            match open_subdir(dir, &name) {
                Ok(fd) => add_all(fd.as_fd(), path, upper, out)?,
                Err(Errno::NOENT) | Err(Errno::NOTDIR) | Err(Errno::LOOP) => {}
                Err(e) => return Err(err(path, e)),
            }
        }
        path.truncate(len);
    }
    Ok(())
}

/// Whether a directory that existed below changed by itself: type and permission bits, owner
/// or xattrs (overlay's private ones excluded). Sizes and mtimes of directories are ignored.
fn dir_differs(
    a: &Stat,
    afd: BorrowedFd<'_>,
    b: &Stat,
    bfd: BorrowedFd<'_>,
) -> std::io::Result<bool> {
    if a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid {
        return Ok(true);
    }
    Ok(xattr::fd_list(afd)? != xattr::fd_list(bfd)?)
}

/// Times equal to the second when either side has no nanoseconds (tar keeps whole seconds).
fn same_time(a_s: i64, a_ns: u64, b_s: i64, b_ns: u64) -> bool {
    a_s == b_s && (a_ns == b_ns || a_ns == 0 || b_ns == 0)
}

/// The lower layers' view of one name: the stat of the visible entry and, when it is a
/// directory, the directories of that name that merge into it (top-most first).
struct Below {
    top: Option<Stat>,
    dirs: Vec<OwnedFd>,
}

/// Looks `name` up in the merged lower directories `ctx` (top-most first) the way overlayfs
/// does: a whiteout hides it and everything further down, an opaque directory stops the merge,
/// a non-directory under a directory of the same name is hidden.
fn lookup(ctx: &[OwnedFd], name: &[u8]) -> std::io::Result<Below> {
    let mut below = Below {
        top: None,
        dirs: Vec::new(),
    };
    for fd in ctx {
        let st = match lstat_at(fd.as_fd(), name) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        if is_whiteout(&st) {
            break;
        }
        if !is_dir(&st) {
            if below.top.is_none() {
                below.top = Some(st);
            }
            break;
        }
        let d = open_subdir(fd.as_fd(), name)?;
        let opaque = xattr::fd_get(d.as_fd(), OVERLAY_OPAQUE)?.as_deref() == Some(b"y");
        if below.top.is_none() {
            below.top = Some(st);
        }
        below.dirs.push(d);
        if opaque {
            break;
        }
    }
    Ok(below)
}

/// Whether `name` is visible in the merged lower directories `ctx`.
fn visible(ctx: &[OwnedFd], name: &[u8]) -> std::io::Result<bool> {
    for fd in ctx {
        match lstat_at(fd.as_fd(), name) {
            Ok(st) => return Ok(!is_whiteout(&st)),
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

pub(crate) fn overlay_changes(
    upper: &Path,
    lowers: &[PathBuf],
) -> Result<Vec<Change>, ArchiveError> {
    let up = open_root(upper)?;
    let ctx = lowers
        .iter()
        .map(|l| open_root(l))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    upper_dir(up.as_fd(), &ctx, &mut String::new(), &mut out)?;
    Ok(finish(out))
}

/// Walks one upper directory against its lower counterparts `ctx`. Returns whether anything in
/// it changed.
fn upper_dir(
    dir: BorrowedFd<'_>,
    ctx: &[OwnedFd],
    path: &mut String,
    out: &mut Vec<Change>,
) -> Result<bool, ArchiveError> {
    let mut changed = false;
    for (name, st) in read_entries(dir).map_err(|e| err(path, e))? {
        let len = push(path, &name);
        if is_whiteout(&st) {
            record(out, path, ChangeKind::Deleted);
            changed = true;
            path.truncate(len);
            continue;
        }
        let below = lookup(ctx, &name).map_err(|e| err(path, e))?;
        if !is_dir(&st) {
            let kind = if below.top.is_some() {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            };
            record(out, path, kind);
            changed = true;
            path.truncate(len);
            continue;
        }
        let fd = match open_subdir(dir, &name) {
            Ok(fd) => fd,
            Err(Errno::NOENT) | Err(Errno::NOTDIR) | Err(Errno::LOOP) => {
                path.truncate(len);
                continue;
            }
            Err(e) => return Err(err(path, e)),
        };
        match below.top {
            None => {
                record(out, path, ChangeKind::Added);
                add_all(fd.as_fd(), path, true, out)?;
                changed = true;
            }
            Some(lst) if !is_dir(&lst) => {
                record(out, path, ChangeKind::Modified);
                add_all(fd.as_fd(), path, true, out)?;
                changed = true;
            }
            Some(lst) => {
                let opaque = xattr::fd_get(fd.as_fd(), OVERLAY_OPAQUE)
                    .map_err(|e| err(path, e))?
                    .as_deref()
                    == Some(b"y");
                if opaque {
                    record(out, path, ChangeKind::Modified);
                    changed = true;
                    let mine: HashSet<Vec<u8>> = read_entries(fd.as_fd())
                        .map_err(|e| err(path, e))?
                        .into_iter()
                        .filter(|(_, st)| !is_whiteout(st))
                        .map(|(n, _)| n)
                        .collect();
                    let mut hidden = BTreeSet::new();
                    for d in &below.dirs {
                        hidden.extend(read_names(d.as_fd()).map_err(|e| err(path, e))?);
                    }
                    for n in hidden {
                        if !mine.contains(&n)
                            && visible(&below.dirs, &n).map_err(|e| err(path, e))?
                        {
                            let l = push(path, &n);
                            record(out, path, ChangeKind::Deleted);
                            path.truncate(l);
                        }
                    }
                    add_all(fd.as_fd(), path, true, out)?;
                } else {
                    let sub = upper_dir(fd.as_fd(), &below.dirs, path, out)?;
                    let lower_fd = below.dirs.first().expect("a directory below").as_fd();
                    if sub
                        || dir_differs(&st, fd.as_fd(), &lst, lower_fd).map_err(|e| err(path, e))?
                    {
                        record(out, path, ChangeKind::Modified);
                        changed = true;
                    }
                }
            }
        }
        path.truncate(len);
    }
    Ok(changed)
}

pub(crate) fn naive_changes(old: Option<&Path>, new: &Path) -> Result<Vec<Change>, ArchiveError> {
    let newfd = open_root(new)?;
    let mut out = Vec::new();
    let mut path = String::new();
    match old {
        None => add_all(newfd.as_fd(), &mut path, false, &mut out)?,
        Some(old) => {
            let oldfd = open_root(old)?;
            diff_dirs(oldfd.as_fd(), newfd.as_fd(), &mut path, &mut out)?;
        }
    }
    Ok(finish(out))
}

/// Compares two directories entry by entry. Returns whether anything in them changed.
fn diff_dirs(
    old: BorrowedFd<'_>,
    new: BorrowedFd<'_>,
    path: &mut String,
    out: &mut Vec<Change>,
) -> Result<bool, ArchiveError> {
    let olds = read_entries(old).map_err(|e| err(path, e))?;
    let news = read_entries(new).map_err(|e| err(path, e))?;
    let mut changed = false;
    let (mut i, mut j) = (0, 0);
    while i < olds.len() || j < news.len() {
        let ord = match (olds.get(i), news.get(j)) {
            (Some(o), Some(n)) => o.0.cmp(&n.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                let len = push(path, &olds[i].0);
                record(out, path, ChangeKind::Deleted);
                path.truncate(len);
                changed = true;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let (name, st) = &news[j];
                let len = push(path, name);
                record(out, path, ChangeKind::Added);
                if is_dir(st) {
                    add_subdir(new, name, path, out)?;
                }
                path.truncate(len);
                changed = true;
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (name, o) = &olds[i];
                let n = &news[j].1;
                let len = push(path, name);
                changed |= diff_entry(old, new, name, o, n, path, out)?;
                path.truncate(len);
                i += 1;
                j += 1;
            }
        }
    }
    Ok(changed)
}

fn add_subdir(
    dir: BorrowedFd<'_>,
    name: &[u8],
    path: &mut String,
    out: &mut Vec<Change>,
) -> Result<(), ArchiveError> {
    match open_subdir(dir, name) {
        Ok(fd) => add_all(fd.as_fd(), path, false, out),
        Err(Errno::NOENT) | Err(Errno::NOTDIR) | Err(Errno::LOOP) => Ok(()),
        Err(e) => Err(err(path, e)),
    }
}

/// Compares one name present in both trees. Returns whether it (or anything below it) changed.
fn diff_entry(
    old: BorrowedFd<'_>,
    new: BorrowedFd<'_>,
    name: &[u8],
    o: &Stat,
    n: &Stat,
    path: &mut String,
    out: &mut Vec<Change>,
) -> Result<bool, ArchiveError> {
    if o.st_dev == n.st_dev && o.st_ino == n.st_ino {
        // The very same inode (a hardlinked copy): nothing can differ.
        return Ok(false);
    }
    if is_dir(o) && is_dir(n) {
        let (ofd, nfd) = match (open_subdir(old, name), open_subdir(new, name)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Err(err(path, e)),
        };
        let sub = diff_dirs(ofd.as_fd(), nfd.as_fd(), path, out)?;
        if sub || dir_differs(o, ofd.as_fd(), n, nfd.as_fd()).map_err(|e| err(path, e))? {
            record(out, path, ChangeKind::Modified);
            return Ok(true);
        }
        return Ok(false);
    }
    if !entry_differs(old, new, name, o, n).map_err(|e| err(path, e))? {
        return Ok(false);
    }
    record(out, path, ChangeKind::Modified);
    if is_dir(n) {
        // A non-directory became a directory: everything in it is new.
        add_subdir(new, name, path, out)?;
    }
    Ok(true)
}

/// Whether a non-directory (or an entry that changed type) differs: type, mode, owner, device
/// number, size, mtime, symlink target, xattrs.
fn entry_differs(
    old: BorrowedFd<'_>,
    new: BorrowedFd<'_>,
    name: &[u8],
    o: &Stat,
    n: &Stat,
) -> std::io::Result<bool> {
    if o.st_mode != n.st_mode
        || o.st_uid != n.st_uid
        || o.st_gid != n.st_gid
        || o.st_rdev != n.st_rdev
        || o.st_size != n.st_size
        || !same_time(o.st_mtime, o.st_mtime_nsec, n.st_mtime, n.st_mtime_nsec)
    {
        return Ok(true);
    }
    if o.st_mode & libc::S_IFMT == libc::S_IFLNK {
        let a = rustix::fs::readlinkat(old, name, Vec::new())?;
        let b = rustix::fs::readlinkat(new, name, Vec::new())?;
        if a != b {
            return Ok(true);
        }
    }
    Ok(xattr::at_list(old, name)? != xattr::at_list(new, name)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn lines(c: &[Change]) -> Vec<String> {
        c.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn naive_diff_of_nothing_is_everything_added() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("a/b")).unwrap();
        fs::write(t.path().join("a/b/f"), b"x").unwrap();
        symlink("a", t.path().join("l")).unwrap();
        let c = naive_changes(None, t.path()).unwrap();
        assert_eq!(lines(&c), ["A /a", "A /a/b", "A /a/b/f", "A /l"]);
    }

    #[test]
    fn naive_diff_ignores_directory_mtime_but_not_mode() {
        let t = tempfile::tempdir().unwrap();
        let (old, new) = (t.path().join("old"), t.path().join("new"));
        for d in [&old, &new] {
            fs::create_dir_all(d.join("tmp")).unwrap();
            fs::create_dir_all(d.join("etc")).unwrap();
            fs::write(d.join("etc/f"), b"same").unwrap();
            fs::create_dir_all(d.join("gone/deep")).unwrap();
            symlink("x", d.join("etc/link")).unwrap();
        }
        // Make mtimes identical where they should be.
        let stamp = |p: &Path| {
            let f = fs::File::open(p).unwrap();
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
                .unwrap();
        };
        stamp(&old.join("etc/f"));
        stamp(&new.join("etc/f"));
        // Same-length symlink target change with identical mtimes is still seen.
        fs::remove_file(new.join("etc/link")).unwrap();
        symlink("y", new.join("etc/link")).unwrap();
        for d in [&old, &new] {
            rustix::fs::utimensat(
                rustix::fs::CWD,
                d.join("etc/link").as_path(),
                &rustix::fs::Timestamps {
                    last_access: rustix::fs::Timespec {
                        tv_sec: 5,
                        tv_nsec: 0,
                    },
                    last_modification: rustix::fs::Timespec {
                        tv_sec: 5,
                        tv_nsec: 0,
                    },
                },
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .unwrap();
        }
        // Create and delete a file: /tmp's mtime changes, which is not a change.
        fs::write(new.join("tmp/x"), b"x").unwrap();
        fs::remove_file(new.join("tmp/x")).unwrap();
        fs::set_permissions(new.join("etc"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::remove_dir_all(new.join("gone")).unwrap();
        let c = naive_changes(Some(&old), &new).unwrap();
        assert_eq!(lines(&c), ["C /etc", "C /etc/link", "D /gone"]);
    }
}
