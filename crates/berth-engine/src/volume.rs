//! Volume verbs of the [`Engine`]: `volume create/ls/inspect/rm/prune` with Docker's filters,
//! outputs and errors, on top of `berth_volume::store::VolumeStore`.

use std::collections::BTreeSet;

use berth_volume::store::{CreateVolume, Volume, VolumeError, VolumeStore, ANONYMOUS_LABEL};

use crate::filters::{FilterError, Filters};
use crate::types::{VolumeInfo, VolumePruneReport, VolumeUsage};
use crate::{Engine, EngineError};

/// A volume request the engine refuses (beyond the volume store's own errors).
#[derive(Debug, thiserror::Error)]
pub enum VolumeRequestError {
    /// A removal of several volumes that failed before any was tried: each gets the reason,
    /// with its class.
    #[error("{text}")]
    RemoveFailed {
        /// The class of the failure.
        kind: berth_store::ErrorKind,
        /// Its text.
        text: String,
    },
    /// A clone of a volume a running container writes, without `--force` (409).
    #[error("clone {volume}: volume is mounted read-write by running container {container}; stop it or use --force")]
    CloneInUse {
        /// The volume.
        volume: String,
        /// The container's ID.
        container: String,
    },
}

impl VolumeRequestError {
    /// The class of the refusal.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            VolumeRequestError::RemoveFailed { kind, .. } => *kind,
            VolumeRequestError::CloneInUse { .. } => berth_store::ErrorKind::Conflict,
        }
    }
}

/// Docker's JSON of a volume.
pub(crate) fn info(v: &Volume) -> VolumeInfo {
    into_info(v.clone())
}

/// [`info`], taking the volume (listings move thousands of them).
fn into_info(v: Volume) -> VolumeInfo {
    VolumeInfo {
        created_at: v.created_at,
        driver: v.driver,
        labels: v.labels,
        mountpoint: v
            .mountpoint
            .into_os_string()
            .into_string()
            .unwrap_or_else(|p| p.to_string_lossy().into_owned()),
        name: v.name,
        options: v.options,
        scope: v.scope,
        status: v.status,
        usage_data: None,
    }
}

impl From<VolumeError> for EngineError {
    fn from(e: VolumeError) -> Self {
        EngineError::Volume(e)
    }
}

