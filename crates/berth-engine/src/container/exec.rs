//! Exec instances: another process in a running container (`docker exec`), the one exec API the
//! CLI, `berth serve` and the builder's `RUN` steps share.
//!
//! [`Engine::create_exec`] records an instance (a row of the store's `execs` table, so the CLI
//! and the API see the same instances and `exec inspect` outlives `berth serve`);
//! [`Engine::start_exec`] runs it on descriptors the caller supplies (its terminal, pipes, a pty)
//! until it ends; [`Engine::start_exec_detached`] hands it to an exec shim (`berth exec-shim
//! ID`, a process of its own like a container's shim) and returns once it runs;
//! [`Engine::exec`] creates and runs in one call. Whichever process waits for the exec'd process
//! records its pid as soon as it runs and its exit code when it ends, so `Running`, `Pid` and
//! `ExitCode` are right for attached and detached instances alike.
//!
//! The process that waits holds a lock (`containers/ID/execs/EXEC`) while it waits. An instance
//! recorded as running whose lock is free and whose process is gone — its container stopped,
//! or the waiter was killed (`kill -9` of `berth exec`, a restarted `berth serve`) — is marked
//! exited with 255, "unknown", as a container whose shim died is ([`Engine::reconcile_execs`],
//! run when the engine opens and whenever an instance is read).
//!
//! The process gets the container's environment, user and working directory unless the request
//! names its own, and the container's resource limits (`--ulimit`), as Docker's do.

use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth_runtime::attach::AttachIo;
use berth_runtime::error::ProcessError;
use berth_runtime::exec::{bundle_rlimits, exec_with, ExecError, ExecMode, ExecOutcome, ExecSpec};
use berth_runtime::term::WinSize;
use berth_runtime::StartFailure;
use berth_store::metadata::execs::{self, Claim, ExecRecord, ExecState};

use super::{Container, StateError};
use crate::types::{ExecConfig, ExecInspect, ExecProcessConfig};
use crate::{Engine, EngineError, EngineOptions};

/// How long a detached start waits for its exec shim to report the process running.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An exec request refused, in dockerd's words.
#[derive(Debug, thiserror::Error)]
pub enum ExecRequestError {
    /// No instance by that ID (404).
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    /// An empty command.
    #[error("No exec command specified")]
    NoCommand,
    /// `--privileged`, which berth does not give exec'd processes.
    #[error("privileged exec is not supported by berth")]
    Privileged,
    /// `--detach-keys` that do not parse.
    #[error("Invalid escape keys ({0}) provided")]
    DetachKeys(String),
    /// A start of an instance that ran (409).
    #[error("Error: Exec command {0} has already run")]
    AlreadyRun(String),
    /// A start of an instance that runs (409).
    #[error("Error: Exec command {0} is already running")]
    AlreadyRunning(String),
}

impl ExecRequestError {
    /// The class of the refusal.
    pub fn kind(&self) -> berth_store::ErrorKind {
        use berth_store::ErrorKind;
        match self {
            ExecRequestError::NoSuchExec(_) => ErrorKind::NotFound,
            ExecRequestError::AlreadyRun(_) | ExecRequestError::AlreadyRunning(_) => {
                ErrorKind::Conflict
            }
            _ => ErrorKind::InvalidArgument,
        }
    }
}

fn no_such_exec(id: &str) -> EngineError {
    ExecRequestError::NoSuchExec(id.to_string()).into()
}

/// The command as Docker's exec events name it: the entrypoint, a space, the arguments.
fn exec_command(config: &ExecConfig) -> String {
    let (first, rest) = config
        .cmd
        .split_first()
        .map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
    format!("{first} {}", rest.join(" "))
}

/// The exit code recorded for an instance whose process ended unseen: unknown.
const UNKNOWN_EXIT: i32 = 255;

/// The lock the process waiting for exec instance `id` holds.
fn watch_path(container_dir: &Path, id: &str) -> PathBuf {
    container_dir.join("execs").join(id)
}

