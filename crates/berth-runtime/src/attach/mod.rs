//! `AttachClient` joins a CLI to a running container through the unix socket its shim listens
//! on (`<container dir>/attach.sock`, mode 0600), speaking the small framed protocol of
//! [`Frame`](crate::attach::Frame); [`DetachKeys`](crate::attach::DetachKeys) is the sequence that leaves a session with the container running.
//!
//! Sockets are bound and connected through `/proc/self/fd/<dir fd>/attach.sock`, so a container
//! directory deep under a long data root never hits the 108-byte `sun_path` limit.

mod client;
mod keys;
mod protocol;

pub use client::{AttachClient, AttachError, AttachIo, AttachOptions, AttachOutcome};
pub use keys::{DetachKeys, EscapeScanner, InvalidDetachKeys, Scan, DEFAULT_DETACH_KEYS};
pub use protocol::{Frame, FrameDecoder, ProtocolError, MAX_PAYLOAD};

use std::io;
use std::os::unix::net::UnixListener;
use std::path::Path;

use crate::fdio::DirHandle;

/// File name of the attach socket inside a container's directory.
pub const ATTACH_SOCKET: &str = "attach.sock";

/// Binds the attach socket in `container_dir` (replacing a stale one), mode 0600. The returned
/// handle keeps the directory open and removes the socket when asked.
pub(crate) fn bind_socket(container_dir: &Path) -> io::Result<(DirHandle, UnixListener)> {
    let dir = DirHandle::open(container_dir)?;
    dir.unlink(ATTACH_SOCKET)?;
    let listener = UnixListener::bind(dir.short_path(ATTACH_SOCKET))?;
    dir.chmod(ATTACH_SOCKET, 0o600)?;
    Ok((dir, listener))
}
