//! [`VolumeStore`] keeps named and anonymous volumes: a row in `volumes` plus the local driver's
//! directory. Creating is idempotent (an existing name is returned as it is, as Docker does);
//! removal is refused while any container — running, stopped or only created — references the
//! volume; prune removes unreferenced volumes without driver options. Every change follows the
//! store's journal protocol, so a killed berth leaves the old or the new state after the next
//! open, never a row without files or files without a row.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_store::archive::Applied;
use berth_store::metadata::volumes::{self, VolumeRow};
use berth_store::metadata::MetaError;
use berth_store::{journal, ErrorKind, Store, StoreError};

use crate::local::{LocalDriver, LocalError};
use crate::mount_spec::{validate_volume_name, VolumeNameError};
use crate::plugin::{self, PluginError, VolumePlugin};

mod plugin_mounts;

/// The label Docker ≥ 23 puts on volumes created without a name (what `prune` keys on).
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// A volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Name.
    pub name: String,
    /// Driver (`local`).
    pub driver: String,
    /// Labels, `None` when created without any.
    pub labels: Option<BTreeMap<String, String>>,
    /// Driver options exactly as given, `None` when none were sent.
    pub options: Option<BTreeMap<String, String>>,
    /// Created without a name.
    pub anonymous: bool,
    /// Creation time (RFC 3339, seconds).
    pub created_at: String,
    /// `<root>/volumes/<name>/_data`; for a plugin's volume what the plugin says (after
    /// [`VolumeStore::describe`] or a mount), empty until then.
    pub mountpoint: PathBuf,
    /// A plugin's free-form status (after [`VolumeStore::describe`]).
    pub status: Option<serde_json::Map<String, serde_json::Value>>,
    /// `local`, or `global` for a plugin that says so.
    pub scope: String,
}

impl Volume {
    /// Whether a plugin serves the volume (any driver but `local`).
    pub fn is_plugin(&self) -> bool {
        self.driver != "local"
    }

    /// Whether the volume has driver options (such volumes are never pruned, nor listed by
    /// `system df`, as in Docker).
    pub fn has_options(&self) -> bool {
        self.options.as_ref().is_some_and(|o| !o.is_empty())
    }
}

/// Failures of volume operations. `Display` is Docker's text.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// The name breaks the local driver's rule.
    #[error(transparent)]
    Name(#[from] VolumeNameError),
    /// No such volume.
    #[error("get {0}: no such volume")]
    NotFound(String),
    /// Still referenced by containers.
    #[error("{op} {name}: volume is in use - [{}]", .containers.join(", "))]
    InUse {
        /// The operation refused (`remove`, `rename`, `import`).
        op: &'static str,
        /// Volume name.
        name: String,
        /// IDs of the containers using it.
        containers: Vec<String>,
    },
    /// Unknown driver.
    #[error("create {name}: error looking up volume plugin {driver}: plugin {driver:?} not found")]
    NoDriver {
        /// Volume name.
        name: String,
        /// The driver asked for.
        driver: String,
    },
    /// A driver option is wrong.
    #[error("create {name}: {source}")]
    Options {
        /// Volume name.
        name: String,
        /// The driver's complaint.
        source: LocalError,
    },
    /// The volume's directory could not be made (Docker: `file name too long` for 256 bytes).
    #[error(
        "create {name}: error while creating volume root path '{path}': mkdir {path}: {reason}"
    )]
    RootPath {
        /// Volume name.
        name: String,
        /// The directory.
        path: String,
        /// The errno text.
        reason: String,
    },
    /// The local driver failed on the volume's files.
    #[error(transparent)]
    Driver(#[from] LocalError),
    /// The target name of a clone or rename is taken.
    #[error("{op} {name}: a volume named {target} already exists")]
    Exists {
        /// `clone` or `rename`.
        op: &'static str,
        /// The source volume.
        name: String,
        /// The name asked for.
        target: String,
    },
    /// Another process kept changing the volume's files for too long.
    #[error("create {0}: the volume is being removed or created by another process")]
    Busy(String),
    /// The driver's plugin could not be found or activated.
    #[error("{op} {name}: error looking up volume plugin {driver}: {source}")]
    PluginLookup {
        /// The operation (`create`, `get`, `mount`...).
        op: &'static str,
        /// Volume name.
        name: String,
        /// The plugin's name.
        driver: String,
        /// Why.
        source: PluginError,
    },
    /// The plugin refused or failed a call (its text, as dockerd shows it).
    #[error("{op} {name}: {source}")]
    Plugin {
        /// The operation (`create`, `remove`, `mount`...).
        op: &'static str,
        /// Volume name.
        name: String,
        /// What the plugin said.
        source: PluginError,
    },
    /// The plugin could not say whether it has the volume (dockerd's words).
    #[error("get {name}: error while checking if volume \"{name}\" exists in driver \"{driver}\": {source}")]
    PluginGet {
        /// Volume name.
        name: String,
        /// The plugin.
        driver: String,
        /// What failed.
        source: PluginError,
    },
    /// The plugin refused or failed `Mount` (dockerd's words; dockerd names the mount's host
    /// source, empty for a plugin's volume).
    #[error("error while mounting volume '': {source}")]
    MountFailed {
        /// What the plugin said.
        source: PluginError,
    },
    /// berth cannot do this on a plugin's volume.
    #[error("{op} {name}: not supported for a volume of the {driver} plugin")]
    PluginUnsupported {
        /// The operation.
        op: &'static str,
        /// Volume name.
        name: String,
        /// The plugin.
        driver: String,
    },
    /// The name is taken by a volume of another driver.
    #[error(
        "create {name}: driver '{driver}' already has volume '{name}': volume name must be unique"
    )]
    NameConflict {
        /// Volume name.
        name: String,
        /// The driver that has it.
        driver: String,
    },
    /// A prune already runs.
    #[error("a prune operation is already running")]
    PruneRunning,
    /// A filter is not valid.
    #[error("{0}")]
    InvalidFilter(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<MetaError> for VolumeError {
    fn from(e: MetaError) -> Self {
        VolumeError::Store(e.into())
    }
}

impl VolumeError {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            VolumeError::Name(_)
            | VolumeError::RootPath { .. }
            | VolumeError::NoDriver { .. }
            | VolumeError::Options { .. }
            | VolumeError::InvalidFilter(_)
            | VolumeError::PluginUnsupported { .. } => ErrorKind::InvalidArgument,
            VolumeError::NotFound(_) => ErrorKind::NotFound,
            VolumeError::InUse { .. } => ErrorKind::InUse,
            VolumeError::Exists { .. } | VolumeError::NameConflict { .. } => ErrorKind::Conflict,
            VolumeError::PluginLookup { .. }
            | VolumeError::Plugin { .. }
            | VolumeError::PluginGet { .. }
            | VolumeError::MountFailed { .. } => ErrorKind::Internal,

            VolumeError::PruneRunning | VolumeError::Busy(_) => ErrorKind::Conflict,
            VolumeError::Driver(_) => ErrorKind::Internal,
            VolumeError::Store(e) => e.kind(),
        }
    }
}

