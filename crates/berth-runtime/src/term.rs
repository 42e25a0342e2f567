//! `RawMode` puts the CLI's terminal in raw mode for an interactive session and restores it on
//! drop; this module also holds the other terminal pieces: window sizes, pty pairs, the console
//! socket through which runc hands over a container's pty master, and the SIGWINCH pipe.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::termios::{OptionalActions, Termios};
use serde::{Deserialize, Serialize};

use crate::fdio::{self, DirHandle};

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinSize {
    /// Rows.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
}

/// The window size of the terminal on `fd`, if it is one.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<WinSize> {
    let ws = rustix::termios::tcgetwinsize(fd).ok()?;
    Some(WinSize {
        rows: ws.ws_row,
        cols: ws.ws_col,
    })
}

/// Sets the window size of the terminal (or pty master) on `fd`.
pub fn set_window_size(fd: BorrowedFd<'_>, size: WinSize) -> io::Result<()> {
    let ws = rustix::termios::Winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    Ok(rustix::termios::tcsetwinsize(fd, ws)?)
}

/// True when `fd` is a terminal.
pub fn is_terminal(fd: BorrowedFd<'_>) -> bool {
    rustix::termios::isatty(fd)
}

/// The terminal on an fd, switched to raw mode until the guard is dropped.
#[derive(Debug)]
pub struct RawMode {
    fd: RawFd,
    saved: Termios,
}

impl RawMode {
    /// Switches the terminal on `fd` to raw mode (no echo, no line editing, no signal keys, no
    /// output post-processing), remembering its settings. The fd must stay open while the guard
    /// lives.
    pub fn enter(fd: BorrowedFd<'_>) -> io::Result<RawMode> {
        let saved = rustix::termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(fd, OptionalActions::Now, &raw)?;
        Ok(RawMode {
            fd: fd.as_raw_fd(),
            saved,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: `enter` documents that the fd outlives the guard; it is only borrowed here.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = rustix::termios::tcsetattr(fd, OptionalActions::Now, &self.saved);
    }
}

/// Both ends of a new pseudo-terminal.
#[derive(Debug)]
pub struct PtyPair {
    /// The controlling side (what a terminal emulator holds).
    pub master: OwnedFd,
    /// The terminal device a program runs on.
    pub slave: OwnedFd,
}

impl PtyPair {
    /// Opens a new pty pair (both ends close-on-exec, the slave without becoming our
    /// controlling terminal).
    pub fn open() -> io::Result<PtyPair> {
        use rustix::pty::OpenptFlags;
        let master =
            rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let name = rustix::pty::ptsname(&master, Vec::new())?;
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        Ok(PtyPair { master, slave })
    }
}

/// A listening unix socket to which an OCI runtime connects (`--console-socket`) to hand over
/// the pty master of a process it creates with a terminal (one fd sent with `SCM_RIGHTS`).
#[derive(Debug)]
pub struct ConsoleSocket {
    dir: DirHandle,
    name: String,
    listener: UnixListener,
}

impl ConsoleSocket {
    /// Binds `<dir>/<name>` (replacing a stale socket), mode 0600.
    pub fn bind(dir: &Path, name: &str) -> io::Result<ConsoleSocket> {
        let dir = DirHandle::open(dir)?;
        dir.unlink(name)?;
        let listener = UnixListener::bind(dir.short_path(name))?;
        dir.chmod(name, 0o600)?;
        Ok(ConsoleSocket {
            dir,
            name: name.to_string(),
            listener,
        })
    }

    /// The path to give the runtime: short whatever the directory's length, valid while this
    /// process holds the socket.
    pub fn runtime_path(&self) -> PathBuf {
        self.dir.short_path_for_others(&self.name)
    }

    /// Waits for the runtime to connect and send the pty master. `gave_up` is polled every
    /// 50 ms; when it returns true (the runtime exited without connecting), or after `timeout`,
    /// the wait fails.
    pub fn receive_master(
        &self,
        timeout: Duration,
        mut gave_up: impl FnMut() -> bool,
    ) -> io::Result<OwnedFd> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut pfd = [PollFd::new(&self.listener, PollFlags::IN)];
            fdio::poll(&mut pfd, Some(Duration::from_millis(50)))?;
            if fdio::readable(pfd[0].revents()) {
                let (stream, _) = self.listener.accept()?;
                return recv_fd(stream.as_fd());
            }
            if gave_up() {
                return Err(io::Error::other(
                    "the runtime exited without sending a console",
                ));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "timed out waiting for the runtime's console",
                ));
            }
        }
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = self.dir.unlink(&self.name);
    }
}

