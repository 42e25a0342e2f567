//! `create`: a container record, its writable layer over the image's layers and the init layer
//! shared by the containers on the image's top layer (built by the first), and its directory —
//! all or nothing. The image config's defaults are merged into the request the way
//! Docker merges them (user values win; `Entrypoint` given without `Cmd` drops the image's `Cmd`).

use berth_image::config::ContainerConfig;
use berth_image::platform::Platform;
use berth_store::metadata::containers::{self, ContainerRow, StateRow, VolumeRef};
use berth_store::metadata::MetaError;
use berth_store::{fsutil, journal};
use berth_volume::mount_spec::{ApiVersion, ConfigVolumes};
use berth_volume::store::VolumeError;

use super::{files, names, Container, ZERO_TIME};
use crate::types::CreateRequest;
use crate::{Engine, EngineError};

/// A create request dockerd would refuse, in its words.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// `WorkingDir` is relative.
    #[error("the working directory '{0}' is invalid, it needs to be an absolute path")]
    RelativeWorkingDir(String),
    /// `--platform` does not parse.
    #[error("{0}")]
    BadPlatform(String),
    /// The image is of another platform than `--platform` asked for (404, as dockerd's).
    #[error("image with reference {image} was found but does not match the specified platform: wanted {wanted}, actual: {actual}")]
    PlatformMismatch {
        /// The image as named.
        image: String,
        /// The platform asked for.
        wanted: String,
        /// The image's.
        actual: String,
    },
    /// A platform this machine cannot run.
    #[error("berth cannot run {wanted} containers on this {host} machine (images of other platforms can be pulled and stored, not run)")]
    ForeignPlatform {
        /// The platform asked for.
        wanted: String,
        /// This machine's.
        host: String,
    },
    /// `--runtime` names no runtime this binary has.
    #[error("unknown or invalid runtime name: {0}")]
    UnknownRuntime(String),
    /// A stop signal that is not a signal (or beyond the last real-time one).
    #[error("Invalid signal: {0}")]
    InvalidSignal(String),
    /// `--rm` with a restart policy.
    #[error("can't create 'AutoRemove' container with restart policy")]
    AutoRemoveWithRestart,
    /// Neither the request nor the image gives a command.
    #[error("No command specified")]
    NoCommand,
    /// A restart policy whose retry count does not apply.
    #[error("maximum retry count cannot be used with restart policy '{0}'")]
    RetryCountWithPolicy(String),
    /// `on-failure` with a negative retry count.
    #[error("maximum retry count cannot be negative")]
    NegativeRetryCount,
    /// A restart policy dockerd does not know.
    #[error("invalid restart policy '{0}'")]
    UnknownRestartPolicy(String),
}

