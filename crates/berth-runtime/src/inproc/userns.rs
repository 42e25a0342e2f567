//! [`Join`]: an exec'd process joining its container's user namespace (`userns-remap`).
//!
//! libcontainer's exec ("tenant") joins every namespace of the container except the user
//! namespace, so the process would run as the host's root. The glue has libcontainer start it
//! as the host's root with CAP_SYS_ADMIN (enough to join), and the process then joins the user
//! namespace itself just before its command runs, as runc's `nsexec` does first: it takes the
//! process's user, groups and capabilities again inside the namespace, where joining gave it
//! every capability.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use oci_spec::runtime::{Capability, LinuxCapabilities, Process, User};

/// The user namespace to join, and who the process is inside it.
#[derive(Clone)]
pub(crate) struct Join {
    /// `/proc/<init>/ns/user`, opened by the caller (the process is its clone).
    ns: Arc<OwnedFd>,
    /// The process's user as the exec asked (ids inside the namespace).
    user: User,
}

impl Join {
    /// Prepares `process` (the exec's process file) to join the user namespace of the
    /// container whose init is `pid`: it is started as the host's root with CAP_SYS_ADMIN, and
    /// becomes its own user once inside. The capabilities it must end with are the caller's to
    /// apply after [`Join::enter`] (joining gives all of them).
    pub(crate) fn prepare(pid: i32, process: &mut Process) -> std::io::Result<Join> {
        let path = format!("/proc/{pid}/ns/user");
        let ns = std::fs::File::open(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{path}: {e}")))?;
        let join = Join {
            ns: Arc::new(OwnedFd::from(ns)),
            user: process.user().clone(),
        };
        let mut root = User::default();
        root.set_uid(0).set_gid(0);
        process.set_user(root);
        let mut caps: LinuxCapabilities = process.capabilities().clone().unwrap_or_default();
        let add = |set: &Option<oci_spec::runtime::Capabilities>| {
            let mut s = set.clone().unwrap_or_default();
            s.insert(Capability::SysAdmin);
            Some(s)
        };
        let (bounding, effective, permitted) = (
            add(caps.bounding()),
            add(caps.effective()),
            add(caps.permitted()),
        );
        caps.set_bounding(bounding)
            .set_effective(effective)
            .set_permitted(permitted);
        process.set_capabilities(Some(caps));
        Ok(join)
    }

    /// Joins the namespace and becomes the process's user (groups, gid, uid) inside it, with
    /// every capability of the namespace still effective. Runs in the exec'd process, which is
    /// single-threaded and shares no file-system context (what `setns` asks).
    pub(crate) fn enter(&self) -> Result<(), String> {
        let os = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
        let gids: Vec<libc::gid_t> = self.user.additional_gids().clone().unwrap_or_default();
        let (uid, gid) = (self.user.uid(), self.user.gid());
        // SAFETY: each call only changes this process's namespaces, credentials or flags;
        // `gids` outlives the setgroups call that reads it.
        unsafe {
            if libc::setns(self.ns.as_raw_fd(), libc::CLONE_NEWUSER) != 0 {
                return Err(os("joining the container's user namespace"));
            }
            if libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 {
                return Err(os("keeping capabilities"));
            }
            if libc::setgroups(gids.len(), gids.as_ptr()) != 0 {
                return Err(os("setgroups"));
            }
            if libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0 {
                return Err(os("setresgid"));
            }
            if libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0 {
                return Err(os("setresuid"));
            }
            libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0);
        }
        // A user other than root lost its effective capabilities on setresuid: back to the
        // permitted ones (all of the namespace's) until the caller sets the process's own.
        let sys = libcontainer::syscall::syscall::SyscallType::default().create_syscall();
        libcontainer::capabilities::reset_effective(sys.as_ref())
            .map_err(|e| format!("resetting capabilities: {e}"))
    }
}
