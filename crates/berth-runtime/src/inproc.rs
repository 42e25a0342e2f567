//! [`InProcess`] is the OCI runtime that runs inside berth's own processes (`--runtime berth`):
//! youki's `libcontainer` creates, starts, signals, pauses, deletes and execs into containers
//! from the calling process (the shim for create, start and delete; the CLI or exec shim for
//! exec, kill and the rest), with its state in a directory of our choosing. No runtime
//! process is started: the container's init is cloned from the caller and is its child.
//!
//! Only the glue is written here: stdio and console hand-off, pid files, the workload's
//! start-up (signal mask and dispositions as a fresh process has them, runc's wording for a
//! command that cannot run), and the translation of its errors into the words berth's callers
//! classify ([`RuntimeError::is_not_found`], [`RuntimeError::is_not_running`],
//! [`crate::StartFailure`]'s exit codes).

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libcgroups::common::{CgroupConfig, CgroupManager, ControllerOpt};
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::{Container, ContainerStatus};
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use serde::{Deserialize, Serialize};

mod cgroups;
mod filter;
mod propagation;
mod userns;

use crate::runtime::{
    ContainerState, CreateOptions, ExecOptions, ProcessIo, Runtime, RuntimeError, RuntimeProcess,
    Status,
};

/// The name users select it by (`--runtime berth`, `"default-runtime": "berth"`).
pub const NAME: &str = crate::runtime::IN_PROCESS;

/// The version of the OCI runtime specification the in-process runtime implements.
pub const OCI_VERSION: &str = oci_spec::runtime::VERSION;

/// What runc puts before the reason a container's process could not start; berth's callers
/// (and users' scripts written against Docker) read the reason after it.
const UNABLE_TO_START: &str = "unable to start container process: ";

/// The in-process runtime with its state in `root` (one directory per container).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InProcess {
    /// The state directory; the engine keeps it under its data root.
    pub in_process_root: PathBuf,
}

impl InProcess {
    /// The runtime with its state in `root`.
    pub fn new(root: impl Into<PathBuf>) -> InProcess {
        InProcess {
            in_process_root: root.into(),
        }
    }

    fn builder(
        &self,
        op: &'static str,
        id: &str,
        workload: Workload,
    ) -> Result<ContainerBuilder, RuntimeError> {
        std::fs::create_dir_all(&self.in_process_root).map_err(|source| RuntimeError::Io {
            path: self.in_process_root.clone(),
            source,
        })?;
        ContainerBuilder::new(id.to_string(), SyscallType::default())
            .with_executor(workload)
            .with_root_path(&self.in_process_root)
            .map_err(|e| failed(op, id, &e))
    }

    /// Where compiled seccomp filters are kept ([`filter::Filter::cached`]): a name no
    /// container can have (container names and IDs start with a letter or digit).
    fn seccomp_cache(&self) -> PathBuf {
        self.in_process_root.join(".seccomp-cache")
    }

    /// The container's state as libcontainer keeps it, refreshed from its init process.
    fn load(&self, op: &'static str, id: &str) -> Result<Container, RuntimeError> {
        let dir = self.in_process_root.join(id);
        if id.is_empty() || id.contains('/') || !dir.join("state.json").exists() {
            return Err(not_found(op, id));
        }
        let mut c = Container::load(dir).map_err(|e| failed(op, id, &e))?;
        c.refresh_status().map_err(|e| failed(op, id, &e))?;
        Ok(c)
    }

    /// The container's state as the OCI runtime spec defines it (what `runc state` prints).
    pub fn oci_state(&self, id: &str) -> Result<serde_json::Value, RuntimeError> {
        let c = self.load("state", id)?;
        let st = state_of(&c);
        let annotations = oci_spec::runtime::Spec::load(c.bundle().join("config.json"))
            .ok()
            .and_then(|s| s.annotations().clone())
            .unwrap_or_default();
        Ok(serde_json::json!({
            "ociVersion": OCI_VERSION,
            "id": st.id,
            "status": st.status,
            "pid": st.pid,
            "bundle": st.bundle,
            "annotations": annotations,
        }))
    }

    fn cgroup_manager(
        &self,
        op: &'static str,
        c: &Container,
    ) -> Result<libcgroups::common::AnyCgroupManager, RuntimeError> {
        let id = c.id().to_string();
        let spec = c.spec().map_err(|e| failed(op, &id, &e))?;
        libcgroups::common::create_cgroup_manager(CgroupConfig {
            cgroup_path: spec.cgroup_path,
            systemd_cgroup: false,
            container_name: id.clone(),
        })
        .map_err(|e| failed(op, &id, &e))
    }
}

/// The stdio of a process without a terminal: what the caller gave, `/dev/null` for the rest
/// (the caller's own descriptors must not leak into the container).
fn with_stdio(mut b: ContainerBuilder, io: ProcessIo) -> Result<ContainerBuilder, RuntimeError> {
    let null = || -> Result<OwnedFd, RuntimeError> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|source| RuntimeError::Io {
                path: "/dev/null".into(),
                source,
            })
    };
    b = b.with_stdin(match io.stdin {
        Some(fd) => fd,
        None => null()?,
    });
    b = b.with_stdout(match io.stdout {
        Some(fd) => fd,
        None => null()?,
    });
    b = b.with_stderr(match io.stderr {
        Some(fd) => fd,
        None => null()?,
    });
    Ok(b)
}