impl CreateError {
    /// The class of the refusal.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            CreateError::PlatformMismatch { .. } => berth_store::ErrorKind::NotFound,
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

/// Docker's merge of an image's config into a container's (`daemon.merge`).
fn merge_image_config(user: &mut ContainerConfig, image: &ContainerConfig) {
    if user.user.is_empty() {
        user.user = image.user.clone();
    }
    if let Some(ports) = &image.exposed_ports {
        let mine = user.exposed_ports.get_or_insert_with(Default::default);
        for (k, v) in ports {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(image_env) = &image.env {
        let mut env = image_env.clone();
        for e in user.env.take().unwrap_or_default() {
            let key = e.split_once('=').map(|(k, _)| k).unwrap_or(&e).to_string();
            env.retain(|x| x.split_once('=').map(|(k, _)| k).unwrap_or(x) != key);
            env.push(e);
        }
        user.env = Some(env);
    }
    let mut labels = image.labels.clone().unwrap_or_default();
    labels.extend(user.labels.take().unwrap_or_default());
    user.labels = Some(labels);
    if user.entrypoint.as_ref().is_none_or(|e| e.is_empty()) {
        if user.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            user.cmd = image.cmd.clone();
            user.args_escaped = image.args_escaped;
        }
        if user.entrypoint.is_none() {
            user.entrypoint = image.entrypoint.clone();
        }
    }
    if user.working_dir.is_empty() {
        user.working_dir = image.working_dir.clone();
    }
    if let Some(vols) = &image.volumes {
        let mine = user.volumes.get_or_insert_with(Default::default);
        for (k, v) in vols {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if user.stop_signal.is_empty() {
        user.stop_signal = image.stop_signal.clone();
    }
    super::health::merge(&mut user.healthcheck, image.healthcheck.as_ref());
    if user.shell.is_none() {
        user.shell = image.shell.clone();
    }
}

impl Engine {
    /// `docker create`: records a container and prepares its layers; nothing runs yet.
    pub fn create_container(&mut self, req: CreateRequest) -> Result<Container, EngineError> {
        // dockerd checks these before it looks the image up.
        let wd = &req.config.working_dir;
        if !wd.is_empty() && !wd.starts_with('/') {
            return Err(CreateError::RelativeWorkingDir(wd.clone()).into());
        }
        validate_restart_policy(&req.host_config.restart_policy)?;
        if let Some(h) = &req.config.healthcheck {
            super::health::validate(h)?;
        }
        let image_ref = req.config.image.clone();
        let (image, _) = self.resolve_image(&image_ref)?;
        if let Some(spec) = req.platform.as_deref().filter(|p| !p.is_empty()) {
            check_platform(&image_ref, &image.config, spec)?;
        }
        let mut host_config = req.host_config;
        self.config.merge_log_config(&mut host_config.log_config);
        if host_config.runtime.is_empty() {
            host_config.runtime = runtime_for(
                self.config.default_runtime(),
                &host_config.pid_mode,
                self.config.cgroup_driver,
                || super::runconfig::cgroups::CgroupHost::get().v2,
            )
            .to_string();
        }
        if berth_runtime::AnyRuntime::named(&host_config.runtime, self.root()).is_none() {
            // The in-process runtime, in a binary built without it.
            return Err(CreateError::UnknownRuntime(host_config.runtime).into());
        }
        host_config.fill_defaults();
        if host_config.auto_remove && !matches!(host_config.restart_policy.name.as_str(), "" | "no")
        {
            return Err(CreateError::AutoRemoveWithRestart.into());
        }
        super::runconfig::validate(&mut host_config, &req.config.hostname)?;
        let stop_signal = &req.config.stop_signal;
        if !stop_signal.is_empty() && super::stop::parse_signal(stop_signal).is_none() {
            // dockerd's check (a number beyond the last real-time signal too: it could never
            // be sent).
            return Err(CreateError::InvalidSignal(stop_signal.clone()).into());
        }
        self.check_remap(&host_config)?;
        super::runconfig::cgroups::check_driver(
            self.config.cgroup_driver,
            &host_config.resources.cgroup_parent,
            &host_config.runtime,
        )?;
        let layer_size = self.container_layer_size(host_config.storage_opt.as_ref())?;
        self.check_layer_size(layer_size)?;
        for mode in [&host_config.pid_mode, &host_config.ipc_mode] {
            if let Some(target) = mode.strip_prefix("container:") {
                self.container(target)?;
            }
        }
        let mut config = req.config;
        let user_hostname = !config.hostname.is_empty();
        merge_image_config(
            &mut config,
            &image.config.config.clone().unwrap_or_default(),
        );
        let name = match &req.name {
            Some(n) => {
                let n = names::validate(n)?;
                self.check_name_free(&n)?;
                n
            }
            None => self.unused_generated_name()?,
        };
        let mut endpoints = self.plan_network(
            &name,
            &mut config,
            &mut host_config,
            req.networking_config.as_ref(),
            user_hostname,
        )?;
        let has_command = config.entrypoint.as_ref().is_some_and(|e| !e.is_empty())
            || config.cmd.as_ref().is_some_and(|c| !c.is_empty());
        if !has_command {
            return Err(CreateError::NoCommand.into());
        }
        let mut specs = self.parse_container_mounts(
            &host_config,
            &ConfigVolumes::from_set(
                &config
                    .volumes
                    .clone()
                    .unwrap_or_default()
                    .into_keys()
                    .collect(),
            ),
            req.api_version.unwrap_or(ApiVersion::LATEST),
        )?;
        let id = fsutil::random_id();
        if config.hostname.is_empty() {
            config.hostname = if host_config.network_mode == "host" {
                // With the host's network the container also has the host's name (Docker).
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_else(|_| id[..12].to_string())
            } else {
                id[..12].to_string()
            };
        }

        for e in &mut endpoints {
            e.container_id = id.clone();
        }
        let top_cache = match &image.top_layer {
            Some(top) => Some(
                self.store
                    .layer(top)?
                    .ok_or_else(|| EngineError::MissingLayer(top.to_string()))?
                    .cache_id,
            ),
            None => None,
        };
        journal::begin(self.store.db().conn(), "container", &id)?;
        let mut created_volumes = Vec::new();
        let mut init_layer = String::new();
        let remap = self.remap_for(&host_config).cloned();
        let prepared = self
            .prepare_container_files(&id, top_cache.as_deref(), layer_size, &config, &host_config)
            .and_then(|init| {
                init_layer = init;
                self.prepare_container_volumes(
                    &id,
                    remap.as_ref(),
                    &mut specs,
                    &mut created_volumes,
                )
            });
        if let Err(e) = prepared {
            self.abandon_container_files(&id);
            self.discard_volumes(&created_volumes);
            return Err(e);
        }
        let container = Container {
            id: id.clone(),
            name,
            image_id: image.id.to_string(),
            image_ref,
            top_layer: image.top_layer.clone(),
            config,
            host_config,
            mounts: specs,
            state: super::State {
                status: super::Status::Created,
                pid: 0,
                exit_code: 0,
                error: String::new(),
                oom_killed: false,
                started_at: ZERO_TIME.into(),
                finished_at: ZERO_TIME.into(),
            },
            created_at: crate::now(),
            restart_count: 0,
            init_layer,
        };
        let named = req.name.is_some();
        self.record_created(
            container,
            &endpoints,
            named,
            remap.as_ref(),
            created_volumes,
        )
    }

    /// Inserts the prepared `container` and announces it. A generated name another process
    /// took between the check and the insert is replaced (`named`: the user gave it, so it is
    /// not); a volume removed between its lookup and the insert (`volume rm` racing `run -v
    /// NAME`) is found or created again, as the run would have had it come a moment later
    /// (issue 15) — a `--volumes-from` volume is not created: that fails. On failure the
    /// container's files and the volumes made for it are removed.
    fn record_created(
        &mut self,
        mut container: Container,
        endpoints: &[berth_store::metadata::networks::EndpointRow],
        named: bool,
        remap: Option<&crate::userns::Remap>,
        mut created_volumes: Vec<String>,
    ) -> Result<Container, EngineError> {
        let id = container.id.clone();
        let (mut attempts, mut vanished) = (0, 0);
        let failure = loop {
            match self.insert_container(&container, endpoints) {
                Ok(()) => {
                    for v in &created_volumes {
                        self.emit_volume(v, "create", &[("driver", "local".into())]);
                    }
                    self.emit_container(&container, "create", &[]);
                    return Ok(container);
                }
                Err(EngineError::Name(names::NameError::InUse { .. }))
                    if !named && attempts < 20 =>
                {
                    attempts += 1;
                    container.name = self.unused_generated_name()?;
                }
                Err(EngineError::Volume(VolumeError::NotFound(_))) if vanished < 20 => {
                    vanished += 1;
                    let mut specs = container.mounts.clone();
                    if let Err(e) =
                        self.prepare_container_volumes(&id, remap, &mut specs, &mut created_volumes)
                    {
                        break e;
                    }
                    container.mounts = specs;
                }
                Err(e) => break e,
            }
        };
        self.abandon_container_files(&id);
        self.discard_volumes(&created_volumes);
        Err(failure)
    }

    fn check_name_free(&self, name: &str) -> Result<(), EngineError> {
        match containers::by_name(self.store.db().conn(), name)? {
            Some(owner) => Err(name_conflict(name, &owner.id)),
            None => Ok(()),
        }
    }

    fn unused_generated_name(&self) -> Result<String, EngineError> {
        for retry in 0..10 {
            let n = names::generate(retry);
            if self.check_name_free(&n).is_ok() {
                return Ok(n);
            }
        }
        Ok(format!("berth_{}", &fsutil::random_hex(6)))
    }

    /// Makes the container's layers (returning its init layer's driver ID) and directory.
    fn prepare_container_files(
        &mut self,
        id: &str,
        top_cache: Option<&str>,
        layer_size: Option<u64>,
        config: &ContainerConfig,
        host_config: &crate::types::HostConfig,
    ) -> Result<String, EngineError> {
        // The init layer's placeholders depend only on the layers below: the containers on
        // one image top layer share it. An image without layers gets one per container.
        let init = match top_cache {
            Some(top) => self
                .store
                .shared_init_layer(top, &|dir| files::populate_init_layer(dir))?,
            None => {
                let init = super::own_init_layer(id);
                let driver = self.store.driver();
                driver.create(&init, None)?;
                files::populate_init_layer(&driver.apply_dir(&init))?;
                init
            }
        };
        let driver = self.store.driver();
        match layer_size {
            Some(size) => {
                driver.create_sized(id, Some(&init), size)?;
                self.mount_layer_quota(id)?;
            }
            None => driver.create_rw(id, Some(&init))?,
        }
        let dir = self.container_dir(id);
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o710)
                .create(&dir)?;
        }
        files::write_etc_files(&dir, &config.hostname, host_config.network_mode == "host")?;
        Ok(init)
    }

    /// Creates and populates the volumes of `specs`; the rootfs is mounted only while volumes
    /// need the image's content.
    fn prepare_container_volumes(
        &mut self,
        id: &str,
        remap: Option<&crate::userns::Remap>,
        specs: &mut [berth_volume::mount_spec::MountSpec],
        created: &mut Vec<String>,
    ) -> Result<(), EngineError> {
        let needs_rootfs = specs.iter().any(|s| {
            s.populates_from_image()
                || s.host_checks().iter().any(|c| {
                    matches!(
                        c,
                        berth_volume::mount_spec::HostCheck::DestinationIsDirectory { .. }
                    )
                })
        });
        if !needs_rootfs {
            return self.prepare_volumes(id, specs, None, created);
        }
        // A remapped container's volumes are filled from the id-mapped view, so what the image
        // has as root's is the remapped root's in the volume.
        let (rootfs, view) = self.rootfs_view(id, remap)?;
        let guards = self.mounter().mount_all_scoped(&rootfs.mounts)?;
        drop(view);
        let result = self.prepare_volumes(id, specs, Some(&rootfs.path), created);
        for g in guards.into_iter().rev() {
            let _ = g.unmount();
        }
        result
    }

    /// Removes whatever `create` made for `id` before it was recorded.
    fn abandon_container_files(&mut self, id: &str) {
        let _ = self.unmount_rootfs(id);
        if self.release_layer_quota(id).is_err() {
            // Never delete through a mount that stayed: its files go with the repair pass.
            return;
        }
        let driver = self.store.driver();
        let _ = driver.remove(id);
        // Its own init layer, if it had one (a shared one stays).
        let _ = driver.remove(&super::own_init_layer(id));
        let _ = fsutil::remove_tree(&self.container_dir(id));
        let _ = journal::end(self.store.db().conn(), "container", id);
    }

    fn insert_container(
        &mut self,
        c: &Container,
        endpoints: &[berth_store::metadata::networks::EndpointRow],
    ) -> Result<(), EngineError> {
        let row = ContainerRow {
            id: c.id.clone(),
            name: c.name.clone(),
            image_id: c.image_id.clone(),
            image_ref: c.image_ref.clone(),
            top_layer: c.top_layer.as_ref().map(|t| t.to_string()),
            config: serde_json::to_string(&c.config).expect("configs serialize"),
            host_config: serde_json::to_string(&c.host_config).expect("host configs serialize"),
            mounts: serde_json::to_string(&c.mounts).expect("mounts serialize"),
            state: StateRow {
                status: c.state.status.as_str().to_string(),
                pid: c.state.pid,
                exit_code: c.state.exit_code,
                error: c.state.error.clone(),
                oom_killed: c.state.oom_killed,
                started_at: c.state.started_at.clone(),
                finished_at: c.state.finished_at.clone(),
            },
            created_at: c.created_at.clone(),
            restart_count: c.restart_count,
            init_layer: c.init_layer.clone(),
        };
        let volumes: Vec<VolumeRef> = c
            .mounts
            .iter()
            .filter(|m| m.kind == berth_volume::mount_spec::MountKind::Volume)
            .map(|m| VolumeRef {
                volume: m.source.clone().unwrap_or_default(),
                destination: m.destination.clone(),
                anonymous: m.anonymous,
            })
            .collect();
        // A `--rm` container's record does not wait for the disk: it goes when its process
        // ends, and if a power loss takes the record back, the container journal entry, which
        // was committed durably before its files were made, names them for the repair pass
        // (volumes made for it were committed on their own). A kept container's record is
        // the user's and is durable.
        let result = self.store.db_mut().write_relaxed_if(
            c.host_config.auto_remove,
            |tx| -> Result<(), MetaError> {
                containers::insert(tx, &row, &volumes)?;
                for e in endpoints {
                    berth_store::metadata::networks::insert_endpoint(tx, e)?;
                }
                journal::end(tx, "container", &c.id)?;
                Ok(())
            },
        );
        match result {
            Ok(()) => Ok(()),
            // A volume removed between its lookup and now: the create loses the race.
            Err(MetaError::Reference(_)) => {
                let missing = c
                    .mounts
                    .iter()
                    .filter_map(|m| m.source.clone())
                    .find(|n| self.lookup_volume_missing(n))
                    .unwrap_or_default();
                Err(berth_volume::store::VolumeError::NotFound(missing).into())
            }
            // Another process took the name between the check and the insert.
            Err(MetaError::Exists(_)) => {
                let owner = containers::by_name(self.store.db().conn(), &c.name)?
                    .map(|o| o.id)
                    .unwrap_or_default();
                Err(name_conflict(&c.name, &owner))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Engine {
    fn lookup_volume_missing(&mut self, name: &str) -> bool {
        self.volumes()
            .and_then(|s| Ok(s.get(name)?))
            .map(|v| v.is_none())
            .unwrap_or(false)
    }
}

/// Docker's name conflict.
pub(crate) fn name_conflict(name: &str, owner: &str) -> EngineError {
    names::NameError::InUse {
        name: name.to_string(),
        owner: owner.to_string(),
    }
    .into()
}

/// Checks an image of `image_ref` against `--platform` `spec` as dockerd does; berth runs
/// containers of this machine's platform only (images of others can be pulled and stored).
fn check_platform(
    image_ref: &str,
    image: &berth_image::config::ImageConfig,
    spec: &str,
) -> Result<(), CreateError> {
    let wanted = Platform::parse(spec).map_err(CreateError::BadPlatform)?;
    let actual = Platform::of_image(image);
    if !wanted.matches(&actual) {
        return Err(CreateError::PlatformMismatch {
            image: image_ref.to_string(),
            wanted: wanted.to_string(),
            actual: actual.to_string(),
        });
    }
    if !wanted.runs_here() {
        return Err(CreateError::ForeignPlatform {
            wanted: wanted.to_string(),
            host: Platform::host().to_string(),
        });
    }
    Ok(())
}

/// dockerd's restart-policy rules, in its words.
pub(crate) fn validate_restart_policy(p: &crate::types::RestartPolicy) -> Result<(), EngineError> {
    let refused = match p.name.as_str() {
        "always" | "unless-stopped" | "no" if p.maximum_retry_count != 0 => {
            CreateError::RetryCountWithPolicy(p.name.clone())
        }
        "on-failure" if p.maximum_retry_count < 0 => CreateError::NegativeRetryCount,
        "always" | "unless-stopped" | "no" | "on-failure" | "" => return Ok(()),
        other => CreateError::UnknownRestartPolicy(other.to_string()),
    };
    Err(refused.into())
}

/// The runtime of a container that names none: the engine's default, except that a container
/// joining another container's PID namespace on a cgroup v1 or hybrid host (`unified` says which)
/// gets runc when the default is the in-process runtime. libcontainer 0.7 finds the cgroup root
/// to strip from the container's v1 `/sys/fs/cgroup` paths by reading `/proc/<pid>` with its pid
/// *in the joined namespace* through the host's `/proc`: another process there, or none at all
/// when berth itself runs in a PID namespace, and create then fails with "failed to prepare
/// rootfs". runc reads its own cgroups instead. Under the systemd cgroup driver every container
/// gets runc: libcgroups 0.7 hands cgroups to systemd only on a unified (v2) host and makes a
/// cgroupfs directory named after the `slice:prefix:name` path on a v1 or hybrid one, where runc
/// makes the transient scope over D-Bus (see docs/runtime.md). A container that names `berth`
/// keeps it (and the systemd driver refuses it, [`super::runconfig::cgroups::check_driver`]).
fn runtime_for<'a>(
    default: &'a str,
    pid_mode: &str,
    driver: crate::config::CgroupDriver,
    unified: impl FnOnce() -> bool,
) -> &'a str {
    if default == berth_runtime::runtime::IN_PROCESS
        && (driver == crate::config::CgroupDriver::Systemd
            || (pid_mode.starts_with("container:") && !unified()))
    {
        "runc"
    } else {
        default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_follows_docker() {
        let image = ContainerConfig {
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            cmd: Some(vec!["sh".into()]),
            entrypoint: None,
            working_dir: "/w".into(),
            ..Default::default()
        };
        let mut user = ContainerConfig {
            env: Some(vec!["A=2".into(), "B=3".into()]),
            ..Default::default()
        };
        merge_image_config(&mut user, &image);
        assert_eq!(user.env.unwrap(), ["PATH=/bin", "A=2", "B=3"]);
        assert_eq!(user.cmd.unwrap(), ["sh"]);
        assert_eq!(user.working_dir, "/w");
        assert_eq!(user.labels, Some(Default::default()));

        let image = ContainerConfig {
            cmd: Some(vec!["default".into()]),
            entrypoint: Some(vec!["/ep".into()]),
            ..Default::default()
        };
        let mut user = ContainerConfig {
            entrypoint: Some(vec!["/other".into()]),
            ..Default::default()
        };
        merge_image_config(&mut user, &image);
        assert_eq!(user.cmd, None, "a user entrypoint drops the image's cmd");
        let mut user = ContainerConfig {
            cmd: Some(vec!["x".into()]),
            ..Default::default()
        };
        merge_image_config(&mut user, &image);
        assert_eq!(user.entrypoint.unwrap(), ["/ep"]);
        assert_eq!(user.cmd.unwrap(), ["x"]);
    }

    #[test]
    fn a_pid_joiner_on_cgroup_v1_gets_runc_when_the_default_is_in_process() {
        use crate::config::CgroupDriver::Cgroupfs;
        assert_eq!(
            runtime_for("berth", "container:db", Cgroupfs, || false),
            "runc"
        );
        assert_eq!(
            runtime_for("berth", "container:db", Cgroupfs, || true),
            "berth"
        );
        assert_eq!(runtime_for("berth", "host", Cgroupfs, || false), "berth");
        assert_eq!(runtime_for("berth", "", Cgroupfs, || false), "berth");
        assert_eq!(
            runtime_for("runc", "container:db", Cgroupfs, || false),
            "runc"
        );
        assert_eq!(
            runtime_for("crun", "container:db", Cgroupfs, || false),
            "crun"
        );
    }

    #[test]
    fn the_systemd_driver_gets_runc_when_the_default_is_in_process() {
        use crate::config::CgroupDriver::Systemd;
        assert_eq!(runtime_for("berth", "", Systemd, || true), "runc");
        assert_eq!(runtime_for("berth", "", Systemd, || false), "runc");
        assert_eq!(runtime_for("crun", "", Systemd, || false), "crun");
    }
}
