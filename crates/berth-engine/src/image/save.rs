//! `save`: images out as one archive.

use std::io::Write;

use berth_image::progress::Progress;
use berth_image::reference::Reference;
use berth_image::save::{save_images, SaveItem};
use berth_image::store::{ImageStore, RefKind};

use super::Designation;
use crate::{Engine, EngineError};

pub use berth_image::save::SaveFormat;

impl Engine {
    /// Writes the named images to `out`. A name saves that tag; a bare repository name saves
    /// all of its tags; an ID saves the image without names.
    pub fn save_images<W: Write>(
        &mut self,
        names: &[String],
        format: SaveFormat,
        out: W,
        progress: &dyn Progress,
    ) -> Result<W, EngineError> {
        let items = self.save_items(names)?;
        let out = save_images(&self.store, &items, format, out, progress)?;
        for item in &items {
            let id = item.image.id.to_string();
            self.emit_image(&id, &id, "save");
        }
        Ok(out)
    }

    /// Fails as [`Engine::save_images`] would for a name that names nothing, writing nothing
    /// (an API answer checks before its archive starts).
    pub fn check_saveable(&mut self, names: &[String]) -> Result<(), EngineError> {
        self.save_items(names).map(|_| ())
    }

    /// What `names` save: each image with the name it is saved under.
    fn save_items(&mut self, names: &[String]) -> Result<Vec<SaveItem>, EngineError> {
        let mut items: Vec<SaveItem> = Vec::new();
        for name in names {
            let repo_tags = self.repository_tags(name)?;
            let (image, designation) = match self.resolve_image(name) {
                Ok(v) => v,
                Err(EngineError::NoSuchImage(_)) if !repo_tags.is_empty() => {
                    for (r, id) in repo_tags {
                        let image = ImageStore::new(&mut self.store)
                            .get(&id)?
                            .ok_or_else(|| EngineError::NoSuchImage(name.clone()))?;
                        push_item(&mut items, image, Some(r));
                    }
                    continue;
                }
                Err(EngineError::NoSuchImage(_)) => {
                    return Err(EngineError::NoSuchImage(name.clone()))
                }
                Err(e) => return Err(e),
            };
            let reference = match designation {
                Designation::Name(r) if r.tag().is_some() => Some(r),
                _ => None,
            };
            push_item(&mut items, image, reference);
        }
        Ok(items)
    }

    /// For a bare repository name (`busybox`): every tag of that repository.
    fn repository_tags(
        &mut self,
        name: &str,
    ) -> Result<Vec<(Reference, berth_store::digest::Digest)>, EngineError> {
        let Ok(r) = Reference::parse(name) else {
            return Ok(Vec::new());
        };
        if !r.is_name_only() {
            return Ok(Vec::new());
        }
        let prefix = format!("{}:", r.name());
        Ok(ImageStore::new(&mut self.store)
            .names(None)?
            .into_iter()
            .filter(|n| n.kind == RefKind::Tag && n.name.starts_with(&prefix))
            .filter_map(|n| Reference::parse(&n.name).ok().map(|r| (r, n.image_id)))
            .collect())
    }
}

fn push_item(
    items: &mut Vec<SaveItem>,
    image: berth_image::store::ImageRecord,
    name: Option<Reference>,
) {
    if let Some(existing) = items.iter_mut().find(|i| i.image.id == image.id) {
        if let Some(n) = name {
            if !existing.names.contains(&n) {
                existing.names.push(n);
            }
        }
        return;
    }
    items.push(SaveItem {
        image,
        names: name.into_iter().collect(),
    });
}
