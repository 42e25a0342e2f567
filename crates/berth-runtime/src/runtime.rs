//! `Runtime` is the OCI runtime interface berth drives (create, start, state, kill, delete,
//! exec, ps, pause, resume, list); [`Runc`] implements it by running the `runc` command line
//! (or any runtime with the same CLI: crun, youki) with its state under a root of our choosing.
//!
//! [`StartFailure`] turns a runtime's refusal to start a process into Docker's message and exit
//! code (127 not found, 126 cannot invoke, 125 anything else).

use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

/// A failed runtime operation.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime binary could not be run at all.
    #[error("{op} {id}: cannot run {}: {source}", .binary.display())]
    Spawn {
        /// The operation (`create`, `kill`, ...).
        op: &'static str,
        /// The container ID.
        id: String,
        /// The runtime binary.
        binary: PathBuf,
        /// Why it did not run.
        source: io::Error,
    },
    /// The runtime ran and reported an error.
    #[error("{message}")]
    Failed {
        /// The operation (`create`, `kill`, ...).
        op: &'static str,
        /// The container ID.
        id: String,
        /// The runtime's own error text (its last error-level log message).
        message: String,
        /// Its exit status, if it exited.
        status: Option<i32>,
    },
    /// The runtime's output was not what its CLI documents.
    #[error("{op} {id}: unexpected runtime output: {message}")]
    BadOutput {
        /// The operation.
        op: &'static str,
        /// The container ID.
        id: String,
        /// What was wrong.
        message: String,
    },
    /// A file the operation needs could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl RuntimeError {
    /// True when the runtime does not know the container.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RuntimeError::Failed { message, .. }
            if message.contains("does not exist"))
    }

    /// True when the operation is invalid in the container's current state (e.g. killing a
    /// stopped container).
    pub fn is_not_running(&self) -> bool {
        matches!(self, RuntimeError::Failed { message, .. }
            if message.contains("not running") || message.contains("is stopped")
                || message.contains("not paused") || message.contains("container is paused"))
    }

    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        if self.is_not_found() {
            berth_store::ErrorKind::NotFound
        } else if self.is_not_running() {
            berth_store::ErrorKind::NotAllowed
        } else {
            berth_store::ErrorKind::Internal
        }
    }
}

/// The stdio of a process the runtime creates without a terminal. Each defaults to
/// `/dev/null`; the runtime's process passes them through to the container's process.
#[derive(Debug, Default)]
pub struct ProcessIo {
    /// Standard input (`None`: `/dev/null`).
    pub stdin: Option<OwnedFd>,
    /// Standard output (`None`: `/dev/null`).
    pub stdout: Option<OwnedFd>,
    /// Standard error (`None`: `/dev/null`).
    pub stderr: Option<OwnedFd>,
}

/// A descriptor as a child's stdio, `/dev/null` without one.
fn stdio(fd: Option<OwnedFd>) -> Stdio {
    fd.map_or_else(Stdio::null, Stdio::from)
}

/// Arguments of [`Runtime::create`].
#[derive(Debug, Default)]
pub struct CreateOptions {
    /// Where the runtime writes the container's init pid.
    pub pid_file: PathBuf,
    /// With a terminal: the unix socket the runtime sends the pty master to.
    pub console_socket: Option<PathBuf>,
    /// Without a terminal: the init process's stdio.
    pub io: ProcessIo,
}

/// Arguments of [`Runtime::exec`].
#[derive(Debug, Default)]
pub struct ExecOptions {
    /// Where the runtime writes the new process's pid.
    pub pid_file: Option<PathBuf>,
    /// With a terminal: the unix socket the runtime sends the pty master to.
    pub console_socket: Option<PathBuf>,
    /// Without a terminal: the process's stdio.
    pub io: ProcessIo,
    /// Return once the process runs instead of waiting for it to exit.
    pub detach: bool,
}

/// A container's status as the runtime reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created.
    Creating,
    /// Created, waiting for `start`.
    Created,
    /// Its init process runs.
    Running,
    /// Frozen.
    Paused,
    /// Its init process is gone.
    Stopped,
}

/// `runtime state` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    /// Container ID.
    pub id: String,
    /// Init pid (0 once stopped).
    #[serde(default)]
    pub pid: i32,
    /// Status.
    pub status: Status,
    /// Bundle directory.
    #[serde(default)]
    pub bundle: PathBuf,
}

