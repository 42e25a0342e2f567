//! The layer store: every layer is unpacked **once** into a graph-driver directory and shared by
//! every image (and container) above it. Layers are keyed like Docker's: by `diff_id` (sha256 of
//! the uncompressed tar) and `chain_id` (which also covers all layers below). The uncompressed tar
//! is kept in the content store under its diff-id, so `save` reproduces the exact bytes that were
//! loaded and diff-ids survive any round trip.
//!
//! A layer lives while it is the top layer of an image or container, or the parent of a live
//! layer; [`Store::release_layer`] walks down from a top layer and frees what nothing else uses.

use std::io::{self, Read, Write};

use rusqlite::{params, OptionalExtension};

use crate::archive::{self, ApplyOptions};
use crate::digest::Digest;
use crate::fsutil;
use crate::journal;
use crate::metadata::MetaError;
use crate::store::{Store, StoreError};

/// One row of the layer store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Digest identifying this layer together with all layers below it.
    pub chain_id: Digest,
    /// Digest of this layer's uncompressed tar.
    pub diff_id: Digest,
    /// Chain ID of the layer below, if any.
    pub parent: Option<Digest>,
    /// The driver's directory ID for this layer.
    pub cache_id: String,
    /// Bytes of file content this layer adds.
    pub size: u64,
}

/// The chain ID of `diff_id` on top of `parent` (OCI image-spec: `sha256(parent + " " + diff)`).
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(p) => Digest::of_bytes(format!("{p} {diff_id}").as_bytes()),
    }
}

fn row_to_layer(r: &rusqlite::Row<'_>) -> rusqlite::Result<Layer> {
    let parse = |s: String| {
        Digest::parse(&s).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    };
    Ok(Layer {
        chain_id: parse(r.get(0)?)?,
        diff_id: parse(r.get(1)?)?,
        parent: r.get::<_, Option<String>>(2)?.map(parse).transpose()?,
        cache_id: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
    })
}

const LAYER_COLUMNS: &str = "chain_id, diff_id, parent, cache_id, size";

/// True when a row points at the driver directory `cache_id`: an image layer, a container's
/// writable (`<id>`) or own init (`<id>-init`, made by an older berth) layer, or the shared init
/// layer (`<cache_id>-init`) of a layer (see [`crate::init_layer`]).
pub fn layer_dir_claimed(conn: &rusqlite::Connection, cache_id: &str) -> rusqlite::Result<bool> {
    let below = cache_id.strip_suffix("-init").unwrap_or(cache_id);
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM layers WHERE cache_id = ?1 OR cache_id = ?2)
             OR EXISTS(SELECT 1 FROM containers WHERE id = ?2)",
        [cache_id, below],
        |r| r.get(0),
    )
}

/// Reads through `inner` while copying every byte into `copy` (the blob being stored).
struct Tee<'a, R> {
    inner: R,
    copy: &'a mut dyn Write,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Journal kind of a chain of layers a pull is building (key: the top chain ID's hex).
const CHAIN_HOLD: &str = "chain";

/// Unpacks a layer tar (plain, gzip or zstd) into the driver directory `cache_id` (created by
/// the caller) while keeping the uncompressed tar as a blob staged at `blob_staging`. Returns the
/// staged blob (verified against `expected`, if given) and the content bytes written.
pub(crate) fn unpack_into(
    driver: &dyn crate::driver::GraphDriver,
    content: &crate::content::ContentStore,
    cache_id: &str,
    blob_staging: std::path::PathBuf,
    expected: Option<&Digest>,
    stream: impl Read,
) -> Result<(crate::content::StagedBlob, u64), StoreError> {
    let mut blob = content.writer(blob_staging)?;
    let opts = ApplyOptions {
        no_overwrite_dir_non_dir: false,
        skip_devices: false,
        whiteouts: driver.whiteout_mode(),
        root_metadata: false,
        owner: None,
    };
    let size = {
        let decompressed = archive::decompress(stream)?;
        let mut tee = Tee {
            inner: decompressed,
            copy: &mut blob,
        };
        let size = archive::apply_tar(&mut tee, &driver.apply_dir(cache_id), &opts)?;
        // The digest covers the whole tar, including the padding after its end marker.
        io::copy(&mut tee, &mut io::sink())?;
        size
    };
    let staged = blob.finish(expected)?;
    Ok((staged, size))
}

impl Store {
    /// The layer with this chain ID, if stored.
    pub fn layer(&self, chain_id: &Digest) -> Result<Option<Layer>, StoreError> {
        Ok(self
            .db
            .conn()
            .query_row(
                &format!("SELECT {LAYER_COLUMNS} FROM layers WHERE chain_id = ?1"),
                [chain_id.to_string()],
                row_to_layer,
            )
            .optional()?)
    }

