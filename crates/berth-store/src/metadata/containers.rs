//! [`ContainerRow`]: one row of the `containers` table, with the `container_volumes`
//! references written with it. The engine owns what the columns mean (its config types are
//! JSON here, its lifecycle words plain strings); this module owns the SQL and classifies its
//! failures: a taken name or ID is [`MetaError::Exists`], a volume removed meanwhile
//! [`MetaError::Reference`].

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::MetaError;

/// One container, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRow {
    /// 64-hex ID.
    pub id: String,
    /// Name without the leading `/` (unique).
    pub name: String,
    /// Image ID it was created from.
    pub image_id: String,
    /// The image as the user named it.
    pub image_ref: String,
    /// Chain ID of the image's top layer (keeps the layers alive).
    pub top_layer: Option<String>,
    /// Config, JSON.
    pub config: String,
    /// Host config, JSON.
    pub host_config: String,
    /// Resolved mounts, JSON.
    pub mounts: String,
    /// Lifecycle state.
    pub state: StateRow,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Restarts by its restart policy so far.
    pub restart_count: i64,
    /// Driver ID of its init layer (see [`crate::schema`], v11).
    pub init_layer: String,
}

/// The state columns of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    /// Docker's status word (`created`, `running`...).
    pub status: String,
    /// Host pid of its init process while running.
    pub pid: i64,
    /// Last exit code.
    pub exit_code: i32,
    /// Why the last start failed.
    pub error: String,
    /// Killed by the OOM killer.
    pub oom_killed: bool,
    /// Last start (RFC 3339).
    pub started_at: String,
    /// Last exit (RFC 3339).
    pub finished_at: String,
}

/// A named volume a container mounts (`container_volumes`), which makes the volume "in use".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRef {
    /// Volume name.
    pub volume: String,
    /// Mount destination in the container.
    pub destination: String,
    /// Whether the volume is anonymous.
    pub anonymous: bool,
}

const COLUMNS: &str = "id, name, image_id, image_ref, top_layer, config, host_config, mounts, \
    status, pid, exit_code, error, oom_killed, created_at, started_at, finished_at, restart_count, \
    init_layer";

fn row(r: &Row<'_>) -> rusqlite::Result<ContainerRow> {
    Ok(ContainerRow {
        id: r.get(0)?,
        name: r.get(1)?,
        image_id: r.get(2)?,
        image_ref: r.get(3)?,
        top_layer: r.get(4)?,
        config: r.get(5)?,
        host_config: r.get(6)?,
        mounts: r.get(7)?,
        state: StateRow {
            status: r.get(8)?,
            pid: r.get(9)?,
            exit_code: r.get(10)?,
            error: r.get(11)?,
            oom_killed: r.get(12)?,
            started_at: r.get(14)?,
            finished_at: r.get(15)?,
        },
        created_at: r.get(13)?,
        restart_count: r.get(16)?,
        init_layer: r.get(17)?,
    })
}

fn what(id: &str) -> String {
    format!("container {id}")
}

fn one(conn: &Connection, filter: &str, key: &str) -> Result<Option<ContainerRow>, MetaError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM containers WHERE {filter} = ?1"),
        [key],
        row,
    )
    .optional()
    .map_err(|e| MetaError::from_sqlite(what(key), e))
}

/// The container with ID `id`.
pub fn get(conn: &Connection, id: &str) -> Result<Option<ContainerRow>, MetaError> {
    one(conn, "id", id)
}

/// The container called `name` (no leading `/`).
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<ContainerRow>, MetaError> {
    one(conn, "name", name)
}

/// Up to `limit` containers whose ID starts with `prefix`.
pub fn by_id_prefix(
    conn: &Connection,
    prefix: &str,
    limit: usize,
) -> Result<Vec<ContainerRow>, MetaError> {
    let err = |e| MetaError::from_sqlite(what(prefix), e);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM containers WHERE id >= ?1 AND id < ?2 LIMIT ?3"
        ))
        .map_err(err)?;
    let hi = format!("{prefix}\u{7f}");
    let rows = stmt
        .query_map(params![prefix, hi, limit as i64], row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(err)?;
    Ok(rows)
}

/// Every container, newest first.
pub fn list(conn: &Connection) -> Result<Vec<ContainerRow>, MetaError> {
    let err = |e| MetaError::from_sqlite("containers", e);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM containers ORDER BY created_at DESC, id"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map([], row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(err)?;
    Ok(rows)
}

/// Records container `c` and the volumes it mounts. [`MetaError::Exists`] if its name (or ID)
/// is taken, [`MetaError::Reference`] if one of the volumes is gone.
pub fn insert(conn: &Connection, c: &ContainerRow, volumes: &[VolumeRef]) -> Result<(), MetaError> {
    conn.execute(
        "INSERT INTO containers(id, name, image_id, image_ref, top_layer, config, host_config,
             mounts, status, created_at, init_layer)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            c.id,
            c.name,
            c.image_id,
            c.image_ref,
            c.top_layer,
            c.config,
            c.host_config,
            c.mounts,
            c.state.status,
            c.created_at,
            c.init_layer
        ],
    )
    .map_err(|e| MetaError::from_sqlite(format!("container name {:?}", c.name), e))?;
    for v in volumes {
        conn.execute(
            "INSERT OR REPLACE INTO container_volumes(container_id, volume, destination, anonymous)
             VALUES (?1, ?2, ?3, ?4)",
            params![c.id, v.volume, v.destination, v.anonymous],
        )
        .map_err(|e| MetaError::from_sqlite(format!("volume {}", v.volume), e))?;
    }
    Ok(())
}

