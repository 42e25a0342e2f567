//! Plugin volumes mounted for containers: `VolumeDriver.Mount` with a caller ID per mount point
//! (64 random hex digits, new at every start, as dockerd makes them) and the `Unmount` that
//! repeats it. Each mount is recorded (`volume_mounts`) before the plugin is asked, so whoever
//! finds the row later — the container's shim at exit, `stop`/`rm`, the repair pass after a
//! crash — can release it; a row is claimed by deleting it, so two processes never unmount the
//! same mount twice. The plugin counts references: two containers sharing a volume each mount
//! and unmount it once, under their own IDs.

use std::path::PathBuf;

use berth_store::metadata::volume_mounts::{self, VolumeMountRow};

use super::{Volume, VolumeError, VolumeStore};
use crate::plugin::{self, PluginError};

impl VolumeStore<'_> {
    /// Mounts plugin volume `v` for container `container` at `destination`: records the mount
    /// under a new caller ID, asks the plugin (`Get`, then `Mount`, as dockerd) and returns the
    /// host path it gives. A failure removes the record again and is dockerd's
    /// `error while mounting volume '': VolumeDriver.Mount: ...` (dockerd names the mount's
    /// host source, which a plugin volume does not have before it is mounted).
    pub fn mount_plugin(
        &mut self,
        v: &Volume,
        container: &str,
        destination: &str,
    ) -> Result<(PathBuf, String), VolumeError> {
        let (plugin, _) = self.plugin_get(v)?;
        let row = VolumeMountRow {
            id: berth_store::fsutil::random_hex(32),
            volume: v.name.clone(),
            driver: v.driver.clone(),
            container_id: container.to_string(),
            destination: destination.to_string(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        self.store
            .db_mut()
            .write(|tx| volume_mounts::insert(tx, &row))?;
        match plugin.mount(&v.name, &row.id) {
            Ok(path) if !path.is_empty() => Ok((PathBuf::from(path), row.id)),
            result => {
                // Whatever the plugin did, it said no: nothing of this mount stays.
                let _ = volume_mounts::delete(self.store.db().conn(), &row.id);
                let source = match result {
                    Err(e) => e,
                    Ok(_) => PluginError::Remote(format!(
                        "VolumeDriver.Mount: no mountpoint for volume {}",
                        v.name
                    )),
                };
                Err(VolumeError::MountFailed { source })
            }
        }
    }

    /// Unmounts every plugin volume mounted for container `container` (`Get`, then `Unmount`
    /// with the mount's caller ID). A plugin that cannot be reached keeps its mounts recorded
    /// for a later release (the repair pass, `rm`); a plugin that answers, even with an error,
    /// has had its say and the record goes. Returns the mounts released (volume, destination).
    pub fn unmount_plugins_of(
        &mut self,
        container: &str,
    ) -> Result<Vec<VolumeMountRow>, VolumeError> {
        let rows = volume_mounts::of_container(self.store.db().conn(), container)?;
        self.release_plugin_mounts(rows)
    }

    /// Mount `id` only (a copy into a volume at create, done with it).
    pub fn unmount_plugin(&mut self, id: &str, container: &str) -> Result<(), VolumeError> {
        let rows: Vec<VolumeMountRow> =
            volume_mounts::of_container(self.store.db().conn(), container)?
                .into_iter()
                .filter(|r| r.id == id)
                .collect();
        self.release_plugin_mounts(rows).map(|_| ())
    }

    /// The repair pass's part: unmounts what is recorded as mounted for containers that no
    /// longer exist (a process killed between a container's removal and its unmounts). A
    /// plugin that does not accept connections is skipped without waiting for it (its mounts
    /// stay recorded for a later pass), so a plugin that is down does not slow every command.
    pub fn recover_plugin_mounts(&mut self) -> Result<(), VolumeError> {
        let rows: Vec<VolumeMountRow> = volume_mounts::orphaned(self.store.db().conn())?
            .into_iter()
            .filter(|r| plugin::reachable(&r.driver))
            .collect();
        if !rows.is_empty() {
            self.release_plugin_mounts(rows)?;
        }
        Ok(())
    }

    fn release_plugin_mounts(
        &mut self,
        rows: Vec<VolumeMountRow>,
    ) -> Result<Vec<VolumeMountRow>, VolumeError> {
        let mut released = Vec::new();
        for row in rows {
            // Claim it: another process releasing the same container (a shim's exit hook and
            // a `ps` that found the shim gone) must not unmount it twice.
            if !volume_mounts::delete(self.store.db().conn(), &row.id)? {
                continue;
            }
            let answer = plugin::volume_plugin(&row.driver).and_then(|p| {
                // dockerd looks the volume up before unmounting it.
                let _ = p.get(&row.volume);
                p.unmount(&row.volume, &row.id)
            });
            match answer {
                Ok(()) => released.push(row),
                Err(e @ (PluginError::Transport { .. } | PluginError::NotFound(_))) => {
                    log::warn!(
                        "unmount {} (plugin {}): {e}; kept for a later release",
                        row.volume,
                        row.driver
                    );
                    self.store
                        .db_mut()
                        .write(|tx| volume_mounts::insert(tx, &row))?;
                }
                Err(e) => {
                    log::warn!("unmount {} (plugin {}): {e}", row.volume, row.driver);
                    released.push(row);
                }
            }
        }
        Ok(released)
    }
}