fn not_found(op: &'static str, id: &str) -> RuntimeError {
    RuntimeError::Failed {
        op,
        id: id.to_string(),
        message: format!("container {id} does not exist"),
        status: None,
    }
}

/// libcontainer's error in the words runc uses for the same condition, where berth's callers
/// classify them; otherwise its whole chain of causes.
fn failed(op: &'static str, id: &str, e: &(dyn std::error::Error + 'static)) -> RuntimeError {
    let text = chain(e);
    let message = if let Some(i) = text.find(UNABLE_TO_START) {
        format!("{NAME} {op} failed: {}", &text[i..])
    } else {
        match e.downcast_ref::<LibcontainerError>() {
            Some(LibcontainerError::NoDirectory) => format!("container {id} does not exist"),
            Some(LibcontainerError::Exist) => format!("container with id exists: {id}"),
            Some(LibcontainerError::IncorrectStatus(status)) => match (op, status) {
                ("delete", s) => {
                    format!(
                        "cannot delete container {id} that is not stopped: {}",
                        lower(s)
                    )
                }
                ("resume", _) => "container not paused".to_string(),
                ("start", ContainerStatus::Stopped) => {
                    "cannot start a container that has stopped".to_string()
                }
                ("start", _) => "cannot start an already running container".to_string(),
                ("exec", ContainerStatus::Paused) => "container is paused".to_string(),
                ("pause", ContainerStatus::Paused) => "container is paused".to_string(),
                (_, ContainerStatus::Stopped) => "container not running: is stopped".to_string(),
                _ => format!("container not running: {}", lower(status)),
            },
            _ => format!("{NAME} {op} failed: {text}"),
        }
    };
    RuntimeError::Failed {
        op,
        id: id.to_string(),
        message,
        status: None,
    }
}

fn lower(s: &ContainerStatus) -> String {
    format!("{s:?}").to_lowercase()
}

/// `e: cause: cause...`, each message once (libcontainer's wrappers often repeat their cause).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn status_of(s: ContainerStatus) -> Status {
    match s {
        ContainerStatus::Creating => Status::Creating,
        ContainerStatus::Created => Status::Created,
        ContainerStatus::Running => Status::Running,
        ContainerStatus::Stopped => Status::Stopped,
        ContainerStatus::Paused => Status::Paused,
    }
}

fn state_of(c: &Container) -> ContainerState {
    let status = status_of(c.status());
    ContainerState {
        id: c.id().to_string(),
        pid: match status {
            Status::Stopped => 0,
            _ => c.pid().map(|p| p.as_raw()).unwrap_or(0),
        },
        status,
        bundle: c.bundle().clone(),
    }
}

impl Runtime for InProcess {
    fn create(&self, id: &str, bundle: &Path, opts: CreateOptions) -> Result<(), RuntimeError> {
        log::debug!("runtime: {NAME} \"create\" \"--bundle\" {bundle:?} {id:?}");
        let prepared = Prepared::init(id, bundle, &self.seccomp_cache())?;
        let mut b = self
            .builder("create", id, prepared.workload.clone())?
            .with_pid_file(Some(&opts.pid_file))
            .map_err(|e| failed("create", id, &e))?;
        b = match &opts.console_socket {
            // The terminal's slave becomes the process's stdio.
            Some(sock) => b.with_console_socket(Some(sock)),
            None => with_stdio(b, opts.io)?,
        };
        let result = b
            .as_init(bundle)
            .with_systemd(false)
            .with_detach(true)
            .build();
        notice_children();
        let restored = prepared.restore();
        let (err, existed) = match result {
            Ok(c) => match restored
                .and_then(|()| self.disable_oom_killer(id, &prepared))
                .and_then(|()| self.chmod_tmpfs_roots(id, &prepared))
                .and_then(|()| {
                    let pid = c.pid().map(|p| p.as_raw()).unwrap_or(0);
                    propagation::Propagation::apply(pid, &prepared.propagation).map_err(|e| {
                        RuntimeError::Failed {
                            op: "create",
                            id: id.to_string(),
                            message: format!("{NAME} create failed: {UNABLE_TO_START}{e}"),
                            status: None,
                        }
                    })
                }) {
                Ok(()) => return Ok(()),
                Err(e) => (e, false),
            },
            Err(e) => (
                failed("create", id, &e),
                matches!(e, LibcontainerError::Exist),
            ),
        };
        // Like runc, a failed create leaves nothing behind (but a container that already
        // existed stays).
        if !existed {
            let _ = self.delete(id, true);
        }
        Err(err)
    }

    fn start(&self, id: &str) -> Result<(), RuntimeError> {
        log::debug!("runtime: {NAME} \"start\" {id:?}");
        let mut c = self.load("start", id)?;
        c.start().map_err(|e| failed("start", id, &e))
    }

    fn state(&self, id: &str) -> Result<ContainerState, RuntimeError> {
        self.load("state", id).map(|c| state_of(&c))
    }

    fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError> {
        log::debug!("runtime: {NAME} \"kill\" {id:?} {signal} (all: {all})");
        let c = self.load("kill", id)?;
        if c.status() == ContainerStatus::Stopped {
            return Err(failed(
                "kill",
                id,
                &LibcontainerError::IncorrectStatus(ContainerStatus::Stopped),
            ));
        }
        if nix_signal(signal).is_none() {
            return Err(RuntimeError::Failed {
                op: "kill",
                id: id.to_string(),
                message: format!("invalid signal {signal}"),
                status: None,
            });
        }
        // Signalled here rather than through `Container::kill`, which then saves the state
        // as stopped: the shim, seeing the process exit, may have deleted the state by then,
        // and the save would bring back a container that no longer exists.
        let pids = if all {
            let pids = self
                .cgroup_manager("kill", &c)
                .and_then(|m| m.get_all_pids().map_err(|e| failed("kill", id, &e)));
            match pids {
                Ok(pids) => pids.into_iter().map(|p| p.as_raw()).collect(),
                // The cgroup goes with the process: when it exited (and the shim cleaned up,
                // or a restart policy is between two runs) after the check above, the kill
                // meets a container that is not running, not a failure of its cgroup.
                Err(e) => {
                    return Err(match self.load("kill", id) {
                        Ok(now) if now.status() != ContainerStatus::Stopped => e,
                        Ok(_) => failed(
                            "kill",
                            id,
                            &LibcontainerError::IncorrectStatus(ContainerStatus::Stopped),
                        ),
                        Err(gone) => gone,
                    })
                }
            }
        } else {
            c.pid().map(|p| p.as_raw()).into_iter().collect::<Vec<_>>()
        };
        for pid in pids.into_iter().filter(|p| *p > 0) {
            // SAFETY: kill(2) only sends a signal; a process gone meanwhile gives ESRCH.
            if unsafe { libc::kill(pid, signal) } != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::ESRCH) {
                    return Err(RuntimeError::Failed {
                        op: "kill",
                        id: id.to_string(),
                        message: format!("{NAME} kill failed: {e}"),
                        status: None,
                    });
                }
            }
        }
        // A frozen process dies only once thawed (as runc and libcontainer do for SIGKILL).
        if signal == libc::SIGKILL && c.status() == ContainerStatus::Paused {
            let m = self.cgroup_manager("kill", &c)?;
            m.freeze(libcgroups::common::FreezerState::Thawed)
                .map_err(|e| failed("kill", id, &e))?;
        }
        Ok(())
    }

    fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError> {
        log::debug!("runtime: {NAME} \"delete\" {id:?} (force: {force})");
        let mut c = match self.load("delete", id) {
            Ok(c) => c,
            Err(e) if e.is_not_found() => {
                // A create that failed half-way may have left its directory without a state.
                let dir = self.in_process_root.join(id);
                if !id.is_empty() && !id.contains('/') && dir.is_dir() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if c.status() == ContainerStatus::Stopped {
            let done = cgroups::remove_stopped(&c).map_err(|e| failed("delete", id, &e))?;
            if done {
                return Ok(());
            }
        }
        c.delete(force).map_err(|e| failed("delete", id, &e))
    }

    fn exec(
        &self,
        id: &str,
        process: &Path,
        opts: ExecOptions,
    ) -> Result<RuntimeProcess, RuntimeError> {
        log::debug!("runtime: {NAME} \"exec\" \"--process\" {process:?} {id:?}");
        // Like runc's, a refusal to start the process is the result of waiting for it.
        let run = || -> Result<i32, RuntimeError> {
            let c = self.load("exec", id)?;
            if c.status() != ContainerStatus::Running {
                return Err(failed(
                    "exec",
                    id,
                    &LibcontainerError::IncorrectStatus(c.status()),
                ));
            }
            // The exec'd process's intermediate process joins the container's cgroups: the
            // first cgroup.procs write in a while ([`crate::cgroup_lock`]).
            let warmup = crate::cgroup_lock::Warmup::start();
            let prepared = Prepared::exec(
                &c,
                process,
                &self.in_process_root.join(id),
                &self.seccomp_cache(),
            )?;
            let mut b = self
                .builder("exec", id, prepared.workload.clone())?
                .with_pid_file(opts.pid_file.as_ref())
                .map_err(|e| failed("exec", id, &e))?;
            b = match &opts.console_socket {
                Some(sock) => b.with_console_socket(Some(sock)),
                None => with_stdio(b, opts.io)?,
            };
            let result = b
                .as_tenant()
                .with_process(Some(prepared.process.as_deref().unwrap_or(process)))
                .with_detach(opts.detach)
                .build();
            drop(warmup);
            notice_children();
            prepared.restore()?;
            result
                .map(|pid| pid.as_raw())
                .map_err(|e| failed("exec", id, &e))
        };
        Ok(RuntimeProcess::in_process(id, run(), opts.detach))
    }

    fn ps(&self, id: &str) -> Result<Vec<i32>, RuntimeError> {
        let c = self.load("ps", id)?;
        if c.status() == ContainerStatus::Stopped {
            return Ok(Vec::new());
        }
        let m = self.cgroup_manager("ps", &c)?;
        let pids = m.get_all_pids().map_err(|e| failed("ps", id, &e))?;
        Ok(pids.into_iter().map(|p| p.as_raw()).collect())
    }

    fn pause(&self, id: &str) -> Result<(), RuntimeError> {
        let mut c = self.load("pause", id)?;
        c.pause().map_err(|e| failed("pause", id, &e))
    }

    fn resume(&self, id: &str) -> Result<(), RuntimeError> {
        let mut c = self.load("resume", id)?;
        c.resume().map_err(|e| failed("resume", id, &e))
    }

    fn list(&self) -> Result<Vec<ContainerState>, RuntimeError> {
        let entries = match std::fs::read_dir(&self.in_process_root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RuntimeError::Io {
                    path: self.in_process_root.clone(),
                    source,
                })
            }
        };
        let mut out = Vec::new();
        for e in entries.flatten() {
            if let Some(id) = e.file_name().to_str() {
                if let Ok(st) = self.state(id) {
                    out.push(st);
                }
            }
        }
        Ok(out)
    }

    fn update(
        &self,
        id: &str,
        resources: &oci_spec::runtime::LinuxResources,
    ) -> Result<(), RuntimeError> {
        let c = self.load("update", id)?;
        let m = self.cgroup_manager("update", &c)?;
        m.apply(&ControllerOpt {
            resources,
            disable_oom_killer: resources
                .memory()
                .as_ref()
                .and_then(|m| m.disable_oom_killer())
                .unwrap_or(false),
            oom_score_adj: None,
            freezer_state: None,
        })
        .map_err(|e| failed("update", id, &e))
    }
}