    /// The layers from the bottom up to `top` (inclusive).
    pub fn layer_chain(&self, top: &Digest) -> Result<Vec<Layer>, StoreError> {
        let mut chain = Vec::new();
        let mut next = Some(top.clone());
        while let Some(id) = next {
            let layer = self
                .layer(&id)?
                .ok_or_else(|| StoreError::NoSuchLayer(id.to_string()))?;
            next = layer.parent.clone();
            chain.push(layer);
        }
        chain.reverse();
        Ok(chain)
    }

    /// Opens the uncompressed tar of a layer.
    pub fn open_layer_tar(&self, layer: &Layer) -> Result<std::fs::File, StoreError> {
        Ok(self.content.open_blob(&layer.diff_id)?)
    }

    /// Unpacks a layer tar (plain, gzip or zstd) on top of `parent` and records it. With
    /// `expected_diff_id`, an already stored identical layer is returned without reading `stream`,
    /// and a stream whose content does not match is refused. The layer becomes visible only when
    /// complete; a failure or crash leaves nothing behind.
    pub fn register_layer(
        &mut self,
        parent: Option<&Digest>,
        expected_diff_id: Option<&Digest>,
        stream: impl Read,
    ) -> Result<Layer, StoreError> {
        self.register_layer_inner(parent, expected_diff_id, stream, false)
    }

    /// [`Store::register_layer`] for a chain being built layer by layer (a pull): the new layer
    /// is held, with the journal entry `chain`/<its chain ID>, in place of its parent, until
    /// [`Store::release_chain_hold`]; a process that dies first has the unfinished chain freed
    /// by the next one that opens the store.
    pub fn register_layer_held(
        &mut self,
        parent: Option<&Digest>,
        expected_diff_id: Option<&Digest>,
        stream: impl Read,
    ) -> Result<Layer, StoreError> {
        self.register_layer_inner(parent, expected_diff_id, stream, true)
    }

    fn register_layer_inner(
        &mut self,
        parent: Option<&Digest>,
        expected_diff_id: Option<&Digest>,
        stream: impl Read,
        hold: bool,
    ) -> Result<Layer, StoreError> {
        if let Some(diff) = expected_diff_id {
            if let Some(existing) = self.layer(&chain_id(parent, diff))? {
                if hold {
                    self.move_chain_hold(parent, &existing.chain_id)?;
                }
                return Ok(existing);
            }
        }
        let parent_layer = match parent {
            Some(p) => Some(
                self.layer(p)?
                    .ok_or_else(|| StoreError::NoSuchLayer(p.to_string()))?,
            ),
            None => None,
        };
        let cache_id = fsutil::random_hex(32);
        journal::begin(self.db.conn(), "layer", &cache_id)?;
        let built = self
            .staging
            .path("blob")
            .map_err(StoreError::from)
            .and_then(|staging| {
                self.driver.create(
                    &cache_id,
                    parent_layer.as_ref().map(|p| p.cache_id.as_str()),
                )?;
                unpack_into(
                    self.driver.as_ref(),
                    &self.content,
                    &cache_id,
                    staging,
                    expected_diff_id,
                    stream,
                )
            });
        let (staged, size) = match built {
            Ok(v) => v,
            Err(e) => {
                self.abandon_layer_dir(&cache_id);
                return Err(e);
            }
        };
        self.record_built_layer(parent, cache_id, staged, size, hold)
    }

