//! [`lookup`], [`record`] and [`clear`] over the `build_cache` table: the image a build step made
//! on a parent, keyed by a digest of the parent's ID and the step's config (the builder computes
//! the key). A row goes with its image (`ON DELETE CASCADE`), so a removed image is never a hit.

use rusqlite::{params, Connection, OptionalExtension};

use super::MetaError;

/// The image recorded for `key`, if any.
pub fn lookup(conn: &Connection, key: &str) -> Result<Option<String>, MetaError> {
    conn.query_row(
        "SELECT image_id FROM build_cache WHERE key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()
    .map_err(|e| MetaError::from_sqlite(format!("build cache {key}"), e))
}

/// Records (or moves) `key` to `image_id`.
pub fn record(
    conn: &Connection,
    key: &str,
    image_id: &str,
    parent: &str,
    now: &str,
) -> Result<(), MetaError> {
    conn.execute(
        "INSERT INTO build_cache(key, image_id, parent, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id,
             parent = excluded.parent, created_at = excluded.created_at",
        params![key, image_id, parent, now],
    )
    .map_err(|e| MetaError::from_sqlite(format!("build cache {key}"), e))?;
    Ok(())
}

/// Removes the entries created before `until` (all with `None`); returns the images they named.
pub fn clear(conn: &Connection, until: Option<&str>) -> Result<Vec<String>, MetaError> {
    let what = "build cache";
    let mut stmt = conn
        .prepare("DELETE FROM build_cache WHERE ?1 IS NULL OR created_at < ?1 RETURNING image_id")
        .map_err(|e| MetaError::from_sqlite(what, e))?;
    let rows = stmt
        .query_map([until], |r| r.get::<_, String>(0))
        .map_err(|e| MetaError::from_sqlite(what, e))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(|e| MetaError::from_sqlite(what, e))?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_with_their_image() {
        let t = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&t.path().join("b.db")).unwrap();
        let c = db.conn();
        c.execute_batch(
            "INSERT INTO images VALUES ('sha256:i1', X'7B7D', NULL, 0, NULL, 't', 't');",
        )
        .unwrap();
        record(c, "k", "sha256:i1", "", "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(lookup(c, "k").unwrap().as_deref(), Some("sha256:i1"));
        assert!(matches!(
            record(c, "k2", "sha256:nope", "", "t"),
            Err(MetaError::Reference(_))
        ));
        c.execute("DELETE FROM images WHERE id = 'sha256:i1'", [])
            .unwrap();
        assert_eq!(lookup(c, "k").unwrap(), None);
        c.execute_batch(
            "INSERT INTO images VALUES ('sha256:i2', X'7B7D', NULL, 0, NULL, 't', 't');",
        )
        .unwrap();
        record(c, "a", "sha256:i2", "", "2026-01-01T00:00:00Z").unwrap();
        record(c, "b", "sha256:i2", "", "2026-03-01T00:00:00Z").unwrap();
        assert_eq!(
            clear(c, Some("2026-02-01T00:00:00Z")).unwrap(),
            ["sha256:i2"]
        );
        assert_eq!(lookup(c, "b").unwrap().as_deref(), Some("sha256:i2"));
        clear(c, None).unwrap();
        assert_eq!(lookup(c, "b").unwrap(), None);
    }
}
