//! Container verbs of the [`Engine`]. This module owns the container record (one row of the
//! `containers` table plus its directory `<root>/containers/<id>/`), finds containers the way
//! Docker does (full ID, name, unique ID prefix), and keeps recorded state honest: a container
//! recorded as running whose shim has died is recovered (killed, unmounted, marked exited) before
//! anyone reads it.
//!
//! One file per verb: `create`, `start`, `stop` (also kill and restart), `remove`, `wait`,
//! `logs`, `attach`, `exec`, `health` (health checks), `inspect`, `list`, `update`, `storage` (where each path lives and
//! what dies with `rm`), `shim` (the hooks the shim process runs); `state` decides which verb each state allows; `runconfig` checks and applies a
//! `HostConfig`.

use std::path::PathBuf;

use berth_image::config::ContainerConfig;
use berth_store::digest::Digest;
use berth_store::metadata::containers::{self, ContainerRow, StateRow};
use berth_store::metadata::MetaError;
use berth_volume::mount_spec::MountSpec;

use crate::types::HostConfig;
use crate::{Engine, EngineError};

mod archive;
mod attach;
mod boot;
mod commit;
mod create;
mod diff;
mod exec;
pub(crate) mod files;
pub mod health;
mod inspect;
mod list;
mod logs;
mod mounts;
mod names;
mod pause;
pub(crate) mod quota;
pub(crate) mod remove;
mod rename;
mod repair;
pub mod restart_policy;
pub mod runconfig;
pub mod shim;
mod start;
mod state;
pub(crate) mod stats;
mod stop;
mod storage;
#[cfg(test)]
mod testutil;
mod top;
mod update;
mod wait;

pub use archive::ContainerPathError;
pub use archive::PathStat;
pub use attach::{AttachRequest, Attached};
pub use boot::BootStart;
pub use commit::CommitRequest;
pub use create::CreateError;
pub use exec::ExecRequestError;
pub use list::ListOptions;
pub use logs::LogsRequest;
pub use mounts::MountPointError;
pub use names::NameError;
pub use start::Started;
pub use state::{CanStart, State, StateError, Status};
pub use stats::{StatsJson, StatsQuery};
pub use stop::{parse_signal, KillError, Stopped};
pub(crate) use storage::writable_layer;
pub use top::{TopError, TopResult};

/// One container, as recorded.
#[derive(Debug, Clone)]
pub struct Container {
    /// 64-hex ID.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Image ID it was created from.
    pub image_id: String,
    /// The image as the user named it.
    pub image_ref: String,
    /// Chain ID of the image's top layer (keeps the layers alive).
    pub top_layer: Option<Digest>,
    /// Config (image defaults merged with the request).
    pub config: ContainerConfig,
    /// Host config as requested.
    pub host_config: HostConfig,
    /// Its mounts, parsed and with every volume named (what `Mounts[]` reports, what
    /// `--volumes-from` inherits, what start mounts).
    pub mounts: Vec<MountSpec>,
    /// State.
    pub state: State,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Restarts so far.
    pub restart_count: i64,
    /// Driver ID of its init layer: the one shared by the containers on its image's top layer
    /// (`<top layer cache_id>-init`, see `berth_store::init_layer`), or its own `<id>-init`
    /// (a container made by an older berth, or from an image without layers).
    pub init_layer: String,
}

/// Docker's zero time, for never-set timestamps.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A container as the store records it, read into the engine's types.
fn from_row(r: ContainerRow) -> Result<Container, EngineError> {
    fn column<T: serde::de::DeserializeOwned>(
        id: &str,
        what: &str,
        text: &str,
    ) -> Result<T, EngineError> {
        serde_json::from_str(text).map_err(|e| {
            EngineError::Meta(MetaError::Corrupt {
                what: format!("container {id} {what}"),
                reason: e.to_string(),
            })
        })
    }
    Ok(Container {
        config: column(&r.id, "config", &r.config)?,
        host_config: column(&r.id, "host_config", &r.host_config)?,
        mounts: column(&r.id, "mounts", &r.mounts)?,
        top_layer: r.top_layer.as_deref().and_then(|s| Digest::parse(s).ok()),
        state: State {
            status: Status::parse(&r.state.status),
            pid: r.state.pid,
            exit_code: r.state.exit_code,
            error: r.state.error,
            oom_killed: r.state.oom_killed,
            started_at: r.state.started_at,
            finished_at: r.state.finished_at,
        },
        init_layer: if r.init_layer.is_empty() {
            own_init_layer(&r.id)
        } else {
            r.init_layer
        },
        id: r.id,
        name: r.name,
        image_id: r.image_id,
        image_ref: r.image_ref,
        created_at: r.created_at,
        restart_count: r.restart_count,
    })
}

