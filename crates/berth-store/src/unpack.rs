//! [`LayerUnpacker`] unpacks layer tars on other threads than the store's, so a pull can unpack
//! its layers in parallel as they arrive, on drivers whose layers hold only their own changes
//! ([`GraphDriver::independent_layers`], overlay). The store's thread reserves a journaled
//! [`LayerSlot`] per layer first ([`Store::reserve_layer`]); a worker unpacks into it; the store's
//! thread then records the layers bottom-up ([`Store::record_unpacked`]), chaining each onto its
//! parent, or abandons the slot ([`Store::abandon_slot`]). A crash at any point leaves only
//! journaled directories, which the next open removes.

use std::io::Read;
use std::path::PathBuf;

use crate::content::{ContentStore, StagedBlob};
use crate::digest::Digest;
use crate::driver::GraphDriver;
use crate::journal;
use crate::layer::{unpack_into, Layer};
use crate::{Store, StoreError};

/// A layer directory reserved (and journaled) for one unpack.
#[derive(Debug)]
pub struct LayerSlot {
    cache_id: String,
    blob_staging: PathBuf,
}

impl LayerSlot {
    /// The driver directory ID.
    pub fn cache_id(&self) -> &str {
        &self.cache_id
    }
}

/// A layer unpacked into its slot, waiting to be recorded.
#[derive(Debug)]
pub struct UnpackedLayer {
    cache_id: String,
    staged: StagedBlob,
    size: u64,
}

impl UnpackedLayer {
    /// Its diff ID (sha256 of the uncompressed tar).
    pub fn diff_id(&self) -> &Digest {
        &self.staged.digest
    }
    /// The driver directory ID.
    pub fn cache_id(&self) -> &str {
        &self.cache_id
    }
}

/// Unpacks layer tars into reserved slots; `Send + Sync`, owns its own driver handle.
pub struct LayerUnpacker {
    driver: Box<dyn GraphDriver>,
    content: ContentStore,
}

impl LayerUnpacker {
    /// Creates the slot's directory (without a parent) and unpacks `stream` (plain, gzip or
    /// zstd) into it, keeping the uncompressed tar as a staged blob verified against
    /// `expected_diff_id`. On failure the directory stays for [`Store::abandon_slot`].
    pub fn unpack(
        &self,
        slot: LayerSlot,
        expected_diff_id: &Digest,
        stream: impl Read,
    ) -> Result<UnpackedLayer, StoreError> {
        self.driver.create(&slot.cache_id, None)?;
        let (staged, size) = unpack_into(
            self.driver.as_ref(),
            &self.content,
            &slot.cache_id,
            slot.blob_staging,
            Some(expected_diff_id),
            stream,
        )?;
        Ok(UnpackedLayer {
            cache_id: slot.cache_id,
            staged,
            size,
        })
    }
}

impl Store {
    /// An unpacker for other threads, when this root's driver can unpack layers before their
    /// parents are recorded (overlay); `None` (vfs) means layers must go through
    /// [`Store::register_layer`] in order.
    pub fn layer_unpacker(&self) -> Result<Option<LayerUnpacker>, StoreError> {
        if !self.driver.independent_layers() {
            return Ok(None);
        }
        let driver = self
            .driver_kind()
            .open(self.root())
            .map_err(|source| StoreError::Io {
                path: self.root().join("layers"),
                source,
            })?;
        Ok(Some(LayerUnpacker {
            driver,
            content: self.content.clone(),
        }))
    }

    /// Reserves a journaled layer directory for a [`LayerUnpacker`].
    pub fn reserve_layer(&mut self) -> Result<LayerSlot, StoreError> {
        let cache_id = crate::fsutil::random_hex(32);
        journal::begin(self.db.conn(), "layer", &cache_id)?;
        Ok(LayerSlot {
            cache_id,
            blob_staging: self.staging.path("blob")?,
        })
    }

    /// Removes what an unpack left in a slot that will not be recorded.
    pub fn abandon_slot(&mut self, cache_id: &str) {
        self.abandon_layer_dir(cache_id);
    }

    /// Chains an unpacked layer onto `parent` and records it, held like
    /// [`Store::register_layer_held`]; an identical layer stored meanwhile wins.
    pub fn record_unpacked(
        &mut self,
        parent: Option<&Digest>,
        unpacked: UnpackedLayer,
    ) -> Result<Layer, StoreError> {
        if let Some(p) = parent {
            let parent_layer = self
                .layer(p)?
                .ok_or_else(|| StoreError::NoSuchLayer(p.to_string()))?;
            if let Err(e) = self
                .driver
                .set_parent(&unpacked.cache_id, &parent_layer.cache_id)
            {
                self.abandon_layer_dir(&unpacked.cache_id);
                return Err(e.into());
            }
        }
        self.record_built_layer(
            parent,
            unpacked.cache_id,
            unpacked.staged,
            unpacked.size,
            true,
        )
    }
}

/// Answers "is this layer stored yet?" from any thread, with a connection of its own (for a
/// worker that waited for another process to fetch a blob).
#[derive(Debug, Clone)]
pub struct LayerProbe {
    db: PathBuf,
}

impl LayerProbe {
    /// True when the layer with this chain ID is recorded.
    pub fn exists(&self, chain_id: &Digest) -> Result<bool, StoreError> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM layers WHERE chain_id = ?1)",
            [chain_id.to_string()],
            |r| r.get(0),
        )?)
    }
}

impl Store {
    /// A [`LayerProbe`] on this root.
    pub fn layer_probe(&self) -> LayerProbe {
        LayerProbe {
            db: self.root().join("berth.db"),
        }
    }
}