/// Receives one fd sent with `SCM_RIGHTS` on a connected unix socket.
pub(crate) fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    use std::mem::MaybeUninit;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut data = [0u8; 4096];
    let mut iov = [io::IoSliceMut::new(&mut data)];
    rustix::net::recvmsg(sock, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC)?;
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = msg {
            if let Some(fd) = fds.next() {
                return Ok(fd);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "console socket message carried no file descriptor",
    ))
}

/// Keeps the pty master of a detached process (`exec -d -t`) open in a small background
/// process that reads and discards what the process writes, until its terminal is gone (every
/// slave closed: the process and its children ended). Closing the master instead would hang
/// the terminal up and SIGHUP the process; Docker's daemon holds it in the same way.
///
/// Written by hand as fork(2) rather than a re-exec of the berth binary: the holder only needs
/// read(2) in a loop. Between fork and `_exit` the children make async-signal-safe calls only,
/// so this is sound in a multi-threaded caller. Double fork: the holder is reparented at once
/// and never becomes a zombie of the caller.
pub fn hold_master_in_background(master: OwnedFd) -> io::Result<()> {
    let fd = master.as_raw_fd();
    // SAFETY: see above; the child branches below call only async-signal-safe functions.
    let child = unsafe { libc::fork() };
    match child {
        -1 => Err(io::Error::last_os_error()),
        // SAFETY: in the forked child: setsid, fork and _exit are async-signal-safe, and
        // discard_until_hangup is written for exactly this place.
        0 => unsafe {
            libc::setsid();

            if libc::fork() != 0 {
                libc::_exit(0);
            }
            discard_until_hangup(fd)
        },
        _ => {
            let mut status = 0;
            // SAFETY: waits for the intermediate child created above, which exits at once.
            while unsafe { libc::waitpid(child, &mut status, 0) } == -1
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
            Ok(())
        }
    }
}

/// The body of the holder: keeps only `master` (moved above stdio, blocking), stdio on
/// /dev/null, every other inherited descriptor closed (the caller's database, sockets and
/// terminal must not be held by a stranger), then reads until the master reports hang-up.
///
/// # Safety
/// Only in a freshly forked child; never returns.
unsafe fn discard_until_hangup(fd: RawFd) -> ! {
    // SAFETY: plain system calls on descriptors this process owns, in a forked child.
    unsafe {
        const KEEP: RawFd = 10;
        let m = libc::fcntl(fd, libc::F_DUPFD, KEEP);
        if m < 0 {
            libc::_exit(1);
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for std in 0..3 {
            libc::dup2(null, std);
        }
        // close_range(2) through syscall(2): musl's libc (the static build) has no wrapper.
        let close_range = |first: libc::c_uint, last: libc::c_uint| {
            libc::syscall(libc::SYS_close_range, first, last, 0 as libc::c_uint)
        };
        if close_range(3, (m - 1) as libc::c_uint) != 0
            || close_range((m + 1) as libc::c_uint, libc::c_uint::MAX) != 0
        {
            for other in (3..4096).filter(|&f| f != m) {
                libc::close(other);
            }
        }
        libc::chdir(c"/".as_ptr());
        let flags = libc::fcntl(m, libc::F_GETFL);
        libc::fcntl(m, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        let mut buf = [0u8; 4096];
        loop {
            let n = libc::read(m, buf.as_mut_ptr().cast(), buf.len());
            if n > 0 || (n < 0 && *libc::__errno_location() == libc::EINTR) {
                continue;
            }
            libc::_exit(0);
        }
    }
}

/// Write end of the SIGWINCH self-pipe, or -1 when no [`WinchPipe`] is installed.
static WINCH_WRITE_FD: AtomicI32 = AtomicI32::new(-1);
/// Serialises installation: one pipe per process at a time.
static WINCH_LOCK: Mutex<()> = Mutex::new(());

extern "C" fn on_sigwinch(_sig: libc::c_int) {
    let fd = WINCH_WRITE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the fd is a non-blocking pipe owned by the
        // installed WinchPipe (a full pipe just drops the byte, which is fine: one is enough).
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// A pipe that becomes readable whenever the process receives SIGWINCH (its terminal was
/// resized). Dropping it restores the previous SIGWINCH disposition.
#[derive(Debug)]
pub struct WinchPipe {
    read: OwnedFd,
    _write: OwnedFd,
    old: libc::sigaction,
}

impl WinchPipe {
    /// Installs the handler. Fails with `WouldBlock` if another `WinchPipe` is alive.
    pub fn install() -> io::Result<WinchPipe> {
        let _lock = WINCH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if WINCH_WRITE_FD.load(Ordering::SeqCst) >= 0 {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "a SIGWINCH pipe is already installed",
            ));
        }
        let (read, write) = fdio::pipe()?;
        fdio::set_nonblocking(read.as_fd(), true)?;
        fdio::set_nonblocking(write.as_fd(), true)?;
        WINCH_WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value that we fill in;
        // the handler only calls write(2) on an fd that stays open until the old action is
        // restored in Drop.
        let old = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigwinch as *const () as libc::sighandler_t;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGWINCH, &act, &mut old) != 0 {
                WINCH_WRITE_FD.store(-1, Ordering::SeqCst);
                return Err(io::Error::last_os_error());
            }
            old
        };
        Ok(WinchPipe {
            read,
            _write: write,
            old,
        })
    }

    /// Empties the pipe; returns true if at least one SIGWINCH arrived since the last call.
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        while let Ok(fdio::Read::Data(_)) = fdio::read_some(self.read.as_fd(), &mut buf) {
            any = true;
        }
        any
    }
}