/// What the in-process runtime changes in the bundle libcontainer reads for one create or
/// exec, and the workload that goes with it. libcontainer reads `config.json` (or the exec's
/// process file) only while it creates the process, so the changes are undone right after
/// ([`Prepared::restore`]): the bundle stays as its writer left it.
struct Prepared {
    workload: Workload,
    /// A file changed for the call, and what it held before (`None`: remove it after).
    changed: Option<(PathBuf, Option<Vec<u8>>)>,
    /// The exec's process file to hand over instead of the caller's.
    process: Option<PathBuf>,
    /// The container's memory resources when its OOM killer is to be disabled.
    oom_memory: Option<oci_spec::runtime::LinuxMemory>,
    /// Tmpfs mounts over an image's directories, and the directories' modes.
    tmpfs_modes: Vec<(PathBuf, u32)>,
    /// The propagation of the bundle's mounts, set once they are made.
    propagation: Vec<propagation::Propagation>,
}

impl Prepared {
    /// For creating the container of `bundle`: the seccomp filter compiled here and taken out of
    /// libcontainer's hands ([`filter`]), the capabilities the init needs to load it, and the
    /// cgroup v1 hierarchies read-only ([`readonly_cgroup_v1`]).
    fn init(id: &str, bundle: &Path, cache: &Path) -> Result<Prepared, RuntimeError> {
        use oci_spec::runtime::Spec;
        let path = bundle.join("config.json");
        let io = |e: &dyn std::fmt::Display| RuntimeError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        };
        let original = std::fs::read(&path).map_err(|source| RuntimeError::Io {
            path: path.clone(),
            source,
        })?;
        let mut spec: Spec = serde_json::from_slice(&original).map_err(|e| io(&e))?;
        let mut changed = readonly_cgroup_v1(&mut spec);
        let mut tmpfs_modes = Vec::new();
        mounts_as_runc_makes_them(id, bundle, &spec, &mut tmpfs_modes)?;
        let mut workload = Workload::default();
        let nnp = spec
            .process()
            .as_ref()
            .and_then(|p| p.no_new_privileges())
            .unwrap_or(false);
        if let Some(linux) = spec.linux_mut() {
            if let Some(seccomp) = linux.seccomp().clone().filter(filter::handled_here) {
                workload.filter =
                    Some(filter::Filter::cached(&seccomp, cache).map_err(|e| io(&e))?);
                linux.set_seccomp(None);
                changed = true;
            }
        }
        if workload.filter.is_some() {
            if let Some(process) = spec.process_mut() {
                if let Some((loading, after)) =
                    filter::with_loading_caps(process.capabilities().as_ref(), nnp)
                {
                    process.set_capabilities(Some(loading));
                    workload.caps = Some(after);
                }
            }
        }
        let oom_memory = spec
            .linux()
            .as_ref()
            .and_then(|l| l.resources().as_ref())
            .and_then(|r| *r.memory())
            .filter(|m| m.disable_oom_killer() == Some(true));
        let changed = if changed {
            spec.save(&path).map_err(|e| io(&e))?;
            Some((path, Some(original)))
        } else {
            None
        };
        Ok(Prepared {
            workload,
            changed,
            process: None,
            oom_memory,
            tmpfs_modes,
            propagation: propagation::of(&spec),
        })
    }

    /// For exec'ing `process` into container `c`: the container's seccomp filter (libcontainer
    /// gives an exec'd process none), its user namespace to join ([`userns::Join`]:
    /// libcontainer joins every other), and, when the process must start with another user or
    /// more capabilities for either, a copy of its process file in `dir` that says so.
    fn exec(
        c: &Container,
        process: &Path,
        dir: &Path,
        cache: &Path,
    ) -> Result<Prepared, RuntimeError> {
        use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};
        let config = c.bundle().join("config.json");
        let io = |path: &Path, e: &dyn std::fmt::Display| RuntimeError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        };
        let spec = Spec::load(&config).map_err(|e| io(&config, &e))?;
        let mut prepared = Prepared {
            workload: Workload::default(),
            changed: None,
            process: None,
            oom_memory: None,
            tmpfs_modes: Vec::new(),
            propagation: Vec::new(),
        };
        let seccomp = spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().clone())
            .filter(filter::handled_here);
        let user_ns = spec
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().as_ref())
            .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::User));
        if seccomp.is_none() && !user_ns {
            return Ok(prepared);
        }
        let bytes = std::fs::read(process).map_err(|source| RuntimeError::Io {
            path: process.to_path_buf(),
            source,
        })?;
        let mut p: Process = serde_json::from_slice(&bytes).map_err(|e| io(process, &e))?;
        let mut changed = false;
        if let Some(seccomp) = seccomp {
            prepared.workload.filter =
                Some(filter::Filter::cached(&seccomp, cache).map_err(|e| io(&config, &e))?);
            let nnp = p.no_new_privileges().unwrap_or(false);
            if let Some((loading, after)) =
                filter::with_loading_caps(p.capabilities().as_ref(), nnp)
            {
                p.set_capabilities(Some(loading));
                prepared.workload.caps = Some(after);
                changed = true;
            }
        }
        if user_ns {
            let pid = c.pid().map(|p| p.as_raw()).unwrap_or(0);
            let original = prepared
                .workload
                .caps
                .take()
                .or_else(|| p.capabilities().clone());
            let join = userns::Join::prepare(pid, &mut p).map_err(|source| RuntimeError::Io {
                path: format!("/proc/{pid}/ns/user").into(),
                source,
            })?;
            prepared.workload.userns = Some(join);
            prepared.workload.caps = original;
            changed = true;
        }
        if changed {
            static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let copy = dir.join(format!("exec-{}-{seq}.json", std::process::id()));
            let json = serde_json::to_vec(&p).map_err(|e| io(&copy, &e))?;
            std::fs::write(&copy, json).map_err(|source| RuntimeError::Io {
                path: copy.clone(),
                source,
            })?;
            prepared.changed = Some((copy.clone(), None));
            prepared.process = Some(copy);
        }
        Ok(prepared)
    }

    /// Puts back what [`Prepared::init`] or [`Prepared::exec`] changed.
    fn restore(&self) -> Result<(), RuntimeError> {
        let Some((path, original)) = &self.changed else {
            return Ok(());
        };
        let result = match original {
            Some(bytes) => std::fs::write(path, bytes),
            None => match std::fs::remove_file(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                r => r,
            },
        };
        result.map_err(|source| RuntimeError::Io {
            path: path.clone(),
            source,
        })
    }
}

