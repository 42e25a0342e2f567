//! `AttachClient` connects a CLI (or an API connection) to a container's shim: it pumps stdin,
//! stdout and stderr through the attach socket until the container exits or the user types the
//! detach keys.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

use super::keys::{DetachKeys, EscapeScanner, Scan};
use super::protocol::{Frame, FrameDecoder, ProtocolError};
use super::ATTACH_SOCKET;
use crate::fdio::{self, DirHandle, OutBuf};
use crate::runtime::StartFailure;
use crate::term::{self, RawMode, WinSize, WinchPipe};

/// Stop reading stdin while this much is waiting to go to the shim.
const STDIN_BACKLOG: usize = 1 << 20;

/// An attach session that did not end with the container's exit code.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The shim's socket could not be reached (the container is not running, or its shim died).
    #[error("cannot attach to the container in {dir}: {source}")]
    Connect {
        /// The container directory.
        dir: PathBuf,
        /// The connect error.
        source: io::Error,
    },
    /// Reading or writing the session's descriptors failed.
    #[error("attach: {0}")]
    Io(#[from] io::Error),
    /// The shim sent something unreadable.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The shim closed the connection without sending an exit code (it died).
    #[error("attach: the container's shim went away without reporting an exit code")]
    Disconnected,
    /// The runtime could not start the container.
    #[error("{}", .0.message)]
    StartFailed(StartFailure),
}

impl AttachError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            AttachError::Connect { .. } => berth_store::ErrorKind::NotAllowed,
            AttachError::StartFailed(_) => berth_store::ErrorKind::InvalidArgument,
            _ => berth_store::ErrorKind::Internal,
        }
    }
}

/// What an attach session asks for.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// Forward our stdin to the container.
    pub stdin: bool,
    /// Receive the container's stdout (with a tty, all its output).
    pub stdout: bool,
    /// Receive the container's stderr.
    pub stderr: bool,
    /// The container has a terminal: put our stdin terminal in raw mode for the session and
    /// send our window size now and on every SIGWINCH.
    pub tty: bool,
    /// The sequence that detaches (only looked for when `stdin` is set).
    pub detach_keys: DetachKeys,
    /// Ask the shim to start the container once attached (`docker run` without `-d`,
    /// `docker start -a`), so that no output is lost.
    pub start: bool,
}

impl Default for AttachOptions {
    fn default() -> AttachOptions {
        AttachOptions {
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
            detach_keys: DetachKeys::default(),
            start: false,
        }
    }
}

/// The descriptors an attach session pumps: usually the process's own stdio
/// ([`AttachIo::stdio`]), or a hijacked API connection.
#[derive(Debug, Clone, Copy)]
pub struct AttachIo<'a> {
    /// Read and forwarded when [`AttachOptions::stdin`] is set.
    pub stdin: BorrowedFd<'a>,
    /// Receives stdout frames.
    pub stdout: BorrowedFd<'a>,
    /// Receives stderr frames.
    pub stderr: BorrowedFd<'a>,
}

impl AttachIo<'static> {
    /// This process's stdin, stdout and stderr.
    pub fn stdio() -> AttachIo<'static> {
        AttachIo {
            stdin: rustix::stdio::stdin(),
            stdout: rustix::stdio::stdout(),
            stderr: rustix::stdio::stderr(),
        }
    }
}

/// How an attach session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachOutcome {
    /// The container's process exited with this code; its exit is recorded.
    Exited(i32),
    /// The user typed the detach keys; the container keeps running.
    Detached,
}

/// A connection to a container's shim.
#[derive(Debug)]
pub struct AttachClient {
    stream: UnixStream,
}

impl AttachClient {
    /// Connects to the shim of the container whose directory is `container_dir`.
    pub fn connect(container_dir: &Path) -> Result<AttachClient, AttachError> {
        let connect_err = |source| AttachError::Connect {
            dir: container_dir.to_path_buf(),
            source,
        };
        let dir = DirHandle::open(container_dir).map_err(connect_err)?;
        let stream = UnixStream::connect(dir.short_path(ATTACH_SOCKET)).map_err(connect_err)?;
        Ok(AttachClient { stream })
    }