    /// Records a layer whose directory `cache_id` is complete (and journaled) and whose tar blob
    /// is staged; if the same layer was stored meanwhile, that one is kept and ours dropped.
    pub(crate) fn record_built_layer(
        &mut self,
        parent: Option<&Digest>,
        cache_id: String,
        staged: crate::content::StagedBlob,
        size: u64,
        hold: bool,
    ) -> Result<Layer, StoreError> {
        let diff_id = staged.digest.clone();
        let chain = chain_id(parent, &diff_id);
        if let Some(existing) = self.layer(&chain)? {
            // Someone stored the same layer meanwhile: keep theirs.
            self.abandon_layer_dir(&cache_id);
            if hold {
                self.move_chain_hold(parent, &existing.chain_id)?;
            }
            return Ok(existing);
        }
        let blob_is_new = !self.content.contains(&diff_id);
        if blob_is_new {
            journal::begin(self.db.conn(), "blob", diff_id.hex())?;
        }
        if let Err(e) = self.content.publish(staged) {
            self.abandon_layer_dir(&cache_id);
            return Err(e.into());
        }
        let layer = Layer {
            chain_id: chain,
            diff_id,
            parent: parent.cloned(),
            cache_id,
            size,
        };
        let inserted = self.db.write(|tx| -> Result<bool, StoreError> {
            // Another process may record the same layer between our check and now.
            let n = tx.execute(
                "INSERT OR IGNORE INTO layers(chain_id, diff_id, parent, cache_id, size, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    layer.chain_id.to_string(),
                    layer.diff_id.to_string(),
                    layer.parent.as_ref().map(|p| p.to_string()),
                    layer.cache_id,
                    layer.size as i64,
                    crate::db::now_rfc3339()
                ],
            )?;
            journal::end(tx, "blob", layer.diff_id.hex())?;
            if n == 0 {
                return Ok(false);
            }
            journal::end(tx, "layer", &layer.cache_id)?;
            if hold {
                journal::begin(tx, CHAIN_HOLD, layer.chain_id.hex())?;
                if let Some(p) = &layer.parent {
                    journal::end(tx, CHAIN_HOLD, p.hex())?;
                }
            }
            Ok(true)
        })?;
        if !inserted {
            self.abandon_layer_dir(&layer.cache_id);
            let existing = self
                .layer(&layer.chain_id)?
                .ok_or_else(|| StoreError::NoSuchLayer(layer.chain_id.to_string()))?;
            if hold {
                self.move_chain_hold(parent, &existing.chain_id)?;
            }
            return Ok(existing);
        }
        Ok(layer)
    }

    /// Moves the hold of a chain being built from `parent` to `top`, a layer on it that already
    /// existed (see [`Store::register_layer_held`]).
    pub fn move_chain_hold(
        &mut self,
        parent: Option<&Digest>,
        top: &Digest,
    ) -> Result<(), StoreError> {
        self.db.write(|tx| -> Result<(), StoreError> {
            journal::begin(tx, CHAIN_HOLD, top.hex())?;
            if let Some(p) = parent {
                journal::end(tx, CHAIN_HOLD, p.hex())?;
            }
            Ok(())
        })
    }

    /// Ends the hold on a chain built with [`Store::register_layer_held`]: once an image points
    /// at `top` (`free == false`), or to give up on it (`free == true`: the layers nothing else
    /// uses are freed).
    pub fn release_chain_hold(&mut self, top: &Digest, free: bool) -> Result<(), StoreError> {
        if free {
            self.release_layer(top)?;
        }
        journal::end(self.db.conn(), CHAIN_HOLD, top.hex())?;
        Ok(())
    }

    /// Removes a layer directory this process created but will not record.
    pub(crate) fn abandon_layer_dir(&mut self, cache_id: &str) {
        if self.driver.remove(cache_id).is_ok() {
            let _ = journal::end(self.db.conn(), "layer", cache_id);
        }
    }

    /// True when a layer is the top of an image or container, or the parent of another layer.
    pub(crate) fn layer_in_use(
        conn: &rusqlite::Connection,
        chain_id: &str,
    ) -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM images WHERE top_layer = ?1)
                 OR EXISTS(SELECT 1 FROM containers WHERE top_layer = ?1)
                 OR EXISTS(SELECT 1 FROM layers WHERE parent = ?1)",
            [chain_id],
            |r| r.get(0),
        )
    }

    /// Opens, inside the caller's transaction `tx` that drops a reference to layer `top` (an
    /// image's or a container's row), the journal entry that makes the next open release `top`
    /// if this process dies before [`Store::release_layer`] did (issue 15): a killed `rmi` or
    /// `rm` never leaves a chain of layers nothing references. [`Store::release_layer`] closes
    /// it (or [`end_release`], when the reference is kept after all).
    pub fn begin_release(tx: &rusqlite::Connection, top: &Digest) -> Result<(), MetaError> {
        journal::begin(tx, RELEASE, &top.to_string())
    }

    /// Frees `top` and then each parent in turn, stopping at the first layer still in use.
    /// Returns the layers removed.
    pub fn release_layer(&mut self, top: &Digest) -> Result<Vec<Layer>, StoreError> {
        let mut removed = Vec::new();
        let mut next = Some(top.clone());
        while let Some(id) = next.take() {
            let key = id.to_string();
            // A layer that is gone or still in use only closes its release's entry, whose
            // recovery would find the same: that commit need not wait for the disk (a
            // container's removal ends here, at its image's top layer). The layer is looked
            // at again in the durable transaction below when it may go.
            let settled = self.db.write_relaxed(|tx| -> Result<bool, StoreError> {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS(SELECT 1 FROM layers WHERE chain_id = ?1)",
                    [&key],
                    |r| r.get(0),
                )?;
                if exists && !Store::layer_in_use(tx, &key)? {
                    return Ok(false);
                }
                journal::end(tx, RELEASE, &key)?;
                Ok(true)
            })?;
            if settled {
                break;
            }
            let freed = self
                .db
                .write(|tx| -> Result<Option<(Layer, bool)>, StoreError> {
                    let layer = tx
                        .query_row(
                            &format!("SELECT {LAYER_COLUMNS} FROM layers WHERE chain_id = ?1"),
                            [&key],
                            row_to_layer,
                        )
                        .optional()?;
                    // The release's journal entry walks down the chain with it: each step
                    // closes its layer's entry and opens its parent's, so a kill between two
                    // steps leaves the rest of the chain to the repair pass.
                    journal::end(tx, RELEASE, &key)?;
                    let Some(layer) = layer else { return Ok(None) };
                    if Store::layer_in_use(tx, &key)? {
                        return Ok(None);
                    }
                    tx.execute("DELETE FROM layers WHERE chain_id = ?1", [&key])?;
                    journal::begin(tx, "layer", &layer.cache_id)?;
                    if let Some(parent) = &layer.parent {
                        journal::begin(tx, RELEASE, &parent.to_string())?;
                    }
                    let blob_unused: bool = tx.query_row(
                        "SELECT NOT EXISTS(SELECT 1 FROM layers WHERE diff_id = ?1)",
                        [layer.diff_id.to_string()],
                        |r| r.get(0),
                    )?;
                    if blob_unused {
                        journal::begin(tx, "blob", layer.diff_id.hex())?;
                    }
                    Ok(Some((layer, blob_unused)))
                })?;
            let Some((layer, blob_unused)) = freed else {
                break;
            };
            self.remove_init_layer(&layer.cache_id)?;
            self.driver.remove(&layer.cache_id)?;
            journal::end(self.db.conn(), "layer", &layer.cache_id)?;
            if blob_unused {
                self.content.remove(&layer.diff_id)?;
                journal::end(self.db.conn(), "blob", layer.diff_id.hex())?;
            }
            next = layer.parent.clone();
            removed.push(layer);
        }
        Ok(removed)
    }

    /// Finishes what crashed processes left of layers and blobs: files no row claims are removed,
    /// and chains a dead pull was building are freed where no image took them.
    pub(crate) fn recover_layers(&mut self) -> Result<(), StoreError> {
        for entry in journal::abandoned(self.db.conn(), RELEASE)? {
            let top = Digest::parse(&entry.key).map_err(|e| {
                StoreError::Corrupt(format!("journal {RELEASE} key {}: {e}", entry.key))
            })?;
            self.release_layer(&top)?;
        }
        for entry in journal::abandoned(self.db.conn(), CHAIN_HOLD)? {
            let top = Digest::from_hex(&entry.key).map_err(|e| {
                StoreError::Corrupt(format!("journal chain key {}: {e}", entry.key))
            })?;
            self.release_layer(&top)?;
            journal::end(self.db.conn(), CHAIN_HOLD, &entry.key)?;
        }
        for entry in journal::abandoned(self.db.conn(), "layer")? {
            if entry.key.ends_with("-init") {
                // Only shared init layers are built under a `layer` entry.
                self.recover_init_layer(&entry.key)?;
                continue;
            }
            if !layer_dir_claimed(self.db.conn(), &entry.key)? {
                self.remove_init_layer(&entry.key)?;
                self.driver.remove(&entry.key)?;
            }
            journal::end(self.db.conn(), "layer", &entry.key)?;
        }
        for entry in journal::abandoned(self.db.conn(), "blob")? {
            let digest = Digest::from_hex(&entry.key)
                .map_err(|e| StoreError::Corrupt(format!("journal blob key {}: {e}", entry.key)))?;
            let claimed: bool = self.db.conn().query_row(
                "SELECT EXISTS(SELECT 1 FROM layers WHERE diff_id = ?1)",
                [digest.to_string()],
                |r| r.get(0),
            )?;
            if !claimed {
                self.content.remove(&digest)?;
            }
            journal::end(self.db.conn(), "blob", &entry.key)?;
        }
        Ok(())
    }
}

/// Journal kind of a layer chain whose last reference went (key: the top layer's chain ID).
const RELEASE: &str = "layer-release";

/// Closes the entry [`Store::begin_release`] opened when the layer stays referenced (a loaded
/// image's row now holds it); in the caller's transaction.
pub fn end_release(conn: &rusqlite::Connection, top: &Digest) -> Result<(), MetaError> {
    journal::end(conn, RELEASE, &top.to_string())
}