/// What `volume create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateVolume {
    /// Name; `None` generates a 64-hex name and marks the volume anonymous.
    pub name: Option<String>,
    /// Driver (`None` or `local`).
    pub driver: Option<String>,
    /// Labels (`None`: none sent).
    pub labels: Option<BTreeMap<String, String>>,
    /// Driver options (`None`: none sent).
    pub options: Option<BTreeMap<String, String>>,
}

/// Volumes over a [`Store`].
pub struct VolumeStore<'s> {
    store: &'s mut Store,
    local: LocalDriver,
}

impl<'s> VolumeStore<'s> {
    /// The volumes of an open store (`<root>/volumes`).
    pub fn new(store: &'s mut Store) -> Result<Self, VolumeError> {
        let dir = store.root().join("volumes");
        let local = LocalDriver::open(&dir, store.mounter().clone())
            .map_err(|source| LocalError::Io { path: dir, source })?;
        Ok(VolumeStore { store, local })
    }

    /// New plain volumes (and those a power loss took, made again) get a `_data` owned by
    /// `owner` (uid, gid): the remapped root under `userns-remap`.
    pub fn with_owner(mut self, owner: Option<(u32, u32)>) -> Self {
        self.local.set_owner(owner);
        self
    }

    /// The local driver.
    pub fn driver(&self) -> &LocalDriver {
        &self.local
    }

    fn volume(&self, r: VolumeRow) -> Volume {
        Volume {
            mountpoint: if r.driver == "local" {
                self.local.data(&r.name)
            } else {
                PathBuf::new()
            },
            status: None,
            scope: "local".into(),
            driver: r.driver,
            labels: r.labels,
            options: r.options,
            anonymous: r.anonymous,
            created_at: r.created_at,
            name: r.name,
        }
    }