/// Writes container `id`'s state columns.
pub fn set_state(conn: &Connection, id: &str, s: &StateRow) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE containers SET status = ?2, pid = ?3, exit_code = ?4, error = ?5,
             oom_killed = ?6, started_at = ?7, finished_at = ?8 WHERE id = ?1",
        params![
            id,
            s.status,
            s.pid,
            s.exit_code,
            s.error,
            s.oom_killed,
            s.started_at,
            s.finished_at
        ],
    )
    .map_err(|e| MetaError::from_sqlite(what(id), e))?;
    Ok(())
}

/// Writes container `id`'s host config (JSON), which `update` changes.
pub fn set_host_config(conn: &Connection, id: &str, host_config: &str) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE containers SET host_config = ?2 WHERE id = ?1",
        [id, host_config],
    )
    .map_err(|e| MetaError::from_sqlite(what(id), e))?;
    Ok(())
}

/// Deletes container `id` unless its status is one of `active` (compare-and-set: a start that
/// won the race keeps it); returns whether it was deleted. Its volume references go with it.
pub fn delete_unless(conn: &Connection, id: &str, active: &[&str]) -> Result<bool, MetaError> {
    let list = active
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let n = conn
        .execute(
            &format!("DELETE FROM containers WHERE id = ?1 AND status NOT IN ({list})"),
            [id],
        )
        .map_err(|e| MetaError::from_sqlite(what(id), e))?;
    Ok(n > 0)
}

/// Renames container `id`; [`MetaError::Exists`] if `new` is taken.
pub fn rename(conn: &Connection, id: &str, new: &str) -> Result<(), MetaError> {
    conn.execute("UPDATE containers SET name = ?2 WHERE id = ?1", [id, new])
        .map_err(|e| MetaError::from_sqlite(format!("container name {new:?}"), e))?;
    Ok(())
}

/// Container `id`'s health (`State.Health`, the engine's JSON); `None` without a health check
/// or before its first probe.
pub fn health(conn: &Connection, id: &str) -> Result<Option<String>, MetaError> {
    use rusqlite::OptionalExtension;
    let found: Option<Option<String>> = conn
        .query_row("SELECT health FROM containers WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| MetaError::from_sqlite(what(id), e))?;
    Ok(found.flatten())
}

/// Writes container `id`'s health (`None` clears it).
pub fn set_health(conn: &Connection, id: &str, health: Option<&str>) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE containers SET health = ?2 WHERE id = ?1",
        params![id, health],
    )
    .map_err(|e| MetaError::from_sqlite(what(id), e))?;
    Ok(())
}

/// Counts one more restart by container `id`'s restart policy.
pub fn count_restart(conn: &Connection, id: &str) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE containers SET restart_count = restart_count + 1 WHERE id = ?1",
        [id],
    )
    .map_err(|e| MetaError::from_sqlite(what(id), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn container(id: &str, name: &str) -> ContainerRow {
        ContainerRow {
            id: id.into(),
            name: name.into(),
            image_id: "sha256:i".into(),
            image_ref: "busybox".into(),
            top_layer: None,
            config: "{}".into(),
            host_config: "{}".into(),
            mounts: "[]".into(),
            state: StateRow {
                status: "created".into(),
                pid: 0,
                exit_code: 0,
                error: String::new(),
                oom_killed: false,
                started_at: "0001-01-01T00:00:00Z".into(),
                finished_at: "0001-01-01T00:00:00Z".into(),
            },
            created_at: "t1".into(),
            restart_count: 0,
            init_layer: format!("{id}-init"),
        }
    }

    #[test]
    fn containers_round_trip_and_constraints_are_classified() {
        let t = tempfile::tempdir().unwrap();
        let mut db = Db::open(&t.path().join("berth.db")).unwrap();
        insert(db.conn(), &container("abc1", "web"), &[]).unwrap();
        let taken = insert(db.conn(), &container("abc2", "web"), &[]).unwrap_err();
        assert!(matches!(taken, MetaError::Exists(_)), "{taken:?}");
        let gone = VolumeRef {
            volume: "nosuch".into(),
            destination: "/d".into(),
            anonymous: false,
        };
        // In one transaction, as the engine writes it: the container row goes with the failure.
        let err = db
            .write(|tx| insert(tx, &container("abc3", "db"), std::slice::from_ref(&gone)))
            .unwrap_err();
        assert!(matches!(err, MetaError::Reference(_)), "{err:?}");
        let c = db.conn();
        insert(c, &container("abd4", "cache"), &[]).unwrap();
        assert_eq!(get(c, "abc1").unwrap(), Some(container("abc1", "web")));
        assert_eq!(by_name(c, "web").unwrap().unwrap().id, "abc1");
        assert_eq!(by_id_prefix(c, "ab", 2).unwrap().len(), 2);
        assert_eq!(by_id_prefix(c, "abd", 2).unwrap()[0].name, "cache");
        assert!(matches!(
            rename(c, "abd4", "web"),
            Err(MetaError::Exists(_))
        ));
        rename(c, "abd4", "redis").unwrap();
        let mut running = container("abc1", "web").state;
        running.status = "running".into();
        running.pid = 42;
        set_state(c, "abc1", &running).unwrap();
        count_restart(c, "abc1").unwrap();
        set_host_config(c, "abc1", r#"{"Memory":67108864}"#).unwrap();
        let now = get(c, "abc1").unwrap().unwrap();
        assert_eq!((now.state, now.restart_count), (running, 1));
        assert_eq!(now.host_config, r#"{"Memory":67108864}"#);
        assert!(!delete_unless(c, "abc1", &["running", "paused"]).unwrap());
        assert!(delete_unless(c, "abd4", &["running"]).unwrap());
        assert_eq!(list(c).unwrap().len(), 1);
    }
}
