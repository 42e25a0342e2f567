//! [`Db`] is the SQLite metadata database of a data root (`<root>/berth.db`): WAL journal, a busy
//! handler with short pauses so that concurrent CLI processes queue instead of failing, foreign
//! keys on, and the [`crate::schema`] migrations applied on open.
//!
//! Ordering guarantees (the rules every store in berth follows):
//! - every multi-step metadata change is one `IMMEDIATE` transaction ([`Db::write`]), so a crash
//!   leaves the old rows or the new rows, never a mix, and two processes racing for the same
//!   name are decided by SQLite (the loser sees the winner's row);
//! - files are created **before** the row that points at them and removed **after** it, under a
//!   [`crate::journal`] entry, so a crash can only leave files without rows, never rows without
//!   files, and the journal names exactly which files to look at on the next open (one
//!   exception, for power loss only: a plain volume's two empty directories are not flushed
//!   before its row, and a volume whose row survived without them gets them back when used);
//! - `synchronous=FULL`: a committed change survives power loss, not only a killed process;
//!   except the changes [`Db::write_relaxed`] commits, whose loss on power failure loses no
//!   user data (a container's run state, which nothing survives a power loss anyway, the
//!   event log, journal entries that only a killed process needs or whose recovery is a
//!   no-op, a `--rm` container's record): they skip the fsync, still survive a killed process
//!   (WAL), and become durable with the next ordinary commit.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::metadata::MetaError;
use crate::schema;