    /// The volume called `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<Volume>, VolumeError> {
        Ok(volumes::get(self.store.db().conn(), name)?.map(|r| self.volume(r)))
    }

    /// The driver of each volume in `names` (`None` for a name with no volume), without
    /// decoding the rest of the rows.
    pub fn drivers(&self, names: &[String]) -> Result<Vec<Option<String>>, VolumeError> {
        self.store.db().read(|conn| -> Result<_, VolumeError> {
            Ok(names
                .iter()
                .map(|n| volumes::driver(conn, n))
                .collect::<Result<_, _>>()?)
        })
    }

    /// The volume called `name`, or Docker's `get <name>: no such volume`.
    pub fn require(&self, name: &str) -> Result<Volume, VolumeError> {
        self.get(name)?
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))
    }

    /// Every volume, sorted by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let mut out = Vec::new();
        self.for_each(|v| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with every volume, sorted by name, one at a time.
    pub fn for_each(
        &self,
        mut f: impl FnMut(Volume) -> Result<(), VolumeError>,
    ) -> Result<(), VolumeError> {
        volumes::for_each(self.store.db().conn(), |r| f(self.volume(r)))
    }

    /// Calls `f` with the name of every volume without driver options ([`Volume::has_options`]
    /// false), sorted by name, without decoding the rest of the records.
    pub fn for_each_name_without_options(
        &self,
        f: impl FnMut(&str) -> Result<(), VolumeError>,
    ) -> Result<(), VolumeError> {
        volumes::for_each_name_without_options(self.store.db().conn(), f)
    }

    /// IDs of the containers referencing `name` (any state), oldest reference first.
    pub fn users(&self, name: &str) -> Result<Vec<String>, VolumeError> {
        Ok(volumes::users(self.store.db().conn(), name)?)
    }

    /// Number of containers referencing each volume.
    pub fn ref_counts(&self) -> Result<BTreeMap<String, usize>, VolumeError> {
        Ok(volumes::ref_counts(self.store.db().conn())?)
    }

    /// `docker volume create`: returns the volume and whether it was created now (an existing
    /// name is returned unchanged; new labels and options are ignored, as in Docker).
    pub fn create(&mut self, req: &CreateVolume) -> Result<(Volume, bool), VolumeError> {
        let anonymous = req.name.is_none();
        let name = match &req.name {
            Some(n) => n.clone(),
            None => berth_store::fsutil::random_hex(32),
        };
        let driver = req
            .driver
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "local".into());
        if driver != "local" {
            return self.create_plugin_volume(req, name, driver);
        }
        validate_volume_name(&name)?;
        if let Some(existing) = self.get(&name)? {
            if existing.is_plugin() {
                return Err(VolumeError::NameConflict {
                    name,
                    driver: existing.driver,
                });
            }
            return Ok((existing, false));
        }
        if let Some(opts) = &req.options {
            LocalDriver::validate(opts).map_err(|source| VolumeError::Options {
                name: name.clone(),
                source,
            })?;
        }
        let mut labels = req.labels.clone();
        if anonymous {
            labels
                .get_or_insert_with(BTreeMap::new)
                .insert(ANONYMOUS_LABEL.into(), String::new());
        }
        // Claim the name in one transaction with the check that no row exists, waiting while
        // another process removes (or creates) a volume of that name: its files and ours never
        // mix, so a `run -v NAME` racing `volume rm NAME` gets the volume or a new one, never a
        // row without files (issue 15).
        // The claim need not reach the disk before the files are made: a killed process leaves
        // it in the WAL for the next open's repair, and a power loss that takes it back can only
        // leave an empty directory that no row names (a later create of the name reuses it).
        // A row found here is returned as read in the claim's transaction: a `volume rm` may
        // take it right after, and the caller then finds the volume gone where it records its
        // use (a container's insert), which is where losing that race is handled.
        enum Claim {
            Ours,
            Exists(VolumeRow),
            Busy,
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let claimed =
                self.store
                    .db_mut()
                    .write_relaxed(|tx| -> Result<Claim, VolumeError> {
                        if let Some(row) = volumes::get(tx, &name)? {
                            return Ok(Claim::Exists(row));
                        }
                        if journal::busy(tx, "volume", &name)? {
                            return Ok(Claim::Busy);
                        }
                        journal::begin(tx, "volume", &name)?;
                        Ok(Claim::Ours)
                    })?;
            match claimed {
                Claim::Ours => break,
                Claim::Exists(row) => return Ok((self.volume(row), false)),
                Claim::Busy if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                Claim::Busy => return Err(VolumeError::Busy(name)),
            }
        }
        // Another process may be creating the same name right now: whoever commits the row
        // first wins; the loser removes only files it created itself (none, if the dir existed).
        if let Err(e) = self.local.create(&name, req.options.as_ref()) {
            let exists = matches!(&e, LocalError::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists);
            if !exists {
                let _ = self.local.remove(&name);
                journal::end(self.store.db().conn(), "volume", &name)?;
                return Err(match e {
                    LocalError::Io { source, .. } => VolumeError::RootPath {
                        path: self.local.dir(&name).display().to_string(),
                        reason: berth_go::errno_text(&source),
                        name,
                    },
                    other => VolumeError::Options {
                        name,
                        source: other,
                    },
                });
            }
        }
        let row = VolumeRow {
            name: name.clone(),
            driver,
            labels,
            options: req.options.clone(),
            anonymous,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        // The command's one flush: this commit's (the WAL's fsync). A plain volume's
        // directories were not flushed before it (see `LocalDriver::create`): a killed process
        // still leaves files without a row, never the reverse; only a power loss may keep the
        // row without them, and the volume's next use makes them again, empty as they were.
        let (inserted, row) =
            self.store
                .db_mut()
                .write(|tx| -> Result<(bool, Option<VolumeRow>), VolumeError> {
                    let inserted = volumes::insert_if_absent(tx, &row)?;
                    journal::end(tx, "volume", &name)?;
                    Ok((inserted, volumes::get(tx, &name)?))
                })?;
        // Ours, or the one another process committed first (as read in that transaction).
        let row = row.ok_or_else(|| VolumeError::NotFound(name.clone()))?;
        Ok((self.volume(row), inserted))
    }

    /// `docker volume rm NAME`: refused while referenced (even with `force`, as in Docker).
    pub fn remove(&mut self, name: &str) -> Result<(), VolumeError> {
        self.remove_many(&[name.to_string()])?
            .pop()
            .expect("one result per name")
    }

    /// Removes several volumes at once, each refused or removed on its own (in-use, missing),
    /// with one transaction to delete the rows and one to close their journal entries — so
    /// `volume rm` of many names costs two fsyncs, not two per volume.
    pub fn remove_many(
        &mut self,
        names: &[String],
    ) -> Result<Vec<Result<(), VolumeError>>, VolumeError> {
        // A plugin's volume goes through its plugin first, one by one; the rest below.
        let mut plugin_results = BTreeMap::new();
        for (i, (name, driver)) in names.iter().zip(self.drivers(names)?).enumerate() {
            if driver.is_some_and(|d| d != "local") {
                plugin_results.insert(i, self.remove_plugin_volume(name));
            }
        }
        if !plugin_results.is_empty() {
            let rest: Vec<String> = names
                .iter()
                .enumerate()
                .filter(|(i, _)| !plugin_results.contains_key(i))
                .map(|(_, n)| n.clone())
                .collect();
            let mut rest = self.remove_many(&rest)?.into_iter();
            return Ok((0..names.len())
                .map(|i| match plugin_results.remove(&i) {
                    Some(r) => r,
                    None => rest.next().expect("one result per name"),
                })
                .collect());
        }
        let mut results = self.store.db_mut().write(
            |tx| -> Result<Vec<Result<(), VolumeError>>, VolumeError> {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    let users = volumes::users(tx, name)?;
                    if !users.is_empty() {
                        out.push(Err(VolumeError::InUse {
                            op: "remove",
                            name: name.to_string(),
                            containers: users,
                        }));
                        continue;
                    }
                    if !volumes::delete(tx, name)? {
                        out.push(Err(VolumeError::NotFound(name.to_string())));
                        continue;
                    }
                    journal::begin(tx, "volume", name)?;
                    out.push(Ok(()));
                }
                Ok(out)
            },
        )?;
        let forgotten: Vec<String> = names
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .map(|(n, _)| n.clone())
            .collect();
        let mut failures = self.remove_forgotten(&forgotten)?.into_iter();
        for result in results.iter_mut().filter(|r| r.is_ok()) {
            if let Some(Err(e)) = failures.next() {
                *result = Err(e);
            }
        }
        Ok(results)
    }

    /// The first half of a removal that another change makes in its own transaction `tx`
    /// (a container's `rm -v` deletes its anonymous volumes with its own row, issue 15): deletes
    /// the row of volume `name` unless a container still references it, and opens the removal's
    /// journal entry. True if the row went; [`VolumeStore::remove_forgotten`] then removes the
    /// files, or the next open does if this process dies first. A plugin's volume is left alone
    /// (false): its plugin removes it, outside any transaction ([`VolumeStore::remove`]).
    pub fn forget_unreferenced(
        tx: &berth_store::metadata::Connection,
        name: &str,
    ) -> Result<bool, VolumeError> {
        if volumes::get(tx, name)?.is_some_and(|v| v.driver != "local") {
            return Ok(false);
        }
        if !volumes::users(tx, name)?.is_empty() || !volumes::delete(tx, name)? {
            return Ok(false);
        }
        journal::begin(tx, "volume", name)?;
        Ok(true)
    }

    /// Removes the files of volumes whose rows are gone with their journal entries open, then
    /// closes the entries (one transaction for all). One result per name: a failure leaves that
    /// entry open, so the next open finishes it.
    pub fn remove_forgotten(
        &mut self,
        names: &[String],
    ) -> Result<Vec<Result<(), VolumeError>>, VolumeError> {
        let mut results = Vec::with_capacity(names.len());
        let mut removed = Vec::new();
        for (name, r) in names.iter().zip(self.local.remove_each(names)) {
            match r {
                Ok(()) => {
                    removed.push(name.clone());
                    results.push(Ok(()));
                }
                Err(e) => results.push(Err(e.into())),
            }
        }
        if !removed.is_empty() {
            // Closing the entries is the one step a power loss may undo: the next open then finds
            // the files already gone.
            self.store
                .db_mut()
                .write_relaxed(|tx| -> Result<(), VolumeError> {
                    for name in &removed {
                        journal::end(tx, "volume", name)?;
                    }
                    Ok(())
                })?;
        }
        Ok(results)
    }

    /// Finishes volume creations and removals a crashed process left half done: files that no
    /// row claims are removed; plugin mounts whose container is gone are unmounted.
    pub fn recover(&mut self) -> Result<(), VolumeError> {
        self.recover_operations()?;
        self.recover_plugin_mounts()?;
        for entry in journal::abandoned(self.store.db().conn(), "volume")? {
            if self.get(&entry.key)?.is_none() {
                self.local.remove(&entry.key)?;
            }
            journal::end(self.store.db().conn(), "volume", &entry.key)?;
        }
        Ok(())
    }

    /// Refuses an operation berth does not do on a plugin's volume (there is no protocol call
    /// for it) instead of acting on a local directory that does not exist.
    pub fn refuse_plugin(&self, op: &'static str, v: &Volume) -> Result<(), VolumeError> {
        if v.is_plugin() {
            return Err(VolumeError::PluginUnsupported {
                op,
                name: v.name.clone(),
                driver: v.driver.clone(),
            });
        }
        Ok(())
    }

    /// Bytes stored in a volume.
    pub fn size(&self, name: &str) -> Result<u64, VolumeError> {
        match self.get(name)? {
            Some(v) => self.size_of(&v),
            None => Ok(self.local.size(name)?),
        }
    }

    /// [`VolumeStore::size`] of a volume already read (`system df -v` sizes every one).
    pub fn size_of(&self, v: &Volume) -> Result<u64, VolumeError> {
        if v.is_plugin() {
            self.refuse_plugin("size", v)?;
        }
        Ok(self.local.size(&v.name)?)
    }

    /// [`VolumeStore::size_of`] of each of `vols`, in order, the walks run in parallel.
    pub fn sizes_of(&self, vols: &[Volume]) -> Vec<Result<u64, VolumeError>> {
        let local: Vec<&str> = vols
            .iter()
            .filter(|v| !v.is_plugin())
            .map(|v| v.name.as_str())
            .collect();
        let mut sizes = self.local.sizes(&local).into_iter();
        vols.iter()
            .map(|v| {
                self.refuse_plugin("size", v)?;
                Ok(sizes.next().expect("one size per local volume")?)
            })
            .collect()
    }

    /// Mounts an option volume that is not mounted yet (first use); plain volumes need nothing.
    pub fn mount(&self, v: &Volume) -> Result<PathBuf, VolumeError> {
        self.refuse_plugin("mount", v)?;
        self.local.mount(&v.name, v.options.as_ref())?;
        Ok(v.mountpoint.clone())
    }

    /// Unmounts an option volume (after its last user stopped).
    pub fn unmount(&self, v: &Volume) -> Result<(), VolumeError> {
        if !v.is_plugin() && LocalDriver::is_mounted_kind(v.options.as_ref()) {
            self.local.unmount(&v.name)?;
        }
        Ok(())
    }
}

