//! `rmi`: untag and delete images with Docker's rules. Given a name, the name is removed (with
//! the repository's digest names when it was the repository's last tag) and the image deleted
//! only if no other name is left; given an ID, an image with several names needs
//! `-f`, which removes them all; an image with child images is never deleted. Each refusal is
//! an [`ImageRemoveError`] in dockerd's words (409).

use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};

use super::Designation;
use crate::types::ImageDeleteItem;
use crate::{Engine, EngineError};

/// An image `rmi` must not delete, in dockerd's words (409).
#[derive(Debug, thiserror::Error)]
pub enum ImageRemoveError {
    /// The last name of an image a container uses, without `-f`.
    #[error("conflict: unable to remove repository reference \"{name}\" (must force) - container {container} is using its referenced image {image}")]
    ReferenceInUse {
        /// The name as given.
        name: String,
        /// The container's short ID.
        container: String,
        /// The image's short ID.
        image: String,
    },
    /// An image a running container uses: not even `-f` deletes it.
    #[error("conflict: unable to delete {image} (cannot be forced) - image is being used by running container {container}")]
    UsedByRunning {
        /// The image's short ID.
        image: String,
        /// The container's short ID.
        container: String,
    },
    /// An image with names in several repositories, by ID without `-f`.
    #[error("conflict: unable to delete {0} (must be forced) - image is referenced in multiple repositories")]
    SeveralRepositories(String),
    /// An image a stopped container uses, without `-f`.
    #[error("conflict: unable to delete {image} (must be forced) - image is being used by stopped container {container}")]
    UsedByStopped {
        /// The image's short ID.
        image: String,
        /// The container's short ID.
        container: String,
    },
    /// An image other images are built on.
    #[error(
        "conflict: unable to delete {0} (cannot be forced) - image has dependent child images"
    )]
    HasChildren(String),
}

impl Engine {
    /// `docker rmi [-f] NAME`; an `untag` event for each name removed and a `delete` event if
    /// the image went (both name the image by its ID, as Docker's do).
    pub fn remove_image(
        &mut self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteItem>, EngineError> {
        let (image, _) = self.resolve_image(name)?;
        let id = image.id.to_string();
        let labels = self.image_labels(&id);
        let report = self.remove_image_untraced(name, force)?;
        for item in &report {
            let action = match item {
                ImageDeleteItem::Untagged(_) => "untag",
                ImageDeleteItem::Deleted(d) if *d == id => "delete",
                ImageDeleteItem::Deleted(_) => continue,
            };
            self.emit_image_labeled(&id, &id, action, labels.clone());
        }
        Ok(report)
    }

    fn remove_image_untraced(
        &mut self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteItem>, EngineError> {
        let (image, designation) = self.resolve_image(name)?;
        let short = image.id.short().to_string();
        let users = self.containers_using_image(&image.id.to_string())?;
        let mut report = Vec::new();
        let mut images = ImageStore::new(&mut self.store);
        let names = images.names(Some(&image.id))?;
        // Docker's rule: a running container's image is never deleted.
        let running_user = users.iter().any(|(_, running)| *running);
        let familiar = |n: &str| {
            Reference::parse(n)
                .map(|r| r.familiar_string())
                .unwrap_or_else(|_| n.to_string())
        };
        match designation {
            Designation::Name(r) => {
                // Docker's rule: when the last tag of a repository goes, the digest names of
                // that repository (`repo@sha256:…`, from a pull or push) go with it.
                let mut gone = vec![r.to_string()];
                let same_repo = |n: &str| Reference::parse(n).is_ok_and(|x| x.name() == r.name());
                if r.digest().is_none()
                    && !names
                        .iter()
                        .any(|n| n.kind == RefKind::Tag && n.name != gone[0] && same_repo(&n.name))
                {
                    gone.extend(
                        names
                            .iter()
                            .filter(|n| n.kind == RefKind::Digest && same_repo(&n.name))
                            .map(|n| n.name.clone()),
                    );
                }
                let remaining = names.iter().filter(|n| !gone.contains(&n.name)).count();
                if remaining == 0 && !force {
                    if let Some((user, _)) = users.first() {
                        return Err(ImageRemoveError::ReferenceInUse {
                            name: name.to_string(),
                            container: user[..12].to_string(),
                            image: short,
                        }
                        .into());
                    }
                }
                for g in &gone {
                    images.remove_name(g)?;
                    report.push(ImageDeleteItem::Untagged(familiar(g)));
                }
                if remaining > 0 {
                    return Ok(report);
                }
            }
            Designation::Id => {
                if let Some((user, _)) = users.iter().find(|(_, running)| *running) {
                    return Err(ImageRemoveError::UsedByRunning {
                        image: short,
                        container: user[..12].to_string(),
                    }
                    .into());
                }
                if names.len() > 1 && !force {
                    return Err(ImageRemoveError::SeveralRepositories(short).into());
                }
                if !force {
                    if let Some((user, _)) = users.first() {
                        return Err(ImageRemoveError::UsedByStopped {
                            image: short,
                            container: user[..12].to_string(),
                        }
                        .into());
                    }
                }
                for n in &names {
                    images.remove_name(&n.name)?;
                    report.push(ImageDeleteItem::Untagged(familiar(&n.name)));
                }
            }
        }
        if images.has_children(&image.id)? {
            if report.is_empty() {
                return Err(ImageRemoveError::HasChildren(short).into());
            }
            return Ok(report);
        }
        if running_user {
            return Ok(report);
        }
        let freed = images.delete(&image.id)?;
        report.push(ImageDeleteItem::Deleted(image.id.to_string()));
        report.extend(
            freed
                .into_iter()
                .map(|l| ImageDeleteItem::Deleted(l.chain_id.to_string())),
        );
        Ok(report)
    }
}
