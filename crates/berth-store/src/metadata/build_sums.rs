//! [`get`], [`put`] and [`clear`] over the `build_sums` table: what a build's COPY/ADD sources
//! hashed to, kept so the next build does not read them again. A row is either about an image
//! (`image_id` set: the sources of a `COPY --from` path, which cannot change; the row goes with
//! its image) or about a context directory (`image_id` NULL: its files' sums with the inode,
//! size and times they were hashed at, which the builder checks before it trusts one). The
//! values are the builder's own JSON; this module only keeps them.

use rusqlite::{params, Connection, OptionalExtension};

use super::MetaError;

/// Most rows kept; the oldest go first when a write passes it.
pub const MAX_ROWS: i64 = 10_000;

/// The value stored under `key`, if any.
pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, MetaError> {
    conn.query_row("SELECT value FROM build_sums WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
    .map_err(|e| MetaError::from_sqlite(format!("build sums {key}"), e))
}

/// Stores (or replaces) `value` under `key`, tied to `image_id` when it is about an image, and
/// keeps the table within [`MAX_ROWS`].
pub fn put(
    conn: &Connection,
    key: &str,
    image_id: Option<&str>,
    value: &str,
    now: &str,
) -> Result<(), MetaError> {
    let what = || format!("build sums {key}");
    conn.execute(
        "INSERT INTO build_sums(key, image_id, value, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, value = excluded.value,
             created_at = excluded.created_at",
        params![key, image_id, value, now],
    )
    .map_err(|e| MetaError::from_sqlite(what(), e))?;
    conn.execute(
        "DELETE FROM build_sums WHERE rowid IN (SELECT rowid FROM build_sums
             ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?1)",
        [MAX_ROWS],
    )
    .map_err(|e| MetaError::from_sqlite(what(), e))?;
    Ok(())
}

/// Forgets every sum (`builder prune`).
pub fn clear(conn: &Connection) -> Result<(), MetaError> {
    conn.execute("DELETE FROM build_sums", [])
        .map_err(|e| MetaError::from_sqlite("build sums", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_rows_go_with_their_image_and_context_rows_stay() {
        let t = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&t.path().join("b.db")).unwrap();
        let c = db.conn();
        c.execute_batch(
            "INSERT INTO images VALUES ('sha256:i1', X'7B7D', NULL, 0, NULL, 't', 't');",
        )
        .unwrap();
        put(c, "from:a", Some("sha256:i1"), "[1]", "t1").unwrap();
        put(c, "dir:/ctx", None, "{}", "t1").unwrap();
        put(c, "dir:/ctx", None, "{\"a\":1}", "t2").unwrap();
        assert_eq!(get(c, "from:a").unwrap().as_deref(), Some("[1]"));
        assert_eq!(get(c, "dir:/ctx").unwrap().as_deref(), Some("{\"a\":1}"));
        assert!(matches!(
            put(c, "from:b", Some("sha256:nope"), "[]", "t"),
            Err(MetaError::Reference(_))
        ));
        c.execute("DELETE FROM images WHERE id = 'sha256:i1'", [])
            .unwrap();
        assert_eq!(get(c, "from:a").unwrap(), None);
        assert!(get(c, "dir:/ctx").unwrap().is_some());
        clear(c).unwrap();
        assert_eq!(get(c, "dir:/ctx").unwrap(), None);
    }

    #[test]
    fn the_table_keeps_the_newest_rows() {
        let t = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&t.path().join("b.db")).unwrap();
        let c = db.conn();
        for i in 0..MAX_ROWS + 5 {
            put(c, &format!("dir:{i}"), None, "{}", &format!("t{i:08}")).unwrap();
        }
        let n: i64 = c
            .query_row("SELECT count(*) FROM build_sums", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, MAX_ROWS);
        assert_eq!(get(c, "dir:0").unwrap(), None);
        assert!(get(c, &format!("dir:{}", MAX_ROWS + 4)).unwrap().is_some());
    }
}
