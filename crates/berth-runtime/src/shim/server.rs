//! `run_shim` is the body of the shim process: one thread, one poll(2) loop over the signalfd
//! for SIGCHLD, the attach listener and its clients, and the container's stdio.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use rustix::event::{PollFd, PollFlags};

use super::{
    take_ready_fd, ExitInfo, ProcessStamp, ReadyReport, ShimConfig, ShimHooks, ShimStatus,
    StartMode, INIT_PID, SHIM_PID,
};
use crate::attach::{self, Frame, FrameDecoder};
use crate::fdio::{self, DirHandle, OutBuf};
use crate::logs::{LogWriter, Stream};
use crate::runtime::{
    read_pid_file, CreateOptions, ProcessIo, Runtime, RuntimeError, StartFailure,
};
use crate::term::{self, ConsoleSocket};

/// Stop reading the container's output while a client has this much unsent.
const CLIENT_BACKLOG: usize = 1 << 20;
/// Stop reading clients while this much waits for the container's stdin.
const STDIN_BACKLOG: usize = 1 << 20;
/// How long output may keep coming after the init process exited.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long clients get to receive the exit code.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// Name of the console socket in the container directory.
const CONSOLE_SOCKET: &str = "console.sock";

/// Writes a diagnostic line to the shim's stderr (its debug log, or /dev/null).
fn debug(msg: &str) {
    let _ = writeln!(
        io::stderr(),
        "{} shim[{}]: {msg}",
        Utc::now().to_rfc3339(),
        std::process::id()
    );
}

/// Runs the shim for `config` and exits the process; never returns. Call it early in a
/// freshly started process (before any thread exists): it forks to detach from its parent.
pub fn run_shim(config: ShimConfig, hooks: &mut dyn ShimHooks) -> ! {
    crate::phases::mark("shim.main");
    let ready = take_ready_fd();
    // Writes to a departed client must fail with EPIPE, not kill the shim (the engine's binary
    // may restore SIGPIPE's default for its CLI).
    // SAFETY: setting SIGPIPE's disposition to "ignore" installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    if let Some(path) = &config.debug_log {
        redirect_stderr(path);
    }
    if let Err(e) = daemonize() {
        debug(&format!("cannot detach: {e}"));
        std::process::exit(1);
    }
    let mut ready = Ready(ready);
    let code = match Shim::setup(config) {
        Ok(mut shim) => shim.run(hooks, &mut ready),
        Err(failure) => {
            debug(&format!("container not created: {}", failure.message));
            ready.send(ShimStatus::Failed { failure });
            1
        }
    };
    std::process::exit(code)
}

fn redirect_stderr(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
    {
        // SAFETY: dup2 onto fd 2 replaces this process's stderr with the log file; fd 2 is
        // not owned by any Rust object here (std's Stderr only borrows it).
        unsafe {
            libc::dup2(f.as_raw_fd(), 2);
        }
    }
}

/// New session, then fork: the parent (the process our caller waits for) exits at once and
/// the child carries on, reparented away from the caller.
fn daemonize() -> io::Result<()> {
    let _ = rustix::process::setsid();
    let _ = std::env::set_current_dir("/");
    // SAFETY: the shim is single-threaded at this point (run_shim's documented contract), so
    // the child may keep running ordinary Rust code after fork.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(()),
        _ => {
            // SAFETY: _exit leaves without running exit handlers or flushing stdio buffers,
            // which now belong to the child.
            unsafe { libc::_exit(0) }
        }
    }
}

/// The readiness pipe: one JSON line, then closed.
struct Ready(Option<OwnedFd>);

impl Ready {
    fn send(&mut self, status: ShimStatus) {
        if let Some(fd) = self.0.take() {
            let report = ReadyReport {
                shim: ProcessStamp::current(),
                status,
            };
            let mut line = serde_json::to_vec(&report).unwrap_or_default();
            line.push(b'\n');
            let _ = fdio::write_all(fd.as_fd(), &line);
        }
    }
}

/// SIGCHLD delivered through a signalfd.
struct ChildSignals {
    fd: OwnedFd,
}

