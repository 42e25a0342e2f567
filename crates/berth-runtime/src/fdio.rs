//! `OutBuf` queues bytes for a non-blocking file descriptor; the other helpers here are the small
//! fd and poll(2) operations that the shim, the attach client and exec share.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::OFlags;
use rustix::io::Errno;

/// A close-on-exec pipe: `(read end, write end)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    let flags = if on {
        flags | OFlags::NONBLOCK
    } else {
        flags - OFlags::NONBLOCK
    };
    Ok(rustix::fs::fcntl_setfl(fd, flags)?)
}

/// What a non-blocking read produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// This many bytes.
    Data(usize),
    /// Nothing now; poll again.
    WouldBlock,
    /// End of file (for a pty master, `EIO`: every slave descriptor is closed).
    Eof,
}

/// Reads once from a (non-blocking) fd, folding `EINTR`, `EAGAIN` and a pty's `EIO` into [`Read`].
pub(crate) fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Read> {
    loop {
        match rustix::io::read(fd, &mut *buf) {
            Ok(0) => return Ok(Read::Eof),
            Ok(n) => return Ok(Read::Data(n)),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Ok(Read::WouldBlock),
            Err(Errno::IO) => return Ok(Read::Eof),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes once to a (non-blocking) fd; `Ok(0)` when it would block.
pub(crate) fn write_some(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        match rustix::io::write(fd, buf) {
            Ok(n) => return Ok(n),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Ok(0),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Sends once on a (non-blocking) socket without raising SIGPIPE; `Ok(0)` when it would block.
pub(crate) fn send_some(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        match rustix::net::send(fd, buf, rustix::net::SendFlags::NOSIGNAL) {
            Ok(n) => return Ok(n),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Ok(0),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes all of `buf` to a blocking or non-blocking fd, polling while it would block.
pub(crate) fn write_all(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<()> {
    put_all(fd, buf, write_some)
}

/// Sends all of `buf` on a socket without raising SIGPIPE, polling while it would block.
pub(crate) fn send_all(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<()> {
    put_all(fd, buf, send_some)
}

fn put_all(
    fd: BorrowedFd<'_>,
    mut buf: &[u8],
    put: fn(BorrowedFd<'_>, &[u8]) -> io::Result<usize>,
) -> io::Result<()> {
    while !buf.is_empty() {
        let n = put(fd, buf)?;
        if n == 0 {
            let mut pfd = [PollFd::from_borrowed_fd(fd, PollFlags::OUT)];
            poll(&mut pfd, None)?;
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// poll(2) with an optional timeout; `EINTR` counts as "nothing ready".
pub(crate) fn poll(fds: &mut [PollFd<'_>], timeout: Option<Duration>) -> io::Result<usize> {
    let ts = timeout.map(|d| Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: d.subsec_nanos() as _,
    });
    match rustix::event::poll(fds, ts.as_ref()) {
        Ok(n) => Ok(n),
        Err(Errno::INTR) => {
            for fd in fds.iter_mut() {
                fd.clear_revents();
            }
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

/// Time left until `deadline` (zero once it has passed), or `None` for no deadline.
pub(crate) fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// True when poll reported the fd readable or hung up (a read will not block).
pub(crate) fn readable(revents: PollFlags) -> bool {
    revents.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
}

/// A byte queue drained into a non-blocking fd as it accepts data.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    data: VecDeque<u8>,
}

impl OutBuf {
    /// Queues bytes.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.data.extend(bytes);
    }

    /// Bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Writes as much as `fd` takes without blocking.
    pub(crate) fn flush_to(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.drain_with(fd, write_some)
    }

    /// Sends as much as the socket `fd` takes without blocking (and without SIGPIPE).
    pub(crate) fn send_to(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.drain_with(fd, send_some)
    }

    fn drain_with(
        &mut self,
        fd: BorrowedFd<'_>,
        put: fn(BorrowedFd<'_>, &[u8]) -> io::Result<usize>,
    ) -> io::Result<()> {
        while !self.data.is_empty() {
            let (front, _) = self.data.as_slices();
            let n = put(fd, front)?;
            if n == 0 {
                break;
            }
            self.data.drain(..n);
        }
        Ok(())
    }

    /// Forgets everything queued.
    pub(crate) fn clear(&mut self) {
        self.data.clear();
    }
}

/// A directory held open with `O_PATH`, so that sockets inside it can be named through
/// `/proc/<pid>/fd/<n>/` and stay under the 108-byte `sun_path` limit whatever the directory's
/// own path length.
#[derive(Debug)]
pub(crate) struct DirHandle {
    fd: OwnedFd,
}

impl DirHandle {
    /// Opens `dir`.
    pub(crate) fn open(dir: &Path) -> io::Result<DirHandle> {
        let fd = rustix::fs::open(
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| {
            io::Error::new(
                io::Error::from(e).kind(),
                format!("open {}: {e}", dir.display()),
            )
        })?;
        Ok(DirHandle { fd })
    }

    /// `/proc/self/fd/<n>/<name>`: a short name for `<dir>/<name>` usable by this process.
    pub(crate) fn short_path(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}/{name}", self.fd.as_raw_fd()))
    }

    /// `/proc/<pid>/fd/<n>/<name>`: a short name for `<dir>/<name>` usable by other processes
    /// while this one holds the directory open.
    pub(crate) fn short_path_for_others(&self, name: &str) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}/{name}",
            std::process::id(),
            self.fd.as_raw_fd()
        ))
    }

    /// Removes `name` inside the directory, ignoring a missing file.
    pub(crate) fn unlink(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.short_path(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Sets the mode of `name` inside the directory.
    pub(crate) fn chmod(&self, name: &str, mode: u32) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.short_path(name), std::fs::Permissions::from_mode(mode))
    }
}

impl AsFd for DirHandle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbuf_drains_into_a_pipe() {
        let (r, w) = pipe().unwrap();
        set_nonblocking(w.as_fd(), true).unwrap();
        let mut out = OutBuf::default();
        out.push(b"hello ");
        out.push(b"world");
        assert_eq!(out.len(), 11);
        out.flush_to(w.as_fd()).unwrap();
        assert!(out.is_empty());
        drop(w);
        let mut buf = [0u8; 32];
        let mut got = Vec::new();
        while let Read::Data(n) = read_some(r.as_fd(), &mut buf).unwrap() {
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"hello world");
    }

    #[test]
    fn short_paths_reach_a_long_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let long = tmp.path().join("d".repeat(120)).join("e".repeat(120));
        std::fs::create_dir_all(&long).unwrap();
        let dir = DirHandle::open(&long).unwrap();
        std::fs::write(dir.short_path("f"), b"x").unwrap();
        assert_eq!(std::fs::read(long.join("f")).unwrap(), b"x");
        dir.unlink("f").unwrap();
        dir.unlink("f").unwrap();
        assert!(!long.join("f").exists());
    }
}