/// The OCI runtime operations berth needs, one method per runtime verb.
pub trait Runtime: fmt::Debug + Send + Sync {
    /// Creates the container from `bundle` (its `config.json`); its init process waits for
    /// [`Runtime::start`].
    fn create(&self, id: &str, bundle: &Path, opts: CreateOptions) -> Result<(), RuntimeError>;
    /// Runs the created container's process.
    fn start(&self, id: &str) -> Result<(), RuntimeError>;
    /// The container's state.
    fn state(&self, id: &str) -> Result<ContainerState, RuntimeError>;
    /// Sends `signal` to the init process, or to every process of the container with `all`.
    fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError>;
    /// Removes the container's runtime state (with `force`, killing it first).
    fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError>;
    /// Runs the process described by the OCI process JSON at `process` in the container.
    fn exec(
        &self,
        id: &str,
        process: &Path,
        opts: ExecOptions,
    ) -> Result<RuntimeProcess, RuntimeError>;
    /// Host pids of the container's processes.
    fn ps(&self, id: &str) -> Result<Vec<i32>, RuntimeError>;
    /// Freezes the container.
    fn pause(&self, id: &str) -> Result<(), RuntimeError>;
    /// Thaws the container.
    fn resume(&self, id: &str) -> Result<(), RuntimeError>;
    /// Every container under this runtime's state root.
    fn list(&self) -> Result<Vec<ContainerState>, RuntimeError>;
    /// Changes the cgroup limits of a running container.
    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), RuntimeError>;
}

/// The runc command line with its state in `root` (`runc --root`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runc {
    /// The runtime binary (`runc`, looked up in `PATH`, or a full path).
    pub binary: PathBuf,
    /// The runtime's state directory; the engine keeps it under its data root.
    pub root: PathBuf,
}

impl Runc {
    /// `binary` with its state in `root`.
    pub fn new(binary: impl Into<PathBuf>, root: impl Into<PathBuf>) -> Runc {
        Runc {
            binary: binary.into(),
            root: root.into(),
        }
    }