impl Engine {
    /// The volumes, a new plain one owned by the remapped root under `userns-remap` (dockerd's
    /// local driver does so when it creates a volume under a remapping).
    pub(crate) fn volumes(&mut self) -> Result<VolumeStore<'_>, EngineError> {
        let owner = self
            .config
            .remap
            .as_ref()
            .map(|r| (r.root_uid(), r.root_gid()));
        Ok(VolumeStore::new(&mut self.store)?.with_owner(owner))
    }

    /// `docker volume create`.
    pub fn create_volume(&mut self, req: &CreateVolume) -> Result<VolumeInfo, EngineError> {
        let (v, _) = self.volumes()?.create(req)?;
        self.emit_volume(&v.name, "create", &[("driver", v.driver.clone())]);
        Ok(info(&v))
    }

    /// `docker volume inspect NAME`.
    pub fn inspect_volume(&mut self, name: &str) -> Result<VolumeInfo, EngineError> {
        let store = self.volumes()?;
        let v = store.require(name)?;
        Ok(info(&store.describe(v)?))
    }

    /// `docker volume ls` with Docker's filters: `name` (unanchored regex, OR), `label` (AND),
    /// `driver` (exact, OR), `dangling` (referenced by no container in any state).
    pub fn list_volumes(&mut self, filters: &Filters) -> Result<Vec<VolumeInfo>, EngineError> {
        let mut out = Vec::new();
        self.for_each_volume(filters, |v| out.push(v))?;
        Ok(out)
    }

    /// [`Engine::list_volumes`] one volume at a time, in the store's order (by name), without
    /// holding the list: a caller that keeps less of each volume stays small at any count.
    pub fn for_each_volume(
        &mut self,
        filters: &Filters,
        mut f: impl FnMut(VolumeInfo),
    ) -> Result<(), EngineError> {
        filters.validate(&["name", "label", "driver", "dangling"])?;
        let mut names = Vec::new();
        for v in filters.get("name") {
            names.push(regex::Regex::new(v).map_err(|e| FilterError::BadPattern {
                value: v.to_string(),
                error: e.to_string(),
            })?);
        }
        let dangling = filters.bool_value("dangling", true)?;
        let store = self.volumes()?;
        let refs = store.ref_counts()?;
        let no_labels = Default::default();
        store.for_each_described(|v| {
            if !names.is_empty() && !names.iter().any(|r| r.is_match(&v.name)) {
                return Ok(());
            }
            if !filters.match_kv_list("label", v.labels.as_ref().unwrap_or(&no_labels)) {
                return Ok(());
            }
            if !filters.exact_match("driver", &v.driver) {
                return Ok(());
            }
            if let Some(want) = dangling {
                let unused = refs.get(&v.name).copied().unwrap_or(0) == 0;
                if want != unused {
                    return Ok(());
                }
            }
            f(into_info(v));
            Ok(())
        })?;
        Ok(())
    }

    /// `docker volume rm [-f] NAME`: in use is refused even with `force`; with `force` a missing
    /// volume is not an error.
    pub fn remove_volume(&mut self, name: &str, force: bool) -> Result<(), EngineError> {
        self.remove_volumes(&[name.to_string()], force)
            .pop()
            .expect("one result per name")
    }

    /// `docker volume rm [-f] NAME...`: one result per name, in order.
    pub fn remove_volumes(
        &mut self,
        names: &[String],
        force: bool,
    ) -> Vec<Result<(), EngineError>> {
        let drivers: Vec<String> = self
            .volumes()
            .ok()
            .and_then(|s| s.drivers(names).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.unwrap_or_else(|| "local".to_string()))
            .chain(std::iter::repeat_with(|| "local".to_string()))
            .take(names.len())
            .collect();
        let results = match self.volumes().and_then(|mut s| Ok(s.remove_many(names)?)) {
            Ok(r) => r,
            Err(e) => {
                let (kind, text) = (e.kind(), e.to_string());
                return names
                    .iter()
                    .map(|_| {
                        let text = text.clone();
                        Err(VolumeRequestError::RemoveFailed { kind, text }.into())
                    })
                    .collect();
            }
        };
        let results: Vec<Result<(), EngineError>> = results
            .into_iter()
            .map(|r| match r {
                Err(VolumeError::NotFound(_)) if force => Ok(()),
                r => Ok(r?),
            })
            .collect();
        let removed = names
            .iter()
            .zip(&results)
            .zip(drivers)
            .filter(|((_, r), _)| r.is_ok())
            .map(|((name, _), driver)| {
                (
                    name.as_str(),
                    std::collections::BTreeMap::from([("driver".to_string(), driver)]),
                )
            });
        self.emit_all(crate::events::VOLUME, "destroy", removed);
        results
    }

    /// `docker volume prune`: removes unreferenced volumes without driver options — only
    /// anonymous ones unless `all` (the API ≥ 1.42 rule) — that the `label`/`label!` filters
    /// select. The filters are checked before anything is removed.
    pub fn prune_volumes(&mut self, filters: &Filters) -> Result<VolumePruneReport, EngineError> {
        filters.validate(&["label", "label!", "all"])?;
        let values: Vec<&str> = filters.get("all").collect();
        if values.len() > 1 {
            return Err(FilterError::OneValueOnly {
                key: "all".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            }
            .into());
        }
        let all = match values.first().copied() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(v) => {
                return Err(FilterError::NotABoolean {
                    key: "all".into(),
                    value: v.to_string(),
                }
                .into())
            }
        };
        let mut report = VolumePruneReport::default();
        let mut store = self.volumes()?;
        let refs = store.ref_counts()?;
        let no_labels = Default::default();
        let mut names = Vec::new();
        let mut sizes = Vec::new();
        for v in store.list()? {
            if v.driver != "local" || v.has_options() || refs.get(&v.name).copied().unwrap_or(0) > 0
            {
                continue;
            }
            let labels = v.labels.as_ref().unwrap_or(&no_labels);
            if !all && !labels.contains_key(ANONYMOUS_LABEL) {
                continue;
            }
            if !filters.match_labels(labels) {
                continue;
            }
            sizes.push(store.size(&v.name).unwrap_or(0));
            names.push(v.name);
        }
        // One removal for all: its transaction checks each volume's references again.
        let results = store.remove_many(&names)?;
        for ((name, size), result) in names.into_iter().zip(sizes).zip(results) {
            match result {
                Ok(()) => {
                    report.space_reclaimed += size;
                    report.volumes_deleted.push(name);
                }
                // A container took it meanwhile: skipped silently, as Docker does.
                Err(VolumeError::InUse { .. }) | Err(VolumeError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let deleted = std::mem::take(&mut report.volumes_deleted);
        self.emit_volumes(&deleted, "destroy", &[("driver", "local".into())]);
        report.volumes_deleted = deleted;
        let reclaimed = report.space_reclaimed.to_string();
        self.emit_volume("", "prune", &[("reclaimed", reclaimed)]);
        Ok(report)
    }

    /// Volumes for `system df`: the ones without driver options, with reference counts and
    /// sizes.
    pub fn volume_usage(&mut self) -> Result<Vec<VolumeInfo>, EngineError> {
        let mut vols = Vec::new();
        self.for_each_volume_usage(|v| vols.push(v))?;
        Ok(vols)
    }

    /// The name and reference count of each volume [`Engine::for_each_volume_usage`] gives, in
    /// the same order, without decoding the records or walking the sizes (the column widths
    /// of `system df -v`'s table).
    pub fn for_each_volume_usage_name(
        &mut self,
        mut f: impl FnMut(&str, i64),
    ) -> Result<(), EngineError> {
        let store = self.volumes()?;
        let refs = store.ref_counts()?;
        store.for_each_name_without_options(|name| {
            f(name, refs.get(name).copied().unwrap_or(0) as i64);
            Ok(())
        })?;
        Ok(())
    }

    /// [`Engine::volume_usage`] one volume at a time, in the store's order (by name): the sizes
    /// are walked in parallel a batch of volumes at a time, and no more than a batch is held, so
    /// `system df` of 100,000 volumes stays as small as of a thousand.
    pub fn for_each_volume_usage(
        &mut self,
        mut f: impl FnMut(VolumeInfo),
    ) -> Result<(), EngineError> {
        /// Enough volumes per batch to keep every walking thread busy.
        const BATCH: usize = 256;
        let store = self.volumes()?;
        let refs = store.ref_counts()?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut flush = |batch: &mut Vec<berth_volume::store::Volume>| {
            let mut sized = store.sizes_of(batch).into_iter();
            for v in batch.drain(..) {
                let size = sized.next().and_then(Result::ok).map_or(-1, |s| s as i64);
                let usage = VolumeUsage {
                    ref_count: refs.get(&v.name).copied().unwrap_or(0) as i64,
                    size,
                };
                let mut i = into_info(v);
                i.usage_data = Some(usage);
                f(i);
            }
        };
        store.for_each(|v| {
            if !v.has_options() {
                batch.push(v);
                if batch.len() == BATCH {
                    flush(&mut batch);
                }
            }
            Ok(())
        })?;
        flush(&mut batch);
        Ok(())
    }

    /// Bytes stored in the volume `name` (`volume export`'s progress total).
    pub fn volume_size(&mut self, name: &str) -> Result<u64, EngineError> {
        Ok(self.volumes()?.size(name)?)
    }

    /// Names of all volumes (for `info`).
    pub(crate) fn volume_names(&mut self) -> Result<BTreeSet<String>, EngineError> {
        Ok(self
            .volumes()?
            .list()?
            .into_iter()
            .map(|v| v.name)
            .collect())
    }
}

/// Beyond Docker: export, import, clone and rename.
impl Engine {
    /// `volume export VOL`: its content as a tar.
    pub fn export_volume(
        &mut self,
        name: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<(), EngineError> {
        let store = self.volumes()?;
        let v = store.require(name)?;
        Ok(store.export(&v, out)?)
    }

    /// `volume import [--force] VOL`: replaces its content (creating the volume if needed).
    /// Refused while containers reference it, unless `force`; then the content is replaced in
    /// place, so running containers see the new files.
    pub fn import_volume(
        &mut self,
        name: &str,
        tar: &mut dyn std::io::Read,
        force: bool,
        devices: bool,
    ) -> Result<berth_store::archive::Applied, EngineError> {
        let mut store = self.volumes()?;
        let Some(v) = store.get(name)? else {
            return Ok(store.import_new(name, tar, devices)?.1);
        };
        let users = store.users(name)?;

        if !users.is_empty() && !force {
            return Err(VolumeError::InUse {
                op: "import",
                name: name.to_string(),
                containers: users,
            }
            .into());
        }
        Ok(store.import(&v, tar, !users.is_empty(), devices)?)
    }

    /// `volume clone [--force] SRC DST`: refused while a running container has SRC mounted
    /// read-write (its data could change mid-copy), unless `force`.
    pub fn clone_volume(
        &mut self,
        src: &str,
        dst: &str,
        force: bool,
    ) -> Result<VolumeInfo, EngineError> {
        let users = self.volumes()?.users(src)?;
        if !force {
            for id in users {
                let c = self.container(&id)?;
                let writable = c
                    .mounts
                    .iter()
                    .any(|m| m.source.as_deref() == Some(src) && !m.read_only);
                if c.state.status.is_running() && writable {
                    return Err(VolumeRequestError::CloneInUse {
                        volume: src.to_string(),
                        container: c.id,
                    }
                    .into());
                }
            }
        }
        let mut store = self.volumes()?;
        let v = store.require(src)?;
        Ok(info(&store.clone_volume(&v, dst)?))
    }

    /// `volume rename OLD NEW`: refused while any container references OLD.
    pub fn rename_volume(&mut self, old: &str, new: &str) -> Result<VolumeInfo, EngineError> {
        Ok(info(&self.volumes()?.rename(old, new)?))
    }
}
