//! `import`: a root-filesystem tarball becomes a one-layer image, optionally tagged.

use std::io::Read;

use berth_image::import::{import_rootfs, ImportOptions};
use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};
use berth_store::digest::Digest;

use crate::{Engine, EngineError};

impl Engine {
    /// Imports `tarball` as an image, tagging it `reference` if given; returns the image ID.
    pub fn import_image(
        &mut self,
        tarball: impl Read,
        reference: Option<&str>,
        opts: &ImportOptions,
    ) -> Result<Digest, EngineError> {
        // Validate the name before reading anything, like Docker.
        let reference = reference
            .map(|r| -> Result<Reference, EngineError> {
                let r = Reference::parse_tag_target(r)?;
                Ok(r.with_default_tag())
            })
            .transpose()?;
        let image = import_rootfs(&mut self.store, tarball, opts)?;
        let id = image.id.to_string();
        self.emit_image(&id, &id, "import");
        if let Some(r) = reference {
            ImageStore::new(&mut self.store).set_name(&r.to_string(), &image.id, RefKind::Tag)?;
            self.emit_image(&id, &r.familiar_string(), "tag");
        }
        Ok(image.id)
    }
}