    fn command(&self, log: Option<&Path>) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--root")
            .arg(&self.root)
            .args(["--log-format", "json"]);
        if let Some(log) = log {
            cmd.arg("--log").arg(log);
        }
        cmd
    }

    /// Runs a short command, capturing stdout and turning a failure into its error text.
    fn run(&self, op: &'static str, id: &str, args: &[&str]) -> Result<Vec<u8>, RuntimeError> {
        self.run_with_input(op, id, args, None)
    }

    /// [`Runc::run`] with `input` on the command's stdin.
    fn run_with_input(
        &self,
        op: &'static str,
        id: &str,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<Vec<u8>, RuntimeError> {
        let mut cmd = self.command(None);
        cmd.args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        log::debug!("runtime: {cmd:?}");
        let out = cmd
            .spawn()
            .and_then(|mut child| {
                if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
                    use std::io::Write;
                    stdin.write_all(input)?;
                }
                child.wait_with_output()
            })
            .map_err(|source| self.spawn_err(op, id, source))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(RuntimeError::Failed {
                op,
                id: id.to_string(),
                message: last_error(&out.stderr)
                    .unwrap_or_else(|| format!("runc {op} failed: {}", out.status)),
                status: out.status.code(),
            })
        }
    }

    fn spawn_err(&self, op: &'static str, id: &str, source: io::Error) -> RuntimeError {
        RuntimeError::Spawn {
            op,
            id: id.to_string(),
            binary: self.binary.clone(),
            source,
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(
        op: &'static str,
        id: &str,
        out: &[u8],
    ) -> Result<T, RuntimeError> {
        serde_json::from_slice(out).map_err(|e| RuntimeError::BadOutput {
            op,
            id: id.to_string(),
            message: e.to_string(),
        })
    }
}

/// Truncates (or creates) the runtime's log file for one invocation.
fn fresh_log(path: &Path) -> Result<(), RuntimeError> {
    std::fs::write(path, b"").map_err(|source| RuntimeError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The runtime's error from its log file, if it wrote one.
fn error_from_log(path: &Path) -> Option<String> {
    std::fs::read(path).ok().and_then(|b| last_error(&b))
}

/// Whether the bundle's `cgroupsPath` is in the systemd driver's `slice:prefix:name` form (what
/// berth writes under `native.cgroupdriver=systemd`), which runc takes only with
/// `--systemd-cgroup`.
fn systemd_bundle(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["linux"]["cgroupsPath"]
                .as_str()
                .map(|p| crate::spec::systemd_cgroup_dir(p).is_some())
        })
        .unwrap_or(false)
}

impl Runtime for Runc {
    fn create(&self, id: &str, bundle: &Path, opts: CreateOptions) -> Result<(), RuntimeError> {
        // The container's stdio is passed through runc, so runc's own messages go to a file.
        let log = bundle.join("runc-create.log");
        fresh_log(&log)?;
        let mut cmd = self.command(Some(&log));
        if systemd_bundle(bundle) {
            // Global and needed at create only: runc keeps the cgroup manager in its state.
            cmd.arg("--systemd-cgroup");
        }
        cmd.arg("create")
            .arg("--bundle")
            .arg(bundle)
            .arg("--pid-file")
            .arg(&opts.pid_file);
        if let Some(sock) = &opts.console_socket {
            cmd.arg("--console-socket").arg(sock);
        }
        cmd.arg(id)
            .stdin(stdio(opts.io.stdin))
            .stdout(stdio(opts.io.stdout))
            .stderr(stdio(opts.io.stderr));
        log::debug!("runtime: {cmd:?}");
        let status = cmd
            .status()
            .map_err(|source| self.spawn_err("create", id, source))?;
        drop(cmd);
        if status.success() {
            Ok(())
        } else {
            Err(RuntimeError::Failed {
                op: "create",
                id: id.to_string(),
                message: error_from_log(&log)
                    .unwrap_or_else(|| format!("runc create failed: {status}")),
                status: status.code(),
            })
        }
    }

    fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.run("start", id, &["start", id]).map(drop)
    }

    fn state(&self, id: &str) -> Result<ContainerState, RuntimeError> {
        let out = self.run("state", id, &["state", id])?;
        Runc::parse("state", id, &out)
    }

    fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError> {
        let sig = signal.to_string();
        let mut args = vec!["kill"];
        if all {
            args.push("--all");
        }
        args.extend([id, sig.as_str()]);
        self.run("kill", id, &args).map(drop)
    }

    fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError> {
        let args: &[&str] = if force {
            &["delete", "--force", id]
        } else {
            &["delete", id]
        };
        self.run("delete", id, args).map(drop)
    }

    fn exec(
        &self,
        id: &str,
        process: &Path,
        opts: ExecOptions,
    ) -> Result<RuntimeProcess, RuntimeError> {
        let log = process.with_extension("log");
        fresh_log(&log)?;
        let mut cmd = self.command(Some(&log));
        cmd.arg("exec").arg("--process").arg(process);
        if opts.detach {
            cmd.arg("--detach");
        }
        if let Some(p) = &opts.pid_file {
            cmd.arg("--pid-file").arg(p);
        }
        if let Some(sock) = &opts.console_socket {
            cmd.arg("--console-socket").arg(sock);
        }
        cmd.arg(id)
            .stdin(stdio(opts.io.stdin))
            .stdout(stdio(opts.io.stdout))
            .stderr(stdio(opts.io.stderr));
        log::debug!("runtime: {cmd:?}");
        let child = cmd
            .spawn()
            .map_err(|source| self.spawn_err("exec", id, source))?;
        Ok(RuntimeProcess {
            inner: Inner::Cli { child, log },
            id: id.to_string(),
        })
    }

    fn ps(&self, id: &str) -> Result<Vec<i32>, RuntimeError> {
        let out = self.run("ps", id, &["ps", "--format", "json", id])?;
        let pids: Option<Vec<i32>> = Runc::parse("ps", id, &out)?;
        Ok(pids.unwrap_or_default())
    }

    fn pause(&self, id: &str) -> Result<(), RuntimeError> {
        self.run("pause", id, &["pause", id]).map(drop)
    }

    fn resume(&self, id: &str) -> Result<(), RuntimeError> {
        self.run("resume", id, &["resume", id]).map(drop)
    }

    fn list(&self) -> Result<Vec<ContainerState>, RuntimeError> {
        let out = self.run("list", "", &["list", "--format", "json"])?;
        let list: Option<Vec<ContainerState>> = Runc::parse("list", "", &out)?;
        Ok(list.unwrap_or_default())
    }

    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), RuntimeError> {
        let json = serde_json::to_vec(resources).expect("resources serialize");
        self.run_with_input(
            "update",
            id,
            &["update", "--resources", "-", id],
            Some(&json),
        )
        .map(drop)
    }
}

