//! `tag`: give an image another name.

use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};

use crate::{Engine, EngineError};

impl Engine {
    /// Points `target` (a repository with optional tag) at the image `source` designates.
    pub fn tag_image(&mut self, source: &str, target: &str) -> Result<(), EngineError> {
        let (image, _) = self.resolve_image(source)?;
        let target = Reference::parse_tag_target(target)?.with_default_tag();
        ImageStore::new(&mut self.store).set_name(&target.to_string(), &image.id, RefKind::Tag)?;
        self.emit_image(&image.id.to_string(), &target.familiar_string(), "tag");
        Ok(())
    }
}
