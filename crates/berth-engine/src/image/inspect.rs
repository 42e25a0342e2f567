//! `image inspect`: one image as Docker's JSON.

use berth_image::store::ImageStore;

use super::list::familiar_names;
use crate::types::{GraphDriverData, ImageInspect, ImageMetadata, RootFsInfo};
use crate::{Engine, EngineError};

/// `LastTagTime` of an image never tagged.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Engine {
    /// `docker image inspect NAME`.
    pub fn inspect_image(&mut self, name: &str) -> Result<ImageInspect, EngineError> {
        let (image, _) = self.resolve_image(name)?;
        let driver = self.store.driver();
        let graph = match &image.top_layer {
            Some(top) => {
                let layer = self
                    .store
                    .layer(top)?
                    .ok_or_else(|| EngineError::MissingLayer(top.to_string()))?;
                let data = driver.metadata(&layer.cache_id);
                GraphDriverData {
                    data: (!data.is_empty()).then_some(data),
                    name: driver.name().to_string(),
                }
            }
            None => GraphDriverData {
                data: None,
                name: driver.name().to_string(),
            },
        };
        let images = ImageStore::new(&mut self.store);
        let (repo_tags, repo_digests) = familiar_names(&images, &image)?;
        let last_tag = images
            .names(Some(&image.id))?
            .into_iter()
            .map(|n| n.created_at)
            .max()
            .unwrap_or_else(|| ZERO_TIME.to_string());
        let c = &image.config;
        Ok(ImageInspect {
            id: image.id.to_string(),
            repo_tags,
            repo_digests,
            parent: image
                .parent
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            comment: c.comment.clone().unwrap_or_default(),
            created: c.created.clone().unwrap_or_else(|| ZERO_TIME.to_string()),
            container: c.container.clone().unwrap_or_default(),
            container_config: c.container_config.clone().unwrap_or_default(),
            docker_version: c.docker_version.clone().unwrap_or_default(),
            author: c.author.clone().unwrap_or_default(),
            config: c.config.clone().unwrap_or_default(),
            architecture: c.architecture.clone(),
            variant: c.variant.clone(),
            os: c.os.clone(),
            size: image.size as i64,
            virtual_size: image.size as i64,
            graph_driver: graph,
            root_fs: RootFsInfo {
                kind: c.rootfs.kind.clone(),
                layers: c.rootfs.diff_ids.iter().map(|d| d.to_string()).collect(),
            },
            metadata: ImageMetadata {
                last_tag_time: last_tag,
            },
        })
    }
}