/// A runtime process started by [`Runtime::exec`]: it exits with the exec'd process's status
/// (or, detached, once that process runs).
#[derive(Debug)]
pub struct RuntimeProcess {
    inner: Inner,
    id: String,
}

#[derive(Debug)]
enum Inner {
    /// A runtime CLI (`runc exec`), with the log it writes its error to.
    Cli { child: Child, log: PathBuf },
    /// An in-process runtime's exec: the process itself (a child of this one), or why it
    /// could not be started.
    InProcess {
        started: Result<i32, Option<RuntimeError>>,
        detached: bool,
        /// Its exit code once reaped.
        exited: Option<i32>,
    },
}

impl RuntimeProcess {
    /// The process an in-process runtime started (`Ok(pid)`, not detached: a child of this
    /// process, waited for by [`RuntimeProcess::wait`]) or its refusal to start it.
    pub(crate) fn in_process(
        id: &str,
        started: Result<i32, RuntimeError>,
        detached: bool,
    ) -> RuntimeProcess {
        RuntimeProcess {
            inner: Inner::InProcess {
                started: started.map_err(Some),
                detached,
                exited: None,
            },
            id: id.to_string(),
        }
    }

    /// The runtime process's pid (for an in-process runtime, the exec'd process's; 0 if it did
    /// not start).
    pub fn id(&self) -> u32 {
        match &self.inner {
            Inner::Cli { child, .. } => child.id(),
            Inner::InProcess { started, .. } => started.as_ref().map_or(0, |p| *p as u32),
        }
    }

    /// Waits for the runtime; `Ok(code)` is the exec'd process's exit code (128+n when killed
    /// by signal n), an error means the runtime could not start the process.
    pub fn wait(mut self) -> Result<i32, RuntimeError> {
        match &mut self.inner {
            Inner::Cli { child, log } => {
                let status = child.wait().map_err(|source| RuntimeError::Io {
                    path: log.clone(),
                    source,
                })?;
                self.result(status)
            }
            Inner::InProcess { .. } => {
                Ok(self.in_process_wait(true)?.expect("a blocking wait ends"))
            }
        }
    }

    /// Like [`RuntimeProcess::wait`] without blocking: `Ok(None)` while the runtime runs.
    pub fn try_wait(&mut self) -> Result<Option<i32>, RuntimeError> {
        match &mut self.inner {
            Inner::Cli { child, log } => match child.try_wait() {
                Ok(Some(status)) => self.result(status).map(Some),
                Ok(None) => Ok(None),
                Err(source) => Err(RuntimeError::Io {
                    path: log.clone(),
                    source,
                }),
            },
            Inner::InProcess { .. } => self.in_process_wait(false),
        }
    }

    /// An in-process exec: its refusal (once), 0 when detached (the runtime's part ended once
    /// the process ran), else the process's exit code once it is reaped.
    fn in_process_wait(&mut self, block: bool) -> Result<Option<i32>, RuntimeError> {
        let Inner::InProcess {
            started,
            detached,
            exited,
        } = &mut self.inner
        else {
            unreachable!("in-process runtime process")
        };
        if let Some(code) = exited {
            return Ok(Some(*code));
        }
        let pid = match started {
            Err(e) => {
                return match e.take() {
                    Some(e) => Err(e),
                    None => Ok(Some(255)),
                }
            }
            Ok(pid) => *pid,
        };
        if *detached {
            return Ok(Some(0));
        }
        let Some(p) = rustix::process::Pid::from_raw(pid) else {
            return Ok(Some(255));
        };
        let flags = if block {
            rustix::process::WaitOptions::empty()
        } else {
            rustix::process::WaitOptions::NOHANG
        };
        loop {
            return match rustix::process::waitpid(Some(p), flags) {
                Ok(Some((_, st))) => {
                    let code = st
                        .exit_status()
                        .or_else(|| st.terminating_signal().map(|s| 128 + s))
                        .unwrap_or(255);
                    // Reaped: later calls report it, and never wait for a pid that may be
                    // reused.
                    *exited = Some(code);
                    Ok(Some(code))
                }
                Ok(None) => Ok(None),
                Err(rustix::io::Errno::INTR) => continue,
                // Reaped elsewhere (the caller's own reaper): its status is lost.
                Err(_) => {
                    *exited = Some(255);
                    Ok(Some(255))
                }
            };
        }
    }

