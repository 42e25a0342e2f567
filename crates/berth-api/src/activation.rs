//! Who owns the API socket: the listening socket systemd passes to a socket-activated `berth
//! serve -H fd://` (`berth.socket`), and the group a socket berth binds itself is given (the
//! `berth` group, like Docker's `docker` group: its members may use the API without root).

use std::os::unix::net::UnixListener;

use crate::server::ServeError;

/// The group the socket goes to when `--group` is not given, if the machine has it.
pub const DEFAULT_GROUP: &str = "berth";

/// The unix socket systemd passed to this process (`LISTEN_PID`/`LISTEN_FDS`).
pub(crate) fn systemd_listener() -> Result<UnixListener, ServeError> {
    let mut fds = listenfd::ListenFd::from_env();
    (0..fds.len())
        .find_map(|i| fds.take_unix_listener(i).ok().flatten())
        .ok_or(ServeError::NoActivation)
}

/// The ID of group `name`; without a name, of [`DEFAULT_GROUP`] if it exists (else the socket
/// keeps root's group, as dockerd does when the `docker` group is missing).
pub(crate) fn group_id(name: Option<&str>) -> Result<Option<u32>, ServeError> {
    let wanted = name.unwrap_or(DEFAULT_GROUP);
    match lookup_group(wanted) {
        Some(gid) => Ok(Some(gid)),
        None if name.is_none() => Ok(None),
        None => Err(ServeError::NoGroup(wanted.to_string())),
    }
}

/// Looks a group up through the C library, so that NSS sources (LDAP, sssd) count as they do
/// for every other program on the machine.
fn lookup_group(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: `group` is plain old data that getgrnam_r fills in.
    let mut group: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; the buffer's length is passed with it.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut group,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(group.gr_gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_looked_up_and_a_missing_named_one_is_an_error() {
        assert_eq!(group_id(Some("root")).unwrap(), Some(0));
        let missing = "berth-no-such-group-xyz";
        assert_eq!(
            group_id(Some(missing)).unwrap_err().to_string(),
            format!("group \"{missing}\" not found")
        );
    }

    #[test]
    fn fd_without_systemd_is_refused() {
        assert_eq!(
            systemd_listener().unwrap_err().to_string(),
            "no sockets found via socket activation: make sure the service was started by systemd"
        );
    }
}