impl AsFd for WinchPipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for WinchPipe {
    fn drop(&mut self) {
        let _lock = WINCH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: restores the disposition saved by `install`; `old` came from the kernel.
        unsafe {
            libc::sigaction(libc::SIGWINCH, &self.old, std::ptr::null_mut());
        }
        WINCH_WRITE_FD.store(-1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pty_pair_window_size_and_raw_mode() {
        let pty = PtyPair::open().unwrap();
        assert!(is_terminal(pty.slave.as_fd()));
        let size = WinSize {
            rows: 33,
            cols: 101,
        };
        set_window_size(pty.master.as_fd(), size).unwrap();
        assert_eq!(window_size(pty.slave.as_fd()), Some(size));
        let before = rustix::termios::tcgetattr(&pty.slave).unwrap();
        {
            let _raw = RawMode::enter(pty.slave.as_fd()).unwrap();
            let raw = rustix::termios::tcgetattr(&pty.slave).unwrap();
            assert!(!raw.local_modes.contains(rustix::termios::LocalModes::ECHO));
        }
        let after = rustix::termios::tcgetattr(&pty.slave).unwrap();
        assert_eq!(before.local_modes, after.local_modes);
        assert_eq!(before.input_modes, after.input_modes);
    }

    #[test]
    fn winch_pipe_sees_the_signal() {
        let pipe = match WinchPipe::install() {
            Ok(p) => p,
            // Another test of this binary holds it; nothing to check here then.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("{e}"),
        };
        assert!(!pipe.drain());
        rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::WINCH)
            .unwrap();
        let mut pfd = [PollFd::new(&pipe, PollFlags::IN)];
        fdio::poll(&mut pfd, Some(Duration::from_secs(5))).unwrap();
        assert!(pipe.drain());
    }

    #[test]
    fn console_socket_passes_a_pty_master() {
        let tmp = tempfile::tempdir().unwrap();
        let long = tmp.path().join("x".repeat(150));
        std::fs::create_dir(&long).unwrap();
        let sock = ConsoleSocket::bind(&long, "console.sock").unwrap();
        let path = sock.runtime_path();
        assert!(path.as_os_str().len() < 108);
        let sender = std::thread::spawn(move || {
            use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
            use std::mem::MaybeUninit;
            let pty = PtyPair::open().unwrap();
            let stream = std::os::unix::net::UnixStream::connect(path).unwrap();
            let fds = [pty.master.as_fd()];
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut control = SendAncillaryBuffer::new(&mut space);
            assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
            rustix::net::sendmsg(
                &stream,
                &[io::IoSlice::new(b"/dev/pts/x")],
                &mut control,
                SendFlags::empty(),
            )
            .unwrap();
            pty
        });
        let master = sock
            .receive_master(Duration::from_secs(10), || false)
            .unwrap();
        let pty = sender.join().unwrap();
        fdio::write_all(master.as_fd(), b"ping\n").unwrap();
        let mut buf = [0u8; 16];
        let n = rustix::io::read(&pty.slave, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping\n");
        drop(sock);
        assert!(!long.join("console.sock").exists());
    }
}
