//! The crash-recovery journal: a [`journal`](crate::schema) row names an object (`kind`, `key`)
//! whose files a multi-step change is creating or deleting, with the process that owns the change.
//!
//! Protocol, for any object with files and a row:
//! - create: [`begin`] (commit) → build the files → one transaction inserts the row **and** [`end`]s;
//! - delete: one transaction deletes the row **and** [`begin`]s → remove the files → [`end`].
//!
//! So after a crash an entry exists exactly for objects whose files may be half made or half
//! removed. On open, [`abandoned`] lists entries whose owner process is gone; the store that owns
//! the kind removes the files if no row claims them, then ends the entry. Recovery costs one
//! indexed query on a clean root, not a walk of every layer and volume.
//!
//! Owners are identified by pid **and** process start time, so a reused pid is never mistaken for
//! a live owner. Per-process staging dirs under `<root>/tmp/<pid>-<start>` follow the same rule.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::metadata::MetaError;
use rusqlite::{params, Connection};

use crate::db::now_rfc3339;

/// A process that owns a journal entry or a staging dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// Process ID.
    pub pid: u32,
    /// Start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn current() -> Owner {
        static CURRENT: OnceLock<Owner> = OnceLock::new();
        *CURRENT.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                pid,
                start: process_start(pid).unwrap_or(0),
            }
        })
    }

    /// True while the same process (same pid, same start time) still runs.
    pub fn is_alive(&self) -> bool {
        process_start(self.pid) == Some(self.start)
    }

    /// The name of this owner's staging dir.
    pub fn tag(&self) -> String {
        format!("{}-{}", self.pid, self.start)
    }

    fn from_tag(tag: &str) -> Option<Owner> {
        let (pid, start) = tag.split_once('-')?;
        Some(Owner {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }
}

/// Start time of a process in clock ticks since boot, or `None` if it does not exist.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    // `rest` starts at field 3 (state); starttime is field 22.
    rest.split(' ').nth(22 - 3)?.parse().ok()
}

/// A journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Object kind: `layer`, `blob`, `container`, `volume`...
    pub kind: String,
    /// Object key within its kind (cache ID, digest, volume name...).
    pub key: String,
    /// The process that wrote the entry.
    pub owner: Owner,
}

/// Records that this process starts changing the files of (`kind`, `key`).
pub fn begin(conn: &Connection, kind: &str, key: &str) -> Result<(), MetaError> {
    let owner = Owner::current();
    conn.prepare_cached(
        "INSERT INTO journal(kind, key, owner_pid, owner_start, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(kind, key) DO UPDATE SET owner_pid = excluded.owner_pid,
             owner_start = excluded.owner_start, created_at = excluded.created_at",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            kind,
            key,
            owner.pid,
            owner.start as i64,
            now_rfc3339()
        ])
    })
    .map_err(|e| MetaError::from_sqlite(format!("journal {kind} {key}"), e))?;
    Ok(())
}

/// Records that the change of (`kind`, `key`) is complete.
pub fn end(conn: &Connection, kind: &str, key: &str) -> Result<(), MetaError> {
    conn.prepare_cached("DELETE FROM journal WHERE kind = ?1 AND key = ?2")
        .and_then(|mut stmt| stmt.execute(params![kind, key]))
        .map_err(|e| MetaError::from_sqlite(format!("journal {kind} {key}"), e))?;
    Ok(())
}

/// Whether another live process owns entry (`kind`, `key`): it is changing that object's files
/// right now (a removal, a creation), so a change of this process must wait for it.
pub fn busy(conn: &Connection, kind: &str, key: &str) -> Result<bool, MetaError> {
    use rusqlite::OptionalExtension;
    let owner = conn
        .query_row(
            "SELECT owner_pid, owner_start FROM journal WHERE kind = ?1 AND key = ?2",
            params![kind, key],
            |r| {
                Ok(Owner {
                    pid: r.get(0)?,
                    start: r.get::<_, i64>(1)? as u64,
                })
            },
        )
        .optional()
        .map_err(|e| MetaError::from_sqlite(format!("journal {kind} {key}"), e))?;
    Ok(owner.is_some_and(|o| o != Owner::current() && o.is_alive()))
}

