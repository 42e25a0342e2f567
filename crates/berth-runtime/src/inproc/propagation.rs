//! The propagation of the bundle's mounts (`rprivate`, `rshared`, `slave`...), which
//! libcontainer parses but never applies: its bind mounts are clones of the source and keep the
//! propagation the clone gets (a slave of the host's peer group, on a host whose `/` is shared),
//! so an `rshared` volume did not see mounts made later on the host, and an `rprivate` one
//! still received them. runc sets each flag on the destination right after mounting it; berth
//! does the same once the container is created (before its process starts), in the container's
//! mount namespace: [`Propagation::apply`].

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use berth_store::mount::idmap::MountAttr;

/// One mount's propagation flags, in the bundle's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Propagation {
    /// The mount's destination in the container.
    pub(crate) destination: PathBuf,
    /// `(MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE, recursive)`, as listed.
    pub(crate) flags: Vec<(u64, bool)>,
}

/// The propagation option `o` names, if it names one.
fn flag(o: &str) -> Option<(u64, bool)> {
    Some(match o {
        "private" => (libc::MS_PRIVATE, false),
        "rprivate" => (libc::MS_PRIVATE, true),
        "shared" => (libc::MS_SHARED, false),
        "rshared" => (libc::MS_SHARED, true),
        "slave" => (libc::MS_SLAVE, false),
        "rslave" => (libc::MS_SLAVE, true),
        "unbindable" => (libc::MS_UNBINDABLE, false),
        "runbindable" => (libc::MS_UNBINDABLE, true),
        _ => return None,
    })
}

/// The mounts of `spec` that name a propagation, in its order.
pub(crate) fn of(spec: &oci_spec::runtime::Spec) -> Vec<Propagation> {
    spec.mounts()
        .iter()
        .flatten()
        .filter_map(|m| {
            let flags: Vec<_> = m
                .options()
                .iter()
                .flatten()
                .filter_map(|o| flag(o))
                .collect();
            (!flags.is_empty()).then(|| Propagation {
                destination: m.destination().clone(),
                flags,
            })
        })
        .collect()
}

impl Propagation {
    /// Sets the propagation of `mounts` in the created container whose init is `pid`. The
    /// destinations are opened through `/proc/<pid>/root` (resolved inside the container's
    /// root), then a child process joins the container's mount namespace, where alone a mount's
    /// propagation may be changed, and sets it on each with mount_setattr(2). A child, because
    /// a process whose threads share its file-system context cannot change mount namespace.
    pub(crate) fn apply(pid: i32, mounts: &[Propagation]) -> Result<(), String> {
        use rustix::fs::{Mode, OFlags};
        if mounts.is_empty() {
            return Ok(());
        }
        let open = |p: &Path, dir: Option<&OwnedFd>| -> Result<OwnedFd, String> {
            let r = match dir {
                None => rustix::fs::open(
                    p,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                ),
                Some(dir) => berth_store::fsutil::open_in_root(dir, p, OFlags::PATH),
            };
            r.map_err(|e| format!("{}: {e}", p.display()))
        };
        let root = open(Path::new(&format!("/proc/{pid}/root")), None)?;
        let ns_path = format!("/proc/{pid}/ns/mnt");
        let ns = std::fs::File::open(&ns_path).map_err(|e| format!("{ns_path}: {e}"))?;
        // (destination's descriptor, mount_setattr's flags, the attributes, the mount's index)
        let mut steps: Vec<(i32, u32, MountAttr, usize)> = Vec::new();
        let mut fds = Vec::with_capacity(mounts.len());
        for (i, m) in mounts.iter().enumerate() {
            let fd = open(&m.destination, Some(&root))?;
            for &(propagation, recursive) in &m.flags {
                let recursive = if recursive { libc::AT_RECURSIVE } else { 0 };
                let attr = MountAttr {
                    attr_set: 0,
                    attr_clr: 0,
                    propagation,
                    userns_fd: 0,
                };
                steps.push((
                    fd.as_raw_fd(),
                    (libc::AT_EMPTY_PATH | recursive) as u32,
                    attr,
                    i,
                ));
            }
            fds.push(fd);
        }
        let empty = c"";
        // SAFETY: fork(2) in a caller that may have threads: the child runs only
        // async-signal-safe system calls on memory prepared before the fork (`steps`, `empty`),
        // then _exit(2)s (0: done, 1: setns failed, 2 + i: mount i failed); the parent waits.
        let child = unsafe { libc::fork() };
        if child < 0 {
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if child == 0 {
            // SAFETY: in the forked child: setns(2), mount_setattr(2) and _exit(2) on the
            // descriptors and attributes prepared above; nothing allocates or takes a lock.
            unsafe {
                if libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNS) != 0 {
                    libc::_exit(1);
                }
                for (fd, flags, attr, i) in &steps {
                    let rc = libc::syscall(
                        libc::SYS_mount_setattr,
                        *fd,
                        empty.as_ptr(),
                        *flags,
                        attr as *const MountAttr,
                        std::mem::size_of::<MountAttr>(),
                    );
                    if rc != 0 {
                        libc::_exit((2 + *i).min(255) as i32);
                    }
                }
                libc::_exit(0);
            }
        }
        drop(fds);
        let mut status = 0;
        // SAFETY: waits for the child just forked; `status` is written by the call.
        let rc = unsafe { libc::waitpid(child, &mut status, 0) };
        if rc != child {
            return Err(format!("waitpid: {}", std::io::Error::last_os_error()));
        }
        match libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)) {
            Some(0) => Ok(()),
            Some(1) => Err("joining the container's mount namespace failed".into()),
            Some(i) => Err(format!(
                "setting the propagation of {} failed",
                mounts
                    .get(i as usize - 2)
                    .map(|m| m.destination.display().to_string())
                    .unwrap_or_default()
            )),
            None => Err(format!("setting mount propagation: wait status {status}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagation_options_are_read_in_order() {
        let spec: oci_spec::runtime::Spec = serde_json::from_value(serde_json::json!({
            "ociVersion": "1.0.2",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/s", "type": "bind", "source": "/x",
                 "options": ["rbind", "ro", "rshared"]},
                {"destination": "/p", "type": "bind", "source": "/y",
                 "options": ["bind", "private", "runbindable"]},
            ]
        }))
        .unwrap();
        assert_eq!(
            of(&spec),
            [
                Propagation {
                    destination: "/s".into(),
                    flags: vec![(libc::MS_SHARED, true)],
                },
                Propagation {
                    destination: "/p".into(),
                    flags: vec![(libc::MS_PRIVATE, false), (libc::MS_UNBINDABLE, true)],
                },
            ]
        );
    }
}
