//! [`ImageRow`] and [`NameRow`]: the `images` table (an image is its config bytes, whose sha256
//! is its ID, over a chain of layers) and the `image_refs` table (tags and digest references,
//! normalized). berth-image owns what they mean; this module owns the SQL.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::MetaError;

/// One image, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    /// `sha256:` of the config bytes.
    pub id: String,
    /// The config exactly as stored.
    pub config: Vec<u8>,
    /// Chain ID of the top layer (`None` for an image without layers).
    pub top_layer: Option<String>,
    /// Sum of the sizes of its layers.
    pub size: u64,
    /// The image it was committed from.
    pub parent: Option<String>,
    /// Its config's `created`.
    pub created: String,
    /// When it was added to this store.
    pub added_at: String,
}

/// One name of an image (`image_refs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRow {
    /// Normalized full reference string.
    pub name: String,
    /// The image it points at.
    pub image_id: String,
    /// `tag` or `digest`.
    pub kind: String,
    /// When the name was (last) set.
    pub created_at: String,
}

const COLUMNS: &str = "id, config, top_layer, size, parent, created, added_at";

fn image(r: &Row<'_>) -> rusqlite::Result<ImageRow> {
    Ok(ImageRow {
        id: r.get(0)?,
        config: r.get(1)?,
        top_layer: r.get(2)?,
        size: r.get::<_, i64>(3)? as u64,
        parent: r.get(4)?,
        created: r.get(5)?,
        added_at: r.get(6)?,
    })
}

fn name_row(r: &Row<'_>) -> rusqlite::Result<NameRow> {
    Ok(NameRow {
        name: r.get(0)?,
        image_id: r.get(1)?,
        kind: r.get(2)?,
        created_at: r.get(3)?,
    })
}

fn what(id: &str) -> String {
    format!("image {id}")
}

fn collect<T>(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, MetaError> {
    let err = |e| MetaError::from_sqlite("images", e);
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    let rows = stmt
        .query_map(args, f)
        .and_then(|rows| rows.collect::<Result<Vec<T>, _>>())
        .map_err(err)?;
    Ok(rows)
}

/// Records `img` unless an image with its ID exists (the same config bytes are the same image).
pub fn insert_if_absent(conn: &Connection, img: &ImageRow) -> Result<(), MetaError> {
    conn.execute(
        "INSERT OR IGNORE INTO images(id, config, top_layer, size, parent, created, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            img.id,
            img.config,
            img.top_layer,
            img.size as i64,
            img.parent,
            img.created,
            img.added_at
        ],
    )
    .map_err(|e| MetaError::from_sqlite(what(&img.id), e))?;
    Ok(())
}

/// The image with ID `id`.
///
/// Cached, as [`lookup_name`]: `ps -a` looks up each container's image (preparing the
/// statement each time was a quarter of its instructions).
pub fn get(conn: &Connection, id: &str) -> Result<Option<ImageRow>, MetaError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM images WHERE id = ?1"))
        .and_then(|mut stmt| stmt.query_row([id], image).optional())
        .map_err(|e| MetaError::from_sqlite(what(id), e))
}

/// Every image.
pub fn list(conn: &Connection) -> Result<Vec<ImageRow>, MetaError> {
    collect(conn, &format!("SELECT {COLUMNS} FROM images"), [], image)
}

/// IDs of the images whose ID starts with `id_prefix` (`sha256:ab...`).
pub fn ids_with_prefix(conn: &Connection, id_prefix: &str) -> Result<Vec<String>, MetaError> {
    let hi = format!("{id_prefix}\u{7f}");
    collect(
        conn,
        "SELECT id FROM images WHERE id >= ?1 AND id < ?2",
        [id_prefix, &hi],
        |r| r.get(0),
    )
}

/// Whether another image was committed from `id`.
pub fn has_children(conn: &Connection, id: &str) -> Result<bool, MetaError> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM images WHERE parent = ?1)",
        [id],
        |r| r.get(0),
    )
    .map_err(|e| MetaError::from_sqlite(what(id), e))
}

/// Deletes image `id` and its names; images committed from it lose their parent.
pub fn delete(conn: &Connection, id: &str) -> Result<(), MetaError> {
    let err = |e| MetaError::from_sqlite(what(id), e);
    conn.execute("DELETE FROM image_refs WHERE image_id = ?1", [id])
        .map_err(err)?;
    conn.execute("UPDATE images SET parent = NULL WHERE parent = ?1", [id])
        .map_err(err)?;
    conn.execute("DELETE FROM images WHERE id = ?1", [id])
        .map_err(err)?;
    Ok(())
}

