//! `diff`: what a container changed in its writable layer, as Docker lists it (spec §1.5). The
//! init layer (hosts, hostname, `/.dockerenv`...) is below the compared layer, so it never shows.

use berth_store::archive::Change;

use crate::{Engine, EngineError};

impl Engine {
    /// `docker diff NAME`, sorted by path.
    pub fn container_changes(&mut self, name: &str) -> Result<Vec<Change>, EngineError> {
        let c = self.container(name)?;
        Ok(self.store.driver().changes(&c.id, Some(c.init_layer()))?)
    }
}
