//! The containers' part of the repair pass [`crate::Engine::open`] runs: it finishes what a
//! killed berth process left half done, found through the journal entries the dead process
//! still owns — a container created or removed halfway (its files), a launch that never handed
//! the container to a running process (a shim waiting for a start that will never come, a
//! mounted root filesystem), a `cp` or `export` that mounted a stopped container's root
//! filesystem. A clean root costs one indexed query per kind.

use berth_runtime::shim::{shim_stamp, ProcessStamp, ShimConfig, StartMode, SHIM_CONFIG};
use berth_store::journal;

use super::archive::ROOTFS_MOUNT;
use super::start::LAUNCHING;
use crate::{Engine, EngineError};

impl Engine {
    /// Finishes container creations, removals, launches and copies a crashed process left half
    /// done.
    pub(crate) fn recover_containers(&mut self) -> Result<(), EngineError> {
        for kind in [LAUNCHING, ROOTFS_MOUNT] {
            for entry in journal::abandoned(self.store.db().conn(), kind)? {
                if let Ok(c) = self.lookup_container(&entry.key) {
                    if !c.state.status.is_running() && !self.finish_launch(&c)? {
                        // Its shim is still starting it: the shim closes the entry once the
                        // process runs; if it fails first, a later pass finds no shim.
                        continue;
                    }
                }
                journal::end(self.store.db().conn(), kind, &entry.key)?;
            }
        }
        for entry in journal::abandoned(self.store.db().conn(), "container")? {
            if self.lookup_container(&entry.key).is_err() {
                // Its own init layer, if a creation of an image without layers (or an older
                // berth) made one; a shared init layer is not the container's.
                self.remove_container_files(&entry.key, true)?;
            }
            journal::end(self.store.db().conn(), "container", &entry.key)?;
        }
        Ok(())
    }
    /// A container that does not run, whose launch or copy was cut short: a live shim that
    /// holds its created process for an attach client's start (which will never come) is
    /// stopped; a live shim that starts its process on its own owns the container and is left
    /// alone (false: not finished); without a shim, the root filesystem is unmounted and
    /// whatever the runtime still has of it is killed.
    fn finish_launch(&mut self, c: &super::Container) -> Result<bool, EngineError> {
        let dir = self.run_dir(&c.id);
        if let Some(shim) = shim_stamp(&dir).filter(|s| s.is_alive()) {
            let waits_for_attach = ShimConfig::load(&dir.join(SHIM_CONFIG))
                .is_ok_and(|cfg| cfg.start == StartMode::OnAttach);
            if shim == ProcessStamp::current() || !waits_for_attach {
                return Ok(false);
            }
        }
        self.end_leftover_processes(c)?;
        self.release_rootfs(c);
        Ok(true)
    }
}
