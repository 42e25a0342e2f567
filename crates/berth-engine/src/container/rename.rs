//! `rename`.

use super::names;
use crate::{Engine, EngineError};

impl Engine {
    /// `docker rename OLD NEW`.
    pub fn rename_container(&mut self, old: &str, new: &str) -> Result<(), EngineError> {
        let c = self.container(old)?;
        let new = names::validate(new)?;
        if new == c.name {
            return Err(EngineError::InvalidArgument(
                "Renaming a container with the same name as its current name".into(),
            ));
        }
        let result = self.store.db_mut().write(|tx| {
            tx.execute(
                "UPDATE containers SET name = ?2 WHERE id = ?1",
                [&c.id, &new],
            )
        });
        match result {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                let owner = self
                    .lookup_container(&new)
                    .map(|o| o.id)
                    .unwrap_or_default();
                Err(EngineError::Conflict(format!(
                    "Error when allocating new name: {}",
                    super::create::name_conflict(&new, &owner)
                )))
            }
            Err(e) => Err(e.into()),
        }
    }
}