impl ChildSignals {
    fn new() -> io::Result<ChildSignals> {
        // SAFETY: the sigset is initialised by sigemptyset/sigaddset before use; blocking
        // SIGCHLD in this (only) thread makes it pending for the signalfd instead of running a
        // handler. Children started through std::process::Command get an empty mask again.
        let fd = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd returned a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(ChildSignals { fd })
    }

    fn drain(&self) {
        let mut buf = [0u8; 128 * 8];
        while let Ok(fdio::Read::Data(_)) = fdio::read_some(self.fd.as_fd(), &mut buf) {}
    }
}

struct Client {
    stream: UnixStream,
    dec: FrameDecoder,
    out: OutBuf,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    dead: bool,
}

impl Client {
    fn send(&mut self, frame: &Frame) {
        if !self.dead {
            self.out.push(&frame.to_bytes());
        }
    }
}

/// The container's output streams: pipes, or one pty master.
struct Output {
    fd: OwnedFd,
    stream: Stream,
}

struct Shim {
    cfg: ShimConfig,
    runtime: crate::runtime::AnyRuntime,
    dir: DirHandle,
    listener: UnixListener,
    signals: ChildSignals,
    log: LogWriter,
    init_pid: i32,
    outputs: Vec<Output>,
    /// Where client stdin goes: the stdin pipe, or a duplicate of the pty master.
    stdin: Option<OwnedFd>,
    stdin_buf: OutBuf,
    close_stdin_after_flush: bool,
    /// The pty master (for resizes).
    master: Option<OwnedFd>,
    clients: Vec<Client>,
    started: bool,
    status: Option<rustix::process::WaitStatus>,
    start_failure: Option<StartFailure>,
}