/// Volumes served by plugins (any driver but `local`): the row is berth's record, the data and
/// its state are the plugin's. A plugin that is down fails the operation with its error and
/// leaves the row as it was.
impl VolumeStore<'_> {
    /// The activated plugin `driver` for an operation `op` on volume `name`.
    pub fn plugin(
        &self,
        op: &'static str,
        name: &str,
        driver: &str,
    ) -> Result<std::sync::Arc<VolumePlugin>, VolumeError> {
        plugin::volume_plugin(driver).map_err(|source| match source {
            PluginError::NotFound(_) if op == "create" => VolumeError::NoDriver {
                name: name.to_string(),
                driver: driver.to_string(),
            },
            source => VolumeError::PluginLookup {
                op,
                name: name.to_string(),
                driver: driver.to_string(),
                source,
            },
        })
    }

    /// The plugin of `v` and what its `Get` says; failing either is dockerd's "error while
    /// checking if volume exists" (a plugin without a socket: "error looking up").
    fn plugin_get(
        &self,
        v: &Volume,
    ) -> Result<(std::sync::Arc<VolumePlugin>, plugin::PluginVolume), VolumeError> {
        let failed = |source| VolumeError::PluginGet {
            name: v.name.clone(),
            driver: v.driver.clone(),
            source,
        };
        let plugin = match plugin::volume_plugin(&v.driver) {
            Ok(p) => p,
            Err(PluginError::NotFound(d)) => {
                return Err(VolumeError::PluginLookup {
                    op: "get",
                    name: v.name.clone(),
                    driver: v.driver.clone(),
                    source: PluginError::NotFound(d),
                })
            }
            Err(e) => return Err(failed(e)),
        };
        let got = plugin.get(&v.name).map_err(failed)?;
        Ok((plugin, got))
    }

    fn create_plugin_volume(
        &mut self,
        req: &CreateVolume,
        name: String,
        driver: String,
    ) -> Result<(Volume, bool), VolumeError> {
        // The driver is looked up first, also for an existing name (as dockerd).
        let plugin = self.plugin("create", &name, &driver)?;
        if let Some(existing) = self.get(&name)? {
            if existing.driver != driver {
                return Err(VolumeError::NameConflict {
                    name,
                    driver: existing.driver,
                });
            }
            return Ok((existing, false));
        }
        // dockerd asks the driver whether it has the volume before creating it; the answer
        // does not change what follows (Create is idempotent in the protocol).
        let _ = plugin.get(&name);
        plugin
            .create(&name, req.options.as_ref())
            .map_err(|source| VolumeError::Plugin {
                op: "create",
                name: name.clone(),
                source,
            })?;
        let anonymous = req.name.is_none();
        let mut labels = req.labels.clone();
        if anonymous {
            labels
                .get_or_insert_with(BTreeMap::new)
                .insert(ANONYMOUS_LABEL.into(), String::new());
        }
        let row = VolumeRow {
            name: name.clone(),
            driver: driver.clone(),
            labels,
            options: req.options.clone(),
            anonymous,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let inserted = self
            .store
            .db_mut()
            .write(|tx| -> Result<bool, VolumeError> {
                Ok(volumes::insert_if_absent(tx, &row)?)
            })?;
        let mut v = self.require(&name)?;
        if v.driver != driver {
            // Another process recorded the name for another driver meanwhile.
            return Err(VolumeError::NameConflict {
                name,
                driver: v.driver,
            });
        }
        v.scope = plugin.capabilities().scope.clone();
        Ok((v, inserted))
    }

    /// `volume rm` of a plugin's volume: refused while referenced; the plugin removes its data
    /// first (dockerd's `Get` then `Remove`), then the row goes. If the plugin fails, the row
    /// stays and the error is the plugin's.
    fn remove_plugin_volume(&mut self, name: &str) -> Result<(), VolumeError> {
        let v = self.require(name)?;
        let in_use = |containers: Vec<String>| VolumeError::InUse {
            op: "remove",
            name: name.to_string(),
            containers,
        };
        let users = self.users(name)?;
        if !users.is_empty() {
            return Err(in_use(users));
        }
        let (plugin, _) = self.plugin_get(&v)?;
        plugin.remove(name).map_err(|source| VolumeError::Plugin {
            op: "remove",
            name: name.to_string(),
            source,
        })?;
        self.store.db_mut().write(|tx| -> Result<(), VolumeError> {
            let users = volumes::users(tx, name)?;
            if !users.is_empty() {
                return Err(in_use(users));
            }
            volumes::delete(tx, name)?;
            Ok(())
        })
    }

    /// `volume inspect`: a plugin's volume with its plugin's `Mountpoint`, `Status`,
    /// `CreatedAt` (Go's zero time when the plugin gives none, as dockerd shows it) and scope
    /// (`VolumeDriver.Get`); a local volume as it is.
    pub fn describe(&self, mut v: Volume) -> Result<Volume, VolumeError> {
        if !v.is_plugin() {
            return Ok(v);
        }
        let (plugin, got) = self.plugin_get(&v)?;
        apply_plugin_view(&mut v, &got, &plugin.capabilities().scope);
        Ok(v)
    }

    /// Every volume as [`VolumeStore::list`] gives them, plugin volumes completed from one
    /// `VolumeDriver.List` per plugin (as dockerd's `volume ls`); a plugin that does not answer
    /// leaves its volumes as recorded (with an empty `Mountpoint`), so listing never fails on it.
    pub fn list_described(&self) -> Result<Vec<Volume>, VolumeError> {
        let mut all = Vec::new();
        self.for_each_described(|v| {
            all.push(v);
            Ok(())
        })?;
        Ok(all)
    }

    /// [`VolumeStore::list_described`] one volume at a time (a listing of 100,000 volumes keeps
    /// only what `f` keeps): a plugin is asked for its list when its first volume comes by.
    pub fn for_each_described(
        &self,
        mut f: impl FnMut(Volume) -> Result<(), VolumeError>,
    ) -> Result<(), VolumeError> {
        type Listed = Option<(Vec<plugin::PluginVolume>, String)>;
        let mut plugins: std::collections::HashMap<String, Listed> = Default::default();
        self.for_each(|mut v| {
            if v.is_plugin() {
                let listed = plugins.entry(v.driver.clone()).or_insert_with(|| {
                    let plugin = plugin::volume_plugin(&v.driver).ok()?;
                    match plugin.list() {
                        Ok(l) => Some((l, plugin.capabilities().scope.clone())),
                        Err(e) => {
                            log::warn!("volume plugin {}: {e}", v.driver);
                            None
                        }
                    }
                });
                if let Some((listed, scope)) = listed {
                    if let Some(pv) = listed.iter().find(|p| p.name == v.name) {
                        apply_plugin_view(&mut v, pv, scope);
                    }
                }
            }
            f(v)
        })
    }
}