/// Entries of `kind` whose owner process is gone: their files need recovery.
pub fn abandoned(conn: &Connection, kind: &str) -> Result<Vec<Entry>, MetaError> {
    abandoned_rows(conn, kind).map_err(|e| MetaError::from_sqlite(format!("journal {kind}"), e))
}

fn abandoned_rows(conn: &Connection, kind: &str) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt =
        conn.prepare_cached("SELECT key, owner_pid, owner_start FROM journal WHERE kind = ?1")?;
    let rows = stmt.query_map([kind], |r| {
        Ok(Entry {
            kind: kind.to_string(),
            key: r.get(0)?,
            owner: Owner {
                pid: r.get(1)?,
                start: r.get::<_, i64>(2)? as u64,
            },
        })
    })?;
    let mut out = Vec::new();
    for e in rows {
        let e = e?;
        if !e.owner.is_alive() {
            log::debug!(
                "recovering {kind} {}: left half done by process {}, which is gone",
                e.key,
                e.owner.pid
            );
            out.push(e);
        }
    }
    Ok(out)
}

/// This process's staging dir under `<root>/tmp`, created on first use and removed on drop.
/// Everything is built here and renamed into place, so a crash leaves garbage only here.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    created: bool,
}

impl Staging {
    /// The staging dir of this process under `tmp_root` (not created yet).
    pub fn new(tmp_root: &Path) -> Staging {
        Staging {
            dir: tmp_root.join(Owner::current().tag()),
            created: false,
        }
    }

    /// A fresh path inside the staging dir (the dir is created if needed; the path is not).
    pub fn path(&mut self, prefix: &str) -> std::io::Result<PathBuf> {
        Ok(self
            .dir()?
            .join(format!("{prefix}-{}", crate::fsutil::random_hex(8))))
    }

    /// The staging dir itself, created if needed. Names in it other than [`Staging::path`]'s
    /// (`<prefix>-<8 hex digits>`) are the caller's to keep apart.
    pub fn dir(&mut self) -> std::io::Result<&Path> {
        if !self.created {
            std::fs::create_dir_all(&self.dir)?;
            self.created = true;
        }
        Ok(&self.dir)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.created {
            let _ = crate::fsutil::remove_tree(&self.dir);
        }
    }
}

/// Removes staging dirs under `tmp_root` whose owner process is gone.
pub fn recover_staging(tmp_root: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(tmp_root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let alive = name
            .to_str()
            .and_then(Owner::from_tag)
            .map(|o| o.is_alive())
            .unwrap_or(false);
        if !alive {
            log::debug!("removing abandoned staging dir {}", entry.path().display());
            crate::fsutil::remove_tree(&entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn current_process_is_alive_and_a_dead_one_is_not() {
        let me = Owner::current();
        assert!(me.is_alive());
        assert!(!Owner {
            pid: me.pid,
            start: me.start + 1
        }
        .is_alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = process_start(pid);
        child.wait().unwrap();
        assert!(!Owner {
            pid,
            start: start.unwrap_or(1)
        }
        .is_alive());
    }

    #[test]
    fn entries_of_dead_owners_are_abandoned() {
        let t = tempfile::tempdir().unwrap();
        let db = Db::open(&t.path().join("berth.db")).unwrap();
        begin(db.conn(), "layer", "live").unwrap();
        db.conn()
            .execute(
                "INSERT INTO journal VALUES ('layer', 'dead', 999999999, 1, 'x')",
                [],
            )
            .unwrap();
        let a = abandoned(db.conn(), "layer").unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].key, "dead");
        end(db.conn(), "layer", "dead").unwrap();
        assert!(abandoned(db.conn(), "layer").unwrap().is_empty());
    }

    #[test]
    fn staging_of_dead_owners_is_removed_live_kept() {
        let t = tempfile::tempdir().unwrap();
        let mut mine = Staging::new(t.path());
        let p = mine.path("x").unwrap();
        std::fs::write(&p, b"1").unwrap();
        std::fs::create_dir(t.path().join("999999999-5")).unwrap();
        std::fs::create_dir(t.path().join("garbage")).unwrap();
        assert_eq!(recover_staging(t.path()).unwrap(), 2);
        assert!(p.exists());
        drop(mine);
        assert!(!t.path().join(Owner::current().tag()).exists());
    }
}
