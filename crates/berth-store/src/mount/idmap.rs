//! [`IdmappedTree`]: a detached, id-mapped clone of a directory (`open_tree(OPEN_TREE_CLONE)` then
//! `mount_setattr(MOUNT_ATTR_IDMAP)`), reached through `/proc/self/fd/N` while it is held. The
//! engine builds a user-namespace-remapped container's overlay over such a view of the layer
//! store, so the image layers (stored with the ownership their tars carry, shared with every
//! other container) read as owned by the remapped root, with no copy. [`IdMap`] is one line of
//! a uid or gid map, as `/proc/PID/uid_map` and the OCI spec write it.
//!
//! The kernel needs the mapping as a user namespace: [`user_namespace`] makes one in a short-lived
//! child (fork, `unshare(CLONE_NEWUSER)`, the maps written by this process, the namespace file
//! opened) since no syscall builds a bare namespace from a map; [`network_namespace_in`] makes a
//! network namespace owned by such a user namespace the same way.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One range of an id map: `size` ids from `container_id` inside are `host_id`... outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    /// First id inside the namespace.
    pub container_id: u32,
    /// First id on the host.
    pub host_id: u32,
    /// How many ids.
    pub size: u32,
}

/// The text of a `uid_map`/`gid_map` file.
fn map_text(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// A forked child that entered new namespaces and waits, so their files under `/proc/PID/ns`
/// can be opened or bound; it exits and is reaped on drop.
struct NsChild {
    pid: libc::pid_t,
    go: Option<OwnedFd>,
}

impl NsChild {
    /// Forks a child that joins the user namespace `join` (if any) and then unshares `flags`.
    fn spawn(join: Option<RawFd>, flags: libc::c_int) -> io::Result<NsChild> {
        let (ready_r, ready_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let (go_r, go_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let (ready_wfd, go_rfd) = (ready_w.as_raw_fd(), go_r.as_raw_fd());
        // SAFETY: the child only makes raw syscalls (setns, unshare, write, read, _exit), all
        // async-signal-safe, so forking a multi-threaded process is sound; it never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            ns_child(join, flags, ready_wfd, go_rfd);
        }
        drop(ready_w);
        drop(go_r);
        let child = NsChild {
            pid,
            go: Some(go_w),
        };
        let mut byte = [0u8; 1];
        let mut ready = std::fs::File::from(ready_r);
        if ready.read(&mut byte)? != 1 || byte[0] != b'u' {
            return Err(io::Error::other(format!(
                "could not enter new namespaces (setns/unshare failed: errno {})",
                byte[0]
            )));
        }
        Ok(child)
    }

    /// `/proc/PID/ns/KIND` of the child.
    fn ns_file(&self, kind: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/{kind}", self.pid))
    }
}

impl Drop for NsChild {
    fn drop(&mut self) {
        if let Some(go) = self.go.take() {
            let mut go = std::fs::File::from(go);
            let _ = go.write_all(b"x");
        }
        let mut status = 0;
        // SAFETY: reaps the child forked in `spawn`; `status` is a valid out-pointer.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}

/// The body of an [`NsChild`]: enter the namespaces, report, wait to be let go.
fn ns_child(join: Option<RawFd>, flags: libc::c_int, ready: RawFd, go: RawFd) -> ! {
    // SAFETY: raw syscalls on descriptors this child inherited; `_exit` never returns.
    unsafe {
        let mut rc = 0;
        if let Some(fd) = join {
            rc = libc::setns(fd, libc::CLONE_NEWUSER);
        }
        if rc == 0 {
            rc = libc::unshare(flags);
        }
        let byte: u8 = if rc == 0 {
            b'u'
        } else {
            *libc::__errno_location() as u8
        };
        libc::write(ready, (&byte as *const u8).cast(), 1);
        let mut buf = 0u8;
        libc::read(go, (&mut buf as *mut u8).cast(), 1);
        libc::_exit(0)
    }
}

/// A user namespace with these maps, as an open `/proc/PID/ns/user` (it lives as long as the
/// descriptor, or a bind mount of it).
pub fn user_namespace(uids: &[IdMap], gids: &[IdMap]) -> io::Result<OwnedFd> {
    let child = NsChild::spawn(None, libc::CLONE_NEWUSER)?;
    std::fs::write(format!("/proc/{}/uid_map", child.pid), map_text(uids))?;
    std::fs::write(format!("/proc/{}/gid_map", child.pid), map_text(gids))?;
    Ok(OwnedFd::from(std::fs::File::open(child.ns_file("user"))?))
}

/// A new network namespace owned by the user namespace `userns` (so a container in that user
/// namespace may configure it, mount its sysfs, join it from `exec`), as an open
/// `/proc/PID/ns/net`.
pub fn network_namespace_in(userns: &OwnedFd) -> io::Result<OwnedFd> {
    let child = NsChild::spawn(Some(userns.as_raw_fd()), libc::CLONE_NEWNET)?;
    Ok(OwnedFd::from(std::fs::File::open(child.ns_file("net"))?))
}

/// `struct mount_attr` of `<linux/mount.h>`, what mount_setattr(2) takes (also used by the
/// in-process runtime to set a mount's propagation).
#[repr(C)]
pub struct MountAttr {
    /// `MOUNT_ATTR_*` flags to set.
    pub attr_set: u64,
    /// `MOUNT_ATTR_*` flags to clear.
    pub attr_clr: u64,
    /// `MS_SHARED`, `MS_SLAVE`, `MS_PRIVATE` or `MS_UNBINDABLE`, or 0 to leave it.
    pub propagation: u64,
    /// The user namespace of an id-mapped mount (`MOUNT_ATTR_IDMAP`).
    pub userns_fd: u64,
}

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// A detached id-mapped clone of a directory; see the module doc.
#[derive(Debug)]
pub struct IdmappedTree {
    fd: OwnedFd,
}

impl IdmappedTree {
    /// Clones `dir`'s mount (not the mounts below it) as a detached mount and maps its ids:
    /// a file owned by `container_id` on disk reads as owned by `host_id`.
    pub fn open(dir: &Path, uids: &[IdMap], gids: &[IdMap]) -> io::Result<IdmappedTree> {
        use rustix::mount::OpenTreeFlags;
        let userns = user_namespace(uids, gids)?;
        let fd = rustix::mount::open_tree(
            rustix::fs::CWD,
            dir,
            OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC,
        )?;
        let attr = MountAttr {
            attr_set: MOUNT_ATTR_IDMAP,
            attr_clr: 0,
            propagation: 0,
            userns_fd: userns.as_raw_fd() as u64,
        };
        // SAFETY: mount_setattr(2) on a descriptor we own, with an empty path (AT_EMPTY_PATH)
        // and a `mount_attr` that lives across the call and whose size we pass.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                fd.as_raw_fd(),
                c"".as_ptr(),
                libc::AT_EMPTY_PATH,
                &attr as *const MountAttr,
                std::mem::size_of::<MountAttr>(),
            )
        };
        if rc != 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "id-mapped mount of {} (the filesystem must support id-mapped mounts): {e}",
                    dir.display()
                ),
            ));
        }
        Ok(IdmappedTree { fd })
    }

    /// Where the clone is reached while this value lives (`/proc/self/fd/N`, so only from
    /// this process).
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn map_text_is_what_proc_takes() {
        let m = [
            IdMap {
                container_id: 0,
                host_id: 100000,
                size: 65536,
            },
            IdMap {
                container_id: 65536,
                host_id: 300000,
                size: 10,
            },
        ];
        assert_eq!(map_text(&m), "0 100000 65536\n65536 300000 10\n");
    }

    #[test]
    #[ignore = "needs root"]
    fn a_root_owned_file_reads_as_the_remapped_root_through_the_view() {
        let dir = std::env::temp_dir().join(format!("berth-idmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f"), "x").unwrap();
        std::os::unix::fs::chown(dir.join("f"), Some(0), Some(0)).unwrap();
        let map = [IdMap {
            container_id: 0,
            host_id: 100000,
            size: 65536,
        }];
        let view = IdmappedTree::open(&dir, &map, &map).unwrap();
        let md = std::fs::metadata(view.path().join("f")).unwrap();
        assert_eq!((md.uid(), md.gid()), (100000, 100000));
        // The file itself is unchanged.
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().uid(), 0);
        drop(view);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
