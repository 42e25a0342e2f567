//! `commit`: a new image from a container — its image's layers plus one layer holding the
//! container's writable-layer changes (none when nothing changed), with the container's config
//! (and `--change`s) as the image's defaults. Volumes, binds, tmpfs and the init layer are never
//! part of it. A running container is paused while its layer is read.

use std::io::{BufReader, BufWriter, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use berth_image::change::apply_change;
use berth_image::config::{History, ImageConfig, RootFs, ENGINE_VERSION};
use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};
use berth_store::digest::Digest;

use super::Status;
use crate::{Engine, EngineError};

/// A `commit` request.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    /// `REPOSITORY[:TAG]`.
    pub reference: Option<String>,
    /// `-a`.
    pub author: Option<String>,
    /// `-m`.
    pub message: Option<String>,
    /// `-c` instructions.
    pub changes: Vec<String>,
    /// `-p` (default true): pause a running container while committing.
    pub pause: bool,
}

impl Engine {
    /// `docker commit`; returns the new image's ID.
    pub fn commit_container(
        &mut self,
        name: &str,
        req: &CommitRequest,
    ) -> Result<Digest, EngineError> {
        let c = self.container(name)?;
        let reference = req
            .reference
            .as_deref()
            .map(Reference::parse_tag_target)
            .transpose()?;
        let mut config = c.config.clone();
        for change in &req.changes {
            apply_change(&mut config, change).map_err(berth_image::import::ImportError::Change)?;
        }
        let parent_id = Digest::parse(&c.image_id).ok();
        let parent = match &parent_id {
            Some(id) => ImageStore::new(&mut self.store).get(id)?,
            None => None,
        };
        let base = parent
            .as_ref()
            .map(|p| p.config.clone())
            .unwrap_or_default();

        let runtime = self.runtime_of(&c);
        let paused = req.pause && c.state.status == Status::Running && runtime.pause(&c.id).is_ok();
        let layer = self.commit_layer(&c);
        if paused {
            let _ = runtime.resume(&c.id);
        }
        let layer = layer?;

        let now = crate::now();
        let mut diff_ids = base.rootfs.diff_ids.clone();
        if let Some(l) = &layer {
            diff_ids.push(l.diff_id.clone());
        }
        let mut history = base.history.clone();
        history.push(History {
            created: Some(now.clone()),
            created_by: Some(c.command().join(" ")),
            author: req.author.clone(),
            comment: req.message.clone(),
            empty_layer: layer.is_none(),
        });
        let image = ImageConfig {
            architecture: if base.architecture.is_empty() {
                berth_image::import::host_architecture().into()
            } else {
                base.architecture.clone()
            },
            author: req.author.clone(),
            comment: req.message.clone(),
            config: Some(config),
            container: Some(c.id.clone()),
            container_config: Some(c.config.clone()),
            created: Some(now),
            docker_version: Some(ENGINE_VERSION.into()),
            history,
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids,
            },
            variant: base.variant.clone(),
            ..Default::default()
        };
        let mut images = ImageStore::new(&mut self.store);
        let record = match images.create(image.to_bytes(), parent_id.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                if let Some(l) = layer {
                    let _ = self.store.release_chain_hold(&l.chain_id, true);
                }
                return Err(e.into());
            }
        };
        if let Some(l) = &layer {
            self.store.release_chain_hold(&l.chain_id, false)?;
        }
        let mut image_ref = String::new();
        if let Some(r) = reference {
            ImageStore::new(&mut self.store).set_name(&r.to_string(), &record.id, RefKind::Tag)?;
            image_ref = r.familiar_string();
            self.emit_image(&record.id.to_string(), &image_ref, "tag");
        }
        self.emit_container(
            &c,
            "commit",
            &[
                ("comment", req.message.clone().unwrap_or_default()),
                ("imageID", record.id.to_string()),
                ("imageRef", image_ref),
            ],
        );
        Ok(record.id)
    }

    /// The container's changes as a new layer on its image's top layer, or `None` if it
    /// changed nothing.
    pub(crate) fn commit_layer(
        &mut self,
        c: &super::Container,
    ) -> Result<Option<berth_store::layer::Layer>, EngineError> {
        // A remapped container's changes carry host ids: the layer gets the container's.
        let ids = self.remap_for(&c.host_config).map(|r| r.id_maps());
        self.layer_from_changes(&c.id, Some(c.init_layer()), c.top_layer.as_ref(), ids)
    }

    /// What the driver layer `id` changed over `base` (a container's init layer, a scratch
    /// layer's parent), registered as a layer on `parent`; `None` when it changed nothing.
    /// Shared by `commit` and the builder. The layer is held (see
    /// [`berth_store::Store::register_layer_held`]) until the caller's image points at it and
    /// the caller calls `release_chain_hold`: a process killed in between leaves no layer that
    /// nothing references, the next one to open the store frees it.
    pub(crate) fn layer_from_changes(
        &mut self,
        id: &str,
        base: Option<&str>,
        parent: Option<&Digest>,
        ids: Option<berth_store::archive::IdMaps>,
    ) -> Result<Option<berth_store::layer::Layer>, EngineError> {
        if self.store.driver().changes(id, base)?.is_empty() {
            return Ok(None);
        }
        // The diff streams through a pipe into the layer store (which hashes, keeps and unpacks
        // it as it reads), written by a thread with a driver handle of its own, instead of
        // going through a staged file first.
        let driver = self
            .store
            .driver_kind()
            .open(self.store.root())
            .map_err(EngineError::Io)?;
        let (reader, writer) = std::io::pipe()?;
        let complete = Arc::new(AtomicBool::new(false));
        let done = complete.clone();
        std::thread::scope(|s| {
            let diff = s.spawn(move || -> Result<(), EngineError> {
                let mut w = BufWriter::with_capacity(1 << 20, writer);
                driver.write_diff_as(id, base, &mut w, ids.as_ref())?;
                w.flush()?;
                done.store(true, Ordering::SeqCst);
                Ok(())
            });
            let stream = UntilComplete {
                inner: BufReader::with_capacity(1 << 20, reader),
                complete,
            };
            let registered = self.store.register_layer_held(parent, None, stream);
            // The reader is gone now, so a writer still going stops (on a broken pipe).
            let wrote = diff.join().expect("diff writer");
            match (registered, wrote) {
                (Ok(layer), Ok(())) => Ok(Some(layer)),
                (Ok(layer), Err(e)) => {
                    let _ = self.store.release_chain_hold(&layer.chain_id, true);
                    Err(e)
                }
                (Err(e), _) => Err(e.into()),
            }
        })
    }
}

/// A pipe's reading end that fails at its end unless the writer said it wrote everything, so a
/// writer that failed half way is an error, never a short layer.
struct UntilComplete<R> {
    inner: R,
    complete: Arc<AtomicBool>,
}

impl<R: Read> Read for UntilComplete<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.complete.load(Ordering::SeqCst) {
            return Err(std::io::Error::other(
                "the layer's diff ended before it was complete",
            ));
        }
        Ok(n)
    }
}
