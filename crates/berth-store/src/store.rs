//! [`Store`] opens a data root: it creates the layout, opens the metadata database, settles which
//! graph driver the root uses (chosen once, recorded, and checked on every later open), and
//! finishes whatever a crashed process left half done before anyone reads.
//!
//! ```text
//! <root>/berth.db          metadata (SQLite, WAL)
//! <root>/blobs/sha256/     content store
//! <root>/layers/           graph driver directories
//! <root>/tmp/<pid>-<start> per-process staging
//! ```

use std::path::{Path, PathBuf};

use crate::content::{ContentError, ContentStore};
use crate::db::{Db, DbError};
use crate::driver::{self, DriverError, DriverKind, GraphDriver};
use crate::journal::{self, Staging};
use crate::mount::Mounter;
use crate::ErrorKind;

/// How to open a data root.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The data root (`--root`).
    pub root: PathBuf,
    /// The driver asked for with `--storage-driver`; `None` = the recorded one, or detect.
    pub driver: Option<DriverKind>,
    /// Who performs mounts (the kernel, or a recording fake in tests).
    pub mounter: Mounter,
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The metadata database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A metadata row could not be read or written.
    #[error(transparent)]
    Meta(#[from] crate::metadata::MetaError),
    /// A content-store operation failed.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A graph-driver operation failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// Applying or producing a layer tar failed.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A mount or unmount failed.
    #[error(transparent)]
    Mount(#[from] crate::mount::MountError),
    /// An I/O failure on a path of the data root.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The root was created with another storage driver.
    #[error("data root {root} uses the {recorded} storage driver, but {requested} was requested; use --storage-driver {recorded} or another --root")]
    DriverMismatch {
        /// The data root.
        root: String,
        /// The driver recorded in the root.
        recorded: String,
        /// The driver asked for.
        requested: String,
    },
    /// The requested driver cannot work on this machine.
    #[error("storage driver {driver} is not supported here: {reason}")]
    DriverUnsupported {
        /// The driver.
        driver: String,
        /// Why.
        reason: String,
    },
    /// A referenced layer does not exist.
    #[error("layer {0} does not exist")]
    NoSuchLayer(String),
    /// The metadata contradicts itself.
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(DbError::Sqlite(e))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(source: std::io::Error) -> Self {
        StoreError::Io {
            path: PathBuf::new(),
            source,
        }
    }
}

impl StoreError {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NoSuchLayer(_) => ErrorKind::NotFound,
            StoreError::Meta(e) => e.kind(),
            StoreError::Content(ContentError::NotFound(_)) => ErrorKind::NotFound,
            StoreError::Content(ContentError::Mismatch { .. }) => ErrorKind::InvalidArgument,
            StoreError::Archive(_) => ErrorKind::InvalidArgument,
            StoreError::DriverMismatch { .. } | StoreError::DriverUnsupported { .. } => {
                ErrorKind::InvalidArgument
            }
            _ => ErrorKind::Internal,
        }
    }
}

/// An open data root.
pub struct Store {
    root: PathBuf,
    pub(crate) db: Db,
    pub(crate) content: ContentStore,
    pub(crate) driver: Box<dyn GraphDriver>,
    pub(crate) staging: Staging,
    driver_kind: DriverKind,
    mounter: Mounter,
}

impl Store {
    /// Opens (creating if needed) the data root described by `opts`.
    pub fn open(opts: &StoreOptions) -> Result<Store, StoreError> {
        let root = &opts.root;
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| StoreError::Io { path: p, source }
        };
        create_private_dir(root).map_err(io(root))?;
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let mut db = Db::open(&root.join("berth.db"))?;
        let driver_kind = settle_driver(&mut db, root, opts.driver, &opts.mounter)?;
        let driver = driver_kind.open(root).map_err(io(&root.join("layers")))?;
        let content = ContentStore::open(root).map_err(io(&root.join("blobs")))?;
        let mut store = Store {
            root: root.clone(),
            db,
            content,
            driver,
            staging: Staging::new(&tmp),
            driver_kind,
            mounter: opts.mounter.clone(),
        };
        journal::recover_staging(&tmp).map_err(io(&tmp))?;
        store.recover_layers()?;
        Ok(store)
    }

    /// The data root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The metadata database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The metadata database, for writes.
    pub fn db_mut(&mut self) -> &mut Db {
        &mut self.db
    }

    /// The content store.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// The graph driver.
    pub fn driver(&self) -> &dyn GraphDriver {
        self.driver.as_ref()
    }

    /// The one component that performs mounts (graph drivers and volume drivers only describe
    /// them).
    pub fn mounter(&self) -> &Mounter {
        &self.mounter
    }

    /// Which driver this root uses.
    pub fn driver_kind(&self) -> DriverKind {
        self.driver_kind
    }

    /// A fresh path in this process's staging dir.
    pub fn staging_path(&mut self, prefix: &str) -> Result<PathBuf, StoreError> {
        Ok(self.staging.path(prefix)?)
    }

    /// This process's staging dir (see [`journal::Staging::dir`]), created if needed.
    pub fn staging_dir(&mut self) -> Result<PathBuf, StoreError> {
        Ok(self.staging.dir()?.to_path_buf())
    }
}

