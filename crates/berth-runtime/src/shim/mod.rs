//! [`run_shim`](crate::shim::run_shim) is the body of the shim, the one small process that owns a running container,
//! and [`spawn_shim`](crate::shim::spawn_shim) starts it detached from its caller. The shim creates the container
//! through the runtime, keeps its stdio (pipes, or the pty runc hands over), writes the
//! json-file log, serves attach clients, waits for the container's init to exit, reports the
//! exit through [`ShimHooks`](crate::shim::ShimHooks) (the engine records it and cleans up) and deletes the runtime's
//! state.
//!
//! A container's run directory ([`ShimConfig::container_dir`](crate::shim::ShimConfig::container_dir):
//! the engine's is under its exec root, a tmpfs, not the data root) holds the shim's files:
//! `shim.json` (its [`ShimConfig`](crate::shim::ShimConfig)),
//! `shim.pid` (a [`ProcessStamp`](crate::shim::ProcessStamp), so that a dead shim is recognised even if its pid is
//! reused), `init.pid` (the container's init, written by the runtime) and `attach.sock`.
//! [`recover`](crate::shim::recover) cleans up after a shim that died (`kill -9`).

mod server;

use std::io::{self, BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rustix::event::{PollFd, PollFlags};
use serde::{Deserialize, Serialize};

use crate::runtime::{Runtime, RuntimeError, StartFailure, Status};
use crate::term::WinSize;

pub use server::run_shim;

/// File name of the shim's configuration in the container directory.
pub const SHIM_CONFIG: &str = "shim.json";
/// File name of the shim's [`ProcessStamp`] in the container directory.
pub const SHIM_PID: &str = "shim.pid";
/// File name of the container init's pid (written by the runtime).
pub const INIT_PID: &str = "init.pid";

/// Environment variable through which [`spawn_shim`] tells the shim its readiness fd.
pub const READY_FD_ENV: &str = "BERTH_SHIM_READY_FD";

/// Environment variable listing the descriptors [`spawn_shim_keeping`] handed to the shim.
pub const HELD_FDS_ENV: &str = "BERTH_SHIM_HELD_FDS";

/// Takes the descriptors [`spawn_shim_keeping`] handed to this shim (close-on-exec again, so
/// the runtime and the container do not inherit them). Call once, early.
pub fn take_held_fds() -> Vec<OwnedFd> {
    use std::os::fd::FromRawFd;
    let Ok(list) = std::env::var(HELD_FDS_ENV) else {
        return Vec::new();
    };
    std::env::remove_var(HELD_FDS_ENV);
    let mut out = Vec::new();
    for fd in list.split(',').filter_map(|s| s.parse::<i32>().ok()) {
        // SAFETY: F_GETFD only inspects the descriptor table; it tells whether `fd` is open.
        if fd < 3 || unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            continue;
        }
        // SAFETY: the spawner handed this open descriptor to us alone; nothing else in this
        // process owns it. Close-on-exec is restored before anything is executed.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            out.push(OwnedFd::from_raw_fd(fd));
        }
    }
    out
}

/// When the shim starts the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartMode {
    /// Right after creating it (`docker run -d`, `docker start`).
    Immediate,
    /// When the first attach client asks for it (`docker run` without `-d`, `docker start -a`),
    /// so that the client sees all output.
    OnAttach,
}

