//! [`ImageStore`] records images and their names on top of the layer store: an image is its
//! config blob (whose sha256 is the ID) plus the layer chain its `rootfs.diff_ids` name. Names
//! (tags and digests) are normalized reference strings (`docker.io/library/busybox:latest`).
//! Removing an image releases its top layer; the layer store frees whatever nothing else uses.

use berth_store::digest::Digest;
use berth_store::layer::chain_id;
use berth_store::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

use crate::config::ImageConfig;

/// A stored image.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    /// `sha256:` of the config bytes.
    pub id: Digest,
    /// The config exactly as stored.
    pub config_bytes: Vec<u8>,
    /// The parsed config.
    pub config: ImageConfig,
    /// Chain ID of the top layer (`None` for an image without layers).
    pub top_layer: Option<Digest>,
    /// Sum of the sizes of all its layers.
    pub size: u64,
    /// The image this one was committed from, if any.
    pub parent: Option<Digest>,
    /// When it was added to this store.
    pub added_at: String,
}

/// Whether a name is a tag or a digest reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `repo:tag`.
    Tag,
    /// `repo@sha256:...`.
    Digest,
}

/// A name pointing at an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// Normalized full reference string.
    pub name: String,
    /// The image it points at.
    pub image_id: Digest,
    /// Tag or digest.
    pub kind: RefKind,
    /// When the name was (last) set.
    pub created_at: String,
}

/// Failures of the image store.
#[derive(Debug, thiserror::Error)]
pub enum ImageStoreError {
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The config is not a valid image config.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The config names layers that are not stored.
    #[error("image config references layers that are not present: {0}")]
    MissingLayers(String),
}

impl From<berth_store::metadata::MetaError> for ImageStoreError {
    fn from(e: berth_store::metadata::MetaError) -> Self {
        ImageStoreError::Store(e.into())
    }
}

impl From<rusqlite::Error> for ImageStoreError {
    fn from(e: rusqlite::Error) -> Self {
        ImageStoreError::Store(e.into())
    }
}

impl ImageStoreError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            ImageStoreError::Store(e) => e.kind(),
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

const IMAGE_COLUMNS: &str = "id, config, top_layer, size, parent, added_at";

fn parse_digest(s: String) -> rusqlite::Result<Digest> {
    Digest::parse(&s).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn row_to_image(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImageRecord> {
    let config_bytes: Vec<u8> = r.get(1)?;
    let config = ImageConfig::parse(&config_bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Blob, Box::new(e))
    })?;
    Ok(ImageRecord {
        id: parse_digest(r.get(0)?)?,
        config_bytes,
        config,
        top_layer: r
            .get::<_, Option<String>>(2)?
            .map(parse_digest)
            .transpose()?,
        size: r.get::<_, i64>(3)? as u64,
        parent: r
            .get::<_, Option<String>>(4)?
            .map(parse_digest)
            .transpose()?,
        added_at: r.get(5)?,
    })
}

fn row_to_name(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImageName> {
    let kind: String = r.get(2)?;
    Ok(ImageName {
        name: r.get(0)?,
        image_id: parse_digest(r.get(1)?)?,
        kind: if kind == "digest" {
            RefKind::Digest
        } else {
            RefKind::Tag
        },
        created_at: r.get(3)?,
    })
}

/// Image records over a [`Store`].
pub struct ImageStore<'s> {
    store: &'s mut Store,
}

impl<'s> ImageStore<'s> {
    /// Wraps an open store.
    pub fn new(store: &'s mut Store) -> Self {
        ImageStore { store }
    }

    /// The underlying store.
    pub fn store(&mut self) -> &mut Store {
        self.store
    }

