//! `rm` and `container prune`. A container's row goes first (in one transaction, with a journal
//! entry), then its files: rootfs mount, writable and init layers, directory. A crash in between
//! is finished by the next open.

use std::collections::BTreeMap;

use berth_store::metadata::containers;
use berth_store::{fsutil, journal};

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

    /// Removes a stopped container and everything it owns (anonymous volumes only with
    /// `volumes`). The row goes only if, in the same transaction, the container is still
    /// stopped: a `start` that won the race keeps it (and this fails with Docker's words).
    pub(crate) fn destroy_container(
        &mut self,
        c: &Container,
        volumes: bool,
    ) -> Result<(), EngineError> {
        self.detach_network(c);
        let deleted = self
            .store
            .db_mut()
            .write(|tx| -> Result<bool, EngineError> {
                let deleted = containers::delete_unless(tx, &c.id, &Status::ACTIVE_WORDS)?;
                if deleted {
                    journal::begin(tx, "container", &c.id)?;
                }
                Ok(deleted)
            })?;
        if !deleted {
            // Gone already (a --rm shim), or started meanwhile: say which.
            return match self.lookup_container(&c.id) {
                Ok(now) => Ok(now.can_remove()?),
                Err(EngineError::NoSuchContainer(_)) => Ok(()),
                Err(e) => Err(e),
            };
        }
        self.remove_container_files(&c.id)?;
        journal::end(self.store.db().conn(), "container", &c.id)?;
        self.emit_container(c, "destroy", &[]);
        // The image may be gone already (rmi -f): then this container held its layers.
        if let Some(top) = &c.top_layer {
            self.store.release_layer(top)?;
        }

        if volumes {
            self.remove_anonymous_volumes(c)?;
        }
        Ok(())
    }

    /// Unmounts and deletes the files of container `id` (whose row is gone).
    pub(crate) fn remove_container_files(&mut self, id: &str) -> Result<(), EngineError> {
        self.unmount_rootfs(id)?;
        let driver = self.store.driver();
        driver.remove(id)?;
        driver.remove(&format!("{id}-init"))?;
        fsutil::remove_tree(&self.container_dir(id))?;
        Ok(())
    }

    /// Finishes container creations and removals a crashed process left half done.
    pub(crate) fn recover_containers(&mut self) -> Result<(), EngineError> {
        for entry in journal::abandoned(self.store.db().conn(), "container")? {
            if self.lookup_container(&entry.key).is_err() {
                self.remove_container_files(&entry.key)?;
            }
            journal::end(self.store.db().conn(), "container", &entry.key)?;
        }
        Ok(())
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
                .diff_size(&c.id, Some(&c.init_layer()))
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
