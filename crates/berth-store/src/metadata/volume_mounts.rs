//! [`VolumeMountRow`]: one plugin volume mounted for a container — the caller ID berth sent with
//! `VolumeDriver.Mount`, which `Unmount` must repeat. The volume store (berth-volume) decides
//! when to mount and unmount; this module owns the SQL. Rows have no foreign keys: a row whose
//! container is gone (a crash between a container's removal and its unmounts) stays until the
//! repair pass unmounts it.

use rusqlite::{params, Connection, Row};

use super::MetaError;

/// One mount of a plugin volume, as recorded before the plugin was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMountRow {
    /// The caller ID sent to the plugin (64 hex digits, random per mount point and start).
    pub id: String,
    /// The volume's name.
    pub volume: String,
    /// The plugin serving it.
    pub driver: String,
    /// The container it is mounted for.
    pub container_id: String,
    /// Where in the container.
    pub destination: String,
    /// When (RFC 3339).
    pub created_at: String,
}

const COLUMNS: &str = "id, volume, driver, container_id, destination, created_at";

fn row(r: &Row<'_>) -> rusqlite::Result<VolumeMountRow> {
    Ok(VolumeMountRow {
        id: r.get(0)?,
        volume: r.get(1)?,
        driver: r.get(2)?,
        container_id: r.get(3)?,
        destination: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn select(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<VolumeMountRow>, MetaError> {
    let err = |e| MetaError::from_sqlite("volume_mounts", e);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM volume_mounts {filter} ORDER BY rowid"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map(args, row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(err)?;
    Ok(rows)
}

/// Records a mount about to be asked for.
pub fn insert(conn: &Connection, m: &VolumeMountRow) -> Result<(), MetaError> {
    conn.execute(
        &format!("INSERT INTO volume_mounts({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            m.id,
            m.volume,
            m.driver,
            m.container_id,
            m.destination,
            m.created_at
        ],
    )
    .map_err(|e| MetaError::from_sqlite(format!("volume mount {}", m.id), e))?;
    Ok(())
}

/// Deletes mount `id`; returns whether it was there (of two processes releasing one mount,
/// only the one that deleted the row unmounts it).
pub fn delete(conn: &Connection, id: &str) -> Result<bool, MetaError> {
    let n = conn
        .execute("DELETE FROM volume_mounts WHERE id = ?1", [id])
        .map_err(|e| MetaError::from_sqlite(format!("volume mount {id}"), e))?;
    Ok(n > 0)
}

/// The mounts of container `id`, oldest first.
pub fn of_container(conn: &Connection, id: &str) -> Result<Vec<VolumeMountRow>, MetaError> {
    select(conn, "WHERE container_id = ?1", [id])
}

/// Mounts whose container no longer exists.
pub fn orphaned(conn: &Connection) -> Result<Vec<VolumeMountRow>, MetaError> {
    select(
        conn,
        "WHERE NOT EXISTS (SELECT 1 FROM containers c WHERE c.id = volume_mounts.container_id)",
        [],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn mount(id: &str, container: &str) -> VolumeMountRow {
        VolumeMountRow {
            id: id.into(),
            volume: "v".into(),
            driver: "tp".into(),
            container_id: container.into(),
            destination: "/d".into(),
            created_at: "t".into(),
        }
    }

    #[test]
    fn mounts_by_container_and_orphans() {
        let t = tempfile::tempdir().unwrap();
        let db = Db::open(&t.path().join("berth.db")).unwrap();
        let c = db.conn();
        c.execute_batch(
            "INSERT INTO containers (id, name, image_id, image_ref, config, host_config,
                                     status, created_at)
             VALUES ('c1', 'web', 'i', 'x', '{}', '{}', 'running', 't');",
        )
        .unwrap();
        insert(c, &mount("m1", "c1")).unwrap();
        insert(c, &mount("m2", "c1")).unwrap();
        insert(c, &mount("m3", "gone")).unwrap();
        assert!(insert(c, &mount("m1", "c1")).is_err());
        assert_eq!(
            of_container(c, "c1").unwrap(),
            [mount("m1", "c1"), mount("m2", "c1")]
        );
        assert_eq!(orphaned(c).unwrap(), [mount("m3", "gone")]);
        assert!(delete(c, "m3").unwrap());
        assert!(!delete(c, "m3").unwrap());
        assert!(orphaned(c).unwrap().is_empty());
    }
}