/// Container `id` as recorded, read inside a write transaction.
fn locked_container(
    tx: &berth_store::metadata::Connection,
    id: &str,
) -> Result<Container, EngineError> {
    containers::get(tx, id)?
        .map(from_row)
        .transpose()?
        .ok_or_else(|| EngineError::NoSuchContainer(id.to_string()))
}

fn write_state(
    conn: &berth_store::metadata::Connection,
    id: &str,
    s: &State,
) -> Result<(), EngineError> {
    let row = StateRow {
        status: s.status.as_str().to_string(),
        pid: s.pid,
        exit_code: s.exit_code,
        error: s.error.clone(),
        oom_killed: s.oom_killed,
        started_at: s.started_at.clone(),
        finished_at: s.finished_at.clone(),
    };
    Ok(containers::set_state(conn, id, &row)?)
}

/// The driver ID of container `id`'s own init layer (one made for it alone).
pub(crate) fn own_init_layer(id: &str) -> String {
    format!("{id}-init")
}

/// A container record with defaults, for unit tests.
#[cfg(test)]
pub(crate) fn test_container(id: &str) -> Container {
    Container {
        id: id.to_string(),
        name: format!("name-{id}"),
        image_id: String::new(),
        image_ref: "busybox".into(),
        top_layer: None,
        config: ContainerConfig::default(),
        host_config: HostConfig::default(),
        mounts: Vec::new(),
        state: State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
        },
        created_at: ZERO_TIME.into(),
        restart_count: 0,
        init_layer: own_init_layer(id),
    }
}

impl Container {
    /// The container's directory of files (hosts, log, bundle, shim state).
    pub fn dir(&self, engine: &Engine) -> PathBuf {
        engine.container_dir(&self.id)
    }

    /// The init layer's driver ID.
    pub fn init_layer(&self) -> &str {
        &self.init_layer
    }

    /// Whether its init layer is its own (`<id>-init`), which goes with it, rather than the
    /// shared one of its image's top layer, which `rm` never touches.
    pub(crate) fn owns_init_layer(&self) -> bool {
        self.init_layer == own_init_layer(&self.id)
    }

    /// Its command: entrypoint followed by cmd.
    pub fn command(&self) -> Vec<String> {
        let mut args = self.config.entrypoint.clone().unwrap_or_default();
        args.extend(self.config.cmd.clone().unwrap_or_default());
        args
    }

    /// Short ID.
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// `Mounts[]` of `inspect` and `ps`: tmpfs from `--tmpfs` are not listed (Docker).
    pub fn mount_points(&self, engine: &Engine) -> Vec<berth_volume::mount_spec::MountPoint> {
        let volumes = engine.root().join("volumes");
        self.mounts
            .iter()
            .filter_map(|m| {
                let path = m
                    .source
                    .as_deref()
                    .map(|n| volumes.join(n).join("_data").display().to_string())
                    .unwrap_or_default();
                m.mount_point(&path)
            })
            .collect()
    }
}

/// `<exec_root>/containers/<id>`: container `id`'s run directory under the exec root (a tmpfs
/// under `/run` by default, as containerd keeps its bundles under `/run/containerd`): a run
/// creates and removes its files there, not on the data root's disk, and a reboot empties it,
/// as it ends every run.
pub(crate) fn run_dir(exec_root: &std::path::Path, id: &str) -> PathBuf {
    exec_root.join("containers").join(id)
}

