//! `start`: mounts the container's root filesystem, writes its OCI bundle and hands it to a new
//! shim, which creates and runs the process and records its life in the database. A failed start
//! leaves the container `created` with Docker's exit code (127/126/...) and error, and nothing
//! mounted; a `--rm` container whose start fails is removed.

use std::process::Command;

use berth_runtime::shim::{spawn_shim_keeping, ShimConfig, ShimStatus, StartMode};
use berth_runtime::spec::{ContainerSpec, Rlimit};
use berth_runtime::term::WinSize;

use berth_volume::mount_spec::MountKind;

use super::{files, CanStart, Container, Status};
use crate::{Engine, EngineError};

/// Journal kind of a container being launched, owned by the launching process (`start`,
/// `run`, the API's attach before start, a restart policy's shim): from before its root
/// filesystem is mounted until its process starts or its shim ends (the shim closes the entry
/// in the transaction that records either) or the launch fails. An entry whose owner died first
/// names a mount nobody will release, or a shim holding a created process for a start request
/// that will never come (a `run` killed between create and attach): the repair pass stops the
/// shim and unmounts, and the container stays created with nothing running, as Docker leaves
/// it (issue 15).
pub(crate) const LAUNCHING: &str = "launch";

/// What `start` achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The container was already running.
    AlreadyRunning,
    /// The process runs.
    Running,
    /// The process is created and waits for an attach client to start it.
    AwaitingAttach,
}

impl Engine {
    /// `docker start`: with `on_attach`, the shim starts the process only when the first attach
    /// client asks (so `run` loses no output). `console` is the initial terminal size for `-t`.
    pub fn start_container(
        &mut self,
        name: &str,
        on_attach: bool,
        console: Option<WinSize>,
    ) -> Result<(Container, Started), EngineError> {
        self.start_container_keeping(name, on_attach, console, false)
    }

    /// [`Engine::start_container`]; with `keep`, a `--rm` container whose launch fails stays
    /// (the API's attach launches it, and the client's `start` that follows reports the failure
    /// and removes it, as dockerd's start does).
    pub(crate) fn start_container_keeping(
        &mut self,
        name: &str,
        on_attach: bool,
        console: Option<WinSize>,
        keep: bool,
    ) -> Result<(Container, Started), EngineError> {
        let c = self.container(name)?;
        if c.can_start()? == CanStart::AlreadyRunning {
            return Ok((c, Started::AlreadyRunning));
        }
        let dir = self.run_dir(&c.id);
        if c.state.status != Status::Created {
            // The shim of the last run may still be finishing (it answers attach clients with
            // the exit code before it unmounts and leaves): a new start waits for it rather than
            // talk to a shim that is going away.
            if let Some(stamp) = berth_runtime::shim::shim_stamp(&dir) {
                stamp.wait_exit(std::time::Duration::from_secs(10));
            }
        }
        if berth_runtime::shim::shim_alive(&dir) {
            // Its shim already holds the created process for an attach (the API's attach
            // comes before start): tell it to go.
            berth_runtime::attach::AttachClient::start(&dir)
                .map_err(berth_runtime::error::ProcessError::from)?;
            return Ok((self.container(&c.id)?, Started::Running));
        }
        // The settings file may have changed the cgroup driver since the container was made.
        super::runconfig::cgroups::check_driver(
            self.config.cgroup_driver,
            &c.host_config.resources.cgroup_parent,
            &c.host_config.runtime,
        )?;
        super::restart_policy::clear_manual_stop(&c.dir(self));
        let result = self.launch(&c, on_attach, console);
        match result {
            Ok(started) => {
                let c = self.lookup_container(&c.id)?;
                Ok((c, started))
            }
            Err(e) => {
                self.release_rootfs(&c);
                if let EngineError::StartFailed(f) = &e {
                    let mut state = c.state.clone();
                    state.status = Status::Created;
                    state.pid = 0;
                    state.exit_code = f.state_exit_code();
                    state.error = f.message.clone();
                    self.save_state(&c.id, &state)?;
                }
                if c.host_config.auto_remove && !keep {
                    let _ = self.destroy_container(&c, true);
                }
                Err(e)
            }
        }
    }

    /// Mounts, sets up the network, writes the bundle and spawns the shim (`start`, and a
    /// restart policy's restart), under a [`LAUNCHING`] journal entry. When no shim takes the
    /// container over, the network is torn down and the root filesystem unmounted again.
    pub(crate) fn launch(
        &mut self,
        c: &Container,
        on_attach: bool,
        console: Option<WinSize>,
    ) -> Result<Started, EngineError> {
        // The entry names what a killed launcher leaves (a waiting shim, a mounted root
        // filesystem): it must survive a killed process, which a relaxed commit does (it is in
        // the WAL), but not a power loss, which leaves no mount and no process to clean up.
        self.store
            .db_mut()
            .write_relaxed(|tx| berth_store::journal::begin(tx, LAUNCHING, &c.id))?;
        let result = self.launch_inner(c, on_attach, console);
        if result.is_err() {
            self.detach_network(c);
            self.release_plugin_mounts(c);
            self.release_rootfs(c);
            let _ = self
                .store
                .db_mut()
                .write_relaxed(|tx| berth_store::journal::end(tx, LAUNCHING, &c.id));
        }
        result
    }

