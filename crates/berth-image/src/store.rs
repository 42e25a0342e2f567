//! [`ImageStore`] records images and their names on top of the layer store: an image is its
//! config blob (whose sha256 is the ID) plus the layer chain its `rootfs.diff_ids` name. Names
//! (tags and digests) are normalized reference strings (`docker.io/library/busybox:latest`).
//! Removing an image releases its top layer; the layer store frees whatever nothing else uses.

use berth_store::digest::Digest;
use berth_store::layer::chain_id;
use berth_store::metadata::images::{self, ImageRow, NameRow};
use berth_store::metadata::MetaError;
use berth_store::{Store, StoreError};

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

impl ImageStoreError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            ImageStoreError::Store(e) => e.kind(),
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

fn digest(what: &str, s: &str) -> Result<Digest, ImageStoreError> {
    Digest::parse(s).map_err(|e| {
        ImageStoreError::from(MetaError::Corrupt {
            what: what.to_string(),
            reason: e.to_string(),
        })
    })
}

fn record(r: ImageRow) -> Result<ImageRecord, ImageStoreError> {
    let config = ImageConfig::parse(&r.config)?;
    Ok(ImageRecord {
        id: digest("image id", &r.id)?,
        top_layer: r
            .top_layer
            .as_deref()
            .map(|t| digest(&r.id, t))
            .transpose()?,
        parent: r.parent.as_deref().map(|p| digest(&r.id, p)).transpose()?,
        config_bytes: r.config,
        config,
        size: r.size,
        added_at: r.added_at,
    })
}

fn image_name(r: NameRow) -> Result<ImageName, ImageStoreError> {
    Ok(ImageName {
        image_id: digest(&r.name, &r.image_id)?,
        kind: if r.kind == "digest" {
            RefKind::Digest
        } else {
            RefKind::Tag
        },
        name: r.name,
        created_at: r.created_at,
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
        let row = ImageRow {
            id: id.to_string(),
            config: config_bytes,
            top_layer: top.as_ref().map(|t| t.to_string()),
            size,
            parent: parent.map(|p| p.to_string()),
            created: config.created.clone().unwrap_or_default(),
            added_at: berth_store::db::now_rfc3339(),
        };
        self.store
            .db_mut()
            .write(|tx| images::insert_if_absent(tx, &row))?;
        Ok(self.get(&id)?.expect("the image was just recorded"))
    }

    /// The image with exactly this ID.
    pub fn get(&self, id: &Digest) -> Result<Option<ImageRecord>, ImageStoreError> {
        images::get(self.store.db().conn(), &id.to_string())?
            .map(record)
            .transpose()
    }

    /// Every image.
    pub fn list(&self) -> Result<Vec<ImageRecord>, ImageStoreError> {
        images::list(self.store.db().conn())?
            .into_iter()
            .map(record)
            .collect()
    }

    /// IDs of images whose ID starts with `hex_prefix`.
    pub fn ids_with_prefix(&self, hex_prefix: &str) -> Result<Vec<Digest>, ImageStoreError> {
        images::ids_with_prefix(self.store.db().conn(), &format!("sha256:{hex_prefix}"))?
            .iter()
            .map(|id| digest("image id", id))
            .collect()
    }

    /// The image a normalized name points at.
    pub fn lookup_name(&self, name: &str) -> Result<Option<Digest>, ImageStoreError> {
        images::lookup_name(self.store.db().conn(), name)?
            .map(|id| digest(name, &id))
            .transpose()
    }

    /// All names, or the names of one image.
    pub fn names(&self, image: Option<&Digest>) -> Result<Vec<ImageName>, ImageStoreError> {
        let id = image.map(|d| d.to_string());
        images::names(self.store.db().conn(), id.as_deref())?
            .into_iter()
            .map(image_name)
            .collect()
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
        let row = NameRow {
            name: name.to_string(),
            image_id: image.to_string(),
            kind: kind.to_string(),
            created_at: berth_store::db::now_rfc3339(),
        };
        Ok(self.store.db_mut().write(|tx| images::set_name(tx, &row))?)
    }

    /// Removes a name; returns whether it existed.
    pub fn remove_name(&mut self, name: &str) -> Result<bool, ImageStoreError> {
        Ok(self
            .store
            .db_mut()
            .write(|tx| images::remove_name(tx, name))?)
    }

    /// True when another image was committed from `id`.
    pub fn has_children(&self, id: &Digest) -> Result<bool, ImageStoreError> {
        Ok(images::has_children(
            self.store.db().conn(),
            &id.to_string(),
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
                images::delete(tx, &key)?;
                if let Some(t) = &top {
                    Store::begin_release(tx, t)?;
                }
                Ok(())
            })?;
        let Some(t) = top else {
            return Ok(Vec::new());
        };
        Ok(self.store.release_layer(&t)?)
    }
}
