//! `pull`: an image from a registry into the store, as Docker's daemon pulls it. The manifest is
//! resolved (through an index to this machine's platform, or `--platform`'s), the config
//! fetched and checked against the manifest, the missing layers fetched by
//! [`super::fetch::fetch_layers`], and the image recorded with its tag and its repository digest
//! (`name@sha256:…` of the manifest pulled). Progress goes out as Docker's messages. Docker Hub's
//! mirrors are tried first; an image a mirror lacks comes from Docker Hub itself.

use berth_image::config::ImageConfig;
use berth_image::platform::Platform;
use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};
use berth_registry::manifest::{ImageManifest, Manifest};
use berth_registry::{Access, RegistryError, Repository};
use berth_store::blob_source::BlobSource;
use berth_store::digest::Digest;
use berth_store::layer::chain_id;

use super::fetch::{fetch_layers, LayerPlan};
use super::registry::RegistryAuth;
use super::TransferError;
use crate::types::{ProgressMessage, ProgressSink};
use crate::{Engine, EngineError};

/// Largest image config accepted.
const MAX_CONFIG: u64 = 32 << 20;

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Every tag of the repository (`pull -a`).
    pub all_tags: bool,
    /// `--platform` (`linux/arm64`); `None`: this machine's.
    pub platform: Option<String>,
    /// Where credentials come from.
    pub auth: RegistryAuth,
}

/// One image a pull stored (or found up to date).
#[derive(Debug, Clone)]
pub struct PullOutcome {
    /// The reference pulled, in familiar form (`localhost:5000/team/app:1`).
    pub reference: String,
    /// The image ID.
    pub id: Digest,
    /// The digest of the manifest pulled (a list's, for a multi-platform image).
    pub digest: Digest,
    /// False when the name already pointed at this image ("Image is up to date").
    pub downloaded: bool,
}

impl Engine {
    /// `docker pull [-a] [--platform P] NAME[:TAG|@DIGEST]`. A name alone means `:latest`
    /// (unless `-a`).
    pub fn pull_image(
        &mut self,
        name: &str,
        opts: &PullOptions,
        progress: &dyn ProgressSink,
    ) -> Result<Vec<PullOutcome>, EngineError> {
        let reference = Reference::parse(name)?;
        let platform = opts
            .platform
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(Platform::parse)
            .transpose()
            .map_err(TransferError::InvalidPlatform)?;
        let registry = self.registry(&opts.auth);
        // As dockerd: one `Status` line and one `pull` event for what was asked, the
        // repository's name for `-a` (every tag, in the registry's order).
        let (asked, out) = if !opts.all_tags {
            let r = reference.with_default_tag();
            let one = self.pull_one(&registry, &r, platform.as_ref(), progress)?;
            (r, vec![one])
        } else {
            if !reference.is_name_only() {
                return Err(TransferError::TagWithAllTags.into());
            }
            let repo =
                registry.repository(reference.domain(), reference.path(), Access::Pull, &[])?;
            let tags = repo.tags(&reference.familiar_name())?;
            let mut out = Vec::new();
            for tag in tags {
                let r = reference.with_tag(&tag)?;
                out.push(self.pull_one(&registry, &r, platform.as_ref(), progress)?);
            }
            (reference, out)
        };
        let display = asked.familiar_string();
        progress.send(ProgressMessage::status(
            None,
            if out.iter().any(|o| o.downloaded) {
                format!("Status: Downloaded newer image for {display}")
            } else {
                format!("Status: Image is up to date for {display}")
            },
        ));
        let labels = match out.as_slice() {
            [one] => self.image_labels(&one.id.to_string()),
            _ => None,
        };
        self.emit_image_labeled(&display, &asked.familiar_name(), "pull", labels);
        Ok(out)
    }