    fn result(&self, status: std::process::ExitStatus) -> Result<i32, RuntimeError> {
        use std::os::unix::process::ExitStatusExt;
        let Inner::Cli { log, .. } = &self.inner else {
            unreachable!("runtime CLI process")
        };
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        if code != 0 {
            if let Some(message) = error_from_log(log) {
                return Err(RuntimeError::Failed {
                    op: "exec",
                    id: self.id.clone(),
                    message,
                    status: Some(code),
                });
            }
        }
        Ok(code)
    }
}

impl Drop for RuntimeProcess {
    fn drop(&mut self) {
        if let Inner::Cli { log, .. } = &self.inner {
            let _ = std::fs::remove_file(log);
        }
    }
}

/// The runtime a container runs on, as the engine chose it and the shim's configuration
/// records it: an OCI runtime CLI (runc, or any with its command line) or berth's in-process
/// runtime ([`crate::inproc::InProcess`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnyRuntime {
    /// A runtime CLI.
    Cli(Runc),
    /// The in-process runtime.
    #[cfg(feature = "inproc")]
    InProcess(crate::inproc::InProcess),
}

/// The name users select the in-process runtime by (`--runtime berth`, `"default-runtime":
/// "berth"`).
pub const IN_PROCESS: &str = "berth";

/// The runtime of containers that name none (daemon.json's `default-runtime` changes it): the
/// in-process runtime, or `runc` in a binary built without it (docs/runtime.md says why).
#[cfg(feature = "inproc")]
pub const DEFAULT: &str = IN_PROCESS;
/// The runtime of containers that name none (daemon.json's `default-runtime` changes it): the
/// in-process runtime, or `runc` in a binary built without it (docs/runtime.md says why).
#[cfg(not(feature = "inproc"))]
pub const DEFAULT: &str = "runc";

impl AnyRuntime {
    /// The runtime called `name` — `runc` (or empty), [`IN_PROCESS`], or the path of an OCI
    /// runtime CLI — keeping its state under `state_root` (one directory per runtime). `None`
    /// for the in-process runtime when this binary was built without it.
    pub fn named(name: &str, state_root: &Path) -> Option<AnyRuntime> {
        match name {
            #[cfg(feature = "inproc")]
            IN_PROCESS => Some(AnyRuntime::InProcess(crate::inproc::InProcess::new(
                state_root.join("runtime-berth"),
            ))),
            #[cfg(not(feature = "inproc"))]
            IN_PROCESS => None,
            "" | "runc" => Some(AnyRuntime::Cli(Runc::new(
                "runc",
                state_root.join("runtime"),
            ))),
            other => Some(AnyRuntime::Cli(Runc::new(
                other,
                state_root.join("runtime"),
            ))),
        }
    }

    /// Whether the runtime may still keep state for container `id` (its state directory is
    /// there): a look at the file system, cheaper than asking a runtime CLI.
    pub fn may_hold(&self, id: &str) -> bool {
        let dir = match self {
            AnyRuntime::Cli(r) => &r.root,
            #[cfg(feature = "inproc")]
            AnyRuntime::InProcess(r) => &r.in_process_root,
        };
        !id.is_empty() && !id.contains('/') && dir.join(id).exists()
    }

    fn get(&self) -> &dyn Runtime {
        match self {
            AnyRuntime::Cli(r) => r,
            #[cfg(feature = "inproc")]
            AnyRuntime::InProcess(r) => r,
        }
    }
}

impl Runtime for AnyRuntime {
    fn create(&self, id: &str, bundle: &Path, opts: CreateOptions) -> Result<(), RuntimeError> {
        self.get().create(id, bundle, opts)
    }
    fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.get().start(id)
    }
    fn state(&self, id: &str) -> Result<ContainerState, RuntimeError> {
        self.get().state(id)
    }
    fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError> {
        self.get().kill(id, signal, all)
    }
    fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError> {
        self.get().delete(id, force)
    }
    fn exec(
        &self,
        id: &str,
        process: &Path,
        opts: ExecOptions,
    ) -> Result<RuntimeProcess, RuntimeError> {
        self.get().exec(id, process, opts)
    }
    fn ps(&self, id: &str) -> Result<Vec<i32>, RuntimeError> {
        self.get().ps(id)
    }
    fn pause(&self, id: &str) -> Result<(), RuntimeError> {
        self.get().pause(id)
    }
    fn resume(&self, id: &str) -> Result<(), RuntimeError> {
        self.get().resume(id)
    }
    fn list(&self) -> Result<Vec<ContainerState>, RuntimeError> {
        self.get().list()
    }
    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), RuntimeError> {
        self.get().update(id, resources)
    }
}

