//! The metadata module: typed accessors over the tables of [`crate::schema`], so that SQL lives
//! in berth-store alone and callers above it handle rows and [`MetaError`]s, never SQLite's
//! codes. Constraint violations are classified once, in [`MetaError::from_sqlite`].
//!
//! Every table of berth's own lives here: [`containers`], [`events`], [`execs`], [`images`],
//! [`networks`], [`volume_mounts`], [`volumes`] (the journal and layers keep theirs in [`crate::journal`] and
//! [`crate::layer`]). Accessors take a `&Connection` (a [`rusqlite::Transaction`] derefs to one), so a caller
//! composes several of them in one [`crate::db::Db::write`] transaction.

use crate::db::DbError;

use crate::ErrorKind;
/// The handle every accessor takes: a connection, or a write transaction (which derefs to one).
pub use rusqlite::Connection;

/// The build cache: step key → image.
pub mod build_cache;
/// What build sources hashed to (COPY --from paths in images, context files).
pub mod build_sums;
/// Containers and the volume references written with them.
pub mod containers;
/// The event log: what every berth process did, in order (`docker events`).
pub mod events;
/// Exec instances: processes run in a running container (`docker exec`).
pub mod execs;
/// Images and their names (tags, digest references).
pub mod images;
/// Networks and container endpoints: network definitions and address allocations.
pub mod networks;
/// Plugin volumes mounted for containers (the caller IDs sent to plugins).
pub mod volume_mounts;
/// Volumes and the container references that make them "in use".
pub mod volumes;

/// A metadata operation that failed, with constraint violations told apart.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// A row with this key exists already (a UNIQUE or PRIMARY KEY constraint).
    #[error("{0} already exists")]
    Exists(String),
    /// A row this one refers to does not exist, or a row still referred to cannot go (a FOREIGN
    /// KEY constraint).
    #[error("{0}: a row it refers to does not exist, or it is still referred to")]
    Reference(String),
    /// No row with this key.
    #[error("{0} does not exist")]
    Missing(String),
    /// A column held a value its type cannot read (a row written by a newer berth, a bug).
    #[error("{what}: unreadable column: {reason}")]
    Corrupt {
        /// The row.
        what: String,
        /// Why.
        reason: String,
    },
    /// The database failed otherwise.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for MetaError {
    /// A failure outside any one row (beginning or committing a transaction).
    fn from(e: rusqlite::Error) -> MetaError {
        MetaError::Db(DbError::Sqlite(e))
    }
}

impl MetaError {
    /// Classifies SQLite's error for an operation on the row `what` (`exec 1234…`).
    pub fn from_sqlite(what: impl Into<String>, e: rusqlite::Error) -> MetaError {
        use rusqlite::ffi;
        let what = what.into();
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                MetaError::Reference(what)
            }
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                MetaError::Exists(what)
            }
            rusqlite::Error::FromSqlConversionFailure(_, _, reason) => MetaError::Corrupt {
                what,
                reason: reason.to_string(),
            },
            _ => MetaError::Db(DbError::Sqlite(e)),
        }
    }

    /// The class of the failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MetaError::Exists(_) => ErrorKind::Conflict,
            MetaError::Reference(_) => ErrorKind::Conflict,
            MetaError::Missing(_) => ErrorKind::NotFound,
            MetaError::Corrupt { .. } | MetaError::Db(_) => ErrorKind::Internal,
        }
    }
}
