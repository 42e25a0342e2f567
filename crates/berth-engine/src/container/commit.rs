//! `commit`: a new image from a container — its image's layers plus one layer holding the
//! container's writable-layer changes (none when nothing changed), with the container's config
//! (and `--change`s) as the image's defaults. Volumes, binds, tmpfs and the init layer are never
//! part of it. A running container is paused while its layer is read.

use std::io::{BufReader, Seek, SeekFrom};

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
            apply_change(&mut config, change)
                .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
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
                    let _ = self.store.release_layer(&l.chain_id);
                }
                return Err(e.into());
            }
        };
        let mut image_ref = String::new();
        if let Some(r) = reference {
            images.set_name(&r.to_string(), &record.id, RefKind::Tag)?;
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
        self.layer_from_changes(&c.id, &c.init_layer(), c.top_layer.as_ref())
    }

    /// What the driver layer `id` changed over `base` (its init layer), registered as a layer on
    /// `parent`; `None` when it changed nothing. Shared by `commit` and the builder.
    pub(crate) fn layer_from_changes(
        &mut self,
        id: &str,
        base: &str,
        parent: Option<&Digest>,
    ) -> Result<Option<berth_store::layer::Layer>, EngineError> {
        if self.store.driver().changes(id, Some(base))?.is_empty() {
            return Ok(None);
        }
        let staged = self.store.staging_path("commit")?;
        let result = (|| -> Result<berth_store::layer::Layer, EngineError> {
            let mut file = std::fs::File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&staged)?;
            self.store.driver().write_diff(id, Some(base), &mut file)?;
            file.seek(SeekFrom::Start(0))?;
            Ok(self
                .store
                .register_layer(parent, None, BufReader::with_capacity(1 << 20, file))?)
        })();
        let _ = std::fs::remove_file(&staged);
        result.map(Some)
    }
}