impl InProcess {
    /// `memory.disableOOMKiller`, which libcontainer does not apply at create (runc does).
    fn disable_oom_killer(&self, id: &str, prepared: &Prepared) -> Result<(), RuntimeError> {
        let Some(memory) = &prepared.oom_memory else {
            return Ok(());
        };
        let c = self.load("create", id)?;
        let m = self.cgroup_manager("create", &c)?;
        let mut resources = oci_spec::runtime::LinuxResources::default();
        resources.set_memory(Some(*memory));
        m.apply(&ControllerOpt {
            resources: &resources,
            disable_oom_killer: true,
            oom_score_adj: None,
            freezer_state: None,
        })
        .map_err(|e| failed("create", id, &e))
    }
}

/// What runc does with the bundle's mounts that libcontainer does not: a tmpfs without a `mode=`
/// over a directory of the image takes that directory's mode once mounted (Docker's `--tmpfs`
/// on an image's `VOLUME`; collected in `tmpfs_modes`, applied by [`chmod_tmpfs_roots`]), and a
/// bind mount of a file onto a directory (or the other way round) is refused in runc's words,
/// which berth's callers complete with Docker's hint (libcontainer's own error says only
/// "failed to prepare rootfs").
fn mounts_as_runc_makes_them(
    id: &str,
    bundle: &Path,
    spec: &oci_spec::runtime::Spec,
    tmpfs_modes: &mut Vec<(PathBuf, u32)>,
) -> Result<(), RuntimeError> {
    let Some(root) = spec.root().as_ref().map(|r| bundle.join(r.path())) else {
        return Ok(());
    };
    for m in spec.mounts().iter().flatten() {
        let options = m.options().clone().unwrap_or_default();
        let is_bind = m.typ().as_deref() == Some("bind")
            || options.iter().any(|o| o == "bind" || o == "rbind");
        if m.typ().as_deref() == Some("tmpfs") && !options.iter().any(|o| o.starts_with("mode=")) {
            if let Some(st) = stat_in_root(&root, m.destination()) {
                if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                    tmpfs_modes.push((m.destination().clone(), st.st_mode & 0o7777));
                }
            }
        } else if is_bind {
            if let (Some(src), Some(dst)) = (
                m.source().as_ref().and_then(|s| std::fs::metadata(s).ok()),
                stat_in_root(&root, m.destination()),
            ) {
                if src.is_dir() != (dst.st_mode & libc::S_IFMT == libc::S_IFDIR) {
                    let source = m.source().clone().unwrap_or_default();
                    let (src, dst) = (source.display(), m.destination().display());
                    return Err(RuntimeError::Failed {
                        op: "create",
                        id: id.to_string(),
                        message: format!(
                            "{NAME} create failed: {UNABLE_TO_START}error during container init: \
                             error mounting \"{src}\" to rootfs at \"{dst}\": mount \
                             {src}:{dst}, flags: 0x5000: not a directory"
                        ),
                        status: None,
                    });
                }
            }
        }
    }
    Ok(())
}