/// Creates the root with mode 0710 (like Docker's), leaving an existing root's mode alone.
fn create_private_dir(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(false)
        .mode(0o710)
        .create(root)
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(root.parent().unwrap_or(Path::new("/")))?;
            create_private_dir(root)
        }
        Err(e) => Err(e),
    }
}

/// The driver of a root is chosen once and recorded; a later mismatch is an error.
fn settle_driver(
    db: &mut Db,
    root: &Path,
    requested: Option<DriverKind>,
    mounter: &Mounter,
) -> Result<DriverKind, StoreError> {
    if let Some(recorded) = db.meta("storage_driver")? {
        let recorded_kind = DriverKind::parse(&recorded)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown storage driver {recorded:?}")))?;
        if let Some(req) = requested {
            if req != recorded_kind {
                return Err(StoreError::DriverMismatch {
                    root: root.display().to_string(),
                    recorded,
                    requested: req.as_str().to_string(),
                });
            }
        }
        return Ok(recorded_kind);
    }
    let kind = match requested {
        Some(DriverKind::Overlay) => {
            driver::overlay_usable(root, mounter).map_err(|reason| {
                StoreError::DriverUnsupported {
                    driver: "overlay2".into(),
                    reason,
                }
            })?;
            DriverKind::Overlay
        }
        Some(k) => k,
        None => driver::detect(root, mounter),
    };
    // Two first opens may race: the first recorded choice wins, and both use it.
    db.conn().execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('storage_driver', ?1)",
        [kind.as_str()],
    )?;
    let recorded = db.meta("storage_driver")?.unwrap_or_default();
    DriverKind::parse(&recorded)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown storage driver {recorded:?}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mount::recording::{Call, RecordingSys};

    fn open(root: &Path, sys: &Arc<RecordingSys>) -> Result<Store, StoreError> {
        Store::open(&StoreOptions {
            root: root.to_path_buf(),
            driver: None,
            mounter: Mounter::new(sys.clone()),
        })
    }

    /// Whether overlay can serve this machine's temporary directory at all (kernel support and
    /// d_type); the probe mount is what the recording mounter decides.
    fn overlay_possible(dir: &Path) -> bool {
        std::fs::read_to_string("/proc/filesystems")
            .unwrap()
            .contains("\toverlay")
            && driver::supports_d_type(dir)
    }

    #[test]
    fn a_new_root_takes_overlay_when_its_probe_mount_works_and_keeps_the_choice() {
        let t = tempfile::tempdir().unwrap();
        assert!(
            overlay_possible(t.path()),
            "the test needs overlay in the kernel"
        );
        let sys = Arc::new(RecordingSys::default());
        let store = open(t.path(), &sys).unwrap();
        assert_eq!(store.driver_kind(), DriverKind::Overlay);
        let calls = sys.calls();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(matches!(&calls[0], Call::Mount(m) if m.fstype.as_deref() == Some("overlay")));
        drop(store);
        // The choice is recorded: no second probe, even if overlay would fail now.
        sys.clear();
        sys.fail_mount_call(1, libc::EPERM);
        assert_eq!(
            open(t.path(), &sys).unwrap().driver_kind(),
            DriverKind::Overlay
        );
        assert!(sys.calls().is_empty());
    }

    #[test]
    fn a_new_root_falls_back_to_vfs_when_the_probe_mount_fails() {
        let t = tempfile::tempdir().unwrap();
        assert!(
            overlay_possible(t.path()),
            "the test needs overlay in the kernel"
        );
        let sys = Arc::new(RecordingSys::default());
        sys.fail_mount_call(1, libc::EPERM);
        let store = open(t.path(), &sys).unwrap();
        assert_eq!(store.driver_kind(), DriverKind::Vfs);
        // Asked for overlay explicitly, the same failure is an error that says why.
        let t2 = tempfile::tempdir().unwrap();
        sys.fail_mount_call(1, libc::EPERM);
        let e = Store::open(&StoreOptions {
            root: t2.path().to_path_buf(),
            driver: Some(DriverKind::Overlay),
            mounter: Mounter::new(sys.clone()),
        })
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.starts_with(
                "storage driver overlay2 is not supported here: a test overlay mount failed"
            ),
            "{e}"
        );
    }
}
