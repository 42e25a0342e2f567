//! `history`: an image's build steps, newest first, with the size each step's layer added.

use berth_image::store::ImageStore;

use super::list::familiar_names;
use crate::types::HistoryItem;
use crate::{Engine, EngineError};

impl Engine {
    /// `docker history NAME`.
    pub fn image_history(&mut self, name: &str) -> Result<Vec<HistoryItem>, EngineError> {
        let (image, _) = self.resolve_image(name)?;
        let layers = match &image.top_layer {
            Some(top) => self.store.layer_chain(top)?,
            None => Vec::new(),
        };
        let images = ImageStore::new(&mut self.store);
        let mut layer_iter = layers.iter();
        let mut rows = Vec::new();
        for h in &image.config.history {
            let size = if h.empty_layer {
                0
            } else {
                layer_iter.next().map(|l| l.size as i64).unwrap_or(0)
            };
            let created = h
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|t| t.timestamp())
                .unwrap_or(0);
            rows.push(HistoryItem {
                id: "<missing>".into(),
                created,
                created_by: h.created_by.clone().unwrap_or_default(),
                tags: None,
                size,
                comment: h.comment.clone().unwrap_or_default(),
            });
        }
        rows.reverse();
        // Each image of the parent chain owns the newest entries its parent does not have; the
        // first of them is shown with that image's ID and tags (Docker's `<missing>` elsewhere).
        let mut index = 0;
        let mut current = Some(image);
        while let Some(img) = current {
            let parent = match &img.parent {
                Some(p) => images.get(p)?,
                None => None,
            };
            if let Some(row) = rows.get_mut(index) {
                row.id = img.id.to_string();
                let (tags, _) = familiar_names(&images, &img)?;
                row.tags = (!tags.is_empty()).then_some(tags);
            }
            let inherited = parent.as_ref().map_or(0, |p| p.config.history.len());
            index += img.config.history.len().saturating_sub(inherited).max(1);
            current = parent;
        }
        Ok(rows)
    }
}
