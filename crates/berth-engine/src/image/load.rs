//! `load`: images from a docker-save archive or an OCI layout, with their tags.

use std::io::Read;

use berth_image::load::{load_archive, LoadedImage};
use berth_image::progress::Progress;

use crate::{Engine, EngineError};

impl Engine {
    /// Loads every image of the archive read from `input`.
    pub fn load_images(
        &mut self,
        input: impl Read,
        progress: &dyn Progress,
    ) -> Result<Vec<LoadedImage>, EngineError> {
        let loaded = load_archive(&mut self.store, input, progress)?;
        for image in &loaded {
            let id = image.id.to_string();
            self.emit_image(&id, &id, "load");
        }
        Ok(loaded)
    }
}