impl InProcess {
    /// Gives each tmpfs mounted over an image's directory that directory's mode, through the
    /// created container's root (`/proc/<init>/root`, its mounts in place), as runc does.
    fn chmod_tmpfs_roots(&self, id: &str, prepared: &Prepared) -> Result<(), RuntimeError> {
        use rustix::fs::{Mode, OFlags};
        if prepared.tmpfs_modes.is_empty() {
            return Ok(());
        }
        let c = self.load("create", id)?;
        let pid = c.pid().map(|p| p.as_raw()).unwrap_or(0);
        let io = |path: &Path, e: rustix::io::Errno| RuntimeError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        };
        let root = PathBuf::from(format!("/proc/{pid}/root"));
        let dir = rustix::fs::open(
            &root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io(&root, e))?;
        for (dest, mode) in &prepared.tmpfs_modes {
            let fd =
                berth_store::fsutil::open_in_root(&dir, dest, OFlags::RDONLY | OFlags::DIRECTORY)
                    .map_err(|e| io(dest, e))?;
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(*mode)).map_err(|e| io(dest, e))?;
        }
        Ok(())
    }
}

/// `path` in the container's root file system, resolved as if `root` were `/` (no symlink
/// leads out of it): what is there, if anything.
fn stat_in_root(root: &Path, path: &Path) -> Option<rustix::fs::Stat> {
    use rustix::fs::{Mode, OFlags};
    let dir = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let fd = berth_store::fsutil::open_in_root(&dir, path, OFlags::PATH).ok()?;
    rustix::fs::fstat(&fd).ok()
}

/// libcontainer mounts each cgroup v1 hierarchy read-write whatever the bundle's `cgroup`
/// mount says, where runc honours its `ro` (Docker's default: a container must not raise its
/// own limits). So on a v1 or hybrid host, the hierarchies under a read-only `cgroup` mount
/// are added to the bundle's read-only paths, which libcontainer remounts read-only (and
/// nosuid, nodev, noexec) after mounting them. Whether `spec` changed.
fn readonly_cgroup_v1(spec: &mut oci_spec::runtime::Spec) -> bool {
    let dests: Vec<PathBuf> = spec
        .mounts()
        .iter()
        .flatten()
        .filter(|m| m.typ().as_deref() == Some("cgroup"))
        .filter(|m| m.options().iter().flatten().any(|o| o == "ro"))
        .map(|m| m.destination().clone())
        .collect();
    if dests.is_empty() {
        return false;
    }
    let hierarchies: Vec<String> = match libcgroups::v1::util::list_subsystem_mount_points() {
        Ok(points) => points
            .iter()
            .filter(|p| p.starts_with("/sys/fs/cgroup"))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect(),
        // No v1 hierarchy (a unified host): the cgroup2 mount takes its options as given.
        Err(_) => return false,
    };
    if hierarchies.is_empty() {
        return false;
    }
    let Some(linux) = spec.linux_mut() else {
        return false;
    };
    let mut readonly = linux.readonly_paths().clone().unwrap_or_default();
    for dest in &dests {
        for h in &hierarchies {
            let p = dest.join(h).to_string_lossy().into_owned();
            if !readonly.contains(&p) {
                readonly.push(p);
            }
        }
    }
    linux.set_readonly_paths(Some(readonly));
    true
}

fn nix_signal(signal: i32) -> Option<libcontainer::signal::Signal> {
    libcontainer::signal::Signal::try_from(signal).ok()
}

/// The caller may block SIGCHLD to read it from a signalfd (the shim does): children cloned
/// while creating a container exit during the call, and their SIGCHLD stays pending there, so
/// a fresh one makes sure the caller looks for exited children afterwards.
fn notice_children() {
    // SAFETY: raise(2) sends a signal to the calling thread; SIGCHLD's default action is to
    // ignore it, and a caller that blocks it reads it from its signalfd.
    unsafe {
        libc::raise(libc::SIGCHLD);
    }
}

/// Starts the container's process: runs in the container's init (or exec'd process) just
/// before it execs the command, after the namespaces, mounts, capabilities and seccomp are in
/// place.
#[derive(Clone, Default)]
struct Workload {
    /// The seccomp filter, loaded just before exec.
    filter: Option<filter::Filter>,
    /// The capabilities to set once the filter is loaded (or the user namespace joined), when
    /// the process was given more to load (or join) it.
    caps: Option<oci_spec::runtime::LinuxCapabilities>,
    /// The user namespace an exec'd process joins before its command runs.
    userns: Option<userns::Join>,
}

