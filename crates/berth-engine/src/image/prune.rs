//! `image prune`: delete the images `filters` select among those no container uses — dangling
//! ones (no tag) unless `dangling=false` asks for every unused one — then the untagged parents
//! that deleting them left behind; report what went and the space it freed.

use std::collections::HashSet;

use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};
use berth_store::digest::Digest;

use crate::filters::Filters;
use crate::types::{ImageDeleteItem, ImagePruneReport};
use crate::{Engine, EngineError};

/// An image a prune deletes: its ID, how many names it lost, its labels (for its events).
type Gone = (
    Digest,
    usize,
    Option<std::collections::BTreeMap<String, String>>,
);

impl Engine {
    /// `docker image prune [-a] [--filter …]`, with Docker's keys: `dangling` (`false`/`0`:
    /// every unused image; `true`/`1`: dangling ones, the default), `until`, `label`, `label!`.
    /// The filters are checked before anything is deleted; an image with no labels does not
    /// match `label=…` (so it is kept).
    pub fn prune_images(&mut self, filters: &Filters) -> Result<ImagePruneReport, EngineError> {
        filters.validate(&["dangling", "label", "label!", "until"])?;
        let dangling_only = if !filters.contains("dangling") {
            true
        } else if filters.has_value("dangling", "false") || filters.has_value("dangling", "0") {
            false
        } else if filters.has_value("dangling", "true") || filters.has_value("dangling", "1") {
            true
        } else {
            return Err(filters.bad_value("dangling").into());
        };
        let until = filters.until(chrono::Utc::now())?;
        let used: HashSet<String> = self
            .all_containers()?
            .into_iter()
            .map(|c| c.image_id)
            .collect();
        let mut report = ImagePruneReport::default();
        let mut gone: Vec<Gone> = Vec::new();
        let mut images = ImageStore::new(&mut self.store);
        let mut chosen = Vec::new();
        for image in images.list()? {
            let names = images.names(Some(&image.id))?;
            let tagged = names.iter().any(|n| n.kind == RefKind::Tag);
            if used.contains(&image.id.to_string())
                || images.has_children(&image.id)?
                || (dangling_only && tagged)
            {
                continue;
            }
            if until.is_some_and(|u| image.config.created_time() > u) {
                continue;
            }
            let labels = image.config.config.as_ref().and_then(|c| c.labels.clone());
            if !filters.match_labels(&labels.unwrap_or_default()) {
                continue;
            }
            gone.push((image.id.clone(), 0, labels_of(&image)));
            chosen.push(image.id);
        }
        // Deleting an image may leave its parent dangling and childless: it goes too, as
        // Docker's delete-with-prune does, whatever the filters say of it.
        let mut parents = Vec::new();
        for id in chosen {
            let parent = images.get(&id)?.and_then(|i| i.parent);
            let untagged = delete(&mut images, &id, &mut report)?;
            if let Some(g) = gone.iter_mut().find(|g| g.0 == id) {
                g.1 = untagged;
            }
            parents.extend(parent);
        }
        while let Some(id) = parents.pop() {
            let Some(image) = images.get(&id)? else {
                continue;
            };
            if used.contains(&id.to_string())
                || !images.names(Some(&id))?.is_empty()
                || images.has_children(&id)?
            {
                continue;
            }
            let untagged = delete(&mut images, &id, &mut report)?;
            gone.push((id, untagged, labels_of(&image)));
            parents.extend(image.parent);
        }
        // Docker's events for each image: an untag per name, then its delete (both named by
        // the image's ID), and one prune event with the space reclaimed.
        for (id, untagged, labels) in gone {
            let id = id.to_string();
            for _ in 0..untagged {
                self.emit_image_labeled(&id, &id, "untag", labels.clone());
            }
            self.emit_image_labeled(&id, &id, "delete", labels);
        }
        let reclaimed = report.space_reclaimed.to_string();
        let attributes = std::collections::BTreeMap::from([("reclaimed".to_string(), reclaimed)]);
        self.emit(crate::events::IMAGE, "prune", "", attributes);
        Ok(report)
    }
}

fn labels_of(
    image: &berth_image::store::ImageRecord,
) -> Option<std::collections::BTreeMap<String, String>> {
    image.config.config.as_ref().and_then(|c| c.labels.clone())
}

/// Untags and deletes image `id`, recording both in `report`; returns how many names it had.
fn delete(
    images: &mut ImageStore<'_>,
    id: &Digest,
    report: &mut ImagePruneReport,
) -> Result<usize, EngineError> {
    let names = images.names(Some(id))?;
    let untagged = names.len();
    for n in names {
        images.remove_name(&n.name)?;
        report.images_deleted.push(ImageDeleteItem::Untagged(
            Reference::parse(&n.name)
                .map(|r| r.familiar_string())
                .unwrap_or(n.name),
        ));
    }
    let freed = images.delete(id)?;
    report
        .images_deleted
        .push(ImageDeleteItem::Deleted(id.to_string()));
    for l in freed {
        report.space_reclaimed += l.size;
        report
            .images_deleted
            .push(ImageDeleteItem::Deleted(l.chain_id.to_string()));
    }
    Ok(untagged)
}