/// A failure of the metadata database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite reported an error.
    #[error("metadata database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The directory holding a new database or WAL file could not be synced.
    #[error("metadata database: syncing {path}: {source}")]
    DirSync {
        /// The directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The database was written by a newer berth.
    #[error("metadata database {path} has schema version {found}, newer than this berth ({supported}); upgrade berth")]
    TooNew {
        /// Database path.
        path: String,
        /// Version found.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
}

/// The metadata database connection.
///
/// SQLite is built without its directory sync after a connection's first sync of the WAL
/// (`SQLITE_DISABLE_DIRSYNC`, set for every build in the repository's `.cargo/config.toml`):
/// with the WAL kept across calls (below) the directory has nothing new to write then, yet
/// every CLI call paid that fsync once. The directory sync that matters, when the WAL (or the
/// database itself) was just created, is [`Db::open`]'s own.
pub struct Db {
    conn: Connection,
}

/// Pages the WAL may hold before a commit checkpoints it into the database (SQLite's default is
/// 1,000): what a process that opens the database first reads back to rebuild the WAL index.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 200;

/// Bytes the WAL file is truncated to after a checkpoint when one big transaction grew it.
const WAL_SIZE_LIMIT: i64 = 4 << 20;

/// How long a process waits for another one's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest pause between two tries for another process's lock ([`busy_wait`]).
const BUSY_PAUSE_MAX: Duration = Duration::from_millis(2);

/// The busy handler: waits before SQLite tries for the lock again, `attempt` being the number
/// of tries so far; `false` gives up (SQLite then reports "database is locked").
///
/// SQLite's own handler (`busy_timeout`) sleeps 1, 2, 5, 10, 15, 20, 25 ms… between tries,
/// while berth's commits hold the write lock for well under a millisecond (a relaxed one) or one
/// fsync: with 16 `run --rm` at once a waiter slept on long after the lock was free. This one
/// starts at 50 µs and doubles every second try up to [`BUSY_PAUSE_MAX`], so a waiter is at
/// most that late; it gives up after about [`BUSY_TIMEOUT`].
fn busy_wait(attempt: i32) -> bool {
    match busy_pause(u32::try_from(attempt).unwrap_or(0)) {
        Some(pause) => {
            std::thread::sleep(pause);
            true
        }
        None => false,
    }
}

/// The pause before try `attempt + 1` for a lock, `None` once [`BUSY_TIMEOUT`] is used up.
fn busy_pause(attempt: u32) -> Option<Duration> {
    // The first 12 pauses are below the cap (together under 10 ms); after them each is the cap.
    let limit = BUSY_TIMEOUT.as_millis() / BUSY_PAUSE_MAX.as_millis() + 12;
    (u128::from(attempt) <= limit).then(|| {
        Duration::from_micros(50)
            .saturating_mul(1 << (attempt / 2).min(10))
            .min(BUSY_PAUSE_MAX)
    })
}

/// Whether `e` is SQLite's "database is locked" (or "busy").
fn is_busy(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Db {
    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// SQLite answers "database is locked" at once, without its busy handler, to a connection
    /// that switches a new database to WAL or finds WAL recovery under way in another process,
    /// which is what several CLI processes opening a fresh data root together meet. Opening
    /// retries that for as long as the busy timeout.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(2);
        loop {
            match Db::try_open(path) {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                result => return result,
            }
        }
    }

    fn try_open(path: &Path) -> Result<Db, DbError> {
        // A WAL file that is not there yet is created by this connection's first read (below),
        // and so is the database on a new data root: their directory entries must be on disk
        // before the first commit this process reports done, or a power loss could take the
        // committed rows with them. (A WAL file another process created is synced by it; and a
        // commit's fsync of the WAL on ext4 and XFS also commits the journal that holds the
        // file's creation.)
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let new_wal = std::fs::symlink_metadata(&wal).is_err();
        let mut conn = Connection::open(path)?;
        conn.busy_handler(Some(busy_wait))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Each CLI call is a short process: SQLite's default would checkpoint the WAL and
        // delete it when the last connection closes, and make the next process create it
        // again — five fsyncs (WAL, its directory, checkpoint, database) around a command's
        // one durable commit. The WAL stays instead, kept short by the automatic checkpoint
        // (the next process reads at most that much of it to rebuild its index), and trimmed
        // back to `WAL_SIZE_LIMIT` after a transaction that grew it.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // Plans that never depend on the values bound to a statement: otherwise SQLite marks a
        // cached statement to be prepared again whenever a new value is bound to a parameter
        // its planner looked at, as `volume rm` of many names did once per name (a third of
        // its instructions).
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let mut db = Db { conn };
        db.migrate(path)?;
        if new_wal {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            crate::fsutil::fsync_dir(dir).map_err(|source| DbError::DirSync {
                path: dir.display().to_string(),
                source,
            })?;
        }
        Ok(db)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), DbError> {
        let version: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::current_version() {
            return Err(DbError::TooNew {
                path: path.display().to_string(),
                found: version,
                supported: schema::current_version(),
            });
        }
        if version == schema::current_version() {
            return Ok(());
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Exclusive)?;
            // Another process may have migrated while we waited for the lock.
            let now: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as u32 {
                tx.commit()?;
                continue;
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as u32 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one read transaction: its queries see one snapshot and take the database's
    /// read lock once, where each query on its own takes and releases it (four `fcntl` calls
    /// per query, which a lookup per name of a `volume rm` of 500 names paid 500 times).
    pub fn read<T, E>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<MetaError>,
    {
        let tx = self.conn.unchecked_transaction().map_err(MetaError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(MetaError::from)?;
        Ok(value)
    }

    /// Runs `f` in one `IMMEDIATE` write transaction, committing when it returns `Ok`. `f`
    /// composes the [`crate::metadata`] accessors (a `Transaction` is a `Connection`).
    pub fn write<T, E>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<MetaError>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(MetaError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(MetaError::from)?;
        Ok(value)
    }

    /// [`Db::write`] without waiting for the disk: committed with `synchronous=NORMAL`, so the
    /// change is in the WAL (it survives a killed process at once) and the database stays
    /// consistent on power loss, but a power loss may roll back to before it until the next
    /// [`Db::write`] or checkpoint syncs the WAL. Only for rows whose loss after a power failure
    /// loses no user data and leaves no row pointing at missing files: events (Docker keeps them
    /// in memory only), a container's run state and pid (every container is dead after a power
    /// loss, and opening the engine reconciles them), a claim whose files a crash would leave
    /// empty and unreferenced, the close of a journal entry whose recovery is a no-op, a launch's
    /// journal entry (a power loss leaves no mount or process of it), the record of a `--rm`
    /// container (a durable journal entry names its files for the repair pass).
    pub fn write_relaxed<T, E>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<MetaError>,
    {
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(MetaError::from)?;
        let result = self.write(f);
        // Every other commit stays durable; failing to restore that is an error.
        let restored = self
            .conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(MetaError::from);
        let value = result?;
        restored?;
        Ok(value)
    }

    /// [`Db::write_relaxed`] when `relaxed`, else [`Db::write`]: for a change whose durability
    /// depends on what it is about (a `--rm` container's record).
    pub fn write_relaxed_if<T, E>(
        &mut self,
        relaxed: bool,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<MetaError>,
    {
        if relaxed {
            self.write_relaxed(f)
        } else {
            self.write(f)
        }
    }

    /// Reads a `meta` value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a `meta` value.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

/// The current time as RFC 3339 with nanoseconds, the form berth stores.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_waits_for_another_connections_lock_in_short_pauses() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("berth.db");
        let mut holder = Db::open(&p).unwrap();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut db = Db::open(&p).unwrap();
            locked_rx.recv().unwrap();
            // The other connection holds the write lock: this one waits, then commits.
            db.set_meta("storage_driver", "overlay")
        });
        holder
            .write(|tx| -> Result<(), MetaError> {
                tx.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('storage_driver', 'vfs')",
                    [],
                )?;
                locked_tx.send(()).unwrap();
                // Long enough for many of the waiter's tries.
                std::thread::sleep(Duration::from_millis(50));
                Ok(())
            })
            .unwrap();
        waiter.join().unwrap().unwrap();
        assert_eq!(
            holder.meta("storage_driver").unwrap().as_deref(),
            Some("overlay")
        );
        // The pauses start far below SQLite's first (1 ms), stay short, and add up to the
        // busy timeout before the handler gives up.
        assert!(busy_pause(0).unwrap() < Duration::from_millis(1));
        let pauses: Vec<Duration> = (0..).map_while(busy_pause).collect();
        assert!(pauses.iter().all(|p| *p <= BUSY_PAUSE_MAX));
        let waited: Duration = pauses.iter().sum();
        assert!(waited >= BUSY_TIMEOUT && waited < BUSY_TIMEOUT + Duration::from_secs(1));
        assert!(!busy_wait(i32::try_from(pauses.len()).unwrap()));
    }

    #[test]
    fn opens_migrates_and_reopens() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("berth.db");
        let mut db = Db::open(&p).unwrap();
        db.set_meta("storage_driver", "vfs").unwrap();
        drop(db);
        let db = Db::open(&p).unwrap();
        assert_eq!(db.meta("storage_driver").unwrap().as_deref(), Some("vfs"));
        let v: u32 = db
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema::current_version());
        let mode: String = db
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn refuses_a_newer_schema() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("berth.db");
        drop(Db::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
        drop(c);
        let err = Db::open(&p).err().unwrap();
        assert!(err.to_string().contains("newer than this berth"), "{err}");
    }

    #[test]
    fn failed_write_rolls_back() {
        let t = tempfile::tempdir().unwrap();
        let mut db = Db::open(&t.path().join("berth.db")).unwrap();
        let r: Result<(), MetaError> = db.write(|tx| {
            tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')", [])?;
            tx.execute("INSERT INTO nosuchtable VALUES (1)", [])?;
            Ok(())
        });
        assert!(r.is_err());
        assert_eq!(db.meta("a").unwrap(), None);
    }

    #[test]
    fn relaxed_write_commits_and_restores_full_sync() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("berth.db");
        let mut db = Db::open(&p).unwrap();
        let sync = |db: &Db| -> i64 {
            db.conn()
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(sync(&db), 2);
        db.write_relaxed(|tx| -> Result<(), MetaError> {
            tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')", [])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(sync(&db), 2, "later commits are durable again");
        let r: Result<(), MetaError> = db.write_relaxed(|tx| {
            tx.execute("INSERT INTO nosuchtable VALUES (1)", [])?;
            Ok(())
        });
        assert!(r.is_err());
        assert_eq!(sync(&db), 2, "also after a failed relaxed write");
        drop(db);
        // Another process (connection) sees the relaxed commit.
        assert_eq!(
            Db::open(&p).unwrap().meta("a").unwrap().as_deref(),
            Some("b")
        );
    }

    /// Rows a database of each schema version holds, one entry per migration: the SQL that
    /// fills the tables migration `i` created, and the row counts it leaves.
    /// A new migration adds its entry here (the test refuses a migration without one).
    const FIXTURES: &[(&str, &[(&str, i64)])] = &[
        (
            "INSERT INTO meta VALUES ('fixture', 'v1');
             INSERT INTO layers VALUES ('sha256:l1', 'sha256:d1', NULL, 'c1', 7, 't');
             INSERT INTO images VALUES ('sha256:i1', X'7B7D', 'sha256:l1', 7, NULL, 't', 't');
             INSERT INTO image_refs VALUES ('docker.io/library/x:latest', 'sha256:i1', 'tag', 't');",
            &[("meta", 1), ("layers", 1), ("images", 1), ("image_refs", 1)],
        ),
        (
            "INSERT INTO containers (id, name, image_id, image_ref, top_layer, config, host_config,
                                     status, created_at)
             VALUES ('c1', 'web', 'sha256:i1', 'x', 'sha256:l1', '{}', '{}', 'created', 't');",
            &[("containers", 1)],
        ),
        (
            "INSERT INTO volumes VALUES ('v1', 'local', NULL, NULL, 0, 't');
             INSERT INTO container_volumes VALUES ('c1', 'v1', '/data', 0);",
            &[("volumes", 1), ("container_volumes", 1)],
        ),
        (
            "INSERT INTO execs (id, container_id, config, created_at)
             VALUES ('e1', 'c1', '{}', 't');",
            &[("execs", 1)],
        ),
        (
            "INSERT INTO build_cache VALUES ('k1', 'sha256:i1', '', 't');",
            &[("build_cache", 1)],
        ),
        (
            "INSERT INTO networks (id, name, driver, bridge, subnet, gateway, created_at)
             VALUES ('n1', 'front', 'bridge', 'br-n1', '10.1.0.0/24', '10.1.0.1', 't');
             INSERT INTO endpoints (container_id, network_id, position, ip)
             VALUES ('c1', 'n1', 0, '10.1.0.2');",
            &[("networks", 1), ("endpoints", 1)],
        ),
        (
            "INSERT INTO events (time_nano, type, action, actor_id) VALUES (1, 'container', 'create', 'c1');
             UPDATE containers SET health = '{}' WHERE id = 'c1';",
            &[("events", 1)],
        ),
        (
            "INSERT INTO blob_sources VALUES ('sha256:d1', 'sha256:b1', 'localhost:5000', 'team/app',
                                              'application/vnd.docker.image.rootfs.diff.tar.gzip', 5, 't');",
            &[("blob_sources", 1)],
        ),
        (
            "INSERT INTO build_sums VALUES ('from:sha256:i1:/x', 'sha256:i1', '[]', 't');
             INSERT INTO build_sums VALUES ('dir:/ctx', NULL, '{}', 't');",
            &[("build_sums", 2)],
        ),
        (
            "INSERT INTO volume_mounts VALUES ('m1', 'v1', 'tp', 'c1', '/data', 't');",
            &[("volume_mounts", 1)],
        ),
        (
            "UPDATE containers SET init_layer = 'c1-init' WHERE id = 'c1';",
            &[("containers", 1)],
        ),
    ];

    /// v11: a container recorded before it keeps its own init layer, `<id>-init`.
    #[test]
    fn containers_from_before_v11_keep_their_own_init_layer() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("v10.db");
        let c = Connection::open(&p).unwrap();
        for (sql, (rows, _)) in schema::MIGRATIONS[..10].iter().zip(FIXTURES) {
            c.execute_batch(sql).unwrap();
            c.execute_batch(rows).unwrap();
        }
        c.pragma_update(None, "user_version", 10u32).unwrap();
        drop(c);
        let db = Db::open(&p).unwrap();
        let init: String = db
            .conn()
            .query_row(
                "SELECT init_layer FROM containers WHERE id = 'c1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(init, "c1-init");
    }

    /// Every migration upgrades a database built by the previous version: build each version
    /// step by step with rows in every table so far, migrate to the current version, and check
    /// that every row is still there.
    #[test]
    fn each_migration_upgrades_the_previous_version() {
        assert_eq!(
            FIXTURES.len(),
            schema::MIGRATIONS.len(),
            "each migration needs a fixture in FIXTURES"
        );
        let t = tempfile::tempdir().unwrap();
        // The last round builds the current version itself, so every fixture runs once.
        for upto in 1..=schema::MIGRATIONS.len() + 1 {
            let p = t.path().join(format!("v{upto}.db"));
            let c = Connection::open(&p).unwrap();
            for (sql, (rows, _)) in schema::MIGRATIONS[..upto - 1].iter().zip(FIXTURES) {
                c.execute_batch(sql).unwrap();
                c.execute_batch(rows).unwrap();
            }
            c.pragma_update(None, "user_version", (upto - 1) as u32)
                .unwrap();
            drop(c);
            let db = Db::open(&p).unwrap();
            let v: u32 = db
                .conn()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, schema::current_version());
            for (_, counts) in &FIXTURES[..upto - 1] {
                for (table, want) in counts.iter() {
                    let got: i64 = db
                        .conn()
                        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                        .unwrap();
                    assert_eq!(got, *want, "{table} after upgrading from v{}", upto - 1);
                }
            }
        }
    }
}
