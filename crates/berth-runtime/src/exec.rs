//! `ExecSpec` describes a process to run in a running container (`docker exec`); [`exec`] runs
//! it through [`Runtime::exec`] and returns its exit code, passing the caller's stdio straight
//! through, or, with a terminal, proxying the pty the runtime hands over (raw mode, resizes).
//! Detached with a terminal (`-d -t`), the pty goes to a background holder
//! ([`term::hold_master_in_background`]) that keeps it open for the process.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oci_spec::runtime::{PosixRlimit, Process};
use rustix::event::{PollFd, PollFlags};
use serde::{Deserialize, Serialize};

use crate::attach::AttachIo;
use crate::fdio::{self, OutBuf};
use crate::runtime::{read_pid_file, ExecOptions, ProcessIo, Runtime, RuntimeError, StartFailure};
use crate::spec::{
    capabilities_for, merge_env, SpecError, User, DEFAULT_CAPABILITIES, DEFAULT_PATH_ENV,
};
use crate::term::{self, RawMode, WinSize, WinchPipe};

/// The process to run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecSpec {
    /// Command and arguments.
    pub args: Vec<String>,
    /// `KEY=value` entries: the container's environment followed by the exec's own.
    pub env: Vec<String>,
    /// Working directory (`""`: `/`).
    pub cwd: String,
    /// Numeric identity.
    pub user: User,
    /// Allocate a terminal (`-t`).
    pub tty: bool,
    /// The container's hostname (for `HOSTNAME`).
    pub hostname: String,
    /// With a terminal: its initial size ([`exec`] fills it from the caller's terminal).
    #[serde(default)]
    pub console_size: Option<WinSize>,
    /// Resource limits: the container's own ([`bundle_rlimits`]), so `--ulimit` holds for
    /// exec'd processes too; `None` inherits the runtime's (the caller's) limits.
    #[serde(default)]
    pub rlimits: Option<Vec<PosixRlimit>>,
    /// The container's capabilities (`None`: Docker's default set), which an exec gets too.
    #[serde(default)]
    pub capabilities: Option<Vec<String>>,
    /// The container's `no-new-privileges`, which an exec gets too.
    #[serde(default)]
    pub no_new_privileges: bool,
}

/// The resource limits the container's init process got (its bundle's `process.rlimits`).
pub fn bundle_rlimits(bundle: &Path) -> Result<Option<Vec<PosixRlimit>>, ExecError> {
    let config = bundle.join("config.json");
    let spec = oci_spec::runtime::Spec::load(&config).map_err(|e| ExecError::Io {
        id: bundle.display().to_string(),
        source: io::Error::other(e.to_string()),
    })?;
    Ok(spec.process().as_ref().and_then(|p| p.rlimits().clone()))
}

impl ExecSpec {
    /// The OCI process description written to `process.json`.
    pub fn to_oci(&self) -> Result<Process, SpecError> {
        let default_caps: Vec<String>;
        let caps = match &self.capabilities {
            Some(c) => c,
            None => {
                default_caps = DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect();
                &default_caps
            }
        };
        let mut defaults = vec![
            DEFAULT_PATH_ENV.to_string(),
            format!("HOSTNAME={}", self.hostname),
        ];
        if self.tty {
            defaults.push("TERM=xterm".to_string());
        }
        let mut user = oci_spec::runtime::User::default();
        user.set_uid(self.user.uid)
            .set_gid(self.user.gid)
            .set_additional_gids(
                (!self.user.additional_gids.is_empty()).then(|| self.user.additional_gids.clone()),
            );
        let mut p = Process::default();
        let console_size = self.console_size.filter(|_| self.tty).and_then(|ws| {
            oci_spec::runtime::BoxBuilder::default()
                .height(u64::from(ws.rows))
                .width(u64::from(ws.cols))
                .build()
                .ok()
        });
        p.set_terminal(self.tty.then_some(true))
            .set_console_size(console_size)
            .set_user(user)
            .set_args(Some(self.args.clone()))
            .set_command_line(None)
            .set_env(Some(merge_env(defaults, &self.env)))
            .set_cwd(PathBuf::from(if self.cwd.is_empty() {
                "/"
            } else {
                &self.cwd
            }))
            .set_capabilities(Some(capabilities_for(self.user.uid, caps)?))
            .set_rlimits(self.rlimits.clone())
            .set_no_new_privileges(self.no_new_privileges.then_some(true))
            .set_apparmor_profile(None)
            .set_oom_score_adj(None)
            .set_selinux_label(None)
            .set_io_priority(None)
            .set_scheduler(None)
            .set_exec_cpu_affinity(None);
        Ok(p)
    }
}