    fn launch_inner(
        &mut self,
        c: &Container,
        on_attach: bool,
        console: Option<WinSize>,
    ) -> Result<Started, EngineError> {
        berth_runtime::phases::mark("engine.launch");
        // The runtime's create moves a process into the container's cgroups; the kernel's wait
        // for that runs from here, while the root filesystem is mounted and the shim spawned,
        // until the shim reports the container created (the end of this call).
        let _cgroup_lock = berth_runtime::cgroup_lock::Warmup::start();
        self.leave_legacy_run_dir(&c.id)?;
        let dir = c.dir(self);
        self.check_remap(&c.host_config)?;
        let remap = self.remap_for(&c.host_config).cloned();
        if let Some(r) = &remap {
            self.grant_remapped_root(c, r)?;
        }
        let rootfs = self.mount_rootfs(c)?;
        let user = berth_runtime::user::resolve_user(&rootfs, &c.config.user)
            .map_err(berth_runtime::error::ProcessError::from)?;
        let mut user = user;
        if let Some(groups) = &c.host_config.group_add {
            user.additional_gids.extend(
                berth_runtime::user::resolve_additional_groups(&rootfs, groups)
                    .map_err(berth_runtime::error::ProcessError::from)?,
            );
        }
        if !c.config.working_dir.is_empty() {
            // Docker creates a missing working directory owned by root, whoever runs in it.
            let (uid, gid) = remap
                .as_ref()
                .map_or((0, 0), |r| (r.root_uid(), r.root_gid()));
            files::mkdir_all_in_root(&rootfs, &c.config.working_dir, uid, gid)?;
        }
        let mounts = self.spec_mounts(c)?;
        for m in c.mounts.iter().filter(|m| m.kind == MountKind::Volume) {
            let Some(name) = &m.source else { continue };
            let attributes = [
                (
                    "driver",
                    m.volume.driver.clone().unwrap_or_else(|| "local".into()),
                ),
                ("container", c.id.clone()),
                ("destination", m.destination.clone()),
                ("read/write", (!m.read_only).to_string()),
                ("propagation", String::new()),
            ];
            self.emit_volume(name, "mount", &attributes);
        }
        let (mut namespaces, shm) = self.namespaces(c)?;
        // A remapped container joining another's PID or IPC namespace is in that one's user
        // namespace, which then owns the network namespace made for it too.
        let joined_userns = namespaces.user.as_ref().and_then(|u| u.path.clone());
        let attached = self.attach_network(c, joined_userns.as_deref())?;
        if let Some(r) = &remap {
            self.own_etc_files(c, r)?;
        }
        if let (Some(user), Some(owner)) = (&mut namespaces.user, &attached.userns) {
            // The user namespace that owns the network namespace the engine made.
            user.path = Some(owner.clone());
        }
        // Docker puts link variables before the container's own, which may override them.
        let mut env = attached.env.clone();
        env.extend(c.config.env.clone().unwrap_or_default());
        let spec = ContainerSpec {
            id: c.id.clone(),
            rootfs: rootfs.clone(),
            args: c.command(),
            env,
            cwd: c.config.working_dir.clone(),
            user,
            hostname: c.config.hostname.clone(),
            tty: c.config.tty,
            read_only_rootfs: c.host_config.readonly_rootfs,
            network: attached.network.clone(),
            init: c.host_config.init.unwrap_or(false),
            init_binary: None,
            etc_files: Some(attached.etc_files.clone()),
            mounts,
            rlimits: c
                .host_config
                .resources
                .ulimits
                .iter()
                .flatten()
                .map(|u| Rlimit {
                    name: u.name.clone(),
                    // -1 is unlimited.
                    soft: u64::try_from(u.soft).unwrap_or(u64::MAX),
                    hard: u64::try_from(u.hard).unwrap_or(u64::MAX),
                })
                .collect(),
            cgroup_parent: (!c.host_config.resources.cgroup_parent.is_empty())
                .then(|| c.host_config.resources.cgroup_parent.clone()),
            systemd_cgroup: self.config.cgroup_driver == crate::config::CgroupDriver::Systemd,
            security: super::runconfig::security::security(
                &c.host_config,
                &self.seccomp_profile(),
            )?,
            resources: super::runconfig::resources::linux_resources(&c.host_config.resources)?,
            oom_score_adj: c.host_config.oom_score_adj as i32,
            namespaces,
            shm,
            sysctls: c.host_config.sysctls.clone().unwrap_or_default(),
            domainname: c.config.domainname.clone(),
            annotations: c.host_config.annotations.clone().unwrap_or_default(),
        };
        if c.host_config.resources.cpu_realtime_runtime > 0 {
            super::runconfig::resources::prepare_realtime(
                &berth_runtime::spec::systemd_cgroup_dir(&spec.cgroups_path())
                    .unwrap_or_else(|| spec.cgroups_path()),
                c.host_config.resources.cpu_realtime_runtime,
            )?;
        }
        let oci = spec
            .to_oci()
            .map_err(berth_runtime::error::ProcessError::from)?;
        let run_dir = self.run_dir(&c.id);
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o710)
                .create(&run_dir)?;
        }
        let bundle = run_dir.join("bundle");
        berth_runtime::spec::write_bundle(&bundle, &oci)
            .map_err(berth_runtime::error::ProcessError::from)?;
        let shim_config = ShimConfig {
            id: c.id.clone(),
            bundle,
            container_dir: run_dir.clone(),
            runtime: self.runtime_for(c),
            log_path: self.log_path(c),
            log_rotation: super::runconfig::logging::settings(&c.host_config.log_config)?.rotation,
            tty: c.config.tty,
            open_stdin: c.config.open_stdin,
            stdin_once: c.config.stdin_once,
            start: if on_attach {
                StartMode::OnAttach
            } else {
                StartMode::Immediate
            },
            // The caller's terminal, else the size the create asked for (the API's ConsoleSize).
            console_size: console.or_else(|| create_console_size(&c.host_config)),
            // With --log-level debug the shim (and the engine hooks inside it) write their
            // diagnostics next to the container's other files.
            debug_log: log::log_enabled!(log::Level::Debug).then(|| dir.join("shim.log")),
        };
        shim_config
            .save(&run_dir.join(berth_runtime::shim::SHIM_CONFIG))
            .map_err(berth_runtime::error::ProcessError::from)?;
        let mut cmd = Command::new(self.shim_exe());
        cmd.arg("--root").arg(self.root());
        if let Some(file) = &self.opts.config_file {
            cmd.arg("--config-file").arg(file);
        }
        if let Some(path) = &shim_config.debug_log {
            log::debug!("shim of {}: debug log in {}", c.id, path.display());
            cmd.args(["--log-level", "debug"]);
        }
        cmd.arg("shim").arg(&c.id);
        let held: Vec<std::os::fd::RawFd> = attached
            .held
            .iter()
            .map(std::os::fd::AsRawFd::as_raw_fd)
            .collect();
        berth_runtime::phases::mark("engine.spawn_shim");
        let handle =
            spawn_shim_keeping(cmd, &held).map_err(berth_runtime::error::ProcessError::from)?;
        // The shim has its own copies of the port sockets now.
        drop(attached);
        match handle.status {
            ShimStatus::Started { .. } => Ok(Started::Running),
            ShimStatus::Created { .. } => Ok(Started::AwaitingAttach),
            ShimStatus::Failed { failure } => Err(EngineError::StartFailed(failure)),
        }
    }

    /// Mounts the container's root filesystem (unless it already is) and returns its path.
    /// A remapped container's is an overlay over an id-mapped view of its image layers.
    pub(crate) fn mount_rootfs(&self, c: &Container) -> Result<std::path::PathBuf, EngineError> {
        let (mut rootfs, _view) = self.rootfs_view(&c.id, self.remap_for(&c.host_config))?;
        if c.host_config.auto_remove {
            rootfs.make_volatile();
        }
        if !rootfs.mounts.is_empty() && !self.mounter().is_mount_point(&rootfs.path) {
            self.mounter().mount_all(&rootfs.mounts)?;
        }
        Ok(rootfs.path)
    }

    /// Where container `c`'s shim writes its log: `<dir>/<id>-json.log` (json-file),
    /// `<dir>/local-logs/container.log` (local); `None` with the `none` driver.
    pub fn log_path(&self, c: &super::Container) -> Option<std::path::PathBuf> {
        use super::runconfig::logging::{settings, LogDriver};
        let dir = self.container_dir(&c.id);
        match settings(&c.host_config.log_config).map(|s| s.driver) {
            Ok(LogDriver::None) => None,
            Ok(LogDriver::Local) => Some(dir.join("local-logs").join("container.log")),
            _ => Some(dir.join(format!("{}-json.log", c.id))),
        }
    }
}

/// `HostConfig.ConsoleSize` as the terminal's first size: `None` for `[0, 0]` (the runtime's
/// default) and for a size no terminal can have.
fn create_console_size(hc: &crate::types::HostConfig) -> Option<WinSize> {
    let [rows, cols] = hc.console_size;
    match (u16::try_from(rows), u16::try_from(cols)) {
        (Ok(rows), Ok(cols)) if rows > 0 && cols > 0 => Some(WinSize { rows, cols }),
        _ => None,
    }
}
