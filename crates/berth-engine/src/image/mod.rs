//! Image verbs of the [`Engine`]; this module resolves user-given image names and IDs the way
//! Docker's daemon does (`GetImage`): a full ID first, then a name, then a unique ID prefix.

use berth_image::reference::{ImageLookup, Reference};
use berth_image::store::{ImageRecord, ImageStore};
use berth_store::digest::Digest;

use crate::{Engine, EngineError};

mod distribution;
mod fetch;
mod history;
mod import;
mod inspect;
mod list;
mod load;
mod login;
mod prune;
mod pull;
mod push;
mod registry;
mod remove;
mod save;
mod search;
mod tag;
mod transfer_error;

pub use fetch::PULL_WORKERS;
pub use pull::{PullOptions, PullOutcome};
pub use push::{PushOptions, PushOutcome, PUSH_WORKERS};
pub use registry::RegistryAuth;
pub use remove::ImageRemoveError;
pub use save::SaveFormat;
pub use search::{SearchRequestError, DEFAULT_SEARCH_LIMIT};
pub use transfer_error::TransferError;

/// How a user designated an image: by name (tags matter for `rmi`) or by ID.
#[derive(Debug, Clone)]
pub enum Designation {
    /// By a name that exists; the normalized full reference.
    Name(Reference),
    /// By full ID or a unique prefix.
    Id,
}

impl Engine {
    /// The image images commands act on when given `s`.
    pub fn resolve_image(&mut self, s: &str) -> Result<(ImageRecord, Designation), EngineError> {
        let images = ImageStore::new(&mut self.store);
        let not_found = |s: &str| {
            // Docker reports names with their default tag, IDs and prefixes as given.
            match Reference::parse(s) {
                Ok(r) if !looks_like_hex(s) => {
                    EngineError::NoSuchImage(r.lookup_reference().familiar_string())
                }
                _ => EngineError::NoSuchImage(s.to_string()),
            }
        };
        let lookup = ImageLookup::parse(s).map_err(|_| not_found(s))?;
        match lookup {
            ImageLookup::Id(id) => {
                let id = Digest::parse(&id).map_err(|_| not_found(s))?;
                let rec = images.get(&id)?.ok_or_else(|| not_found(s))?;
                Ok((rec, Designation::Id))
            }
            ImageLookup::Name {
                reference,
                id_prefix,
            } => {
                let full = reference.lookup_reference();
                if let Some(id) = images.lookup_name(&full.to_string())? {
                    let rec = images.get(&id)?.ok_or_else(|| not_found(s))?;
                    return Ok((rec, Designation::Name(full)));
                }
                if let Some(prefix) = id_prefix {
                    let ids = images.ids_with_prefix(&prefix)?;
                    if ids.len() == 1 {
                        let rec = images.get(&ids[0])?.ok_or_else(|| not_found(s))?;
                        return Ok((rec, Designation::Id));
                    }
                }
                Err(not_found(s))
            }
        }
    }
}

impl Engine {
    /// The labels of image `id` (`sha256:…`), if it exists.
    pub(crate) fn image_labels(
        &mut self,
        id: &str,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let id = Digest::parse(id).ok()?;
        let image = ImageStore::new(&mut self.store).get(&id).ok()??;
        image.config.config.and_then(|c| c.labels)
    }
}

fn looks_like_hex(s: &str) -> bool {
    let h = s.strip_prefix("sha256:").unwrap_or(s);
    !h.is_empty()
        && h.len() <= 64
        && h.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && s.starts_with("sha256:")
}

/// Image ID in the short form `docker images` prints.
pub fn short_id(id: &Digest) -> String {
    id.short().to_string()
}