/// What a plugin says of a volume, over berth's record.
fn apply_plugin_view(v: &mut Volume, pv: &plugin::PluginVolume, scope: &str) {
    v.mountpoint = PathBuf::from(&pv.mountpoint);
    v.status = pv.status.clone();
    v.created_at = pv
        .created_at
        .clone()
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
    v.scope = scope.to_string();
}

/// Journal kind of a copy staged beside a volume's data dir (populate), keyed `NAME/OWNER`.
const POPULATE: &str = "volume-populate";

/// Staged copies into a volume (populate, issue 15).
impl VolumeStore<'_> {
    /// A new staging directory beside volume `name`'s data dir, private to this process, for a
    /// copy that one rename over the empty data dir publishes; journaled, so the repair pass
    /// removes what a killed copy left. Close it with [`VolumeStore::end_staging`].
    pub fn begin_staging(&mut self, name: &str) -> Result<PathBuf, VolumeError> {
        let tag = journal::Owner::current().tag();
        journal::begin(self.store.db().conn(), POPULATE, &format!("{name}/{tag}"))?;
        let dir = self.local.dir(name).join(format!("_populate-{tag}"));
        let _ = berth_store::fsutil::remove_tree(&dir);
        std::fs::create_dir(&dir).map_err(|source| {
            VolumeError::Driver(LocalError::Io {
                path: dir.clone(),
                source,
            })
        })?;
        Ok(dir)
    }

    /// Removes what is left of this process's staging directory for `name` (nothing, once it
    /// was published) and closes its journal entry.
    pub fn end_staging(&mut self, name: &str) -> Result<(), VolumeError> {
        let tag = journal::Owner::current().tag();
        let dir = self.local.dir(name).join(format!("_populate-{tag}"));
        berth_store::fsutil::remove_tree(&dir)
            .map_err(|source| VolumeError::Driver(LocalError::Io { path: dir, source }))?;
        journal::end(self.store.db().conn(), POPULATE, &format!("{name}/{tag}"))?;
        Ok(())
    }
}

