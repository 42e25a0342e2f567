//! `rm` and `container prune`. Whatever processes a container that does not run still has go
//! first (a shim left waiting for a start, a runtime init whose shim was killed); then its row
//! and, with `-v`, its anonymous volumes' rows (in one transaction, with journal entries), then
//! its files: rootfs mount, writable and init layers, directory, volumes. A crash in between is
//! finished by the next open ([`super::repair`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_runtime::shim::{shim_stamp, ProcessStamp};
use berth_store::metadata::containers;
use berth_store::{fsutil, journal};
use berth_volume::mount_spec::MountKind;
use berth_volume::store::VolumeStore;

use super::{Container, Status};
use crate::filters::Filters;
use crate::{Engine, EngineError};

impl Engine {
    /// `docker rm [-f] [-v] NAME`.
    pub fn remove_container(
        &mut self,
        name: &str,
        force: bool,
        volumes: bool,
    ) -> Result<(), EngineError> {
        let c = self.container(name)?;
        if c.can_remove().is_err() {
            if !force {
                c.can_remove()?;
            }
            self.signal_and_wait(&c, libc::SIGKILL, 0)?;
        }
        // The shim of a --rm container may have removed it meanwhile.
        match self.lookup_container(&c.id) {
            Ok(c) => self.destroy_container(&c, volumes),
            Err(EngineError::NoSuchContainer(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `docker rm --link PARENT/ALIAS`: the legacy link `ALIAS` goes from `PARENT`'s links; both
    /// containers stay. A name that is not a link is Docker's "No such container"; a container's
    /// own name (no parent) is refused as dockerd refuses it.
    pub fn remove_link(&mut self, name: &str) -> Result<(), EngineError> {
        let full = format!("/{}", name.trim_start_matches('/'));
        let (parent, _) = full.rsplit_once('/').unwrap_or_default();
        if parent.is_empty() {
            self.container(name)?;
            return Err(super::NameError::DefaultLinkName.into());
        }
        let missing = || EngineError::NoSuchContainer(name.to_string());
        let mut p = self.lookup_container(&parent[1..]).map_err(|_| missing())?;
        let links = p.host_config.links.take().unwrap_or_default();
        // Recorded as `/child:/parent/alias`.
        let kept: Vec<String> = links
            .iter()
            .filter(|l| l.split_once(':').map(|(_, alias)| alias) != Some(full.as_str()))
            .cloned()
            .collect();
        if kept.len() == links.len() {
            return Err(missing());
        }
        p.host_config.links = (!kept.is_empty()).then_some(kept);
        self.save_host_config(&p.id, &p.host_config)
    }

    /// Removes a stopped container and everything it owns (anonymous volumes only with
    /// `volumes`). The row goes only if, in the same transaction, the container is still
    /// stopped: a `start` that won the race keeps it (and this fails with Docker's words).
    pub(crate) fn destroy_container(
        &mut self,
        c: &Container,
        volumes: bool,
    ) -> Result<(), EngineError> {
        if !c.state.status.is_running() {
            self.end_leftover_processes(c)?;
        }
        self.detach_network(c);
        // With `volumes`, the anonymous volumes no other container references go in the same
        // transaction as the container's row (issue 15): a kill after it leaves their files to
        // the repair pass, never a volume nobody can reach.
        let anonymous: Vec<String> = if volumes {
            c.mounts
                .iter()
                .filter(|s| s.kind == MountKind::Volume && s.anonymous)
                .filter_map(|s| s.source.clone())
                .collect()
        } else {
            Vec::new()
        };
        let deleted =
            self.store
                .db_mut()
                .write(|tx| -> Result<Option<Vec<String>>, EngineError> {
                    if !containers::delete_unless(tx, &c.id, &Status::ACTIVE_WORDS)? {
                        return Ok(None);
                    }
                    journal::begin(tx, "container", &c.id)?;
                    if let Some(top) = &c.top_layer {
                        berth_store::Store::begin_release(tx, top)?;
                    }
                    let mut forgotten = Vec::new();
                    for name in &anonymous {
                        if VolumeStore::forget_unreferenced(tx, name)? {
                            forgotten.push(name.clone());
                        }
                    }
                    Ok(Some(forgotten))
                })?;
        let Some(forgotten) = deleted else {
            // Gone already (a --rm shim), or started meanwhile: say which.
            return match self.lookup_container(&c.id) {
                Ok(now) => Ok(now.can_remove()?),
                Err(EngineError::NoSuchContainer(_)) => Ok(()),
                Err(e) => Err(e),
            };
        };
        // Whatever option volumes it left mounted (a shim that died) and no running container
        // uses go now, so a size-limited volume does not keep its loop device.
        self.release_mounts(c);
        self.remove_container_files(&c.id, c.owns_init_layer())?;
        // The image may be gone already (rmi -f): then this container held its layers.
        if let Some(top) = &c.top_layer {
            self.store.release_layer(top)?;
        }
        // The files are gone: recovering the entry would find nothing to remove, so closing it
        // need not wait for the disk.
        self.store
            .db_mut()
            .write_relaxed(|tx| journal::end(tx, "container", &c.id))?;
        self.emit_container(c, "destroy", &[]);
        let removed = self.volumes()?.remove_forgotten(&forgotten)?;
        for (name, result) in forgotten.iter().zip(removed) {
            result?;
            self.emit_volume(name, "destroy", &[("driver", "local".into())]);
        }
        // A plugin's anonymous volumes are removed by their plugin once the container's
        // reference is gone (dockerd's `Remove`); one that fails stays, as in dockerd, where
        // the failure is only logged.
        for name in &anonymous {
            let Ok(Some(v)) = self.volumes()?.get(name) else {
                continue;
            };
            if !v.is_plugin() {
                continue;
            }
            match self.volumes()?.remove(name) {
                Ok(()) => self.emit_volume(name, "destroy", &[("driver", v.driver.clone())]),
                Err(e) => log::warn!("rm -v {}: {e}", c.id),
            }
        }
        Ok(())
    }

    /// Issue 15: a container that does not run may still have processes — a shim holding its
    /// created process for a start that never came (a `run` killed between create and attach),
    /// or the runtime's init of a shim that was killed. They are killed and reaped before the
    /// row goes, so nothing outlives the container. A shim removing its own `--rm` container is
    /// left alone: its process has ended and its runtime state is deleted.
    pub(crate) fn end_leftover_processes(&mut self, c: &Container) -> Result<(), EngineError> {
        let dir = self.run_dir(&c.id);
        match shim_stamp(&dir) {
            Some(shim) if shim == ProcessStamp::current() => Ok(()),
            Some(shim) if shim.is_alive() => {
                // The shim may not have created the process yet: kill until it is gone.
                let runtime = self.runtime_of(c);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                loop {
                    let failure = match runtime.kill(&c.id, libc::SIGKILL, true) {
                        Ok(()) => None,
                        Err(e) if e.is_not_running() || e.is_not_found() => None,
                        // The live shim may be writing the runtime's state at this moment (the
                        // in-process runtime truncates its state file, then writes it), so a
                        // state that does not read yet is tried again until the deadline.
                        Err(e) => Some(e),
                    };
                    if shim.wait_exit(std::time::Duration::from_millis(200)) {
                        return Ok(());
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(match failure {
                            Some(e) => berth_runtime::error::ProcessError::from(e).into(),
                            None => EngineError::Io(std::io::Error::other(format!(
                                "container {} did not exit after SIGKILL",
                                c.id
                            ))),
                        });
                    }
                }
            }
            _ => {
                if self.runtime_for(c).may_hold(&c.id) {
                    let runtime = self.runtime_of(c);
                    berth_runtime::shim::recover(&*runtime, &c.id, &dir)
                        .map_err(berth_runtime::error::ProcessError::from)?;
                }
                Ok(())
            }
        }
    }

    /// Unmounts and deletes the files of container `id` (whose row is gone), or moves them
    /// to the trash ([`Engine::defer_deletes`]); its init layer only if it is its own
    /// (`own_init`, see [`Container::owns_init_layer`]): a shared one stays for the others.
    pub(crate) fn remove_container_files(
        &mut self,
        id: &str,
        own_init: bool,
    ) -> Result<(), EngineError> {
        self.unmount_rootfs(id)?;
        self.release_layer_quota(id)?;
        let init = own_init.then(|| super::own_init_layer(id));
        let (files, run) = (self.container_dir(id), self.run_dir(id));
        let driver = self.store.driver();
        match &mut self.trash {
            Some(trash) => {
                for layer in std::iter::once(id).chain(init.as_deref()) {
                    let moved = driver.remove_to(layer, &trash.dir.join(layer))?;
                    trash.items.extend(moved);
                }
                for (from, name) in [(&files, format!("{id}-files")), (&run, format!("{id}-run"))] {
                    let to = trash.dir.join(name);
                    fsutil::move_or_remove_tree(from, &to)?;
                    trash.items.push(to);
                }
            }
            None => {
                driver.remove(id)?;
                if let Some(init) = &init {
                    driver.remove(init)?;
                }
                fsutil::remove_tree(&files)?;
                fsutil::remove_tree(&run)?;
            }
        }
        Ok(())
    }

    /// From now on, removals move a container's files into this process's staging directory
    /// (which the repair pass deletes if the process dies) instead of deleting them;
    /// [`Engine::empty_trash`] deletes them. For the shim of a `--rm` container: the user waits
    /// for the removal (the name free again, the exit code), not for the file system to free
    /// each block. Without a trash removals delete at once.
    pub(crate) fn defer_deletes(&mut self) {
        if self.trash.is_some() {
            return;
        }
        if let Ok(dir) = self.store.staging_dir() {
            self.trash = Some(Trash {
                dir,
                items: Vec::new(),
            });
        }
    }

    /// Deletes what removals moved to the trash ([`Engine::defer_deletes`]).
    pub(crate) fn empty_trash(&mut self) {
        let Some(trash) = self.trash.take() else {
            return;
        };
        for item in &trash.items {
            if let Err(e) = fsutil::remove_tree(item) {
                log::warn!("deleting {}: {e}", item.display());
            }
        }
    }

    /// `docker container prune`: removes every stopped container that `filters` (`until`,
    /// `label`, `label!`) select; returns their IDs and the space their writable layers took.
    /// The filters are checked before anything is removed.
    pub fn prune_containers(
        &mut self,
        filters: &Filters,
    ) -> Result<(Vec<String>, u64), EngineError> {
        let mut removed = Vec::new();
        let mut space = 0;
        for c in self.prunable_containers(filters)? {
            let size = self
                .store
                .driver()
                .diff_size(&c.id, Some(c.init_layer()))
                .unwrap_or(0);
            match self.destroy_container(&c, false) {
                Ok(()) => {
                    space += size;
                    removed.push(c.id);
                }
                // Started since it was listed: no longer prunable.
                Err(EngineError::State(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let reclaimed = BTreeMap::from([("reclaimed".to_string(), space.to_string())]);
        self.emit(crate::events::CONTAINER, "prune", "", reclaimed);
        Ok((removed, space))
    }

    /// The stopped containers that `filters` (`until`, `label`, `label!`) select for
    /// `container prune`; the filters are checked first.
    pub(crate) fn prunable_containers(
        &mut self,
        filters: &Filters,
    ) -> Result<Vec<Container>, EngineError> {
        filters.validate(&["label", "label!", "until"])?;
        let until = filters.until(chrono::Utc::now())?;
        let mut out = Vec::new();
        for c in self.all_containers()? {
            let c = self.refresh(c)?;
            if c.state.status.is_running() {
                continue;
            }
            if until.is_some_and(|u| super::list::parse_time(&c.created_at).is_none_or(|t| t > u)) {
                continue;
            }
            if !filters.match_labels(&c.config.labels.clone().unwrap_or_default()) {
                continue;
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// What removals moved aside to delete later ([`Engine::defer_deletes`]): entries of this
/// process's staging directory, named after the container (`<id>` and what the driver puts
/// beside it, `<id>-files`, `<id>-run`), which no staging path (`<prefix>-<8 hex digits>`) can
/// be; `items` lists exactly what was moved there.
#[derive(Debug)]
pub(crate) struct Trash {
    dir: PathBuf,
    items: Vec<PathBuf>,
}