impl Engine {
    /// `<root>/containers/<id>`: what the container keeps while it exists (`hosts`,
    /// `hostname`, `resolv.conf`, its log, ...).
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.root().join("containers").join(id)
    }

    /// `<exec root>/containers/<id>` ([`run_dir`]): what the container's runs need and nothing
    /// after a reboot does — the OCI bundle, `shim.json`, the shim's and the init's pid files,
    /// the attach and console sockets.
    ///
    /// A run an older berth started (before the exec root held run files) keeps its files in
    /// the container's directory on the data root and its runtime state under the data root:
    /// while its `shim.pid` is there (its shim runs, or died and its leftovers still need
    /// cleaning up), that directory is the run directory, so an upgrade with containers running
    /// neither loses track of them nor takes them for dead. Its shim removes `shim.pid` when
    /// it ends; the next launch uses the exec root ([`Engine::leave_legacy_run_dir`]).
    pub fn run_dir(&self, id: &str) -> PathBuf {
        let dir = run_dir(&self.network.exec_root, id);
        if dir.exists() {
            return dir;
        }
        let legacy = self.container_dir(id);
        if legacy.join(berth_runtime::shim::SHIM_PID).exists() {
            return legacy;
        }
        dir
    }

    /// Whether container `id`'s run files are where an older berth kept them ([`Engine::run_dir`]).
    pub(crate) fn legacy_run_dir(&self, id: &str) -> bool {
        self.run_dir(id) == self.container_dir(id)
    }

    /// Before a launch: a legacy run directory ([`Engine::run_dir`]) whose shim is gone is
    /// left for the exec root: its run files, which nothing reads any more, are deleted.
    pub(crate) fn leave_legacy_run_dir(&self, id: &str) -> Result<(), EngineError> {
        use berth_runtime::shim::{shim_alive, INIT_PID, SHIM_CONFIG, SHIM_PID};
        if !self.legacy_run_dir(id) {
            return Ok(());
        }
        let dir = self.container_dir(id);
        if shim_alive(&dir) {
            return Ok(());
        }
        for name in [SHIM_PID, SHIM_CONFIG, INIT_PID] {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        berth_store::fsutil::remove_tree(&dir.join("bundle"))?;
        Ok(())
    }

    /// Every container (state as recorded).
    pub(crate) fn all_containers(&self) -> Result<Vec<Container>, EngineError> {
        containers::list(self.store.db().conn())?
            .into_iter()
            .map(from_row)
            .collect()
    }

    fn container_by_id(&self, id: &str) -> Result<Option<Container>, EngineError> {
        containers::get(self.store.db().conn(), id)?
            .map(from_row)
            .transpose()
    }

    /// Finds a container by full ID, exact name (with or without `/`), or unique ID prefix —
    /// Docker's order — and refreshes its state first.
    pub fn container(&mut self, name_or_id: &str) -> Result<Container, EngineError> {
        let c = self.lookup_container(name_or_id)?;
        if self.store.driver().sized_layers() {
            // A reboot took the mount of its size-limited layer (its own `--storage-opt size=`
            // or the settings file's default when it was made): everything that reads the
            // layer finds it again. One stat when the layer has no limit.
            self.mount_layer_quota(&c.id)?;
        }
        self.refresh(c)
    }

    /// Like [`Engine::container`] without the state refresh.
    pub(crate) fn lookup_container(&self, name_or_id: &str) -> Result<Container, EngineError> {
        let not_found = || EngineError::NoSuchContainer(name_or_id.to_string());
        if name_or_id.is_empty() {
            return Err(not_found());
        }
        if let Some(c) = self.container_by_id(name_or_id)? {
            return Ok(c);
        }
        let conn = self.store.db().conn();
        let name = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if let Some(r) = containers::by_name(conn, name)? {
            return from_row(r);
        }
        if name_or_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut found = containers::by_id_prefix(conn, name_or_id, 2)?;
            match found.len() {
                1 => return from_row(found.remove(0)),
                0 => {}
                _ => return Err(names::NameError::AmbiguousPrefix(name_or_id.to_string()).into()),
            }
        }
        Err(not_found())
    }

    /// Writes a container's state columns.
    pub(crate) fn save_state(&mut self, id: &str, s: &State) -> Result<(), EngineError> {
        self.store
            .db_mut()
            .write(|tx| -> Result<(), EngineError> { write_state(tx, id, s) })
    }

    /// Records a state the shim reached (its process started, or ended) and, in the same
    /// transaction, closes the [`start::LAUNCHING`] journal entry of the process that launched
    /// it (the shim owns the container's mounts now, and waits for no one) and appends the
    /// `events` that announce the change (`start`, `die`): one commit where there were three.
    pub(crate) fn save_settled_state(
        &mut self,
        id: &str,
        s: &State,
        events: &[berth_store::metadata::events::EventRow],
    ) -> Result<(), EngineError> {
        // Run state only (and the end of the launch's journal entry, and events): after a
        // power loss every container is dead and the next open reconciles both, so no fsync of
        // its own.
        self.store
            .db_mut()
            .write_relaxed(|tx| -> Result<(), EngineError> {
                write_state(tx, id, s)?;
                berth_store::journal::end(tx, start::LAUNCHING, id)?;
                for row in events {
                    berth_store::metadata::events::append(tx, row)?;
                }
                Ok(())
            })
    }

    /// Re-reads container `id` inside one write transaction, checks `allowed` on what is
    /// recorded now, lets `act` do the verb and change the state, and records that change in the
    /// same transaction: no other berth process can change the state between the check and the
    /// change. `act` must not wait on anything that writes the database (a shim recording an
    /// exit): the transaction holds the write lock.
    pub(crate) fn transition<T>(
        &mut self,
        id: &str,
        allowed: impl FnOnce(&Container) -> Result<(), StateError>,
        act: impl FnOnce(&Container, &mut State) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        self.store.db_mut().write(|tx| -> Result<T, EngineError> {
            let c = locked_container(tx, id)?;
            allowed(&c)?;
            let mut state = c.state.clone();
            let out = act(&c, &mut state)?;
            write_state(tx, id, &state)?;
            Ok(out)
        })
    }

    /// [`Engine::transition`] for a verb that leaves the recorded state to the shim (`kill`,
    /// `stop`'s signal, claiming an exec): `allowed` and `act` run on the state recorded now,
    /// inside one write transaction, so the shim cannot record an exit between the check and the
    /// act; `act` may still find the process gone (it ended, its exit not yet recorded) and
    /// answer as if the check had failed.
    pub(crate) fn acting<T>(
        &mut self,
        id: &str,
        allowed: impl FnOnce(&Container) -> Result<(), StateError>,
        act: impl FnOnce(&berth_store::metadata::Connection, &Container) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        self.store.db_mut().write(|tx| -> Result<T, EngineError> {
            let c = locked_container(tx, id)?;
            allowed(&c)?;
            act(tx, &c)
        })
    }

    /// Writes a container's host config (after `update`).
    pub(crate) fn save_host_config(
        &mut self,
        id: &str,
        hc: &HostConfig,
    ) -> Result<(), EngineError> {
        let json = serde_json::to_string(hc).expect("host configs serialize");
        self.store.db_mut().write(|tx| -> Result<(), EngineError> {
            Ok(berth_store::metadata::containers::set_host_config(
                tx, id, &json,
            )?)
        })
    }

    /// A container recorded as running whose shim is gone (killed, crashed, machine rebooted)
    /// is recovered: what is left of its processes is killed, the runtime state deleted, the
    /// rootfs unmounted, and it is recorded as exited (137, or 255 if it had already ended).
    pub(crate) fn refresh(&mut self, mut c: Container) -> Result<Container, EngineError> {
        if !c.state.status.is_running() {
            return Ok(c);
        }
        let dir = self.run_dir(&c.id);
        if berth_runtime::shim::shim_alive(&dir) {
            return Ok(c);
        }
        // The shim may be finishing normally right now (its exit hook records the state):
        // re-read before deciding it died.
        if let Some(fresh) = self.container_by_id(&c.id)? {
            if !fresh.state.status.is_running() {
                return Ok(fresh);
            }
        }
        let runtime = self.runtime_of(&c);
        let exit = berth_runtime::shim::recover(&*runtime, &c.id, &dir)
            .map_err(berth_runtime::error::ProcessError::from)?;
        self.release_rootfs(&c);
        // The shim's exit hook did not run: its option volumes (a size-limited volume's loop
        // device with them) are released here, as that hook would have.
        self.release_mounts(&c);
        self.detach_network(&c);
        c.state.status = Status::Exited;
        c.state.pid = 0;
        c.state.exit_code = exit.exit_code;
        c.state.finished_at = crate::now();
        if c.state.error.is_empty() {
            c.state.error = "the container's shim exited unexpectedly".into();
        }
        self.save_state(&c.id, &c.state)?;
        Ok(c)
    }

    /// The runtime the engine calls for container `c`: [`crate::EngineOptions::runtime`], else
    /// the container's own ([`Engine::runtime_for`]).
    pub(crate) fn runtime_of(&self, c: &Container) -> std::sync::Arc<dyn berth_runtime::Runtime> {
        match &self.opts.runtime {
            Some(r) => r.clone(),
            None => std::sync::Arc::new(self.runtime_for(c)),
        }
    }

    /// The seccomp profile containers get by default: the engine setting `seccomp-profile`, else
    /// Docker's own.
    pub(crate) fn seccomp_profile(&self) -> PathBuf {
        self.config
            .seccomp_profile
            .clone()
            .unwrap_or_else(|| PathBuf::from(berth_runtime::seccomp::DEFAULT_PROFILE))
    }

    /// The runtime a container runs on (`HostConfig.Runtime`: `runc`, `berth` for the
    /// in-process runtime, or the path of an OCI runtime CLI).
    /// A binary built without the in-process runtime runs such a container on `runc`'s
    /// command line under that name, which fails to start with "cannot run berth"
    /// (create refuses the name in such a binary, so only a data root shared with another
    /// build gets there).
    /// Its state lives under the exec root (`runtime-berth`, `runtime`), as runc's under
    /// Docker's: nothing of it outlives a reboot, which ends every container.
    pub(crate) fn runtime_for(&self, c: &Container) -> berth_runtime::AnyRuntime {
        let name = c.host_config.runtime.as_str();
        let state_root = if self.legacy_run_dir(&c.id) {
            self.root()
        } else {
            &self.network.exec_root
        };
        berth_runtime::AnyRuntime::named(name, state_root).unwrap_or_else(|| {
            berth_runtime::AnyRuntime::Cli(berth_runtime::Runc::new(
                name,
                state_root.join("runtime"),
            ))
        })
    }

    /// Unmounts the rootfs of container `id` if it is mounted (lazily if it is busy).
    pub(crate) fn unmount_rootfs(&self, id: &str) -> Result<(), EngineError> {
        let rootfs = match self.store.driver().rootfs(id, true) {
            Ok(r) => r,
            Err(berth_store::driver::DriverError::NoSuchLayer(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if !rootfs.mounts.is_empty() {
            self.mounter().release(&rootfs.path)?;
        }
        Ok(())
    }

    /// Unmounts the container's rootfs, ignoring failures (it ends up detached at worst).
    pub(crate) fn release_rootfs(&self, c: &Container) {
        let _ = self.unmount_rootfs(&c.id);
        runconfig::namespaces::release_shm(self.mounter(), &c.dir(self));
    }
}

#[cfg(test)]
mod legacy_run_dir_tests {
    use berth_runtime::shim::{ProcessStamp, SHIM_CONFIG, SHIM_PID};

    use super::testutil::{engine_with_container, FakeRuntime};
    use super::Status;

    /// An upgrade with containers running: a run an older berth started keeps its files in
    /// the container's directory on the data root; it is served there while its `shim.pid` is
    /// (a live shim, or a dead one whose leftovers need cleaning up), and the next launch after
    /// its shim is gone leaves those files for the exec root.
    #[test]
    fn a_run_an_older_berth_started_is_served_where_it_keeps_its_files() {
        let fake = FakeRuntime::new();
        let (_root, engine) = engine_with_container(&fake, "c1", Status::Exited);
        let new = engine.network.exec_root.join("containers").join("c1");
        let legacy = engine.container_dir("c1");
        std::fs::create_dir_all(&legacy).unwrap();
        assert_eq!(engine.run_dir("c1"), new);

        let live = ProcessStamp::current();
        live.save(&legacy.join(SHIM_PID)).unwrap();
        std::fs::write(legacy.join(SHIM_CONFIG), "{}").unwrap();
        std::fs::create_dir(legacy.join("bundle")).unwrap();
        assert_eq!(engine.run_dir("c1"), legacy);
        engine.leave_legacy_run_dir("c1").unwrap();
        assert!(legacy.join(SHIM_PID).exists(), "a live shim's files stay");
        assert_eq!(engine.run_dir("c1"), legacy);

        let dead = ProcessStamp {
            start_time: live.start_time + 1,
            ..live
        };
        dead.save(&legacy.join(SHIM_PID)).unwrap();
        assert_eq!(
            engine.run_dir("c1"),
            legacy,
            "a dead shim's leftovers are found"
        );
        engine.leave_legacy_run_dir("c1").unwrap();
        for gone in [SHIM_PID, SHIM_CONFIG, "bundle"] {
            assert!(!legacy.join(gone).exists(), "{gone} is left");
        }
        assert_eq!(engine.run_dir("c1"), new);

        // A run directory under the exec root wins over anything on the data root.
        live.save(&legacy.join(SHIM_PID)).unwrap();
        std::fs::create_dir_all(&new).unwrap();
        assert_eq!(engine.run_dir("c1"), new);
    }
}