impl Executor for Workload {
    fn validate(&self, spec: &oci_spec::runtime::Spec) -> Result<(), ExecutorValidationError> {
        let args = spec
            .process()
            .as_ref()
            .and_then(|p| p.args().as_ref())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                ExecutorValidationError::ArgValidationError(format!(
                    "{UNABLE_TO_START}args must not be empty"
                ))
            })?;
        let env = spec
            .process()
            .as_ref()
            .and_then(|p| p.env().clone())
            .unwrap_or_default();
        resolve_command(&args[0], &env)
            .map(drop)
            .map_err(ExecutorValidationError::ArgValidationError)
    }

    fn exec(&self, spec: &oci_spec::runtime::Spec) -> Result<(), ExecutorError> {
        let process = spec.process().as_ref().ok_or(ExecutorError::InvalidArg)?;
        let args = process.args().as_ref().ok_or(ExecutorError::InvalidArg)?;
        let env = process.env().clone().unwrap_or_default();
        let path = resolve_command(&args[0], &env).map_err(ExecutorError::Other)?;
        let cstr = |s: &str| CString::new(s.as_bytes()).map_err(|_| ExecutorError::InvalidArg);
        let path = cstr(&path)?;
        let argv = args
            .iter()
            .map(|a| cstr(a))
            .collect::<Result<Vec<_>, _>>()?;
        // The calling process may block signals (the shim reads SIGCHLD from a signalfd) and
        // ignore SIGPIPE (berth does, for its sockets): both survive exec, and the container's
        // process must start as a fresh one, with no signal blocked and default dispositions.
        // SAFETY: sigemptyset initialises the set; sigprocmask and signal only change this
        // process's signal state, which nothing else in it relies on past this point.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            for sig in 1..32 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
        }
        // The terminal's size as the process file gives it (runc sets it before the command
        // runs; libcontainer does not), so that the command sees it from its first moment.
        if let Some(size) = process
            .console_size()
            .filter(|_| process.terminal() == Some(true))
        {
            let ws = libc::winsize {
                ws_row: size.height() as u16,
                ws_col: size.width() as u16,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ reads a winsize from the pointer, which outlives the call; a
            // stdin that is not a terminal just refuses it.
            unsafe {
                libc::ioctl(0, libc::TIOCSWINSZ, &ws);
            }
        }
        // The environment in the bundle's order (libcontainer's own `setup_envs` goes through
        // a map), with the HOME it worked out for the user when the bundle sets none.
        let mut envp: Vec<CString> = Vec::with_capacity(env.len() + 1);
        for e in &env {
            envp.push(cstr(e)?);
        }
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            if let Ok(home) = std::env::var("HOME") {
                envp.push(cstr(&format!("HOME={home}"))?);
            }
        }
        let ptrs = |v: &[CString]| -> Vec<*const libc::c_char> {
            v.iter()
                .map(|c| c.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        let (argv_p, envp_p) = (ptrs(&argv), ptrs(&envp));
        let unable = |e: String| ExecutorError::Other(format!("{UNABLE_TO_START}{e}"));
        if let Some(join) = &self.userns {
            join.enter().map_err(unable)?;
        }
        // The filter goes on last, so that as few syscalls as possible run under it before
        // the command (the capability drop and execve).
        if let Some(f) = &self.filter {
            f.load(self.caps.as_ref()).map_err(unable)?;
        } else if let (Some(caps), Some(_)) = (&self.caps, &self.userns) {
            let sys = SyscallType::default().create_syscall();
            libcontainer::capabilities::drop_privileges(caps, sys.as_ref())
                .map_err(|e| unable(format!("unable to apply caps: {e}")))?;
        }
        // SAFETY: path, argv and envp are NUL-terminated strings kept alive by `path`, `argv`
        // and `envp`; both arrays end with a null pointer. execve returns only on failure.
        unsafe {
            libc::execve(path.as_ptr(), argv_p.as_ptr(), envp_p.as_ptr());
        }
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Err(ExecutorError::Other(format!(
            "{UNABLE_TO_START}exec: {}: {}",
            berth_go::quote(&args[0]),
            errno_text(errno)
        )))
    }
}

