//! [`ExecRecord`]: one row of the `execs` table, an exec instance of a container. The engine
//! creates it (`docker exec` / `POST /containers/{id}/exec`), claims it once to start it
//! ([`claim_start`]), and the process that waits for the exec'd process records its pid and
//! exit ([`set_running`], [`set_exited`]). Rows go with their container (`ON DELETE CASCADE`).
//!
//! The request itself is opaque here (`config`, the engine's JSON), like a container's config.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::MetaError;

/// One exec instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRecord {
    /// 64-hex ID.
    pub id: String,
    /// The container it runs in.
    pub container_id: String,
    /// The request (the engine's JSON).
    pub config: String,
    /// Where it is in its life.
    pub state: ExecState,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

/// Where an exec instance is in its life: created, started (not yet running), running, exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecState {
    /// Created, never started.
    Created,
    /// Claimed by a start; the process is being started.
    Starting,
    /// Its process runs with this host pid.
    Running {
        /// Host pid.
        pid: i64,
    },
    /// It ended: its exit code (126/127 when it could not start), and the pid it had.
    Exited {
        /// Exit code.
        code: i32,
        /// Host pid it had (0 if it never ran).
        pid: i64,
    },
}

impl ExecState {
    /// Docker's `Running`.
    pub fn running(self) -> bool {
        matches!(self, ExecState::Starting | ExecState::Running { .. })
    }

    /// Docker's `ExitCode` (`null` until it ended).
    pub fn exit_code(self) -> Option<i32> {
        match self {
            ExecState::Exited { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Docker's `Pid` (0 before it runs).
    pub fn pid(self) -> i64 {
        match self {
            ExecState::Running { pid } | ExecState::Exited { pid, .. } => pid,
            _ => 0,
        }
    }
}

const COLUMNS: &str = "id, container_id, config, started, running, exit_code, pid, created_at";

fn row(r: &Row<'_>) -> rusqlite::Result<ExecRecord> {
    let started: bool = r.get(3)?;
    let running: bool = r.get(4)?;
    let exit_code: Option<i32> = r.get(5)?;
    let pid: i64 = r.get(6)?;
    let state = match (started, running, exit_code) {
        (_, _, Some(code)) => ExecState::Exited { code, pid },
        (_, true, None) => ExecState::Running { pid },
        (true, false, None) => ExecState::Starting,
        (false, false, None) => ExecState::Created,
    };
    Ok(ExecRecord {
        id: r.get(0)?,
        container_id: r.get(1)?,
        config: r.get(2)?,
        state,
        created_at: r.get(7)?,
    })
}

fn what(id: &str) -> String {
    format!("exec {id}")
}

/// Records a new exec instance of its container; [`MetaError::Reference`] if the container is
/// gone.
pub fn insert(conn: &Connection, e: &ExecRecord) -> Result<(), MetaError> {
    conn.execute(
        "INSERT INTO execs (id, container_id, config, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![e.id, e.container_id, e.config, e.created_at],
    )
    .map_err(|err| MetaError::from_sqlite(what(&e.id), err))?;
    Ok(())
}

/// The exec instance `id`, if it exists.
pub fn get(conn: &Connection, id: &str) -> Result<Option<ExecRecord>, MetaError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM execs WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
    .map_err(|err| MetaError::from_sqlite(what(id), err))
}

/// The IDs of container `container_id`'s exec instances that run (Docker's `ExecIDs`), oldest
/// first.
pub fn running_ids(conn: &Connection, container_id: &str) -> Result<Vec<String>, MetaError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM execs WHERE container_id = ?1 AND started = 1
             AND exit_code IS NULL ORDER BY created_at, id",
        )
        .map_err(|err| MetaError::from_sqlite("execs", err))?;
    let ids = stmt
        .query_map([container_id], |r| r.get(0))
        .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
        .map_err(|err| MetaError::from_sqlite("execs", err))?;
    Ok(ids)
}