    fn pull_one(
        &mut self,
        registry: &berth_registry::Registry,
        r: &Reference,
        platform: Option<&Platform>,
        progress: &dyn ProgressSink,
    ) -> Result<PullOutcome, EngineError> {
        let display = r.familiar_string();
        let (wanted, line_id) = match (r.digest(), r.tag()) {
            (Some(d), _) => (d.to_string(), display.clone()),
            (None, Some(t)) => (t.to_string(), t.to_string()),
            (None, None) => unreachable!("pulls have a tag or a digest"),
        };
        let (repo, top) = resolve(registry, r, &wanted, &display)?;
        progress.send(ProgressMessage::status(
            Some(&line_id),
            format!("Pulling from {}", r.path()),
        ));
        let (manifest, _) = image_manifest(&repo, &top, platform, &display)?;
        manifest.check_layers(&display)?;
        let config_bytes = repo.blob_bytes(&manifest.config.digest, MAX_CONFIG)?;
        let config =
            ImageConfig::parse(&config_bytes).map_err(|e| TransferError::InvalidConfig {
                image: display.clone(),
                reason: e.to_string(),
            })?;
        if let Some(p) = platform {
            let actual = Platform::of_image(&config);
            if !p.matches(&actual) {
                return Err(TransferError::PlatformMismatch {
                    image: display,
                    wanted: p.to_string(),
                    actual: actual.to_string(),
                }
                .into());
            }
        }
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != manifest.layers.len() {
            return Err(TransferError::LayerCountMismatch {
                image: display,
                layers: manifest.layers.len(),
                diff_ids: diff_ids.len(),
            }
            .into());
        }
        let mut plan = Vec::new();
        let mut parent: Option<Digest> = None;
        for (blob, diff_id) in manifest.layers.iter().zip(diff_ids) {
            let digest = Digest::parse(&blob.digest).map_err(|e| TransferError::BadDigest {
                digest: blob.digest.clone(),
                reason: e.to_string(),
            })?;
            let chain = chain_id(parent.as_ref(), diff_id);
            plan.push(LayerPlan {
                blob: blob.clone(),
                digest,
                diff_id: diff_id.clone(),
                present: self.store.layer(&chain)?.is_some(),
                chain: chain.clone(),
            });
            parent = Some(chain);
        }
        let id = Digest::of_bytes(&config_bytes);
        let image_known = ImageStore::new(&mut self.store).get(&id)?.is_some();
        if !image_known || plan.iter().any(|p| !p.present) {
            for p in plan.iter().filter(|p| p.present) {
                progress.send(ProgressMessage::layer(p.short(), "Already exists"));
            }
            let top_layer = fetch_layers(&mut self.store, &repo, &plan, progress)?;
            let created = ImageStore::new(&mut self.store).create(config_bytes, None);
            if let Some(t) = &top_layer {
                self.store.release_chain_hold(t, created.is_err())?;
            }
            created?;
        }
        for p in &plan {
            self.store.add_blob_source(&BlobSource {
                diff_id: p.diff_id.clone(),
                digest: p.digest.clone(),
                registry: r.domain().to_string(),
                repository: r.path().to_string(),
                media_type: p.blob.media_type.clone(),
                size: p.blob.size,
            })?;
        }
        let mut images = ImageStore::new(&mut self.store);
        let mut downloaded = !image_known;
        if r.digest().is_none() {
            let tag_name = r.to_string();
            if images.lookup_name(&tag_name)?.as_ref() != Some(&id) {
                downloaded = true;
            }
            images.set_name(&tag_name, &id, RefKind::Tag)?;
        }
        let digest_name = format!("{}@{}", r.name(), top.digest);
        images.set_name(&digest_name, &id, RefKind::Digest)?;
        progress.send(ProgressMessage::status(
            None,
            format!("Digest: {}", top.digest),
        ));
        Ok(PullOutcome {
            reference: display,
            id,
            digest: top.digest,
            downloaded,
        })
    }
}

/// The session and the manifest `wanted` names, from the first endpoint that has it (mirrors
/// that lack it or fail give way to the registry itself).
fn resolve(
    registry: &berth_registry::Registry,
    r: &Reference,
    wanted: &str,
    display: &str,
) -> Result<(Repository, berth_registry::client::FetchedManifest), EngineError> {
    let endpoints = registry.endpoints(r.domain());
    let last = endpoints.len() - 1;
    for (i, endpoint) in endpoints.iter().enumerate() {
        let attempt = registry
            .connect(endpoint, r.domain(), r.path(), Access::Pull, &[])
            .and_then(|repo| repo.manifest(wanted, display).map(|m| (repo, m)));
        match attempt {
            Ok(found) => return Ok(found),
            Err(e) if i < last && (endpoint.mirror || e.is_transient()) => {
                log::debug!("{}: {e}; trying the next endpoint", endpoint.base);
            }
            Err(e) if i < last && matches!(e, RegistryError::Tls(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the last endpoint returns")
}

/// The image manifest for this platform: `top` itself, or the entry of the index `top` is.
fn image_manifest(
    repo: &Repository,
    top: &berth_registry::client::FetchedManifest,
    platform: Option<&Platform>,
    display: &str,
) -> Result<(ImageManifest, Digest), EngineError> {
    match Manifest::parse(&top.bytes, &top.content_type, display)? {
        Manifest::Image(m) => Ok((*m, top.digest.clone())),
        Manifest::Index(index) => {
            let host = Platform::host();
            let entry = index.select(platform.unwrap_or(&host))?;
            let fetched = repo.manifest(&entry.digest, display)?;
            match Manifest::parse(&fetched.bytes, &fetched.content_type, display)? {
                Manifest::Image(m) => Ok((*m, fetched.digest)),
                Manifest::Index(_) => Err(TransferError::NestedIndex(display.to_string()).into()),
            }
        }
    }
}
