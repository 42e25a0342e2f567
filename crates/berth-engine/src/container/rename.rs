//! `rename`.

use berth_store::metadata::containers;
use berth_store::metadata::MetaError;

use super::names;
use crate::{Engine, EngineError};

impl Engine {
    /// `docker rename OLD NEW`.
    pub fn rename_container(&mut self, old: &str, new: &str) -> Result<(), EngineError> {
        let c = self.container(old)?;
        let new = names::validate(new)?;
        if new == c.name {
            return Err(names::NameError::RenameSame.into());
        }
        let result = self
            .store
            .db_mut()
            .write(|tx| containers::rename(tx, &c.id, &new));
        match result {
            Ok(()) => {
                let mut renamed = c.clone();
                renamed.name = new;
                self.emit_container(&renamed, "rename", &[("oldName", format!("/{}", c.name))]);
                Ok(())
            }
            Err(MetaError::Exists(_)) => {
                let owner = self
                    .lookup_container(&new)
                    .map(|o| o.id)
                    .unwrap_or_default();
                Err(
                    names::NameError::RenameTaken(Box::new(names::NameError::InUse {
                        name: new,
                        owner,
                    }))
                    .into(),
                )
            }
            Err(e) => Err(e.into()),
        }
    }
}