    /// Records an image whose layers are already registered. Idempotent: the same config bytes
    /// give the same image.
    pub fn create(
        &mut self,
        config_bytes: Vec<u8>,
        parent: Option<&Digest>,
    ) -> Result<ImageRecord, ImageStoreError> {
        let config = ImageConfig::parse(&config_bytes)?;
        let id = Digest::of_bytes(&config_bytes);
        let mut top: Option<Digest> = None;
        let mut size = 0u64;
        for diff in &config.rootfs.diff_ids {
            let chain = chain_id(top.as_ref(), diff);
            let layer = self
                .store
                .layer(&chain)?
                .ok_or_else(|| ImageStoreError::MissingLayers(chain.to_string()))?;
            size += layer.size;
            top = Some(chain);
        }
        let created = config.created.clone().unwrap_or_default();
        self.store.db_mut().write(|tx| -> Result<(), ImageStoreError> {
            tx.execute(
                "INSERT OR IGNORE INTO images(id, config, top_layer, size, parent, created, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id.to_string(),
                    config_bytes,
                    top.as_ref().map(|t| t.to_string()),
                    size as i64,
                    parent.map(|p| p.to_string()),
                    created,
                    berth_store::db::now_rfc3339()
                ],
            )?;
            Ok(())
        })?;
        Ok(self.get(&id)?.expect("the image was just recorded"))
    }

    /// The image with exactly this ID.
    pub fn get(&self, id: &Digest) -> Result<Option<ImageRecord>, ImageStoreError> {
        Ok(self
            .store
            .db()
            .conn()
            .query_row(
                &format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?1"),
                [id.to_string()],
                row_to_image,
            )
            .optional()?)
    }

    /// Every image.
    pub fn list(&self) -> Result<Vec<ImageRecord>, ImageStoreError> {
        let conn = self.store.db().conn();
        let mut stmt = conn.prepare(&format!("SELECT {IMAGE_COLUMNS} FROM images"))?;
        let rows = stmt.query_map([], row_to_image)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// IDs of images whose ID starts with `hex_prefix`.
    pub fn ids_with_prefix(&self, hex_prefix: &str) -> Result<Vec<Digest>, ImageStoreError> {
        let conn = self.store.db().conn();
        let mut stmt = conn.prepare("SELECT id FROM images WHERE id >= ?1 AND id < ?2")?;
        let lo = format!("sha256:{hex_prefix}");
        let hi = format!("sha256:{hex_prefix}\u{7f}");
        let rows = stmt.query_map([lo, hi], |r| parse_digest(r.get(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The image a normalized name points at.
    pub fn lookup_name(&self, name: &str) -> Result<Option<Digest>, ImageStoreError> {
        Ok(self
            .store
            .db()
            .conn()
            .query_row(
                "SELECT image_id FROM image_refs WHERE name = ?1",
                [name],
                |r| parse_digest(r.get(0)?),
            )
            .optional()?)
    }

    /// All names, or the names of one image.
    pub fn names(&self, image: Option<&Digest>) -> Result<Vec<ImageName>, ImageStoreError> {
        let conn = self.store.db().conn();
        let sql = "SELECT name, image_id, kind, created_at FROM image_refs";
        let out = match image {
            Some(id) => {
                let mut stmt = conn.prepare(&format!(
                    "{sql} WHERE image_id = ?1 ORDER BY created_at, name"
                ))?;
                let rows = stmt.query_map([id.to_string()], row_to_name)?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = conn.prepare(&format!("{sql} ORDER BY created_at, name"))?;
                let rows = stmt.query_map([], row_to_name)?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(out)
    }

    /// Points `name` at `image` (moving it if it pointed elsewhere).
    pub fn set_name(
        &mut self,
        name: &str,
        image: &Digest,
        kind: RefKind,
    ) -> Result<(), ImageStoreError> {
        let kind = match kind {
            RefKind::Tag => "tag",
            RefKind::Digest => "digest",
        };
        self.store
            .db_mut()
            .write(|tx| -> Result<(), ImageStoreError> {
                tx.execute(
                "INSERT INTO image_refs(name, image_id, kind, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id,
                     kind = excluded.kind, created_at = excluded.created_at",
                params![name, image.to_string(), kind, berth_store::db::now_rfc3339()],
            )?;
                Ok(())
            })
    }

    /// Removes a name; returns whether it existed.
    pub fn remove_name(&mut self, name: &str) -> Result<bool, ImageStoreError> {
        let n = self
            .store
            .db_mut()
            .write(|tx| -> Result<usize, ImageStoreError> {
                Ok(tx.execute("DELETE FROM image_refs WHERE name = ?1", [name])?)
            })?;
        Ok(n > 0)
    }

    /// True when another image was committed from `id`.
    pub fn has_children(&self, id: &Digest) -> Result<bool, ImageStoreError> {
        Ok(self.store.db().conn().query_row(
            "SELECT EXISTS(SELECT 1 FROM images WHERE parent = ?1)",
            [id.to_string()],
            |r| r.get(0),
        )?)
    }

    /// Deletes the image record and its names, then frees the layers nothing else uses.
    /// Returns the layers freed.
    pub fn delete(
        &mut self,
        id: &Digest,
    ) -> Result<Vec<berth_store::layer::Layer>, ImageStoreError> {
        let top = self.get(id)?.and_then(|i| i.top_layer);
        let key = id.to_string();
        self.store
            .db_mut()
            .write(|tx| -> Result<(), ImageStoreError> {
                tx.execute("DELETE FROM image_refs WHERE image_id = ?1", [&key])?;
                tx.execute("UPDATE images SET parent = NULL WHERE parent = ?1", [&key])?;
                tx.execute("DELETE FROM images WHERE id = ?1", [&key])?;
                Ok(())
            })?;
        match top {
            Some(t) => Ok(self.store.release_layer(&t)?),
            None => Ok(Vec::new()),
        }
    }
}