/// Marks `id` started, once: `Ok(None)` if it does not exist, `Ok(Some(record as it was))` if it
/// had been started already (by this or another process), else the record, now
/// [`ExecState::Starting`].
pub fn claim_start(conn: &Connection, id: &str) -> Result<Claim, MetaError> {
    let Some(before) = get(conn, id)? else {
        return Ok(Claim::Missing);
    };
    let n = conn
        .execute(
            "UPDATE execs SET started = 1 WHERE id = ?1 AND started = 0",
            [id],
        )
        .map_err(|err| MetaError::from_sqlite(what(id), err))?;
    if n == 0 {
        return Ok(Claim::AlreadyStarted(before));
    }
    Ok(Claim::Claimed(ExecRecord {
        state: ExecState::Starting,
        ..before
    }))
}

/// What [`claim_start`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller now owns the start.
    Claimed(ExecRecord),
    /// Someone started it before (the record as it is).
    AlreadyStarted(ExecRecord),
    /// No such exec instance.
    Missing,
}

/// Records that `id`'s process runs with host pid `pid`.
pub fn set_running(conn: &Connection, id: &str, pid: i64) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE execs SET started = 1, running = 1, pid = ?2 WHERE id = ?1 AND exit_code IS NULL",
        params![id, pid],
    )
    .map_err(|err| MetaError::from_sqlite(what(id), err))?;
    Ok(())
}

/// Records how `id`'s process ended: its exit code, and `error`, why it could not start (`""`
/// when it ran).
pub fn set_exited(conn: &Connection, id: &str, code: i32, error: &str) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE execs SET started = 1, running = 0, exit_code = ?2, error = ?3 WHERE id = ?1",
        params![id, code, error],
    )
    .map_err(|err| MetaError::from_sqlite(what(id), err))?;
    Ok(())
}

/// The instances that started and have not ended (starting or running), of container
/// `container_id` or of every container, oldest first.
pub fn unfinished(
    conn: &Connection,
    container_id: Option<&str>,
) -> Result<Vec<ExecRecord>, MetaError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM execs WHERE started = 1 AND exit_code IS NULL
             AND (?1 IS NULL OR container_id = ?1) ORDER BY created_at, id"
        ))
        .map_err(|err| MetaError::from_sqlite("execs", err))?;
    let records = stmt
        .query_map([container_id], row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|err| MetaError::from_sqlite("execs", err))?;
    Ok(records)
}

/// Records that `id`'s process ended with `code` unless an exit is recorded already (the
/// process that waited for it knows better); returns whether this call recorded it.
pub fn end_unfinished(conn: &Connection, id: &str, code: i32) -> Result<bool, MetaError> {
    let n = conn
        .execute(
            "UPDATE execs SET started = 1, running = 0, exit_code = ?2, error = ''
             WHERE id = ?1 AND exit_code IS NULL",
            params![id, code],
        )
        .map_err(|err| MetaError::from_sqlite(what(id), err))?;
    Ok(n == 1)
}