/// Everything a shim needs, stored as `shim.json` in the container directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimConfig {
    /// The runtime's container ID.
    pub id: String,
    /// The bundle directory (with `config.json`).
    pub bundle: PathBuf,
    /// The container's run directory: sockets and pid files live here (the engine keeps the
    /// bundle and `shim.json` there too, under its exec root).
    pub container_dir: PathBuf,
    /// The runtime to drive.
    pub runtime: crate::runtime::AnyRuntime,
    /// The json-file log (`None`: `--log-driver none`, nothing is kept).
    pub log_path: Option<PathBuf>,
    /// How the log rotates.
    #[serde(default)]
    pub log_rotation: crate::logs::LogRotation,
    /// The container has a terminal (must match `process.terminal` of the bundle).
    pub tty: bool,
    /// Keep the container's stdin open (`-i`).
    pub open_stdin: bool,
    /// Close the container's stdin when an attached client's stdin ends (`docker run -i`).
    pub stdin_once: bool,
    /// When to start the container.
    pub start: StartMode,
    /// Initial terminal size, if known.
    #[serde(default)]
    pub console_size: Option<WinSize>,
    /// Where the shim writes its own diagnostics (otherwise they are lost).
    #[serde(default)]
    pub debug_log: Option<PathBuf>,
}

impl ShimConfig {
    /// Writes the configuration to `path` (normally `<container dir>/shim.json`).
    pub fn save(&self, path: &Path) -> Result<(), ShimError> {
        let json = serde_json::to_vec(self).map_err(|e| ShimError::io(path, e.into()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(|e| ShimError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| ShimError::io(path, e))
    }

    /// Reads a configuration written by [`ShimConfig::save`].
    pub fn load(path: &Path) -> Result<ShimConfig, ShimError> {
        let bytes = std::fs::read(path).map_err(|e| ShimError::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| ShimError::io(path, e.into()))
    }
}

/// How a container's process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    /// Exit code as Docker reports it: the process's status, or 128+n if signal n killed it.
    pub exit_code: i32,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// When the shim saw the exit.
    pub finished_at: DateTime<Utc>,
    /// The kernel's OOM killer killed a process of the container.
    pub oom_killed: bool,
    /// Why the container never ran, when starting it failed (Docker's `State.Error`).
    pub error: Option<String>,
}

/// Callbacks run inside the shim process; the engine implements them to record the container's
/// state (SQLite), unmount its rootfs and honour `--rm`.
pub trait ShimHooks {
    /// The container's process runs with host pid `pid` since `at`.
    fn started(&mut self, pid: i32, at: DateTime<Utc>) -> Result<(), Box<dyn std::error::Error>>;
    /// The container's process is gone and its output drained; the runtime state is deleted.
    /// Attach clients get the exit code after this returns.
    fn exited(&mut self, exit: &ExitInfo);
    /// Called last, once the clients are gone and the sockets removed, while the shim's pid
    /// file still names this process (so whoever stops the container finds it and waits): a
    /// restart policy waits here and starts the container's next shim. Returns true when a
    /// new shim took the container over (its pid file replaced this one's, which must stay).
    fn finished(&mut self) -> bool {
        false
    }
}

/// What a shim reports on its readiness pipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ShimStatus {
    /// The container is created and waits for an attach client's start request
    /// ([`StartMode::OnAttach`]).
    Created {
        /// Host pid of the container's (waiting) init process.
        pid: i32,
    },
    /// The container runs ([`StartMode::Immediate`]).
    Started {
        /// Host pid of the container's init process.
        pid: i32,
    },
    /// The runtime could not create or start the container; the shim has exited.
    Failed {
        /// Docker's message and exit code.
        failure: StartFailure,
    },
}

/// A started shim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimHandle {
    /// The shim's pid and start time.
    pub shim: ProcessStamp,
    /// What it reported.
    pub status: ShimStatus,
}

/// A failure to start or find a shim.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// The shim executable could not be run.
    #[error("cannot run the shim {}: {source}", .exe.display())]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The shim exited without reporting.
    #[error("the shim exited before reporting the container's state{}", .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Died {
        /// What is known about it (its exit status, its readiness output).
        detail: Option<String>,
    },
    /// A shim file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A runtime call failed (in [`recover`]).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl ShimError {
    fn io(path: &Path, source: io::Error) -> ShimError {
        ShimError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            ShimError::Runtime(e) => e.kind(),
            _ => berth_store::ErrorKind::Internal,
        }
    }
}