/// How to run the process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecMode {
    /// Forward stdin (`-i`).
    pub interactive: bool,
    /// Return once the process runs (`-d`).
    pub detach: bool,
}

/// How an exec ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecOutcome {
    /// The process exited with this code (128+n for signal n).
    Exited(i32),
    /// Detached: the process runs with this host pid.
    Detached {
        /// Host pid.
        pid: i32,
    },
}

/// A failed exec.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The runtime could not start the process (`docker exec` exits 126).
    #[error(transparent)]
    Start(StartFailure),
    /// The runtime failed otherwise.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The process description is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A file or descriptor operation failed.
    #[error("exec in {id}: {source}")]
    Io {
        /// Container ID.
        id: String,
        /// The error.
        source: io::Error,
    },
}

impl ExecError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            ExecError::Runtime(e) => e.kind(),
            ExecError::Start(_) => berth_store::ErrorKind::InvalidArgument,
            ExecError::Spec(e) => e.kind(),
            ExecError::Io { .. } => berth_store::ErrorKind::Internal,
        }
    }
}

/// Removes the exec's files when it ends.
struct ExecFiles {
    process: PathBuf,
    pid: PathBuf,
}

impl Drop for ExecFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.process);
        let _ = std::fs::remove_file(&self.pid);
    }
}

/// A unique name for an exec's files.
fn exec_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "exec-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `spec` in the running container `id`. The process description and pid file are
/// written in `work_dir` (the container directory) and removed afterwards.
pub fn exec(
    runtime: &dyn Runtime,
    id: &str,
    work_dir: &Path,
    spec: &ExecSpec,
    mode: ExecMode,
    io: AttachIo<'_>,
) -> Result<ExecOutcome, ExecError> {
    exec_with(runtime, id, work_dir, spec, mode, io, &mut |_| {})
}

