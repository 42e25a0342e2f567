//! Named network namespaces, as `ip netns add` makes them: [`create`] makes a new namespace and
//! keeps it alive by bind-mounting it on a file (the path the runtime's `config.json` joins),
//! [`remove`] unmounts and deletes that file (the namespace, its interfaces and its veth peers go
//! with it once no process is inside), [`is_namespace`] tells a live one from a stale file.
//!
//! Written by hand: it is a dozen lines over unshare(2) and mount(2), which no maintained crate
//! offers without pulling in a netlink stack. The directory of namespace files is made a shared
//! mount point (as iproute2 does with `/run/netns`), so that an unmount also reaches copies of it
//! in mount namespaces created meanwhile and the namespace really goes away. The mounts go
//! through berth-store's [`Mounter`], the one place that calls mount(2).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use berth_store::mount::idmap::{self, IdMap};
use berth_store::mount::{Mount, MountError, Mounter};

use crate::NetworkError;

/// `NSFS_MAGIC`: the filesystem type of a namespace file.
const NSFS_MAGIC: i64 = 0x6e73_6673;

/// Whether `path` is a live namespace bind mount (not a stale file left by a reboot).
pub fn is_namespace(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|s| s.f_type == NSFS_MAGIC)
}

/// Makes `dir` a shared mount point (bind-mounting it on itself first if it is not a mount
/// point), so unmounts of namespace files below it propagate to every copy.
fn make_shared(mounter: &Mounter, dir: &Path) -> Result<(), MountError> {
    let shared = Mount::propagation(dir, "shared");
    match mounter.mount(&shared) {
        Ok(()) => return Ok(()),
        Err(e) if e.io_error().raw_os_error() == Some(libc::EINVAL) => {}
        Err(e) => return Err(e),
    }
    let d = dir.display().to_string();
    mounter.mount(&Mount::bind(d, dir, false, false))?;
    mounter.mount(&shared)
}

fn io(e: MountError) -> io::Error {
    io::Error::new(e.io_error().kind(), e.to_string())
}

/// The user namespace file kept beside a network namespace file made by [`create_owned`].
pub fn user_ns_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".user");
    path.with_file_name(name)
}

/// Binds the namespace open as `fd` to a new file at `path`.
fn bind_ns(mounter: &Mounter, fd: &OwnedFd, path: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
    if let Err(e) = mounter.mount(&Mount::bind(source, path, false, false)) {
        let _ = std::fs::remove_file(path);
        return Err(io(e));
    }
    Ok(())
}

/// Who owns a network namespace [`create_owned`] makes.
#[derive(Debug, Clone, Copy)]
pub enum NetnsOwner<'a> {
    /// The host's user namespace (what [`create`] makes).
    Host,
    /// A new user namespace of these uid and gid maps (a remapped container's own).
    New(&'a [IdMap], &'a [IdMap]),
    /// The existing user namespace at this path (`/proc/PID/ns/user` of a remapped container
    /// whose PID or IPC namespace the new container joins, and so its user namespace too).
    Existing(&'a Path),
}

/// [`create`], or a network namespace owned by another user namespace ([`NetnsOwner`]), which
/// is kept beside it ([`user_ns_path`]) for the runtime to join: a remapped container's root
/// may then configure its network namespace, mount its sysfs, and `exec` may join both.
/// Nothing is left behind on failure.
pub fn create_owned(path: &Path, owner: NetnsOwner<'_>) -> Result<(), NetworkError> {
    if let NetnsOwner::Host = owner {
        return create(path);
    }
    let dir = path.parent().expect("namespace files live in a directory");
    std::fs::create_dir_all(dir).map_err(|e| NetworkError::io("create", dir, e))?;
    let mounter = Mounter::linux();
    make_shared(&mounter, dir).map_err(|e| NetworkError::io("make shared mount", dir, io(e)))?;
    let user_path = user_ns_path(path);
    let result = (|| -> io::Result<()> {
        let userns = match owner {
            NetnsOwner::New(uids, gids) => idmap::user_namespace(uids, gids)?,
            NetnsOwner::Existing(p) => OwnedFd::from(std::fs::File::open(p)?),
            NetnsOwner::Host => unreachable!("handled above"),
        };
        let netns = idmap::network_namespace_in(&userns)?;
        bind_ns(&mounter, &userns, &user_path)?;
        bind_ns(&mounter, &netns, path)
    })();
    if let Err(e) = result {
        let _ = remove(path);
        return Err(NetworkError::io("create network namespace", path, e));
    }
    Ok(())
}

/// Creates a new network namespace bound to `path` (whose parent is created if needed).
/// Nothing is left behind on failure.
pub fn create(path: &Path) -> Result<(), NetworkError> {
    let dir = path.parent().expect("namespace files live in a directory");
    std::fs::create_dir_all(dir).map_err(|e| NetworkError::io("create", dir, e))?;
    let mounter = Mounter::linux();
    make_shared(&mounter, dir).map_err(|e| NetworkError::io("make shared mount", dir, io(e)))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| NetworkError::io("create namespace file", path, e))?;
    let target = path.to_path_buf();
    // unshare(2) moves only the calling thread into the new namespace: do it in a thread of
    // its own, which ends right after the namespace is pinned by the bind mount.
    let result = std::thread::spawn(move || -> io::Result<()> {
        // SAFETY: only this short-lived thread changes namespace; it shares no namespace-
        // dependent state (no sockets, no cached netlink handles) with the rest of the process.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET)? };
        mounter
            .mount(&Mount::bind(
                "/proc/thread-self/ns/net",
                target,
                false,
                false,
            ))
            .map_err(io)
    })
    .join()
    .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")));
    if let Err(e) = result {
        let _ = std::fs::remove_file(path);
        return Err(NetworkError::io("create network namespace", path, e));
    }
    Ok(())
}

/// Unmounts and removes the namespace file at `path`; a missing file is fine.
pub fn remove(path: &Path) -> Result<(), NetworkError> {
    remove_one(&user_ns_path(path))?;
    remove_one(path)
}

/// Unmounts and removes one namespace file; a missing one is fine.
fn remove_one(path: &Path) -> Result<(), NetworkError> {
    match Mounter::linux().unmount(path) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.io_error().raw_os_error(),
                Some(libc::EINVAL | libc::ENOENT)
            ) => {}
        Err(e) => return Err(NetworkError::io("unmount network namespace", path, io(e))),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetworkError::io("remove network namespace", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs root"]
    fn create_and_remove_a_namespace() {
        let t = tempfile::tempdir().unwrap();
        let ns = t.path().join("netns").join("c1");
        create(&ns).unwrap();
        assert!(is_namespace(&ns));
        let mine = std::fs::metadata("/proc/self/ns/net").unwrap();
        let theirs = std::fs::metadata(&ns).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_ne!(mine.ino(), theirs.ino(), "a new namespace, not ours");
        assert!(create(&ns).is_err(), "an existing file is not replaced");
        remove(&ns).unwrap();
        assert!(!ns.exists());
        remove(&ns).unwrap();
        let _ = Mounter::linux().unmount(&t.path().join("netns"));
    }
}