impl Shim {
    /// Everything up to `runtime create`: subreaper, signals, pid file, attach socket, log,
    /// stdio, create. A failure here leaves nothing behind.
    fn setup(cfg: ShimConfig) -> Result<Shim, StartFailure> {
        let ours = |what: &str, e: &dyn std::fmt::Display| {
            StartFailure::other(format!("shim: {what}: {e}"))
        };
        rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
            .map_err(|e| ours("PR_SET_CHILD_SUBREAPER", &e))?;
        let signals = ChildSignals::new().map_err(|e| ours("signalfd", &e))?;
        let dir =
            DirHandle::open(&cfg.container_dir).map_err(|e| ours("container directory", &e))?;
        ProcessStamp::current()
            .save(&cfg.container_dir.join(SHIM_PID))
            .map_err(|e| ours("pid file", &e))?;
        let (_, listener) =
            attach::bind_socket(&cfg.container_dir).map_err(|e| ours("attach socket", &e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ours("attach socket", &e))?;
        let log = match &cfg.log_path {
            Some(path) => {
                LogWriter::open_rotating(path, cfg.log_rotation).map_err(|e| ours("log", &e))?
            }
            None => LogWriter::discard(),
        };
        let runtime = cfg.runtime.clone();
        let pid_file = cfg.container_dir.join(INIT_PID);
        let _ = std::fs::remove_file(&pid_file);

        let mut shim = Shim {
            runtime,
            dir,
            listener,
            signals,
            log,
            init_pid: 0,
            outputs: Vec::new(),
            stdin: None,
            stdin_buf: OutBuf::default(),
            close_stdin_after_flush: false,
            master: None,
            clients: Vec::new(),
            started: false,
            status: None,
            start_failure: None,
            cfg,
        };
        if let Err(failure) = shim.create(&pid_file) {
            let _ = shim.runtime.delete(&shim.cfg.id, true);
            shim.remove_files();
            return Err(failure);
        }
        Ok(shim)
    }

    fn create(&mut self, pid_file: &Path) -> Result<(), StartFailure> {
        let ours = |what: &str, e: &dyn std::fmt::Display| {
            StartFailure::other(format!("shim: {what}: {e}"))
        };
        let runtime_failure = |e: RuntimeError| match e {
            RuntimeError::Failed { message, .. } => StartFailure::create(&message),
            other => StartFailure::other(other.to_string()),
        };
        let id = self.cfg.id.clone();
        crate::phases::mark("runtime.create");
        if self.cfg.tty {
            let console = ConsoleSocket::bind(&self.cfg.container_dir, CONSOLE_SOCKET)
                .map_err(|e| ours("console socket", &e))?;
            self.runtime
                .create(
                    &id,
                    &self.cfg.bundle,
                    CreateOptions {
                        pid_file: pid_file.to_path_buf(),
                        console_socket: Some(console.runtime_path()),
                        io: ProcessIo::default(),
                    },
                )
                .map_err(runtime_failure)?;
            // runc connected and sent the master before `create` returned.
            let master = console
                .receive_master(Duration::from_secs(5), || true)
                .map_err(|e| ours("console", &e))?;
            fdio::set_nonblocking(master.as_fd(), true).map_err(|e| ours("console", &e))?;
            if let Some(size) = self.cfg.console_size {
                let _ = term::set_window_size(master.as_fd(), size);
            }
            if self.cfg.open_stdin {
                self.stdin = Some(master.try_clone().map_err(|e| ours("console", &e))?);
            }
            self.outputs.push(Output {
                fd: master.try_clone().map_err(|e| ours("console", &e))?,
                stream: Stream::Stdout,
            });
            self.master = Some(master);
        } else {
            let pipe = || fdio::pipe().map_err(|e| ours("pipe", &e));
            let (out_r, out_w) = pipe()?;
            let (err_r, err_w) = pipe()?;
            let stdin = if self.cfg.open_stdin {
                let (r, w) = pipe()?;
                fdio::set_nonblocking(w.as_fd(), true).map_err(|e| ours("pipe", &e))?;
                self.stdin = Some(w);
                Some(r)
            } else {
                None
            };
            for r in [&out_r, &err_r] {
                fdio::set_nonblocking(r.as_fd(), true).map_err(|e| ours("pipe", &e))?;
            }
            self.runtime
                .create(
                    &id,
                    &self.cfg.bundle,
                    CreateOptions {
                        pid_file: pid_file.to_path_buf(),
                        console_socket: None,
                        io: ProcessIo {
                            stdin,
                            stdout: Some(out_w),
                            stderr: Some(err_w),
                        },
                    },
                )
                .map_err(runtime_failure)?;
            self.outputs.push(Output {
                fd: out_r,
                stream: Stream::Stdout,
            });
            self.outputs.push(Output {
                fd: err_r,
                stream: Stream::Stderr,
            });
        }
        self.init_pid = read_pid_file(pid_file).map_err(|e| ours("init pid", &e))?;
        crate::phases::mark("runtime.created");
        Ok(())
    }

    /// `runtime start`; on success the hooks hear of it.
    fn start(&mut self, hooks: &mut dyn ShimHooks) -> Result<(), StartFailure> {
        if self.started {
            return Ok(());
        }
        crate::phases::mark("runtime.start");
        self.runtime.start(&self.cfg.id).map_err(|e| match e {
            RuntimeError::Failed { message, .. } => StartFailure::start(&message),
            other => StartFailure::other(other.to_string()),
        })?;
        self.started = true;
        crate::phases::mark("runtime.started");
        if let Err(e) = hooks.started(self.init_pid, Utc::now()) {
            debug(&format!("started hook failed: {e}"));
        }
        Ok(())
    }

    fn run(&mut self, hooks: &mut dyn ShimHooks, ready: &mut Ready) -> i32 {
        match self.cfg.start {
            StartMode::Immediate => match self.start(hooks) {
                Ok(()) => ready.send(ShimStatus::Started { pid: self.init_pid }),
                Err(failure) => {
                    debug(&format!("start failed: {}", failure.message));
                    let _ = self.runtime.delete(&self.cfg.id, true);
                    self.remove_files();
                    ready.send(ShimStatus::Failed { failure });
                    return 1;
                }
            },
            StartMode::OnAttach => ready.send(ShimStatus::Created { pid: self.init_pid }),
        }
        if let Err(e) = self.event_loop(hooks) {
            debug(&format!("event loop failed: {e}"));
            // Whatever broke, do not leave a container nobody watches.
            let _ = self.runtime.kill(&self.cfg.id, libc::SIGKILL, true);
            self.wait_init_blocking();
        }
        self.finish(hooks);
        0
    }

    fn event_loop(&mut self, hooks: &mut dyn ShimHooks) -> io::Result<()> {
        let mut buf = vec![0u8; 32 * 1024];
        let mut drain_deadline: Option<Instant> = None;
        loop {
            // A container killed before it started (or a failed start) never produces output.
            if self.start_failure.is_some() {
                return Ok(());
            }
            if self.status.is_some() {
                let deadline =
                    *drain_deadline.get_or_insert_with(|| Instant::now() + DRAIN_TIMEOUT);
                if self.outputs.is_empty() {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    // Nothing moved for a while. Clients that stopped reading hold the output
                    // back: drop them so the log still gets everything; otherwise some
                    // process keeps the output open and waiting longer will not help.
                    let mut dropped = false;
                    for c in &mut self.clients {
                        if c.out.len() > CLIENT_BACKLOG {
                            c.dead = true;
                            dropped = true;
                        }
                    }
                    if !dropped {
                        return Ok(());
                    }
                    self.clients.retain(|c| !c.dead);
                    drain_deadline = Some(Instant::now() + DRAIN_TIMEOUT);
                }
            }
            let outputs_paused = self.clients.iter().any(|c| c.out.len() > CLIENT_BACKLOG);
            let clients_paused = self.stdin_buf.len() > STDIN_BACKLOG;

            let mut fds: Vec<PollFd<'_>> = Vec::new();
            fds.push(PollFd::new(&self.signals.fd, PollFlags::IN));
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
            let first_client = fds.len();
            for c in &self.clients {
                let mut ev = PollFlags::empty();
                if !clients_paused {
                    ev |= PollFlags::IN;
                }
                if !c.out.is_empty() {
                    ev |= PollFlags::OUT;
                }
                fds.push(PollFd::new(&c.stream, ev));
            }
            let first_output = fds.len();
            for o in &self.outputs {
                let ev = if outputs_paused {
                    PollFlags::empty()
                } else {
                    PollFlags::IN
                };
                fds.push(PollFd::new(&o.fd, ev));
            }
            let stdin_idx = match &self.stdin {
                Some(fd) if !self.stdin_buf.is_empty() => {
                    fds.push(PollFd::new(fd, PollFlags::OUT));
                    Some(fds.len() - 1)
                }
                _ => None,
            };
            fdio::poll(&mut fds, fdio::remaining(drain_deadline))?;
            let revents: Vec<PollFlags> = fds.iter().map(|f| f.revents()).collect();
            drop(fds);

            if fdio::readable(revents[0]) {
                self.signals.drain();
                self.reap();
            }
            if fdio::readable(revents[1]) {
                self.accept();
            }
            let n_clients = first_output - first_client;
            let mut progress = false;
            for i in 0..n_clients {
                let ev = revents[first_client + i];
                if ev.contains(PollFlags::OUT) {
                    let c = &mut self.clients[i];
                    let before = c.out.len();
                    if c.out.send_to(c.stream.as_fd()).is_err() {
                        c.dead = true;
                    }
                    progress |= c.out.len() < before;
                }
                if fdio::readable(ev) {
                    self.read_client(i, &mut buf, hooks);
                }
            }
            let n_outputs = self.outputs.len();
            let mut closed = Vec::new();
            for i in 0..n_outputs {
                if fdio::readable(revents[first_output + i]) {
                    match self.read_output(i, &mut buf)? {
                        fdio::Read::Eof => closed.push(i),
                        fdio::Read::Data(_) => progress = true,
                        fdio::Read::WouldBlock => {}
                    }
                }
            }
            if progress && drain_deadline.is_some() {
                // Still draining after the exit: wait as long as output keeps moving.
                drain_deadline = Some(Instant::now() + DRAIN_TIMEOUT);
            }
            for i in closed.into_iter().rev() {
                let o = self.outputs.remove(i);
                let _ = self.log.finish(o.stream, Utc::now());
            }
            if self.outputs.is_empty() {
                // A pty's master is gone with its output; stdin has nowhere to go.
                if self.master.is_some() {
                    self.stdin = None;
                }
            }
            if let Some(i) = stdin_idx {
                if !revents[i].is_empty() {
                    self.flush_stdin();
                }
            }
            for c in &mut self.clients {
                if !c.out.is_empty() && c.out.send_to(c.stream.as_fd()).is_err() {
                    c.dead = true;
                }
            }
            self.clients.retain(|c| !c.dead);
        }
    }

    /// Reaps every exited child; remembers the init process's status.
    fn reap(&mut self) {
        use rustix::process::WaitOptions;
        loop {
            match rustix::process::wait(WaitOptions::NOHANG) {
                Ok(Some((pid, status))) => {
                    if pid.as_raw_nonzero().get() == self.init_pid {
                        crate::phases::mark("container.exited");
                        self.status = Some(status);
                    }
                }
                Ok(None) | Err(_) => return,
            }
        }
    }

    /// Blocks until the init process is reaped (after a fatal loop error and a SIGKILL).
    fn wait_init_blocking(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.status.is_none() && Instant::now() < deadline {
            self.reap();
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_ok() {
                        self.clients.push(Client {
                            stream,
                            dec: FrameDecoder::default(),
                            out: OutBuf::default(),
                            stdin: false,
                            stdout: false,
                            stderr: false,
                            dead: false,
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
    }

    fn read_client(&mut self, i: usize, buf: &mut [u8], hooks: &mut dyn ShimHooks) {
        let read = fdio::read_some(self.clients[i].stream.as_fd(), buf);
        match read {
            Ok(fdio::Read::Data(n)) => self.clients[i].dec.push(&buf[..n]),
            Ok(fdio::Read::WouldBlock) => return,
            Ok(fdio::Read::Eof) | Err(_) => {
                self.clients[i].dead = true;
                return;
            }
        }
        loop {
            let frame = match self.clients[i].dec.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return,
                Err(e) => {
                    debug(&format!("client dropped: {e}"));
                    self.clients[i].dead = true;
                    return;
                }
            };
            self.handle_frame(i, frame, hooks);
        }
    }

    fn handle_frame(&mut self, i: usize, frame: Frame, hooks: &mut dyn ShimHooks) {
        match frame {
            Frame::Hello {
                stdin,
                stdout,
                stderr,
            } => {
                let c = &mut self.clients[i];
                c.stdin = stdin;
                c.stdout = stdout;
                c.stderr = stderr;
            }
            Frame::Stdin(data)
                if self.clients[i].stdin
                    && self.stdin.is_some()
                    && !self.close_stdin_after_flush =>
            {
                self.stdin_buf.push(&data);
                self.flush_stdin();
            }
            Frame::CloseStdin => {
                self.clients[i].stdin = false;
                if self.cfg.stdin_once && self.master.is_none() && self.stdin.is_some() {
                    self.close_stdin_after_flush = true;
                    self.flush_stdin();
                }
            }
            Frame::Resize(size) => {
                if let Some(m) = &self.master {
                    let _ = term::set_window_size(m.as_fd(), size);
                }
            }
            Frame::Start => {
                if self.status.is_some() {
                    // Already over; the exit code follows.
                    return;
                }
                match self.start(hooks) {
                    Ok(()) => self.clients[i].send(&Frame::Started),
                    Err(failure) => {
                        debug(&format!("start failed: {}", failure.message));
                        self.clients[i].send(&Frame::StartFailed(failure.clone()));
                        self.start_failure = Some(failure);
                    }
                }
            }
            // Shim-to-client frames from a client are ignored.
            _ => {}
        }
    }

    /// Writes queued stdin; closes the container's stdin when asked to and everything is out.
    fn flush_stdin(&mut self) {
        if let Some(fd) = &self.stdin {
            if self.stdin_buf.flush_to(fd.as_fd()).is_err() {
                // The container closed its end.
                self.stdin = None;
                self.stdin_buf.clear();
            }
        }
        if self.close_stdin_after_flush && self.stdin_buf.is_empty() {
            self.stdin = None;
        }
    }

    /// Reads one chunk of output, logs it and queues it for the clients that want it.
    fn read_output(&mut self, i: usize, buf: &mut [u8]) -> io::Result<fdio::Read> {
        let stream = self.outputs[i].stream;
        let read = fdio::read_some(self.outputs[i].fd.as_fd(), buf)?;
        if let fdio::Read::Data(n) = read {
            let data = &buf[..n];
            if let Err(e) = self.log.write(stream, data, Utc::now()) {
                debug(&format!("log write failed: {e}"));
            }
            let frame = match stream {
                Stream::Stdout => Frame::Stdout(data.to_vec()),
                Stream::Stderr => Frame::Stderr(data.to_vec()),
            };
            for c in &mut self.clients {
                let wants = match stream {
                    Stream::Stdout => c.stdout,
                    Stream::Stderr => c.stderr,
                };
                if wants {
                    c.send(&frame);
                }
            }
        }
        Ok(read)
    }

    /// The exit: log flushed, runtime state deleted, hooks told, clients told, files removed.
    fn finish(&mut self, hooks: &mut dyn ShimHooks) {
        let now = Utc::now();
        for o in std::mem::take(&mut self.outputs) {
            let _ = self.log.finish(o.stream, now);
        }
        self.stdin = None;
        let oom_killed = self.oom_killed();
        let exit = match (&self.start_failure, self.status) {
            (Some(f), _) => ExitInfo {
                exit_code: f.state_exit_code(),
                signal: None,
                finished_at: now,
                oom_killed: false,
                error: Some(f.message.clone()),
            },
            (None, Some(status)) => {
                let signal = status.terminating_signal();
                ExitInfo {
                    exit_code: status
                        .exit_status()
                        .unwrap_or_else(|| 128 + signal.unwrap_or(0)),
                    signal,
                    finished_at: now,
                    oom_killed,
                    error: None,
                }
            }
            (None, None) => ExitInfo {
                exit_code: 255,
                signal: None,
                finished_at: now,
                oom_killed,
                error: Some("the container's exit status was lost".into()),
            },
        };
        if let Err(e) = self.runtime.delete(&self.cfg.id, false) {
            if !e.is_not_found() {
                if let Err(e) = self.runtime.delete(&self.cfg.id, true) {
                    debug(&format!("runtime delete failed: {e}"));
                }
            }
        }
        crate::phases::mark("runtime.deleted");
        hooks.exited(&exit);
        crate::phases::mark("shim.hooks.exited");
        let goodbye = Frame::Exit(exit.exit_code);
        for c in &mut self.clients {
            c.send(&goodbye);
        }
        // Clients get their remaining output and the exit code for as long as they keep
        // reading; one that stops reading for GOODBYE_TIMEOUT is dropped.
        let mut deadline = Instant::now() + GOODBYE_TIMEOUT;
        while Instant::now() < deadline {
            for c in &mut self.clients {
                let before = c.out.len();
                if c.out.send_to(c.stream.as_fd()).is_err() {
                    c.dead = true;
                } else if c.out.len() < before {
                    deadline = Instant::now() + GOODBYE_TIMEOUT;
                }
            }
            self.clients.retain(|c| !c.dead && !c.out.is_empty());
            if self.clients.is_empty() {
                break;
            }
            let mut fds: Vec<PollFd<'_>> = self
                .clients
                .iter()
                .map(|c| PollFd::new(&c.stream, PollFlags::OUT))
                .collect();
            let _ = fdio::poll(&mut fds, fdio::remaining(Some(deadline)));
        }
        self.remove_sockets();
        if !hooks.finished() {
            let _ = self.dir.unlink(SHIM_PID);
        }
    }

    fn remove_sockets(&self) {
        for name in [attach::ATTACH_SOCKET, CONSOLE_SOCKET] {
            let _ = self.dir.unlink(name);
        }
    }

    fn remove_files(&self) {
        self.remove_sockets();
        let _ = self.dir.unlink(SHIM_PID);
    }

    /// True when the container's memory cgroup counted an OOM kill.
    fn oom_killed(&self) -> bool {
        let Ok(spec) = std::fs::read(self.cfg.bundle.join("config.json")) else {
            return false;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&spec) else {
            return false;
        };
        let Some(path) = v["linux"]["cgroupsPath"].as_str() else {
            return false;
        };
        let dir = crate::spec::systemd_cgroup_dir(path);
        let path = dir.as_deref().unwrap_or(path).trim_start_matches('/');
        let candidates = [
            (
                format!("/sys/fs/cgroup/memory/{path}/memory.oom_control"),
                "oom_kill ",
            ),
            (format!("/sys/fs/cgroup/{path}/memory.events"), "oom_kill "),
        ];
        candidates.iter().any(|(file, key)| {
            std::fs::read_to_string(file).is_ok_and(|text| {
                text.lines().any(|l| {
                    l.strip_prefix(key)
                        .and_then(|n| n.trim().parse::<u64>().ok())
                        .is_some_and(|n| n > 0)
                })
            })
        })
    }
}