/// The last error-level message in the runtime's JSON log output (`--log-format json`), or the
/// plain text when the output is not JSON.
pub(crate) fn last_error(output: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Line {
        level: String,
        msg: String,
    }
    let text = String::from_utf8_lossy(output);
    let mut last = None;
    let mut plain = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<Line>(line) {
            Ok(l) if l.level == "error" || l.level == "fatal" => last = Some(l.msg),
            Ok(_) => {}
            Err(_) => plain.push(line.to_string()),
        }
    }
    last.or_else(|| (!plain.is_empty()).then(|| plain.join("\n")))
}

/// Reads a pid file written by the runtime.
pub fn read_pid_file(path: &Path) -> Result<i32, RuntimeError> {
    let text = std::fs::read_to_string(path).map_err(|source| RuntimeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.trim().parse().map_err(|_| RuntimeError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, format!("bad pid {text:?}")),
    })
}

/// A process the runtime could not start, as Docker reports it: the message the CLI prints
/// after `docker: Error response from daemon: ` and the exit code `docker run` exits with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct StartFailure {
    /// Docker's message, e.g. `failed to create shim task: OCI runtime create failed: runc
    /// create failed: unable to start container process: exec: "nosuch": executable file not
    /// found in $PATH: unknown`.
    pub message: String,
    /// 127 (command not found), 126 (cannot be invoked) or 125 (any other failure).
    pub exit_code: i32,
}

const ENOTDIR_HINT: &str = ": Are you trying to mount a directory onto a file (or vice-versa)? \
     Check if the specified host path exists and is the expected type";

impl StartFailure {
    /// A failed `create` (where runc reports a missing or non-executable command).
    pub fn create(runtime_message: &str) -> StartFailure {
        StartFailure::wrap(format!(
            "failed to create shim task: OCI runtime create failed: {runtime_message}: unknown"
        ))
    }

    /// A failed `start`.
    pub fn start(runtime_message: &str) -> StartFailure {
        StartFailure::wrap(format!(
            "OCI runtime start failed: {runtime_message}: unknown"
        ))
    }

    /// A failed `exec`: `docker exec` exits 126 whatever the cause.
    pub fn exec(runtime_message: &str) -> StartFailure {
        StartFailure {
            message: format!("OCI runtime exec failed: {runtime_message}: unknown"),
            exit_code: 126,
        }
    }

    /// A failure that is ours rather than the runtime's (exit code 125).
    pub fn other(message: impl Into<String>) -> StartFailure {
        StartFailure {
            message: message.into(),
            exit_code: 125,
        }
    }

    fn wrap(mut message: String) -> StartFailure {
        if message.to_lowercase().contains("not a directory") {
            message.push_str(ENOTDIR_HINT);
        }
        let exit_code = cli_exit_code(&message);
        StartFailure { message, exit_code }
    }

    /// The exit code Docker records in the container's state for this failure (what
    /// `docker inspect` shows): 127, 126, or 128 for anything else.
    pub fn state_exit_code(&self) -> i32 {
        let m = self.message.to_lowercase();
        if m.contains("permission denied") {
            126
        } else if m.contains("executable file not found")
            || m.contains("no such file or directory")
            || m.contains("system cannot find the file specified")
        {
            127
        } else {
            128
        }
    }
}