/// A process identified by pid and start time (clock ticks since boot, field 22 of
/// `/proc/<pid>/stat`), so that a recycled pid is never mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessStamp {
    /// Process ID.
    pub pid: i32,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
}

/// `(state, start time)` of a process from `/proc/<pid>/stat`.
fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 overall is the 20th after the name (state is field 3).
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

impl ProcessStamp {
    /// The stamp of the running process `pid`.
    pub fn of(pid: i32) -> Option<ProcessStamp> {
        let (_, start_time) = proc_stat(pid)?;
        Some(ProcessStamp { pid, start_time })
    }

    /// This process's stamp.
    pub fn current() -> ProcessStamp {
        let pid = std::process::id() as i32;
        ProcessStamp::of(pid).unwrap_or(ProcessStamp { pid, start_time: 0 })
    }

    /// True while the process runs (not exited, not a zombie, pid not reused).
    pub fn is_alive(&self) -> bool {
        matches!(proc_stat(self.pid), Some((state, start)) if start == self.start_time && state != 'Z' && state != 'X')
    }

    /// Waits up to `timeout` for the process to exit; true once it is gone.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Some(pid) = rustix::process::Pid::from_raw(self.pid) else {
            return true;
        };
        let pidfd = match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
            Ok(fd) => Some(fd),
            Err(rustix::io::Errno::SRCH) => return true,
            Err(_) => None,
        };
        // The pidfd may name a recycled pid: check the stamp after opening it.
        if !self.is_alive() {
            return true;
        }
        loop {
            match &pidfd {
                Some(fd) => {
                    let mut pfd = [PollFd::new(fd, PollFlags::IN)];
                    let _ = crate::fdio::poll(&mut pfd, crate::fdio::remaining(Some(deadline)));
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
            if !self.is_alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
    }

    /// Writes the stamp to `path`.
    pub fn save(&self, path: &Path) -> Result<(), ShimError> {
        let json = serde_json::to_vec(self).map_err(|e| ShimError::io(path, e.into()))?;
        let tmp = path.with_extension("pid.tmp");
        std::fs::write(&tmp, json).map_err(|e| ShimError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| ShimError::io(path, e))
    }

    /// Reads a stamp written by [`ProcessStamp::save`]; `None` if there is none.
    pub fn load(path: &Path) -> Option<ProcessStamp> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

/// The stamp of the shim serving the container in `container_dir`, if one was started.
pub fn shim_stamp(container_dir: &Path) -> Option<ProcessStamp> {
    ProcessStamp::load(&container_dir.join(SHIM_PID))
}

/// True when a live shim serves the container in `container_dir`. A container recorded as
/// running whose shim is not alive needs [`recover`].
pub fn shim_alive(container_dir: &Path) -> bool {
    shim_stamp(container_dir).is_some_and(|s| s.is_alive())
}

/// Starts a shim: runs `cmd` (the engine passes its own binary with `shim <id>`-style
/// arguments; that process loads its [`ShimConfig`] and calls [`run_shim`]) with stdio on
/// `/dev/null` and a readiness pipe, and blocks until the shim reports the container created,
/// started, or failed. The shim detaches (new session, double fork): it outlives the caller.
pub fn spawn_shim(cmd: Command) -> Result<ShimHandle, ShimError> {
    spawn_shim_keeping(cmd, &[])
}

/// [`spawn_shim`], with descriptors of this process (`keep`, close-on-exec here) handed to the
/// shim under the same numbers, listed in [`HELD_FDS_ENV`]: the sockets holding a container's
/// published ports, which its shim keeps until the container exits.
pub fn spawn_shim_keeping(mut cmd: Command, keep: &[RawFd]) -> Result<ShimHandle, ShimError> {
    let exe = PathBuf::from(cmd.get_program());
    let (read, write) = crate::fdio::pipe().map_err(|e| ShimError::io(Path::new("pipe"), e))?;
    let wfd = write.as_raw_fd();
    cmd.env(READY_FD_ENV, wfd.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !keep.is_empty() {
        let list: Vec<String> = keep.iter().map(|fd| fd.to_string()).collect();
        cmd.env(HELD_FDS_ENV, list.join(","));
    }
    let mut inherit = keep.to_vec();
    inherit.push(wfd);
    // SAFETY: the closure runs in the forked child before exec and only calls fcntl(2), which
    // is async-signal-safe; it clears close-on-exec on the pipe's write end (and the held
    // descriptors) so the shim inherits them (and no other child of this possibly
    // multithreaded process does).
    unsafe {
        cmd.pre_exec(move || {
            for fd in &inherit {
                if libc::fcntl(*fd, libc::F_SETFD, 0) == -1 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|source| ShimError::Spawn {
        exe: exe.clone(),
        source,
    })?;
    drop(write);
    // The first process only forks the real shim and exits.
    let first = child.wait().map_err(|e| ShimError::io(&exe, e))?;
    let mut line = String::new();
    BufReader::new(std::fs::File::from(read))
        .read_line(&mut line)
        .map_err(|e| ShimError::io(&exe, e))?;
    if line.trim().is_empty() {
        return Err(ShimError::Died {
            detail: (!first.success()).then(|| format!("{first}")),
        });
    }
    let report: ReadyReport = serde_json::from_str(&line).map_err(|_| ShimError::Died {
        detail: Some(format!("unreadable report {:?}", line.trim())),
    })?;
    Ok(ShimHandle {
        shim: report.shim,
        status: report.status,
    })
}

/// One line on the readiness pipe.
#[derive(Debug, Serialize, Deserialize)]
struct ReadyReport {
    shim: ProcessStamp,
    #[serde(flatten)]
    status: ShimStatus,
}

/// The readiness pipe inherited from [`spawn_shim`], taken from the environment.
fn take_ready_fd() -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    let fd: i32 = std::env::var(READY_FD_ENV).ok()?.parse().ok()?;
    std::env::remove_var(READY_FD_ENV);
    // SAFETY: F_GETFD only inspects the descriptor table; it tells whether `fd` is open.
    if fd < 3 || unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return None;
    }
    // SAFETY: spawn_shim passed this descriptor to us for our exclusive use and nothing else
    // in this process owns it; it is open (checked above). Close-on-exec is restored so that
    // the runtime does not inherit it.
    unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        Some(OwnedFd::from_raw_fd(fd))
    }
}

/// Cleans up after a shim that died (e.g. `kill -9`): kills what is left of the container
/// (SIGKILL to all its processes), force-deletes its runtime state and removes the shim's
/// files. Returns the exit to record: 137 if it was still running, 255 (unknown) otherwise.
pub fn recover(
    runtime: &dyn Runtime,
    id: &str,
    container_dir: &Path,
) -> Result<ExitInfo, ShimError> {
    let mut exit = ExitInfo {
        exit_code: 255,
        signal: None,
        finished_at: Utc::now(),
        oom_killed: false,
        error: None,
    };
    match runtime.state(id) {
        Ok(state) => {
            if state.status != Status::Stopped {
                match runtime.kill(id, libc::SIGKILL, true) {
                    Ok(()) => {}
                    Err(e) if e.is_not_running() || e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline {
                    match runtime.state(id) {
                        Ok(s) if s.status != Status::Stopped => {
                            std::thread::sleep(Duration::from_millis(20))
                        }
                        _ => break,
                    }
                }
                exit.exit_code = 128 + libc::SIGKILL;
                exit.signal = Some(libc::SIGKILL);
            }
            match runtime.delete(id, true) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    exit.finished_at = Utc::now();
    for name in [SHIM_PID, crate::attach::ATTACH_SOCKET] {
        if let Ok(dir) = crate::fdio::DirHandle::open(container_dir) {
            let _ = dir.unlink(name);
        }
    }
    Ok(exit)
}

#[cfg(test)]
mod tests;
