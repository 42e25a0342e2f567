//! [`Xattrs`] of files reached by fd or by (directory fd, name), never following a symlink.
//!
//! Regular files and directories are opened for real and use `f*xattr`. Symlinks, devices and
//! fifos cannot be opened without side effects, so they are opened with `O_PATH | O_NOFOLLOW` and
//! reached through `/proc/self/fd/N` (the kernel resolves that magic link to the very inode the fd
//! holds, the symlink itself included).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use rustix::fs::{Mode, OFlags, XattrFlags};
use rustix::io::Errno;

/// Extended attributes as (name, value) pairs, sorted by name.
pub(crate) type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// The xattr overlayfs sets on an opaque directory.
pub(crate) const OVERLAY_OPAQUE: &[u8] = b"trusted.overlay.opaque";

/// Overlay's private xattrs: never read from a tar, written into one or reported by a diff.
pub(crate) fn is_overlay_private(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

/// Calls `f` with a growing buffer until the value fits (`ERANGE` means it grew meanwhile).
fn fetch(mut f: impl FnMut(&mut [u8]) -> rustix::io::Result<usize>) -> rustix::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        match f(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(Errno::RANGE) => {
                let need = f(&mut [])?;
                let len = need.max(buf.len() * 2);
                buf.resize(len, 0);
            }
            Err(e) => return Err(e),
        }
    }
}

fn unsupported(e: Errno) -> bool {
    e == Errno::OPNOTSUPP || e == Errno::NOTSUP
}

/// Lists the xattrs (minus overlay's private ones) with `list` and `get` on one file.
fn collect(
    list: impl FnMut(&mut [u8]) -> rustix::io::Result<usize>,
    mut get: impl FnMut(&[u8], &mut [u8]) -> rustix::io::Result<usize>,
) -> io::Result<Xattrs> {
    let names = match fetch(list) {
        Ok(n) => n,
        Err(e) if unsupported(e) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if is_overlay_private(name) {
            continue;
        }
        match fetch(|buf| get(name, buf)) {
            Ok(value) => out.push((name.to_vec(), value)),
            // Removed between list and get.
            Err(Errno::NODATA) => {}
            Err(e) => return Err(e.into()),
        }
    }
    out.sort();
    Ok(out)
}

/// The xattrs of an open regular file or directory.
pub(crate) fn fd_list(fd: BorrowedFd<'_>) -> io::Result<Xattrs> {
    collect(
        |buf| rustix::fs::flistxattr(fd, buf),
        |name, buf| rustix::fs::fgetxattr(fd, name, buf),
    )
}

/// One xattr of an open regular file or directory, `None` when it is not set.
pub(crate) fn fd_get(fd: BorrowedFd<'_>, name: &[u8]) -> io::Result<Option<Vec<u8>>> {
    match fetch(|buf| rustix::fs::fgetxattr(fd, name, buf)) {
        Ok(v) => Ok(Some(v)),
        Err(Errno::NODATA) => Ok(None),
        Err(e) if unsupported(e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Sets one xattr on an open regular file or directory.
pub(crate) fn fd_set(fd: BorrowedFd<'_>, name: &[u8], value: &[u8]) -> io::Result<()> {
    rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty()).map_err(Into::into)
}

/// The `/proc/self/fd/N` path of an `O_PATH` fd opened on `name` in `dir` without following it.
fn proc_path(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<(std::os::fd::OwnedFd, String)> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let path = format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd());
    Ok((fd, path))
}

/// The xattrs of `name` in `dir` (any file type; a symlink is not followed).
pub(crate) fn at_list(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Xattrs> {
    let (_fd, path) = proc_path(dir, name)?;
    collect(
        |buf| rustix::fs::listxattr(path.as_str(), buf),
        |n, buf| rustix::fs::getxattr(path.as_str(), n, buf),
    )
}

/// Sets xattrs on `name` in `dir` (any file type; a symlink is not followed).
pub(crate) fn at_set_all(
    dir: BorrowedFd<'_>,
    name: &[u8],
    xattrs: &[(Vec<u8>, Vec<u8>)],
) -> io::Result<()> {
    if xattrs.is_empty() {
        return Ok(());
    }
    let (_fd, path) = proc_path(dir, name)?;
    for (n, v) in xattrs {
        tolerate(rustix::fs::setxattr(
            path.as_str(),
            n.as_slice(),
            v,
            XattrFlags::empty(),
        ))?;
    }
    Ok(())
}

/// Sets xattrs on an open regular file or directory.
pub(crate) fn fd_set_all(fd: BorrowedFd<'_>, xattrs: &[(Vec<u8>, Vec<u8>)]) -> io::Result<()> {
    for (n, v) in xattrs {
        tolerate(rustix::fs::fsetxattr(
            fd,
            n.as_slice(),
            v,
            XattrFlags::empty(),
        ))?;
    }
    Ok(())
}

/// Like Docker, a filesystem that cannot store an xattr (`ENOTSUP`, or `EPERM` for `user.*` on
/// a symlink or device) does not fail the layer.
fn tolerate(r: rustix::io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if unsupported(e) || e == Errno::PERM => Ok(()),
        r => r.map_err(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn dir_fd(p: &std::path::Path) -> std::os::fd::OwnedFd {
        rustix::fs::open(
            p,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap()
    }

    #[test]
    #[ignore = "needs root"]
    fn symlink_xattrs_stay_on_the_link() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("f"), b"x").unwrap();
        symlink("f", t.path().join("l")).unwrap();
        let d = dir_fd(t.path());
        at_set_all(
            d.as_fd(),
            b"l",
            &[
                (b"trusted.berth".to_vec(), b"1".to_vec()),
                (b"trusted.overlay.x".to_vec(), b"y".to_vec()),
            ],
        )
        .unwrap();
        // The link has it, the target does not, and overlay-private names are not listed.
        assert_eq!(
            at_list(d.as_fd(), b"l").unwrap(),
            vec![(b"trusted.berth".to_vec(), b"1".to_vec())]
        );
        assert!(at_list(d.as_fd(), b"f").unwrap().is_empty());
    }

    #[test]
    fn large_values_are_fetched_whole() {
        let t = tempfile::tempdir().unwrap();
        let f = fs::File::create(t.path().join("f")).unwrap();
        let big = vec![b'v'; 3000];
        fd_set(f.as_fd(), b"user.big", &big).unwrap();
        assert_eq!(fd_get(f.as_fd(), b"user.big").unwrap(), Some(big.clone()));
        assert_eq!(fd_get(f.as_fd(), b"user.none").unwrap(), None);
        assert_eq!(
            fd_list(f.as_fd()).unwrap(),
            vec![(b"user.big".to_vec(), big)]
        );
    }
}