/// The image `name` points at.
pub fn lookup_name(conn: &Connection, name: &str) -> Result<Option<String>, MetaError> {
    conn.prepare_cached("SELECT image_id FROM image_refs WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([name], |r| r.get(0)).optional())
        .map_err(|e| MetaError::from_sqlite(format!("name {name}"), e))
}

/// All names (`image: None`) or those of one image, oldest first.
pub fn names(conn: &Connection, image: Option<&str>) -> Result<Vec<NameRow>, MetaError> {
    let sql = "SELECT name, image_id, kind, created_at FROM image_refs";
    match image {
        Some(id) => collect(
            conn,
            &format!("{sql} WHERE image_id = ?1 ORDER BY created_at, name"),
            [id],
            name_row,
        ),
        None => collect(
            conn,
            &format!("{sql} ORDER BY created_at, name"),
            [],
            name_row,
        ),
    }
}

/// Points `n.name` at `n.image_id` (moving it if it pointed elsewhere);
/// [`MetaError::Reference`] if the image is gone.
pub fn set_name(conn: &Connection, n: &NameRow) -> Result<(), MetaError> {
    conn.execute(
        "INSERT INTO image_refs(name, image_id, kind, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id,
             kind = excluded.kind, created_at = excluded.created_at",
        params![n.name, n.image_id, n.kind, n.created_at],
    )
    .map_err(|e| MetaError::from_sqlite(format!("name {}", n.name), e))?;
    Ok(())
}

/// Removes name `name`; returns whether it existed.
pub fn remove_name(conn: &Connection, name: &str) -> Result<bool, MetaError> {
    let n = conn
        .execute("DELETE FROM image_refs WHERE name = ?1", [name])
        .map_err(|e| MetaError::from_sqlite(format!("name {name}"), e))?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn img(id: &str, parent: Option<&str>) -> ImageRow {
        ImageRow {
            id: id.into(),
            config: b"{}".to_vec(),
            top_layer: None,
            size: 7,
            parent: parent.map(str::to_string),
            created: "c".into(),
            added_at: "a".into(),
        }
    }

    fn name(n: &str, id: &str) -> NameRow {
        NameRow {
            name: n.into(),
            image_id: id.into(),
            kind: "tag".into(),
            created_at: "t".into(),
        }
    }

    #[test]
    fn images_names_and_parents() {
        let t = tempfile::tempdir().unwrap();
        let db = Db::open(&t.path().join("berth.db")).unwrap();
        let c = db.conn();
        insert_if_absent(c, &img("sha256:aa1", None)).unwrap();
        insert_if_absent(c, &img("sha256:aa1", None)).unwrap();
        insert_if_absent(c, &img("sha256:ab2", Some("sha256:aa1"))).unwrap();
        assert_eq!(list(c).unwrap().len(), 2);
        assert_eq!(get(c, "sha256:aa1").unwrap(), Some(img("sha256:aa1", None)));
        assert_eq!(ids_with_prefix(c, "sha256:a").unwrap().len(), 2);
        assert_eq!(ids_with_prefix(c, "sha256:ab").unwrap(), ["sha256:ab2"]);
        assert!(has_children(c, "sha256:aa1").unwrap());
        set_name(c, &name("x:1", "sha256:aa1")).unwrap();
        set_name(c, &name("x:1", "sha256:ab2")).unwrap();
        assert_eq!(
            lookup_name(c, "x:1").unwrap().as_deref(),
            Some("sha256:ab2")
        );
        let orphan = set_name(c, &name("y:1", "sha256:nosuch")).unwrap_err();
        assert!(matches!(orphan, MetaError::Reference(_)), "{orphan:?}");
        assert_eq!(names(c, Some("sha256:ab2")).unwrap().len(), 1);
        delete(c, "sha256:aa1").unwrap();
        assert_eq!(get(c, "sha256:ab2").unwrap().unwrap().parent, None);
        assert!(remove_name(c, "x:1").unwrap());
        assert!(!remove_name(c, "x:1").unwrap());
        assert!(names(c, None).unwrap().is_empty());
    }
}
