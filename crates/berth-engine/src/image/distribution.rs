//! `GET /distribution/{name}/json`: what a registry has under a name — the manifest's
//! descriptor and the platforms it serves — without pulling anything.

use berth_image::config::ImageConfig;
use berth_image::reference::Reference;
use berth_registry::manifest::Manifest;
use berth_registry::{Access, DescriptorPlatform};

use super::registry::RegistryAuth;
use super::TransferError;
use crate::types::{DistributionDescriptor, DistributionInspect};
use crate::{Engine, EngineError};

impl Engine {
    /// The descriptor and platforms of `name` (`:latest` when it has no tag) in its registry.
    pub fn distribution_inspect(
        &self,
        name: &str,
        auth: &RegistryAuth,
    ) -> Result<DistributionInspect, EngineError> {
        let r = Reference::parse(name)?.with_default_tag();
        let display = r.familiar_string();
        let wanted = r.digest().or(r.tag()).unwrap_or("latest").to_string();
        let registry = self.registry(auth);
        let repo = registry.repository(r.domain(), r.path(), Access::Pull, &[])?;
        let fetched = repo.manifest(&wanted, &display)?;
        let manifest = Manifest::parse(&fetched.bytes, &fetched.content_type, &display)?;
        let (media_type, platforms) = match manifest {
            Manifest::Index(index) => (
                index.media_type.clone(),
                index
                    .manifests
                    .iter()
                    .filter_map(|d| d.platform.clone())
                    .collect(),
            ),
            Manifest::Image(m) => {
                let config = repo.blob_bytes(&m.config.digest, 32 << 20)?;
                let config =
                    ImageConfig::parse(&config).map_err(|e| TransferError::InvalidConfig {
                        image: display.to_string(),
                        reason: e.to_string(),
                    })?;
                (m.media_type.clone(), vec![DescriptorPlatform::of(&config)])
            }
        };
        Ok(DistributionInspect {
            descriptor: DistributionDescriptor {
                media_type: if media_type.is_empty() {
                    fetched.content_type.clone()
                } else {
                    media_type
                },
                digest: fetched.digest.to_string(),
                size: fetched.bytes.len() as u64,
            },
            platforms,
        })
    }
}
