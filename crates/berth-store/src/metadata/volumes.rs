//! [`VolumeRow`]: one row of the `volumes` table, and the `container_volumes` references that
//! make a volume "in use". The volume store (berth-volume) owns the files and the rules; this
//! module owns the SQL. Labels and options are JSON objects or NULL (Docker tells `null` from
//! `{}`).

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::MetaError;

/// One volume, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRow {
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
}

const COLUMNS: &str = "name, driver, labels, options, anonymous, created_at";

fn json_map(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<BTreeMap<String, String>>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

fn row(r: &Row<'_>) -> rusqlite::Result<VolumeRow> {
    Ok(VolumeRow {
        name: r.get(0)?,
        driver: r.get(1)?,
        labels: json_map(r, 2)?,
        options: json_map(r, 3)?,
        anonymous: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn what(name: &str) -> String {
    format!("volume {name}")
}

fn to_json(map: &Option<BTreeMap<String, String>>) -> Option<String> {
    map.as_ref()
        .map(|m| serde_json::to_string(m).expect("string maps serialize"))
}

/// The volume called `name`, if any.
pub fn get(conn: &Connection, name: &str) -> Result<Option<VolumeRow>, MetaError> {
    // Cached: `volume rm` of many names looks each one up (twice).
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM volumes WHERE name = ?1"))
        .and_then(|mut stmt| stmt.query_row([name], row).optional())
        .map_err(|e| MetaError::from_sqlite(what(name), e))
}

/// The driver of the volume called `name`, if there is one: what `volume rm` of many names
/// needs of each (a plugin's volume goes through its plugin; the event names the driver),
/// without decoding its labels and options.
pub fn driver(conn: &Connection, name: &str) -> Result<Option<String>, MetaError> {
    conn.prepare_cached("SELECT driver FROM volumes WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([name], |r| r.get(0)).optional())
        .map_err(|e| MetaError::from_sqlite(what(name), e))
}

/// Every volume, sorted by name.
pub fn list(conn: &Connection) -> Result<Vec<VolumeRow>, MetaError> {
    let mut rows = Vec::new();
    for_each(conn, |r| -> Result<(), MetaError> {
        rows.push(r);
        Ok(())
    })?;
    Ok(rows)
}

/// Calls `f` with every volume, sorted by name, one row at a time (a listing of 100,000
/// volumes keeps only what `f` keeps).
pub fn for_each<E: From<MetaError>>(
    conn: &Connection,
    mut f: impl FnMut(VolumeRow) -> Result<(), E>,
) -> Result<(), E> {
    let all = |e| MetaError::from_sqlite("volumes", e);
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM volumes ORDER BY name"))
        .map_err(all)?;
    let mut rows = stmt.query([]).map_err(all)?;
    while let Some(r) = rows.next().map_err(all)? {
        f(row(r).map_err(all)?)?;
    }
    Ok(())
}

/// Calls `f` with the name of every volume without driver options (options NULL or `{}`),
/// sorted by name, decoding nothing else: the first pass of `system df -v`'s table, which only
/// needs the names' widths.
pub fn for_each_name_without_options<E: From<MetaError>>(
    conn: &Connection,
    mut f: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let all = |e| MetaError::from_sqlite("volumes", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT name FROM volumes WHERE options IS NULL OR options = '{}' ORDER BY name",
        )
        .map_err(all)?;
    let mut rows = stmt.query([]).map_err(all)?;
    while let Some(r) = rows.next().map_err(all)? {
        let name = r.get_ref(0).and_then(|v| Ok(v.as_str()?)).map_err(all)?;
        f(name)?;
    }
    Ok(())
}

/// Records `v` unless a volume of that name exists; returns whether it was inserted (two
/// processes creating one name: the first commit wins).
pub fn insert_if_absent(conn: &Connection, v: &VolumeRow) -> Result<bool, MetaError> {
    let n = conn
        .execute(
            "INSERT OR IGNORE INTO volumes(name, driver, labels, options, anonymous, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                v.name,
                v.driver,
                to_json(&v.labels),
                to_json(&v.options),
                v.anonymous,
                v.created_at
            ],
        )
        .map_err(|e| MetaError::from_sqlite(what(&v.name), e))?;
    Ok(n > 0)
}

/// Records `v`; [`MetaError::Exists`] if the name is taken.
pub fn insert(conn: &Connection, v: &VolumeRow) -> Result<(), MetaError> {
    if insert_if_absent(conn, v)? {
        Ok(())
    } else {
        Err(MetaError::Exists(what(&v.name)))
    }
}

/// Deletes the row of volume `name`; returns whether there was one. A volume still referenced
/// by a container cannot go ([`MetaError::Reference`]).
pub fn delete(conn: &Connection, name: &str) -> Result<bool, MetaError> {
    let n = conn
        .prepare_cached("DELETE FROM volumes WHERE name = ?1")
        .and_then(|mut stmt| stmt.execute([name]))
        .map_err(|e| MetaError::from_sqlite(what(name), e))?;
    Ok(n > 0)
}

/// Renames volume `old` to `new` (a free name); [`MetaError::Missing`] if `old` does not exist.
pub fn rename(conn: &Connection, old: &str, new: &str) -> Result<(), MetaError> {
    let n = conn
        .execute("UPDATE volumes SET name = ?2 WHERE name = ?1", [old, new])
        .map_err(|e| MetaError::from_sqlite(what(new), e))?;
    if n == 0 {
        return Err(MetaError::Missing(what(old)));
    }
    Ok(())
}

/// IDs of the containers referencing volume `name` (any state), oldest reference first.
///
/// The rows come in rowid order straight from the `volume` index (its entries end with the
/// rowid); a container named twice is kept at its first reference here, in Rust: SQLite's
/// `DISTINCT` built and cleared a temporary table at every call, even for a volume nothing
/// references, which was most of a `volume rm`'s cost per name.
pub fn users(conn: &Connection, name: &str) -> Result<Vec<String>, MetaError> {
    let err = |e| MetaError::from_sqlite(what(name), e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT container_id FROM container_volumes WHERE volume = ?1 ORDER BY rowid",
        )
        .map_err(err)?;
    let mut ids: Vec<String> = Vec::new();
    let mut rows = stmt.query([name]).map_err(err)?;
    while let Some(row) = rows.next().map_err(err)? {
        let id: String = row.get(0).map_err(err)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Number of containers referencing each referenced volume.
pub fn ref_counts(conn: &Connection) -> Result<BTreeMap<String, usize>, MetaError> {
    let err = |e| MetaError::from_sqlite("container_volumes", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT volume, COUNT(DISTINCT container_id) FROM container_volumes GROUP BY volume",
        )
        .map_err(err)?;
    let counts = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
        })
        .and_then(|rows| rows.collect::<Result<BTreeMap<_, _>, _>>())
        .map_err(err)?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn vol(name: &str) -> VolumeRow {
        VolumeRow {
            name: name.into(),
            driver: "local".into(),
            labels: Some(BTreeMap::from([("a".to_string(), "1".to_string())])),
            options: None,
            anonymous: false,
            created_at: "t".into(),
        }
    }

    #[test]
    fn volumes_round_trip_and_references_decide_in_use() {
        let t = tempfile::tempdir().unwrap();
        let db = Db::open(&t.path().join("berth.db")).unwrap();
        let c = db.conn();
        assert!(insert_if_absent(c, &vol("v1")).unwrap());
        assert!(!insert_if_absent(c, &vol("v1")).unwrap());
        assert!(matches!(insert(c, &vol("v1")), Err(MetaError::Exists(_))));
        insert(c, &vol("v0")).unwrap();
        assert_eq!(get(c, "v1").unwrap(), Some(vol("v1")));
        let names: Vec<String> = list(c).unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(names, ["v0", "v1"]);
        c.execute_batch(
            "INSERT INTO containers (id, name, image_id, image_ref, config, host_config,
                                     status, created_at)
             VALUES ('c1', 'web', 'i', 'x', '{}', '{}', 'created', 't');
             INSERT INTO container_volumes VALUES ('c1', 'v1', '/d', 0);",
        )
        .unwrap();
        assert_eq!(users(c, "v1").unwrap(), ["c1"]);
        assert_eq!(
            ref_counts(c).unwrap(),
            BTreeMap::from([("v1".to_string(), 1)])
        );
        assert!(matches!(delete(c, "v1"), Err(MetaError::Reference(_))));
        assert!(delete(c, "v0").unwrap());
        assert!(!delete(c, "v0").unwrap());
        rename(c, "v1", "v2").unwrap_err();
        c.execute("DELETE FROM containers", []).unwrap();
        rename(c, "v1", "v2").unwrap();
        assert!(matches!(rename(c, "v1", "v3"), Err(MetaError::Missing(_))));
        assert_eq!(get(c, "v2").unwrap().unwrap().labels, vol("v1").labels);
    }
}