/// Beyond Docker: moving volume data in and out, copying and renaming volumes. Each follows the
/// journal protocol, so a killed berth leaves the old state or the new one.
impl VolumeStore<'_> {
    /// `volume rename OLD NEW`: refused while any container references the volume (its specs
    /// name it). The directory is renamed under a journal entry, then the row in one transaction.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<Volume, VolumeError> {
        validate_volume_name(new)?;
        let v = self.require(old)?;
        self.refuse_plugin("rename", &v)?;
        let users = self.users(old)?;
        if !users.is_empty() {
            return Err(VolumeError::InUse {
                op: "rename",
                name: old.to_string(),
                containers: users,
            });
        }
        if self.get(new)?.is_some() || self.local.dir(new).exists() {
            return Err(VolumeError::Exists {
                op: "rename",
                name: old.to_string(),
                target: new.to_string(),
            });
        }
        let key = format!("{old}/{new}");
        journal::begin(self.store.db().conn(), "volume-rename", &key)?;
        self.local.unmount(old)?;
        self.local.restore(old)?;
        let (from, to) = (self.local.dir(old), self.local.dir(new));
        std::fs::rename(&from, &to).map_err(|source| LocalError::Io {
            path: from.clone(),
            source,
        })?;
        let renamed = self.store.db_mut().write(|tx| -> Result<(), VolumeError> {
            let users = volumes::users(tx, old)?;
            if !users.is_empty() {
                return Err(VolumeError::InUse {
                    op: "rename",
                    name: old.to_string(),
                    containers: users,
                });
            }
            volumes::rename(tx, old, new)?;
            journal::end(tx, "volume-rename", &key)?;
            Ok(())
        });
        if let Err(e) = renamed {
            // A container took the volume meanwhile: put the directory back.
            let _ = std::fs::rename(&to, &from);
            journal::end(self.store.db().conn(), "volume-rename", &key)?;
            return Err(e);
        }
        let _ = v;
        self.require(new)
    }

    /// `volume clone SRC DST`: a new plain volume with SRC's labels and a copy of its data
    /// (reflinked where the filesystem shares extents).
    pub fn clone_volume(&mut self, src: &Volume, dst: &str) -> Result<Volume, VolumeError> {
        self.refuse_plugin("clone", src)?;
        validate_volume_name(dst)?;
        if self.get(dst)?.is_some() {
            return Err(VolumeError::Exists {
                op: "clone",
                name: src.name.clone(),
                target: dst.to_string(),
            });
        }
        journal::begin(self.store.db().conn(), "volume", dst)?;
        let copied = (|| -> Result<(), VolumeError> {
            self.local.create(dst, None)?;
            let mounted = self.mount_for_use(src)?;
            let from = self.local.data(&src.name);
            let to = self.local.data(dst);
            let r = berth_store::fsutil::copy_tree(&from, &to).map_err(|source| LocalError::Io {
                path: from.clone(),
                source,
            });
            if mounted {
                let _ = self.unmount(src);
            }
            r?;
            Ok(())
        })();
        if let Err(e) = copied {
            let _ = self.local.remove(dst);
            journal::end(self.store.db().conn(), "volume", dst)?;
            return Err(e);
        }
        let row = VolumeRow {
            name: dst.to_string(),
            driver: "local".into(),
            labels: src.labels.clone(),
            options: None,
            anonymous: false,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        self.store.db_mut().write(|tx| -> Result<(), VolumeError> {
            volumes::insert(tx, &row)?;
            journal::end(tx, "volume", dst)?;
            Ok(())
        })?;
        self.require(dst)
    }

    /// Mounts an option volume for a one-off operation; returns whether it was mounted now (and
    /// so should be unmounted afterwards).
    fn mount_for_use(&self, v: &Volume) -> Result<bool, VolumeError> {
        if !LocalDriver::is_mounted_kind(v.options.as_ref()) {
            self.local.restore(&v.name)?;
            return Ok(false);
        }
        if self.local.is_mounted(&v.name) {
            return Ok(false);
        }
        self.mount(v)?;
        Ok(true)
    }

    /// `volume export`: the volume's content as a tar, its root directory first (`./`, with the
    /// root's owner and mode), then every entry below it.
    pub fn export(&self, v: &Volume, out: &mut dyn std::io::Write) -> Result<(), VolumeError> {
        use std::os::fd::AsFd;
        self.refuse_plugin("export", v)?;
        let mounted = self.mount_for_use(v)?;
        let r = (|| -> Result<(), VolumeError> {
            let dir = self.local.dir(&v.name);
            let parent = std::fs::File::open(&dir).map_err(|source| LocalError::Io {
                path: dir.clone(),
                source,
            })?;
            berth_store::archive::write_entry_tar(parent.as_fd(), b"_data", ".", out)
                .map_err(|e| VolumeError::Store(e.into()))?;
            Ok(())
        })();
        if mounted {
            let _ = self.unmount(v);
        }
        r
    }

    /// `volume import`: replaces the volume's content with the tar. A plain volume's new content
    /// is unpacked beside the old one and swapped in with one atomic exchange, so a crash leaves
    /// the old content or the new; a mounted (option) volume is replaced in place.
    ///
    /// Device nodes are left out (and returned) unless `devices`.
    pub fn import(
        &mut self,
        v: &Volume,
        tar: &mut dyn std::io::Read,
        in_place: bool,
        devices: bool,
    ) -> Result<Applied, VolumeError> {
        use berth_store::archive::{apply_tar_report, ApplyOptions, WhiteoutMode};
        self.refuse_plugin("import", v)?;
        let opts = ApplyOptions {
            no_overwrite_dir_non_dir: false,
            skip_devices: !devices,
            whiteouts: WhiteoutMode::Delete,
            root_metadata: true,
            owner: None,
        };
        let err = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| VolumeError::Driver(LocalError::Io { path, source })
        };
        if in_place || LocalDriver::is_mounted_kind(v.options.as_ref()) {
            let mounted = self.mount_for_use(v)?;

            let r = (|| -> Result<Applied, VolumeError> {
                for entry in std::fs::read_dir(&v.mountpoint).map_err(err(&v.mountpoint))? {
                    let p = entry.map_err(err(&v.mountpoint))?.path();
                    berth_store::fsutil::remove_tree(&p).map_err(err(&p))?;
                }
                apply_tar_report(tar, &v.mountpoint, &opts)
                    .map_err(|e| VolumeError::Store(e.into()))
            })();
            if mounted {
                let _ = self.unmount(v);
            }
            return r;
        }
        self.local.restore(&v.name)?;
        let staging = self.local.dir(&v.name).join("_import");
        journal::begin(self.store.db().conn(), "volume-import", &v.name)?;
        let _ = berth_store::fsutil::remove_tree(&staging);
        let r = (|| -> Result<Applied, VolumeError> {
            std::fs::create_dir(&staging).map_err(err(&staging))?;
            // The new tree keeps the old root's owner and mode unless the tar has a root entry.
            let md = std::fs::metadata(&v.mountpoint).map_err(err(&v.mountpoint))?;
            std::os::unix::fs::chown(
                &staging,
                Some(std::os::unix::fs::MetadataExt::uid(&md)),
                Some(std::os::unix::fs::MetadataExt::gid(&md)),
            )
            .map_err(err(&staging))?;
            std::fs::set_permissions(&staging, md.permissions()).map_err(err(&staging))?;
            let applied =
                apply_tar_report(tar, &staging, &opts).map_err(|e| VolumeError::Store(e.into()))?;
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &staging,
                rustix::fs::CWD,
                &v.mountpoint,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .map_err(|e| err(&staging)(e.into()))?;
            berth_store::fsutil::fsync_dir(&self.local.dir(&v.name)).map_err(err(&staging))?;
            Ok(applied)
        })();
        // Whatever `_import` holds now (the new data, before the exchange; the old data after
        // it) is the part to drop.
        let _ = berth_store::fsutil::remove_tree(&staging);
        journal::end(self.store.db().conn(), "volume-import", &v.name)?;
        r
    }

    /// `volume import` into a volume that does not exist yet: created under the create
    /// protocol (files first, then the row), so a crash leaves no volume rather than an empty
    /// or half-filled one.
    /// Device nodes are left out (and returned) unless `devices`.
    pub fn import_new(
        &mut self,
        name: &str,
        tar: &mut dyn std::io::Read,
        devices: bool,
    ) -> Result<(Volume, Applied), VolumeError> {
        use berth_store::archive::{apply_tar_report, ApplyOptions, WhiteoutMode};
        validate_volume_name(name)?;
        journal::begin(self.store.db().conn(), "volume", name)?;
        let filled = (|| -> Result<Applied, VolumeError> {
            self.local.create(name, None)?;
            apply_tar_report(
                tar,
                &self.local.data(name),
                &ApplyOptions {
                    no_overwrite_dir_non_dir: false,
                    skip_devices: !devices,
                    whiteouts: WhiteoutMode::Delete,
                    root_metadata: true,
                    owner: None,
                },
            )
            .map_err(|e| VolumeError::Store(e.into()))
        })();
        let applied = match filled {
            Ok(a) => a,
            Err(e) => {
                let _ = self.local.remove(name);
                journal::end(self.store.db().conn(), "volume", name)?;
                return Err(e);
            }
        };
        let row = VolumeRow {
            name: name.to_string(),
            driver: "local".into(),
            labels: None,
            options: None,
            anonymous: false,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let inserted = self
            .store
            .db_mut()
            .write(|tx| -> Result<bool, VolumeError> {
                let inserted = volumes::insert_if_absent(tx, &row)?;
                journal::end(tx, "volume", name)?;
                Ok(inserted)
            })?;
        if !inserted {
            return Err(VolumeError::Exists {
                op: "import",
                name: name.to_string(),
                target: name.to_string(),
            });
        }
        Ok((self.require(name)?, applied))
    }

    /// Finishes renames and imports that a crashed process left half done.
    pub fn recover_operations(&mut self) -> Result<(), VolumeError> {
        for entry in journal::abandoned(self.store.db().conn(), POPULATE)? {
            if let Some((name, tag)) = entry.key.rsplit_once('/') {
                let staging = self.local.dir(name).join(format!("_populate-{tag}"));
                let _ = berth_store::fsutil::remove_tree(&staging);
            }
            journal::end(self.store.db().conn(), POPULATE, &entry.key)?;
        }
        for entry in journal::abandoned(self.store.db().conn(), "volume-import")? {
            let staging = self.local.dir(&entry.key).join("_import");
            let _ = berth_store::fsutil::remove_tree(&staging);
            journal::end(self.store.db().conn(), "volume-import", &entry.key)?;
        }
        for entry in journal::abandoned(self.store.db().conn(), "volume-rename")? {
            if let Some((old, new)) = entry.key.split_once('/') {
                // The row decides: still OLD → the rename did not happen; put the dir back.
                if self.get(old)?.is_some()
                    && !self.local.dir(old).exists()
                    && self.local.dir(new).exists()
                {
                    let _ = std::fs::rename(self.local.dir(new), self.local.dir(old));
                }
            }
            journal::end(self.store.db().conn(), "volume-rename", &entry.key)?;
        }
        Ok(())
    }
}