/// Why `id`'s process could not start (`""` if it ran, or runs).
pub fn error_of(conn: &Connection, id: &str) -> Result<String, MetaError> {
    conn.query_row("SELECT error FROM execs WHERE id = ?1", [id], |r| r.get(0))
        .optional()
        .map_err(|err| MetaError::from_sqlite(what(id), err))?
        .ok_or_else(|| MetaError::Missing(what(id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn db_with_container() -> (tempfile::TempDir, Db) {
        let t = tempfile::tempdir().unwrap();
        let db = Db::open(&t.path().join("berth.db")).unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO containers (id, name, image_id, image_ref, config, host_config,
                                         status, created_at)
                 VALUES ('c1', 'web', 'i', 'x', '{}', '{}', 'running', 't')",
            )
            .unwrap();
        (t, db)
    }

    fn record(id: &str, container: &str) -> ExecRecord {
        ExecRecord {
            id: id.into(),
            container_id: container.into(),
            config: r#"{"Cmd":["true"]}"#.into(),
            state: ExecState::Created,
            created_at: "t".into(),
        }
    }

    #[test]
    fn an_exec_goes_from_created_to_exited_and_starts_once() {
        let (_t, db) = db_with_container();
        let c = db.conn();
        insert(c, &record("e1", "c1")).unwrap();
        assert_eq!(get(c, "e1").unwrap().unwrap().state, ExecState::Created);
        assert!(running_ids(c, "c1").unwrap().is_empty());
        let Claim::Claimed(r) = claim_start(c, "e1").unwrap() else {
            panic!("first claim wins")
        };
        assert_eq!(r.state, ExecState::Starting);
        assert!(r.state.running());
        assert!(matches!(
            claim_start(c, "e1").unwrap(),
            Claim::AlreadyStarted(_)
        ));
        assert_eq!(claim_start(c, "nosuch").unwrap(), Claim::Missing);
        set_running(c, "e1", 4242).unwrap();
        assert_eq!(running_ids(c, "c1").unwrap(), ["e1"]);
        let s = get(c, "e1").unwrap().unwrap().state;
        assert_eq!((s.running(), s.pid(), s.exit_code()), (true, 4242, None));
        set_exited(c, "e1", 3, "").unwrap();
        assert_eq!(error_of(c, "e1").unwrap(), "");
        let s = get(c, "e1").unwrap().unwrap().state;
        assert_eq!(
            (s.running(), s.pid(), s.exit_code()),
            (false, 4242, Some(3))
        );
        assert!(running_ids(c, "c1").unwrap().is_empty());
        // A late "running" (the recorder raced the exit) does not resurrect it.
        set_running(c, "e1", 4242).unwrap();
        assert_eq!(get(c, "e1").unwrap().unwrap().state.exit_code(), Some(3));
    }

    #[test]
    fn unfinished_instances_can_be_ended_once_without_overwriting_a_real_exit() {
        let (_t, db) = db_with_container();
        let c = db.conn();
        for id in ["created", "starting", "running", "done"] {
            insert(c, &record(id, "c1")).unwrap();
        }
        claim_start(c, "starting").unwrap();
        claim_start(c, "running").unwrap();
        set_running(c, "running", 7).unwrap();
        set_exited(c, "done", 0, "").unwrap();
        let ids = |v: Vec<ExecRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(unfinished(c, Some("c1")).unwrap()),
            ["running", "starting"]
        );
        assert_eq!(ids(unfinished(c, None).unwrap()).len(), 2);
        assert!(unfinished(c, Some("c2")).unwrap().is_empty());
        assert!(end_unfinished(c, "running", 255).unwrap());
        assert!(!end_unfinished(c, "running", 1).unwrap());
        assert!(!end_unfinished(c, "done", 255).unwrap());
        let s = get(c, "running").unwrap().unwrap().state;
        assert_eq!(s, ExecState::Exited { code: 255, pid: 7 });
        assert_eq!(get(c, "done").unwrap().unwrap().state.exit_code(), Some(0));
        assert_eq!(ids(unfinished(c, None).unwrap()), ["starting"]);
    }

    #[test]
    fn constraint_violations_are_classified() {
        let (_t, db) = db_with_container();
        let c = db.conn();
        insert(c, &record("e1", "c1")).unwrap();
        let dup = insert(c, &record("e1", "c1")).unwrap_err();
        assert!(matches!(dup, MetaError::Exists(_)), "{dup:?}");
        assert_eq!(dup.kind(), crate::ErrorKind::Conflict);
        let orphan = insert(c, &record("e2", "nosuch")).unwrap_err();
        assert!(matches!(orphan, MetaError::Reference(_)), "{orphan:?}");
        // Execs go with their container.
        c.execute("DELETE FROM containers WHERE id = 'c1'", [])
            .unwrap();
        assert_eq!(get(c, "e1").unwrap(), None);
    }
}