/// The file `cmd` runs, found as runc finds it (a path as is, a bare name in `PATH` from the
/// process's environment), or runc's refusal: `unable to start container process: exec:
/// "nosuch": executable file not found in $PATH`.
fn resolve_command(cmd: &str, env: &[String]) -> Result<String, String> {
    let quoted = berth_go::quote(cmd);
    let refuse = |why: String| format!("{UNABLE_TO_START}exec: {quoted}: {why}");
    let check = |path: &str| -> Result<(), String> {
        match std::fs::metadata(path) {
            Err(e) => Err(refuse(format!(
                "stat {path}: {}",
                errno_text(e.raw_os_error().unwrap_or(libc::ENOENT))
            ))),
            Ok(m) if m.is_dir() => Err(refuse("is a directory".into())),
            Ok(m) if m.permissions().mode() & 0o111 == 0 => Err(refuse("permission denied".into())),
            Ok(_) => Ok(()),
        }
    };
    if cmd.contains('/') {
        return check(cmd).map(|()| cmd.to_string());
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = format!("{dir}/{cmd}");
        if let Ok(m) = std::fs::metadata(&candidate) {
            if !m.is_dir() && m.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(refuse("executable file not found in $PATH".into()))
}

/// The C library's text for `errno`, lower-cased as Go prints it (`no such file or directory`).
fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_that_cannot_run_are_refused_in_runc_words() {
        let env = vec!["PATH=/nonexistent:/bin:/usr/bin".to_string()];
        assert!(resolve_command("sh", &env).unwrap().ends_with("/sh"));
        assert_eq!(
            resolve_command("nosuch-berth", &env).unwrap_err(),
            "unable to start container process: exec: \"nosuch-berth\": executable file not found in $PATH"
        );
        assert_eq!(
            resolve_command("/nosuch", &env).unwrap_err(),
            "unable to start container process: exec: \"/nosuch\": stat /nosuch: no such file or directory"
        );
        assert_eq!(
            resolve_command("/etc/passwd", &env).unwrap_err(),
            "unable to start container process: exec: \"/etc/passwd\": permission denied"
        );
        assert_eq!(
            resolve_command("/etc", &env).unwrap_err(),
            "unable to start container process: exec: \"/etc\": is a directory"
        );
    }

    #[test]
    fn errors_read_like_runc_where_callers_classify_them() {
        let rt = InProcess::new("/nonexistent/berth-inproc-test");
        let e = rt.state("abc").unwrap_err();
        assert!(e.is_not_found(), "{e}");
        let e = rt.kill("abc", 15, false).unwrap_err();
        assert!(e.is_not_found(), "{e}");
        let e = failed(
            "kill",
            "x",
            &LibcontainerError::IncorrectStatus(ContainerStatus::Stopped),
        );
        assert!(e.is_not_running(), "{e}");
        let e = failed(
            "delete",
            "x",
            &LibcontainerError::IncorrectStatus(ContainerStatus::Running),
        );
        assert_eq!(
            e.to_string(),
            "cannot delete container x that is not stopped: running"
        );
        let e = failed(
            "resume",
            "x",
            &LibcontainerError::IncorrectStatus(ContainerStatus::Running),
        );
        assert!(e.is_not_running(), "{e}");
        assert!(rt.list().unwrap().is_empty());
    }

    #[test]
    fn the_shim_config_tells_the_runtimes_apart() {
        use crate::runtime::{AnyRuntime, Runc};
        let runc = AnyRuntime::Cli(Runc::new("runc", "/r"));
        let inproc = AnyRuntime::InProcess(InProcess::new("/s"));
        for rt in [runc, inproc] {
            let json = serde_json::to_string(&rt).unwrap();
            assert_eq!(
                serde_json::from_str::<AnyRuntime>(&json).unwrap(),
                rt,
                "{json}"
            );
        }
        // What shims of earlier versions recorded.
        let old: AnyRuntime =
            serde_json::from_str(r#"{"binary":"runc","root":"/var/lib/berth/runtime"}"#).unwrap();
        assert!(matches!(old, AnyRuntime::Cli(_)));
    }

    /// libcontainer's create binds its notify socket by changing the process's working
    /// directory and back, so in-process creates in this multi-threaded test binary take
    /// turns (CI saw "failed to bind notify socket" when two ran at once). The shim, the only
    /// caller outside tests, is single-threaded.
    static CREATES: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    #[ignore = "needs root"]
    fn lifecycle_on_this_machines_cgroups() {
        use crate::runtime::read_pid_file;
        use crate::testutil::TestEnv;
        let _turn = CREATES.lock().unwrap_or_else(|e| e.into_inner());
        let env = TestEnv::new("inproc");
        let rt = env.inproc();
        let id = env.id("life");
        let bundle = env.bundle(&id, &["sleep", "30"], |_| {});
        let pid_file = bundle.join("init.pid");
        rt.create(
            &id,
            &bundle,
            CreateOptions {
                pid_file: pid_file.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let st = rt.state(&id).unwrap();
        assert_eq!(st.status, Status::Created);
        assert_eq!(st.pid, read_pid_file(&pid_file).unwrap());
        // The init is this process's child (cloned with CLONE_PARENT), as runc's is its shim's
        // once runc exits.
        let ppid = std::fs::read_to_string(format!("/proc/{}/stat", st.pid)).unwrap();
        let ppid: i32 = ppid[ppid.rfind(')').unwrap() + 4..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(ppid, std::process::id() as i32);
        let err = rt
            .create(
                &id,
                &bundle,
                CreateOptions {
                    pid_file: pid_file.clone(),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("exists"), "{err}");
        rt.start(&id).unwrap();
        assert_eq!(rt.state(&id).unwrap().status, Status::Running);
        assert_eq!(rt.ps(&id).unwrap(), vec![st.pid]);
        rt.pause(&id).unwrap();
        assert_eq!(rt.state(&id).unwrap().status, Status::Paused);
        rt.resume(&id).unwrap();
        assert!(rt.list().unwrap().iter().any(|c| c.id == id));
        // The container's cgroup in each hierarchy this machine mounts, removed by delete.
        let spec = oci_spec::runtime::Spec::load(bundle.join("config.json")).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let relative = linux.cgroups_path().as_ref().unwrap();
        let relative = relative.strip_prefix("/").unwrap_or(relative).to_path_buf();
        let cgroups = || -> Vec<PathBuf> {
            std::fs::read_dir("/sys/fs/cgroup")
                .unwrap()
                .map(|e| e.unwrap().path().join(&relative))
                .filter(|p| p.join("cgroup.procs").exists())
                .collect()
        };
        assert!(
            !cgroups().is_empty(),
            "no cgroup {relative:?} while running"
        );
        let err = rt.delete(&id, false).unwrap_err();
        assert!(err.to_string().contains("running"), "{err}");
        rt.kill(&id, libc::SIGKILL, false).unwrap();
        let pid = rustix::process::Pid::from_raw(st.pid).unwrap();
        let (_, status) =
            rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())
                .unwrap()
                .unwrap();
        assert_eq!(status.terminating_signal(), Some(libc::SIGKILL));
        assert_eq!(rt.state(&id).unwrap().status, Status::Stopped);
        let err = rt.kill(&id, libc::SIGTERM, false).unwrap_err();
        assert!(err.is_not_running(), "{err}");
        rt.delete(&id, false).unwrap();
        let err = rt.state(&id).unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert_eq!(err.kind(), berth_store::ErrorKind::NotFound);
        assert_eq!(cgroups(), Vec::<PathBuf>::new(), "left behind by delete");
    }

    #[test]
    #[ignore = "needs root"]
    fn create_refuses_missing_and_unexecutable_commands_like_runc() {
        let _turn = CREATES.lock().unwrap_or_else(|e| e.into_inner());
        let env = crate::testutil::TestEnv::new("inproc");
        let rt = env.inproc();
        env.assert_bad_commands_refused(&rt, "berth", |id| {
            // Nothing is left behind: no state, no cgroup.
            assert!(rt.state(id).unwrap_err().is_not_found());
            assert!(!rt.in_process_root.join(id).exists());
        });
    }
}