/// The docker CLI's exit code for a failed start, from the error text.
fn cli_exit_code(message: &str) -> i32 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("system cannot find the file specified")
    {
        127
    } else if message.contains("permission denied") || message.contains("is a directory") {
        126
    } else {
        125
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TestEnv;

    #[test]
    fn start_failures_read_like_docker() {
        let f = StartFailure::create(
            "runc create failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH",
        );
        assert_eq!(
            f.message,
            "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH: unknown"
        );
        assert_eq!(f.exit_code, 127);
        assert_eq!(f.state_exit_code(), 127);
        let f = StartFailure::create("runc create failed: unable to start container process: exec: \"/etc\": permission denied");
        assert_eq!((f.exit_code, f.state_exit_code()), (126, 126));
        let f = StartFailure::create("runc create failed: unable to start container process: exec: \"/nosuch\": stat /nosuch: no such file or directory");
        assert_eq!(f.exit_code, 127);
        let f = StartFailure::create("runc create failed: cgroup: bad thing");
        assert_eq!((f.exit_code, f.state_exit_code()), (125, 128));
        let f = StartFailure::create(
            "error mounting \"/x\" to rootfs at \"/etc/hosts\": not a directory",
        );
        assert!(f.message.ends_with(": unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"));
        let f = StartFailure::exec("exec failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH");
        assert_eq!(f.exit_code, 126);
        assert_eq!(f.message, "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH: unknown");
    }

    #[test]
    fn an_in_process_exec_reports_its_exit_code_after_a_non_blocking_reap() {
        // A child of this process, as an in-process runtime's exec'd process is; reaped below
        // through the RuntimeProcess (waitpid), which is what is tested.
        #[allow(clippy::zombie_processes)]
        let child = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
        let mut p = RuntimeProcess::in_process("c", Ok(child.id() as i32), false);
        let code = loop {
            if let Some(code) = p.try_wait().unwrap() {
                break code;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert_eq!(code, 7);
        // Waiting again (as exec does after polling for the pid file) gives the same code.
        assert_eq!(p.wait().unwrap(), 7);
        let refused = RuntimeError::Failed {
            op: "exec",
            id: "c".into(),
            message: "no".into(),
            status: None,
        };
        let p = RuntimeProcess::in_process("c", Err(refused), false);
        assert_eq!(p.wait().unwrap_err().to_string(), "no");
    }

    #[test]
    fn last_error_prefers_json_error_lines() {
        let out = b"{\"level\":\"warning\",\"msg\":\"w\",\"time\":\"t\"}\n{\"level\":\"error\",\"msg\":\"boom \\\"x\\\"\",\"time\":\"t\"}\n";
        assert_eq!(last_error(out).as_deref(), Some("boom \"x\""));
        assert_eq!(
            last_error(b"plain failure\n").as_deref(),
            Some("plain failure")
        );
        assert_eq!(last_error(b""), None);
    }

    #[test]
    #[ignore = "needs root"]
    fn runc_lifecycle_and_errors() {
        let env = TestEnv::new("rt");
        let runc = env.runc();
        let id = env.id("life");
        let bundle = env.bundle(&id, &["sleep", "30"], |_| {});
        let pid_file = bundle.join("init.pid");
        runc.create(
            &id,
            &bundle,
            CreateOptions {
                pid_file: pid_file.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let st = runc.state(&id).unwrap();
        assert_eq!(st.status, Status::Created);
        assert_eq!(st.pid, read_pid_file(&pid_file).unwrap());
        runc.start(&id).unwrap();
        assert_eq!(runc.state(&id).unwrap().status, Status::Running);
        assert_eq!(runc.ps(&id).unwrap(), vec![st.pid]);
        runc.pause(&id).unwrap();
        assert_eq!(runc.state(&id).unwrap().status, Status::Paused);
        runc.resume(&id).unwrap();
        assert!(runc.list().unwrap().iter().any(|c| c.id == id));
        let err = runc.delete(&id, false).unwrap_err();
        assert!(err.to_string().contains("running"), "{err}");
        runc.kill(&id, libc::SIGKILL, false).unwrap();
        for _ in 0..100 {
            if runc.state(&id).unwrap().status == Status::Stopped {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(runc.state(&id).unwrap().status, Status::Stopped);
        let err = runc.kill(&id, libc::SIGTERM, false).unwrap_err();
        assert!(err.is_not_running(), "{err}");
        runc.delete(&id, false).unwrap();
        let err = runc.state(&id).unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert_eq!(err.kind(), berth_store::ErrorKind::NotFound);
    }

    #[test]
    #[ignore = "needs root"]
    fn runc_create_reports_missing_and_unexecutable_commands() {
        let env = TestEnv::new("rt");
        let runc = env.runc();
        env.assert_bad_commands_refused(&runc, "runc", |id| {
            let _ = runc.delete(id, true);
        });
    }
}