/// [`exec`], telling `started` the process's host pid as soon as it runs (before it ends), so
/// the caller can record it.
pub fn exec_with(
    runtime: &dyn Runtime,
    id: &str,
    work_dir: &Path,
    spec: &ExecSpec,
    mode: ExecMode,
    io: AttachIo<'_>,
    started: &mut dyn FnMut(i32),
) -> Result<ExecOutcome, ExecError> {
    let ioerr = |source| ExecError::Io {
        id: id.to_string(),
        source,
    };
    if let Some(failure) = preflight(runtime, id, spec) {
        return Err(ExecError::Start(failure));
    }
    let name = exec_name();
    let files = ExecFiles {
        process: work_dir.join(format!("{name}.json")),
        pid: work_dir.join(format!("{name}.pid")),
    };
    let caller_size = term::window_size(io.stdout).or_else(|| term::window_size(io.stdin));
    let mut spec = spec.clone();
    if spec.tty && spec.console_size.is_none() {
        // Sized before the process starts: runc's own resize would race with it.
        spec.console_size = caller_size;
    }
    let json = serde_json::to_vec(&spec.to_oci()?).map_err(|e| ioerr(e.into()))?;
    std::fs::write(&files.process, json).map_err(ioerr)?;

    if mode.detach && spec.tty {
        let (master, pid) = start_with_console(runtime, id, work_dir, &name, &files)?;
        started(pid);
        term::hold_master_in_background(master).map_err(ioerr)?;
        return Ok(ExecOutcome::Detached { pid });
    }
    if mode.detach {
        let proc = runtime.exec(
            id,
            &files.process,
            ExecOptions {
                pid_file: Some(files.pid.clone()),
                detach: true,
                ..Default::default()
            },
        )?;
        proc.wait().map_err(start_failure)?;
        let pid = read_pid_file(&files.pid)?;
        started(pid);
        return Ok(ExecOutcome::Detached { pid });
    }

    if !spec.tty {
        let dup = |fd: BorrowedFd<'_>| -> Result<Option<OwnedFd>, ExecError> {
            Ok(Some(fd.try_clone_to_owned().map_err(ioerr)?))
        };
        let mut proc = runtime.exec(
            id,
            &files.process,
            ExecOptions {
                pid_file: Some(files.pid.clone()),
                io: ProcessIo {
                    stdin: if mode.interactive {
                        dup(io.stdin)?
                    } else {
                        None
                    },
                    stdout: dup(io.stdout)?,
                    stderr: dup(io.stderr)?,
                },
                ..Default::default()
            },
        )?;
        // The runtime writes the pid file once the process runs, and stays in the foreground
        // until it ends.
        loop {
            let runtime_done = !matches!(proc.try_wait(), Ok(None));
            if let Ok(pid) = read_pid_file(&files.pid) {
                started(pid);
                break;
            }
            if runtime_done {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        return proc.wait().map(ExecOutcome::Exited).map_err(start_failure);
    }

    // With a terminal, runc (1.1) hands over the process's pty master only when detached. So
    // this process becomes a child subreaper: when runc and its init exit, the exec'd process
    // is reparented to us and we collect its status. We proxy its own master directly — one pty
    // between the process and the caller, so newlines are translated exactly once.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(|e| ioerr(e.into()))?;
    let (master, pid) = start_with_console(runtime, id, work_dir, &name, &files)?;
    started(pid);
    let pid = rustix::process::Pid::from_raw(pid)
        .ok_or_else(|| ioerr(io::Error::other("the runtime reported no process id")))?;
    let mut status: Option<i32> = None;
    let reap = |block: bool| -> Option<i32> {
        let flags = if block {
            rustix::process::WaitOptions::empty()
        } else {
            rustix::process::WaitOptions::NOHANG
        };
        match rustix::process::waitpid(Some(pid), flags) {
            Ok(Some((_, st))) => Some(
                st.exit_status()
                    .or_else(|| st.terminating_signal().map(|s| 128 + s))
                    .unwrap_or(255),
            ),
            Ok(None) => None,
            // Not our child after all (reaped elsewhere): report it ended.
            Err(_) => Some(255),
        }
    };
    let proxied = proxy_pty(
        &master,
        mode.interactive,
        io,
        &mut || {
            if status.is_none() {
                status = reap(false);
            }
            status.is_some()
        },
        &mut || {},
    );
    drop(master);
    let code = match status {
        Some(c) => c,
        None => reap(true).unwrap_or(255),
    };
    proxied.map_err(ioerr)?;
    Ok(ExecOutcome::Exited(code))
}

/// The command of an exec that certainly cannot start — no such file, found nowhere on the
/// exec's `PATH`, a directory, or a file no one may execute — refused with the words runc
/// would use, before runc runs: runc prints its refusal on its own stderr, which is the
/// process's (the caller's terminal), so the reason would show twice. Anything less certain
/// (a relative path, a file only some users may run) is left for runc to judge.
fn preflight(runtime: &dyn Runtime, id: &str, spec: &ExecSpec) -> Option<StartFailure> {
    use rustix::fs::{Mode, OFlags};
    let cmd = spec.args.first()?;
    let pid = runtime.state(id).ok()?.pid;
    if pid <= 0 || cmd.is_empty() {
        return None;
    }
    let root = rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    // The file `path` names inside the container's root (symlinks resolved within it).
    let stat = |path: &str| -> Result<rustix::fs::Stat, rustix::io::Errno> {
        let fd = berth_store::fsutil::open_in_root(&root, path, OFlags::PATH)?;
        rustix::fs::fstat(&fd)
    };
    let runnable = |st: &rustix::fs::Stat| {
        st.st_mode & libc::S_IFMT != libc::S_IFDIR && st.st_mode & 0o111 != 0
    };
    let quoted = berth_go::quote(cmd);
    let refuse = |why: String| {
        Some(StartFailure::exec(&format!(
            "exec failed: unable to start container process: exec: {quoted}: {why}"
        )))
    };
    if cmd.starts_with('/') {
        return match stat(cmd) {
            Err(rustix::io::Errno::NOENT) => {
                refuse(format!("stat {cmd}: no such file or directory"))
            }
            Ok(st) if !runnable(&st) => refuse("permission denied".into()),
            _ => None,
        };
    }
    if cmd.contains('/') {
        return None;
    }
    let path = spec
        .env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(&DEFAULT_PATH_ENV["PATH=".len()..]);
    for dir in path.split(':').filter(|d| d.starts_with('/')) {
        match stat(&format!("{dir}/{cmd}")) {
            Ok(st) if runnable(&st) => return None,
            Ok(_) | Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => {}
            // Not sure (a directory we may not read...): runc decides.
            Err(_) => return None,
        }
    }
    if path.split(':').any(|d| !d.starts_with('/')) {
        return None;
    }
    refuse("executable file not found in $PATH".into())
}

/// A runtime's refusal to start the process reads like Docker's exec failure (exit 126/127).
fn start_failure(e: RuntimeError) -> ExecError {
    match e {
        RuntimeError::Failed { message, .. } => ExecError::Start(StartFailure::exec(&message)),
        other => ExecError::Runtime(other),
    }
}

/// Starts the process described in `files` detached with a terminal: runc (1.1) hands over
/// the pty master through a console socket only in that mode. Returns the master and the
/// process's host pid.
fn start_with_console(
    runtime: &dyn Runtime,
    id: &str,
    work_dir: &Path,
    name: &str,
    files: &ExecFiles,
) -> Result<(OwnedFd, i32), ExecError> {
    let ioerr = |source| ExecError::Io {
        id: id.to_string(),
        source,
    };
    let console = term::ConsoleSocket::bind(work_dir, &format!("{name}.sock")).map_err(ioerr)?;
    let mut proc = runtime.exec(
        id,
        &files.process,
        ExecOptions {
            pid_file: Some(files.pid.clone()),
            console_socket: Some(console.runtime_path()),
            detach: true,
            ..Default::default()
        },
    )?;
    let master = console.receive_master(Duration::from_secs(60), || {
        !matches!(proc.try_wait(), Ok(None))
    });
    proc.wait().map_err(start_failure)?;
    let master = master.map_err(ioerr)?;
    Ok((master, read_pid_file(&files.pid)?))
}

/// Copies between the caller's terminal and a pty master until the master reports end of
/// output, or `done()` says the process is gone and its output stops.
fn proxy_pty(
    master: &OwnedFd,
    interactive: bool,
    io: AttachIo<'_>,
    done: &mut dyn FnMut() -> bool,
    resized: &mut dyn FnMut(),
) -> io::Result<()> {
    fdio::set_nonblocking(master.as_fd(), true)?;
    let _raw = if interactive && term::is_terminal(io.stdin) {
        Some(RawMode::enter(io.stdin)?)
    } else {
        None
    };
    let winch = if term::is_terminal(io.stdout) {
        WinchPipe::install().ok()
    } else {
        None
    };
    let size = || term::window_size(io.stdout).or_else(|| term::window_size(io.stdin));
    if let Some(ws) = size() {
        let _ = term::set_window_size(master.as_fd(), ws);
    }
    let mut to_master = OutBuf::default();
    let mut stdin_open = interactive;
    let mut stdout_ok = true;
    let mut buf = vec![0u8; 32 * 1024];
    let mut finish_by: Option<Instant> = None;
    loop {
        if finish_by.is_none() && done() {
            // The process exited; give its remaining output a moment.
            finish_by = Some(Instant::now() + Duration::from_millis(500));
        }
        if finish_by.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
        let mut fds = vec![PollFd::new(
            master,
            if to_master.is_empty() {
                PollFlags::IN
            } else {
                PollFlags::IN | PollFlags::OUT
            },
        )];
        let stdin_idx = (stdin_open && to_master.len() < (1 << 20)).then(|| {
            fds.push(PollFd::from_borrowed_fd(io.stdin, PollFlags::IN));
            fds.len() - 1
        });
        let winch_idx = winch.as_ref().map(|w| {
            fds.push(PollFd::new(w, PollFlags::IN));
            fds.len() - 1
        });
        fdio::poll(&mut fds, Some(Duration::from_millis(100)))?;
        let revents: Vec<PollFlags> = fds.iter().map(|f| f.revents()).collect();
        drop(fds);
        if fdio::readable(revents[0]) {
            match fdio::read_some(master.as_fd(), &mut buf)? {
                fdio::Read::Data(n) => {
                    if stdout_ok {
                        if let Err(e) = fdio::write_all(io.stdout, &buf[..n]) {
                            if e.kind() != io::ErrorKind::BrokenPipe {
                                return Err(e);
                            }
                            stdout_ok = false;
                        }
                    }
                }
                fdio::Read::WouldBlock => {}
                fdio::Read::Eof => return Ok(()),
            }
        }
        if revents[0].contains(PollFlags::OUT) {
            to_master.flush_to(master.as_fd())?;
        }
        if let Some(i) = stdin_idx {
            if fdio::readable(revents[i]) {
                match fdio::read_some(io.stdin, &mut buf)? {
                    fdio::Read::Data(n) => {
                        to_master.push(&buf[..n]);
                        to_master.flush_to(master.as_fd())?;
                    }
                    fdio::Read::WouldBlock => {}
                    fdio::Read::Eof => stdin_open = false,
                }
            }
        }
        if let (Some(i), Some(w)) = (winch_idx, winch.as_ref()) {
            if fdio::readable(revents[i]) && w.drain() {
                if let Some(ws) = size() {
                    let _ = term::set_window_size(master.as_fd(), ws);
                    resized();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_process_json() {
        let spec = ExecSpec {
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into(), "A=1".into()],
            cwd: "".into(),
            user: User {
                uid: 1000,
                gid: 1000,
                additional_gids: vec![1000],
            },
            tty: true,
            hostname: "h".into(),
            console_size: Some(WinSize { rows: 24, cols: 80 }),
            ..Default::default()
        };
        let j = serde_json::to_value(spec.to_oci().unwrap()).unwrap();
        assert_eq!(j["terminal"], true);
        assert_eq!(
            j["consoleSize"],
            serde_json::json!({"height": 24, "width": 80})
        );
        assert_eq!(j["cwd"], "/");
        assert_eq!(
            j["env"],
            serde_json::json!(["PATH=/bin", "HOSTNAME=h", "TERM=xterm", "A=1"])
        );
        assert_eq!(
            j["user"],
            serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": [1000]})
        );
        assert!(j["capabilities"].get("effective").is_none());
        assert!(j.get("rlimits").is_none());
        assert!(j.get("noNewPrivileges").is_none());

        // The container's limits go with the exec'd process (`--ulimit nofile=511`).
        let nofile: PosixRlimit = serde_json::from_value(
            serde_json::json!({"type": "RLIMIT_NOFILE", "soft": 511, "hard": 511}),
        )
        .unwrap();
        let spec = ExecSpec {
            rlimits: Some(vec![nofile]),
            ..spec
        };
        let j = serde_json::to_value(spec.to_oci().unwrap()).unwrap();
        assert_eq!(
            j["rlimits"],
            serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 511, "hard": 511}])
        );
    }
}
