//! [`VolumeStore`] keeps named and anonymous volumes: a row in `volumes` plus the local driver's
//! directory. Creating is idempotent (an existing name is returned as it is, as Docker does);
//! removal is refused while any container — running, stopped or only created — references the
//! volume; prune removes unreferenced volumes without driver options. Every change follows the
//! store's journal protocol, so a killed berth leaves the old or the new state after the next
//! open, never a row without files or files without a row.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_store::{journal, ErrorKind, Store, StoreError};
use rusqlite::{params, OptionalExtension};

use crate::local::{LocalDriver, LocalError};
use crate::spec::{validate_volume_name, VolumeNameError};

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
    /// `<root>/volumes/<name>/_data`.
    pub mountpoint: PathBuf,
}

impl Volume {
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
    #[error("remove {name}: volume is in use - [{}]", .containers.join(", "))]
    InUse {
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

impl From<rusqlite::Error> for VolumeError {
    fn from(e: rusqlite::Error) -> Self {
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
            | VolumeError::InvalidFilter(_) => ErrorKind::InvalidArgument,
            VolumeError::NotFound(_) => ErrorKind::NotFound,
            VolumeError::InUse { .. } => ErrorKind::InUse,
            VolumeError::PruneRunning => ErrorKind::Conflict,
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

const COLUMNS: &str = "name, driver, labels, options, anonymous, created_at";

/// Volumes over a [`Store`].
pub struct VolumeStore<'s> {
    store: &'s mut Store,
    local: LocalDriver,
}

fn json_map(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<BTreeMap<String, String>>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

impl<'s> VolumeStore<'s> {
    /// The volumes of an open store (`<root>/volumes`).
    pub fn new(store: &'s mut Store) -> Result<Self, VolumeError> {
        let dir = store.root().join("volumes");
        let local =
            LocalDriver::open(&dir).map_err(|source| LocalError::Io { path: dir, source })?;
        Ok(VolumeStore { store, local })
    }

    /// The local driver.
    pub fn driver(&self) -> &LocalDriver {
        &self.local
    }

    fn row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<Volume> {
        let name: String = r.get(0)?;
        Ok(Volume {
            mountpoint: self.local.data(&name),
            driver: r.get(1)?,
            labels: json_map(r, 2)?,
            options: json_map(r, 3)?,
            anonymous: r.get::<_, i64>(4)? != 0,
            created_at: r.get(5)?,
            name,
        })
    }

    /// The volume called `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<Volume>, VolumeError> {
        Ok(self
            .store
            .db()
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM volumes WHERE name = ?1"),
                [name],
                |r| self.row(r),
            )
            .optional()?)
    }

    /// The volume called `name`, or Docker's `get <name>: no such volume`.
    pub fn require(&self, name: &str) -> Result<Volume, VolumeError> {
        self.get(name)?
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))
    }

    /// Every volume, sorted by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let conn = self.store.db().conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM volumes ORDER BY name"))?;
        let rows = stmt.query_map([], |r| self.row(r))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// IDs of the containers referencing `name` (any state), oldest reference first.
    pub fn users(&self, name: &str) -> Result<Vec<String>, VolumeError> {
        let conn = self.store.db().conn();
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT container_id FROM container_volumes WHERE volume = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([name], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of containers referencing each volume.
    pub fn ref_counts(&self) -> Result<BTreeMap<String, usize>, VolumeError> {
        let conn = self.store.db().conn();
        let mut stmt = conn.prepare_cached(
            "SELECT volume, COUNT(DISTINCT container_id) FROM container_volumes GROUP BY volume",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `docker volume create`: returns the volume and whether it was created now (an existing
    /// name is returned unchanged; new labels and options are ignored, as in Docker).
    pub fn create(&mut self, req: &CreateVolume) -> Result<(Volume, bool), VolumeError> {
        let anonymous = req.name.is_none();
        let name = match &req.name {
            Some(n) => n.clone(),
            None => berth_store::fsutil::random_hex(32),
        };
        let driver = req.driver.clone().unwrap_or_else(|| "local".into());
        if driver != "local" {
            return Err(VolumeError::NoDriver { name, driver });
        }
        validate_volume_name(&name)?;
        if let Some(existing) = self.get(&name)? {
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
        journal::begin(self.store.db().conn(), "volume", &name)?;
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
                        reason: crate::local::errno_text(&source),
                        name,
                    },
                    other => VolumeError::Options {
                        name,
                        source: other,
                    },
                });
            }
        }
        let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let labels_json = labels
            .as_ref()
            .map(|l| serde_json::to_string(l).expect("maps serialize"));
        let opts_json = req
            .options
            .as_ref()
            .map(|o| serde_json::to_string(o).expect("maps serialize"));
        let inserted = self
            .store
            .db_mut()
            .write(|tx| -> Result<bool, VolumeError> {
                let n = tx.execute(
                "INSERT OR IGNORE INTO volumes(name, driver, labels, options, anonymous, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![name, driver, labels_json, opts_json, anonymous as i64, created_at],
            )?;
                journal::end(tx, "volume", &name)?;
                Ok(n > 0)
            })?;
        Ok((self.require(&name)?, inserted))
    }

    /// `docker volume rm NAME`: refused while referenced (even with `force`, as in Docker).
    pub fn remove(&mut self, name: &str) -> Result<(), VolumeError> {
        let deleted = self.store.db_mut().write(|tx| -> Result<bool, VolumeError> {
            let mut stmt = tx.prepare_cached(
                "SELECT DISTINCT container_id FROM container_volumes WHERE volume = ?1 ORDER BY rowid",
            )?;
            let users: Vec<String> = stmt
                .query_map([name], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if !users.is_empty() {
                return Err(VolumeError::InUse {
                    name: name.to_string(),
                    containers: users,
                });
            }
            let n = tx.execute("DELETE FROM volumes WHERE name = ?1", [name])?;
            if n > 0 {
                journal::begin(tx, "volume", name)?;
            }
            Ok(n > 0)
        })?;
        if !deleted {
            return Err(VolumeError::NotFound(name.to_string()));
        }
        self.local.remove(name)?;
        journal::end(self.store.db().conn(), "volume", name)?;
        Ok(())
    }

    /// Finishes volume creations and removals a crashed process left half done: files that no
    /// row claims are removed.
    pub fn recover(&mut self) -> Result<(), VolumeError> {
        for entry in journal::abandoned(self.store.db().conn(), "volume")? {
            if self.get(&entry.key)?.is_none() {
                self.local.remove(&entry.key)?;
            }
            journal::end(self.store.db().conn(), "volume", &entry.key)?;
        }
        Ok(())
    }

    /// Bytes stored in a volume.
    pub fn size(&self, name: &str) -> Result<u64, VolumeError> {
        Ok(self.local.size(name)?)
    }

    /// Mounts an option volume that is not mounted yet (first use); plain volumes need nothing.
    pub fn mount(&self, v: &Volume) -> Result<PathBuf, VolumeError> {
        self.local.mount(&v.name, v.options.as_ref())?;
        Ok(v.mountpoint.clone())
    }

    /// Unmounts an option volume (after its last user stopped).
    pub fn unmount(&self, v: &Volume) -> Result<(), VolumeError> {
        if LocalDriver::is_mounted_kind(v.options.as_ref()) {
            self.local.unmount(&v.name)?;
        }
        Ok(())
    }
}