    /// Tells the shim which streams this session takes before [`AttachClient::run`] pumps
    /// them (which says it again): what the container writes from then on is kept for this
    /// client, so a caller can answer its own client first (the API's attach, whose client
    /// sends `start` as soon as it has the answer) without losing output.
    pub fn hello(&mut self, opts: &AttachOptions) -> Result<(), AttachError> {
        self.send_blocking(&[Frame::Hello {
            stdin: opts.stdin,
            stdout: opts.stdout,
            stderr: opts.stderr,
        }])
    }

    /// Starts a container whose shim waits for its first attach, without attaching to it.
    /// Returns once the container runs (or has already exited).
    pub fn start(container_dir: &Path) -> Result<(), AttachError> {
        let mut c = AttachClient::connect(container_dir)?;
        c.send_blocking(&[
            Frame::Hello {
                stdin: false,
                stdout: false,
                stderr: false,
            },
            Frame::Start,
        ])?;
        loop {
            match c.recv_blocking(None)? {
                Some(Frame::Started) | Some(Frame::Exit(_)) => return Ok(()),
                Some(Frame::StartFailed(f)) => return Err(AttachError::StartFailed(f)),
                Some(_) => continue,
                None => return Err(AttachError::Disconnected),
            }
        }
    }

    /// Waits until the container exits (and its exit is recorded) and returns its exit code,
    /// or `None` when `timeout` passes first.
    pub fn wait(
        container_dir: &Path,
        timeout: Option<Duration>,
    ) -> Result<Option<i32>, AttachError> {
        let mut c = AttachClient::connect(container_dir)?;
        c.send_blocking(&[Frame::Hello {
            stdin: false,
            stdout: false,
            stderr: false,
        }])?;
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            match c.recv_blocking(deadline)? {
                Some(Frame::Exit(code)) => return Ok(Some(code)),
                Some(_) => continue,
                None if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(None),
                None => return Err(AttachError::Disconnected),
            }
        }
    }

    /// Sends a terminal size to a container with a tty (the API's resize call).
    pub fn resize(container_dir: &Path, size: WinSize) -> Result<(), AttachError> {
        let mut c = AttachClient::connect(container_dir)?;
        c.send_blocking(&[
            Frame::Hello {
                stdin: false,
                stdout: false,
                stderr: false,
            },
            Frame::Resize(size),
        ])
    }

    pub(crate) fn send_blocking(&mut self, frames: &[Frame]) -> Result<(), AttachError> {
        let mut bytes = Vec::new();
        for f in frames {
            f.encode(&mut bytes);
        }
        fdio::send_all(self.stream.as_fd(), &bytes).map_err(gone)
    }

    /// The next frame; `None` on end of stream or when `deadline` passes.
    fn recv_blocking(&mut self, deadline: Option<Instant>) -> Result<Option<Frame>, AttachError> {
        let mut dec = FrameDecoder::default();
        let mut buf = [0u8; 8192];
        loop {
            if let Some(f) = dec.next_frame()? {
                return Ok(Some(f));
            }
            let mut pfd = [PollFd::new(&self.stream, PollFlags::IN)];
            fdio::poll(&mut pfd, fdio::remaining(deadline))?;
            if !fdio::readable(pfd[0].revents()) {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(None);
                }
                continue;
            }
            match fdio::read_some(self.stream.as_fd(), &mut buf)? {
                fdio::Read::Data(n) => dec.push(&buf[..n]),
                fdio::Read::WouldBlock => {}
                fdio::Read::Eof => return Ok(None),
            }
        }
    }

    /// Runs the session until the container exits or the user detaches.
    pub fn run(self, opts: &AttachOptions, io: AttachIo<'_>) -> Result<AttachOutcome, AttachError> {
        let _raw = if opts.tty && opts.stdin && term::is_terminal(io.stdin) {
            Some(RawMode::enter(io.stdin)?)
        } else {
            None
        };
        let winch = if opts.tty && term::is_terminal(io.stdout) {
            WinchPipe::install().ok()
        } else {
            None
        };
        let sock = self.stream.as_fd();
        fdio::set_nonblocking(sock, true)?;
        let mut out = OutBuf::default();
        let push = |out: &mut OutBuf, f: Frame| out.push(&f.to_bytes());
        push(
            &mut out,
            Frame::Hello {
                stdin: opts.stdin,
                stdout: opts.stdout,
                stderr: opts.stderr,
            },
        );
        let term_size = || term::window_size(io.stdout).or_else(|| term::window_size(io.stdin));
        if opts.tty {
            if let Some(ws) = term_size() {
                push(&mut out, Frame::Resize(ws));
            }
        }
        if opts.start {
            push(&mut out, Frame::Start);
        }
        let mut scanner = EscapeScanner::new(&opts.detach_keys);
        let mut stdin_open = opts.stdin;
        let mut stdout_ok = true;
        let mut stderr_ok = true;
        let mut dec = FrameDecoder::default();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let sock_events = if out.is_empty() {
                PollFlags::IN
            } else {
                PollFlags::IN | PollFlags::OUT
            };
            let want_stdin = stdin_open && out.len() < STDIN_BACKLOG;
            let mut fds = vec![PollFd::from_borrowed_fd(sock, sock_events)];
            let stdin_idx = want_stdin.then(|| {
                fds.push(PollFd::from_borrowed_fd(io.stdin, PollFlags::IN));
                fds.len() - 1
            });
            let winch_idx = winch.as_ref().map(|w| {
                fds.push(PollFd::new(w, PollFlags::IN));
                fds.len() - 1
            });
            fdio::poll(&mut fds, None)?;
            let revents: Vec<PollFlags> = fds.iter().map(|f| f.revents()).collect();
            drop(fds);

            if revents[0].contains(PollFlags::OUT) {
                out.send_to(sock).map_err(gone)?;
            }
            if fdio::readable(revents[0]) {
                match fdio::read_some(sock, &mut buf)? {
                    fdio::Read::Data(n) => dec.push(&buf[..n]),
                    fdio::Read::WouldBlock => {}
                    fdio::Read::Eof => return Err(AttachError::Disconnected),
                }
                while let Some(frame) = dec.next_frame()? {
                    match frame {
                        Frame::Stdout(d) if stdout_ok => stdout_ok = forward(io.stdout, &d)?,
                        Frame::Stderr(d) if stderr_ok => stderr_ok = forward(io.stderr, &d)?,
                        Frame::Exit(code) => return Ok(AttachOutcome::Exited(code)),
                        Frame::StartFailed(f) => return Err(AttachError::StartFailed(f)),
                        _ => {}
                    }
                }
            }
            if let Some(i) = stdin_idx {
                if fdio::readable(revents[i]) {
                    match fdio::read_some(io.stdin, &mut buf)? {
                        fdio::Read::Data(n) => match scanner.feed(&buf[..n]) {
                            Scan::Forward(bytes) => {
                                if !bytes.is_empty() {
                                    push(&mut out, Frame::Stdin(bytes));
                                }
                            }
                            Scan::Detach(bytes) => {
                                if !bytes.is_empty() {
                                    push(&mut out, Frame::Stdin(bytes));
                                }
                                flush_before_leaving(sock, &mut out);
                                return Ok(AttachOutcome::Detached);
                            }
                        },
                        fdio::Read::WouldBlock => {}
                        fdio::Read::Eof => {
                            let held = scanner.flush();
                            if !held.is_empty() {
                                push(&mut out, Frame::Stdin(held));
                            }
                            push(&mut out, Frame::CloseStdin);
                            stdin_open = false;
                        }
                    }
                }
            }
            if let (Some(i), Some(w)) = (winch_idx, winch.as_ref()) {
                if fdio::readable(revents[i]) && w.drain() {
                    if let Some(ws) = term_size() {
                        push(&mut out, Frame::Resize(ws));
                    }
                }
            }
            if !out.is_empty() {
                out.send_to(sock).map_err(gone)?;
            }
        }
    }
}

/// A failed send to the shim: a closed connection means the shim went away.
fn gone(e: io::Error) -> AttachError {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => AttachError::Disconnected,
        _ => AttachError::Io(e),
    }
}

/// Writes output to one of the session's descriptors; a closed reader (EPIPE) stops that
/// stream (returns false) without ending the session.
fn forward(fd: BorrowedFd<'_>, data: &[u8]) -> io::Result<bool> {
    match fdio::write_all(fd, data) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

/// Gives queued stdin a second to reach the shim before a detach closes the connection.
fn flush_before_leaving(sock: BorrowedFd<'_>, out: &mut OutBuf) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while !out.is_empty() && Instant::now() < deadline {
        if out.send_to(sock).is_err() {
            return;
        }
        let mut pfd = [PollFd::from_borrowed_fd(sock, PollFlags::OUT)];
        if fdio::poll(&mut pfd, fdio::remaining(Some(deadline))).is_err() {
            return;
        }
    }
}