/// Takes the watch lock of an instance (held until the descriptor closes).
fn hold_watch(path: &Path) -> std::io::Result<OwnedFd> {
    use rustix::fs::{flock, FlockOperation, Mode, OFlags};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let fd = rustix::fs::open(
        path,
        OFlags::CREATE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    flock(&fd, FlockOperation::LockExclusive)?;
    Ok(fd)
}

/// Whether some process holds the watch lock at `path`.
fn watched(path: &Path) -> bool {
    use rustix::fs::{flock, FlockOperation, Mode, OFlags};
    let Ok(fd) = rustix::fs::open(path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty()) else {
        return false;
    };
    flock(&fd, FlockOperation::NonBlockingLockShared) == Err(rustix::io::Errno::WOULDBLOCK)
}

/// Whether host process `pid` lives in the pid namespace of the container whose init is
/// `init` (a reused pid outside the container does not count).
fn in_container(pid: i64, init: i64) -> bool {
    let ns = |p: i64| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    pid > 0 && init > 0 && ns(pid).is_some() && ns(pid) == ns(init)
}

fn config_of(record: &ExecRecord) -> Result<ExecConfig, EngineError> {
    serde_json::from_str(&record.config).map_err(|e| {
        EngineError::Io(std::io::Error::other(format!(
            "exec {}: unreadable config: {e}",
            record.id
        )))
    })
}

impl Engine {
    /// Records an exec instance of container `name` (`POST /containers/{id}/exec`) and returns
    /// its ID. The container must be running (not paused or restarting).
    pub fn create_exec(&mut self, name: &str, config: ExecConfig) -> Result<String, EngineError> {
        if config.cmd.is_empty() {
            return Err(ExecRequestError::NoCommand.into());
        }
        if config.privileged {
            return Err(ExecRequestError::Privileged.into());
        }
        if !config.detach_keys.is_empty()
            && berth_runtime::attach::DetachKeys::parse(&config.detach_keys).is_err()
        {
            return Err(ExecRequestError::DetachKeys(config.detach_keys).into());
        }
        let c = self.container(name)?;
        // Docker names the container as the user did when it is paused.
        c.can_exec().map_err(|e| match e {
            StateError::ExecPaused(_) => StateError::ExecPaused(name.to_string()),
            other => other,
        })?;
        let record = ExecRecord {
            id: berth_store::fsutil::random_hex(32),
            container_id: c.id.clone(),
            config: serde_json::to_string(&config).expect("exec configs serialize"),
            state: ExecState::Created,
            created_at: crate::now(),
        };
        execs::insert(self.store.db().conn(), &record)?;
        let action = format!("exec_create: {}", exec_command(&config));
        self.emit_container(&c, &action, &[("execID", record.id.clone())]);
        Ok(record.id)
    }

    /// Marks exited (255, unknown) the instances — of `container_id`, or all — that are
    /// recorded as starting or running while no process waits for them and their process is
    /// gone: their container does not run (any more), or the recorded pid is no longer in it.
    /// An instance claimed but not yet running is left alone while its container runs (its
    /// starter may be about to take the lock).
    pub fn reconcile_execs(&self, container_id: Option<&str>) -> Result<(), EngineError> {
        let conn = self.store.db().conn();
        for r in execs::unfinished(conn, container_id)? {
            if watched(&watch_path(&self.container_dir(&r.container_id), &r.id)) {
                continue;
            }
            let dir = self.run_dir(&r.container_id);
            let init = match self.lookup_container(&r.container_id) {
                Ok(c) if c.state.status.is_running() && berth_runtime::shim::shim_alive(&dir) => {
                    c.state.pid
                }
                _ => 0,
            };
            let gone = match r.state {
                ExecState::Running { pid } => !in_container(pid, init),
                _ => init == 0,
            };
            if gone && execs::end_unfinished(conn, &r.id, UNKNOWN_EXIT)? {
                log::debug!("exec {}: its process ended unseen", r.id);
            }
        }
        Ok(())
    }

    /// `GET /exec/{id}/json`.
    pub fn inspect_exec(&self, id: &str) -> Result<ExecInspect, EngineError> {
        let mut record = execs::get(self.store.db().conn(), id)?.ok_or_else(|| no_such_exec(id))?;
        if record.state.running() {
            self.reconcile_execs(Some(&record.container_id))?;
            record = execs::get(self.store.db().conn(), id)?.ok_or_else(|| no_such_exec(id))?;
        }
        let config = config_of(&record)?;
        Ok(ExecInspect {
            id: record.id,
            running: record.state.running(),
            exit_code: record.state.exit_code(),
            process_config: ExecProcessConfig {
                tty: config.tty,
                entrypoint: config.cmd.first().cloned().unwrap_or_default(),
                arguments: config.cmd.iter().skip(1).cloned().collect(),
                privileged: false,
                user: config.user.clone(),
            },
            open_stdin: config.attach_stdin,
            open_stderr: config.attach_stderr,
            open_stdout: config.attach_stdout,
            can_remove: false,
            container_id: record.container_id,
            detach_keys: config.detach_keys,
            pid: record.state.pid(),
        })
    }

    /// The IDs of container `id`'s running exec instances (`ExecIDs` of inspect).
    pub(crate) fn running_exec_ids(&self, id: &str) -> Result<Vec<String>, EngineError> {
        self.reconcile_execs(Some(id))?;
        Ok(execs::running_ids(self.store.db().conn(), id)?)
    }

    /// Claims exec instance `id` for a start, once: 404 if there is no such instance, 409 if it
    /// ran or runs already or its container does not run. Returns its request. The caller must
    /// then run it ([`Engine::start_claimed_exec`], or an exec shim).
    pub fn claim_exec(&mut self, id: &str) -> Result<ExecConfig, EngineError> {
        let record = execs::get(self.store.db().conn(), id)?.ok_or_else(|| no_such_exec(id))?;
        // Refreshed first: a container whose shim died is recorded as exited.
        self.container(&record.container_id)?;
        // The container is checked first, so that a refused start leaves the instance unused,
        // and in the claim's transaction, so that it cannot stop in between unseen.
        let claim = self.acting(&record.container_id, Container::can_exec, |tx, _| {
            Ok(execs::claim_start(tx, id)?)
        })?;
        match claim {
            Claim::Claimed(record) => config_of(&record),
            Claim::Missing => Err(no_such_exec(id)),
            Claim::AlreadyStarted(r) if r.state.exit_code().is_some() => {
                Err(ExecRequestError::AlreadyRun(id.to_string()).into())
            }
            Claim::AlreadyStarted(_) => {
                Err(ExecRequestError::AlreadyRunning(id.to_string()).into())
            }
        }
    }

    /// Runs exec instance `id` on `io` until its process ends and returns its exit code
    /// (`POST /exec/{id}/start`, attached). The process reads `io.stdin` when the request
    /// attached stdin. With a terminal, this process becomes a child subreaper for the run.
    pub fn start_exec(&mut self, id: &str, io: AttachIo<'_>) -> Result<i32, EngineError> {
        self.claim_exec(id)?;
        self.start_claimed_exec(id, io)
    }

    /// Creates an exec instance in container `name` and runs it on `io` (the CLI's `berth exec`,
    /// the builder's `RUN`): [`Engine::create_exec`] then [`Engine::start_exec`].
    pub fn exec(
        &mut self,
        name: &str,
        config: ExecConfig,
        io: AttachIo<'_>,
    ) -> Result<i32, EngineError> {
        let id = self.create_exec(name, config)?;
        self.start_exec(&id, io)
    }

    /// Runs an instance claimed by [`Engine::claim_exec`]; records its pid once it runs and its
    /// exit code when it ends (126/127 and the runtime's message when it cannot start).
    pub fn start_claimed_exec(&mut self, id: &str, io: AttachIo<'_>) -> Result<i32, EngineError> {
        let record = execs::get(self.store.db().conn(), id)?.ok_or_else(|| no_such_exec(id))?;
        let config = config_of(&record)?;
        let container = self.lookup_container(&record.container_id)?;
        let action = format!("exec_start: {}", exec_command(&config));
        self.emit_container(&container, &action, &[("execID", id.to_string())]);
        // Held until the exit is recorded: while it is, no one takes the instance for lost.
        let watch = watch_path(&self.container_dir(&record.container_id), id);
        let held = hold_watch(&watch)
            .map_err(|e| log::warn!("exec {id}: taking its watch lock: {e}"))
            .ok();
        let result = self.run_exec(&record, &config, io);
        let conn = self.store.db().conn();
        let code = match &result {
            Ok(code) => {
                execs::set_exited(conn, id, *code, "")?;
                *code
            }
            Err(e) => {
                let code = e.run_exit_code().max(126);
                execs::set_exited(conn, id, code, &e.to_string())?;
                code
            }
        };
        if held.is_some() {
            let _ = std::fs::remove_file(&watch);
        }
        let attributes = [("execID", id.to_string()), ("exitCode", code.to_string())];
        self.emit_container(&container, "exec_die", &attributes);
        result
    }

    fn run_exec(
        &mut self,
        record: &ExecRecord,
        config: &ExecConfig,
        io: AttachIo<'_>,
    ) -> Result<i32, EngineError> {
        let c = self.container(&record.container_id)?;
        c.can_exec()?;
        let spec = self.exec_spec(&c, config)?;
        let runtime = self.runtime_of(&c);
        let dir = self.run_dir(&c.id);
        let conn = self.store.db().conn();
        let mut started = |pid: i32| {
            if let Err(e) = execs::set_running(conn, &record.id, i64::from(pid)) {
                log::warn!("exec {}: recording its pid: {e}", record.id);
            }
        };
        let mode = ExecMode {
            interactive: config.attach_stdin,
            detach: false,
        };
        match exec_with(&*runtime, &c.id, &dir, &spec, mode, io, &mut started) {
            Ok(ExecOutcome::Exited(code)) => Ok(code),
            Ok(ExecOutcome::Detached { .. }) => unreachable!("exec runs attached"),
            Err(e) => Err(ProcessError::from(e).into()),
        }
    }

    /// The process to run: the request over the container's settings.
    pub(crate) fn exec_spec(
        &self,
        c: &Container,
        config: &ExecConfig,
    ) -> Result<ExecSpec, EngineError> {
        let rootfs = self.store.driver().rootfs(&c.id, true)?.path;
        let user_spec = if config.user.is_empty() {
            &c.config.user
        } else {
            &config.user
        };
        let user =
            berth_runtime::user::resolve_user(&rootfs, user_spec).map_err(ProcessError::from)?;
        // Docker gives exec'd processes the link variables too.
        let mut env = self.link_env(c);
        env.extend(c.config.env.clone().unwrap_or_default());
        env.extend(config.env.iter().cloned());
        let rlimits =
            bundle_rlimits(&self.run_dir(&c.id).join("bundle")).map_err(ProcessError::from)?;
        Ok(ExecSpec {
            args: config.cmd.clone(),
            env,
            cwd: if config.working_dir.is_empty() {
                c.config.working_dir.clone()
            } else {
                config.working_dir.clone()
            },
            user,
            tty: config.tty,
            hostname: c.config.hostname.clone(),
            console_size: config
                .console_size
                .filter(|[h, w]| *h > 0 && *w > 0)
                .map(|[rows, cols]| WinSize { rows, cols }),
            rlimits,
            // The container's confinement holds for its execs too.
            capabilities: Some(super::runconfig::security::capabilities(&c.host_config)?),
            no_new_privileges: super::runconfig::security::no_new_privileges(&c.host_config),
        })
    }

    /// Starts exec instance `id` in the background (`docker exec -d`, `POST /exec/{id}/start`
    /// with `Detach`): an exec shim runs it with no I/O and records its exit. Returns its pid once
    /// it runs, or why it could not start.
    pub fn start_exec_detached(&mut self, id: &str) -> Result<i64, EngineError> {
        self.claim_exec(id)?;
        let mut child =
            self.spawn_exec_shim(id, [Stdio::null(), Stdio::null(), Stdio::null()], false)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let record = execs::get(self.store.db().conn(), id)?.ok_or_else(|| no_such_exec(id))?;
            match record.state {
                ExecState::Running { pid } => {
                    // Reaped by a thread: the shim runs as long as the process does.
                    std::thread::spawn(move || child.wait());
                    return Ok(pid);
                }
                ExecState::Exited { code, pid } => {
                    let _ = child.wait();
                    let message = execs::error_of(self.store.db().conn(), id)?;
                    if message.is_empty() {
                        // It ran, and was quick.
                        return Ok(pid);
                    }
                    return Err(ProcessError::from(ExecError::Start(StartFailure {
                        message,
                        exit_code: code,
                    }))
                    .into());
                }
                _ => {}
            }
            let gone = !matches!(child.try_wait(), Ok(None));
            if gone || Instant::now() > deadline {
                let why = if gone {
                    "the exec shim exited before the process ran"
                } else {
                    "the exec shim did not start the process in time"
                };
                execs::set_exited(self.store.db().conn(), id, 126, why)?;
                let _ = child.kill();
                let _ = child.wait();
                return Err(EngineError::Io(std::io::Error::other(format!(
                    "exec {id}: {why}"
                ))));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Spawns the exec shim for claimed instance `id`, its stdio on `stdio` (what the exec'd
    /// process reads and writes). With `controlling_tty`, stdin is a terminal that becomes the
    /// shim's controlling terminal (so resizes reach it as SIGWINCH). `berth serve` runs attached
    /// execs this way: a terminal exec makes its runner a child subreaper, which the server must
    /// not become (its containers' shims would be reparented to it).
    pub fn spawn_exec_shim(
        &self,
        id: &str,
        stdio: [Stdio; 3],
        controlling_tty: bool,
    ) -> Result<Child, EngineError> {
        let [stdin, stdout, stderr] = stdio;
        let mut cmd = Command::new(self.shim_exe());
        cmd.arg("--root")
            .arg(self.root())
            .arg("exec-shim")
            .arg(id)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr);
        if controlling_tty {
            // SAFETY: runs in the forked child before exec; setsid(2) and ioctl(2) are
            // async-signal-safe and touch only the child's own session and stdin.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        } else {
            // Its own process group: a terminal's Ctrl-C or hang-up meant for the caller does
            // not reach a detached exec.
            cmd.process_group(0);
        }
        cmd.spawn().map_err(|e| {
            EngineError::Io(std::io::Error::other(format!(
                "exec {id}: starting the exec shim: {e}"
            )))
        })
    }

    /// The exec shim's body (`berth exec-shim ID`): runs claimed instance `id` on this process's
    /// stdio, records its life, and exits with its exit code.
    pub fn run_exec_shim(opts: EngineOptions, id: &str) -> ! {
        let code = match Engine::open(opts) {
            Ok(mut engine) => match engine.start_claimed_exec(id, AttachIo::stdio()) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("{e}");
                    e.run_exit_code().max(126)
                }
            },
            Err(e) => {
                eprintln!("berth exec-shim: {e}");
                125
            }
        };
        std::process::exit(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::testutil::{engine_with_container, FakeRuntime};
    use crate::container::Status;

    /// Records exec instance `id` of container `c` as running with host pid `pid`.
    fn running(engine: &Engine, c: &str, id: &str, pid: i64) {
        let conn = engine.store().db().conn();
        execs::insert(
            conn,
            &ExecRecord {
                id: id.into(),
                container_id: c.into(),
                config: r#"{"Cmd":["sleep","60"]}"#.into(),
                state: ExecState::Created,
                created_at: crate::now(),
            },
        )
        .unwrap();
        execs::claim_start(conn, id).unwrap();
        if pid > 0 {
            execs::set_running(conn, id, pid).unwrap();
        }
    }

    /// A pid that was in use a moment ago and is free now.
    fn dead_pid() -> i64 {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        i64::from(pid)
    }

    #[test]
    fn execs_whose_process_is_gone_are_marked_exited_and_the_others_kept() {
        let fake = FakeRuntime::new();
        let (_root, mut engine) = engine_with_container(&fake, "c1", Status::Running);
        // The container's "init" is this test process: processes of its pid namespace are in
        // the container.
        let mut c = engine.lookup_container("c1").unwrap();
        c.state.pid = i64::from(std::process::id());
        engine.save_state("c1", &c.state).unwrap();
        let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
        running(&engine, "c1", "alive", i64::from(sleeper.id()));
        running(&engine, "c1", "gone", dead_pid());
        running(&engine, "c1", "watched", dead_pid());
        running(&engine, "c1", "starting", 0);
        let dir = engine.container_dir("c1");
        let _watch = hold_watch(&watch_path(&dir, "watched")).unwrap();

        let gone = engine.inspect_exec("gone").unwrap();
        assert_eq!((gone.running, gone.exit_code), (false, Some(UNKNOWN_EXIT)));
        assert_eq!(
            engine.running_exec_ids("c1").unwrap(),
            ["alive", "watched", "starting"]
        );
        let alive = engine.inspect_exec("alive").unwrap();
        assert_eq!((alive.running, alive.exit_code), (true, None));
        // A real exit recorded later still wins over the guess.
        execs::set_exited(engine.store().db().conn(), "gone", 3, "").unwrap();
        assert_eq!(engine.inspect_exec("gone").unwrap().exit_code, Some(3));

        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        assert!(!engine.inspect_exec("alive").unwrap().running);
    }

    #[test]
    fn a_stopped_containers_execs_are_marked_exited_when_the_engine_opens() {
        let fake = FakeRuntime::new();
        let (root, engine) = engine_with_container(&fake, "c1", Status::Exited);
        running(&engine, "c1", "was-running", i64::from(std::process::id()));
        running(&engine, "c1", "was-starting", 0);
        drop(engine);
        let engine = Engine::open(EngineOptions {
            root: root.path().to_path_buf(),
            storage_driver: Some("vfs".into()),
            shim_exe: None,
            runtime: Some(std::sync::Arc::new(fake.clone())),
            config_file: None,
            mounter: Default::default(),
        })
        .unwrap();
        assert!(execs::unfinished(engine.store().db().conn(), None)
            .unwrap()
            .is_empty());
        for id in ["was-running", "was-starting"] {
            let e = engine.inspect_exec(id).unwrap();
            assert_eq!(
                (e.running, e.exit_code),
                (false, Some(UNKNOWN_EXIT)),
                "{id}"
            );
        }
    }

    #[test]
    fn exec_configs_read_dockers_json() {
        let c: ExecConfig = serde_json::from_str(
            r#"{"AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":true,
                "ConsoleSize":[24,80],"Cmd":["sh","-c","exit 3"],"Env":["A=1"],
                "WorkingDir":"/tmp","User":"nobody","DetachKeys":"ctrl-x"}"#,
        )
        .unwrap();
        assert_eq!(c.cmd, ["sh", "-c", "exit 3"]);
        assert_eq!(c.console_size, Some([24, 80]));
        assert!(c.tty && c.attach_stdout && !c.attach_stdin);
        let back: ExecConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
