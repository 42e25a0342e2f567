//! `image prune`: delete dangling images (untagged, no children) or, with `all`, every image no
//! container uses; report what went and the space it freed.

use berth_image::store::ImageStore;

use crate::types::{ImageDeleteItem, ImagePruneReport};
use crate::{Engine, EngineError};

impl Engine {
    /// `docker image prune [-a]`.
    pub fn prune_images(&mut self, all: bool) -> Result<ImagePruneReport, EngineError> {
        let mut report = ImagePruneReport::default();
        // Deleting an image can make its parent dangling: repeat until nothing changes.
        loop {
            let used: std::collections::HashSet<String> = self
                .all_containers()?
                .into_iter()
                .map(|c| c.image_id)
                .collect();
            let mut images = ImageStore::new(&mut self.store);
            let mut victim = None;
            for image in images.list()? {
                if used.contains(&image.id.to_string()) {
                    continue;
                }
                let names = images.names(Some(&image.id))?;
                if (all || names.is_empty()) && !images.has_children(&image.id)? {
                    victim = Some((image, names));
                    break;
                }
            }
            let Some((image, names)) = victim else { break };
            for n in names {
                images.remove_name(&n.name)?;
                report.images_deleted.push(ImageDeleteItem::Untagged(
                    berth_image::reference::Reference::parse(&n.name)
                        .map(|r| r.familiar_string())
                        .unwrap_or(n.name),
                ));
            }
            let freed = images.delete(&image.id)?;
            report
                .images_deleted
                .push(ImageDeleteItem::Deleted(image.id.to_string()));
            for l in freed {
                report.space_reclaimed += l.size;
                report
                    .images_deleted
                    .push(ImageDeleteItem::Deleted(l.chain_id.to_string()));
            }
        }
        Ok(report)
    }
}
