//! [`Manifest`] is what a registry answers for a tag or digest: an image manifest (Docker schema 2
//! or OCI) naming a config blob and layer blobs, or an index (Docker manifest list or OCI index)
//! naming one image manifest per [`Platform`]. Parsing refuses schema 1 with Docker's notice and
//! anything else it does not understand; [`Index::select`] picks the entry for a platform the way
//! Docker does (os, architecture, then variant).

use berth_image::platform::Platform;
use serde::{Deserialize, Serialize};

use crate::error::RegistryError;

/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker schema 1 manifests (refused).
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Signed Docker schema 1 manifests (refused).
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker gzip layer (what berth pushes).
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign (non-distributable) layer.
pub const DOCKER_LAYER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// What berth asks for in `Accept` when it fetches a manifest, most wanted first.
pub const ACCEPTED: &[&str] = &[
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    DOCKER_SCHEMA1_SIGNED,
    DOCKER_SCHEMA1,
];

/// The platform of an index entry as the registry writes it (`os.version` too); compared
/// through [`berth_image::platform::Platform`], which owns parsing and matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DescriptorPlatform {
    /// CPU architecture, in Go's names (`amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`).
    pub architecture: String,
    /// Operating system (`linux`, `windows`).
    pub os: String,
    /// CPU variant (`v7`, `v8`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl DescriptorPlatform {
    /// The platform an image config declares, in the registry's form.
    pub fn of(config: &berth_image::config::ImageConfig) -> DescriptorPlatform {
        DescriptorPlatform {
            architecture: config.architecture.clone(),
            os: config.os.clone(),
            variant: config.variant.clone(),
            os_version: None,
        }
    }

    /// This entry's platform, normalized for comparison.
    pub fn platform(&self) -> Platform {
        Platform::from_parts(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// A reference to content: its media type, size and digest (plus a platform in an index), in
/// the order Docker writes them, so a manifest berth writes is byte for byte Docker's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the content is.
    #[serde(default)]
    pub media_type: String,
    /// Bytes.
    pub size: u64,
    /// `sha256:...`.
    pub digest: String,
    /// Where foreign layers live (berth refuses those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// The platform of an index entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<DescriptorPlatform>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// An image manifest: one config blob and the layer blobs, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// Docker's or OCI's manifest media type.
    #[serde(default)]
    pub media_type: String,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, bottom first.
    pub layers: Vec<Descriptor>,
}

/// A manifest list or OCI index: one manifest per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// Docker's or OCI's index media type.
    #[serde(default)]
    pub media_type: String,
    /// The entries.
    pub manifests: Vec<Descriptor>,
}

impl Index {
    /// The entry for `platform`: the first whose platform matches, preferring an entry without
    /// a variant mismatch; entries without a platform count as `linux/amd64` nowhere.
    pub fn select(&self, platform: &Platform) -> Result<&Descriptor, RegistryError> {
        self.manifests
            .iter()
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| platform.matches(&p.platform()))
            })
            .ok_or_else(|| RegistryError::NoMatchingPlatform {
                wanted: platform.to_string(),
            })
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// An image manifest.
    Image(Box<ImageManifest>),
    /// An index of per-platform manifests.
    Index(Index),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

impl Manifest {
    /// Parses manifest `bytes` served with `content_type` for `reference` (named in errors).
    pub fn parse(
        bytes: &[u8],
        content_type: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let invalid =
            |e: String| RegistryError::Invalid(format!("invalid manifest for {reference}: {e}"));
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        let content_type = content_type.split(';').next().unwrap_or("").trim();
        let media = probe
            .media_type
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| content_type.to_string());
        if probe.schema_version == Some(1)
            || media == DOCKER_SCHEMA1
            || media == DOCKER_SCHEMA1_SIGNED
        {
            return Err(RegistryError::Schema1(reference.to_string()));
        }
        if media == OCI_INDEX || media == DOCKER_MANIFEST_LIST || probe.manifests.is_some() {
            let index: Index = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
            return Ok(Manifest::Index(index));
        }
        if !media.is_empty() && media != OCI_MANIFEST && media != DOCKER_MANIFEST {
            return Err(invalid(format!("unsupported manifest media type {media}")));
        }
        let manifest: ImageManifest =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if manifest.schema_version != 2 {
            return Err(invalid(format!(
                "unsupported schema version {}",
                manifest.schema_version
            )));
        }
        Ok(Manifest::Image(Box::new(manifest)))
    }
}

impl ImageManifest {
    /// Refuses layers berth cannot fetch or unpack: foreign (non-distributable) layers and media
    /// types that are not tar (plain, gzip or zstd).
    pub fn check_layers(&self, reference: &str) -> Result<(), RegistryError> {
        for l in &self.layers {
            let m = l.media_type.as_str();
            if m.contains("foreign") || m.contains("nondistributable") || l.urls.is_some() {
                return Err(RegistryError::Invalid(format!(
                    "{reference}: layer {} is a foreign (non-distributable) layer ({m}); berth does not fetch layers from outside the registry",
                    l.digest
                )));
            }
            let known = m.is_empty()
                || m == DOCKER_LAYER_GZIP
                || m == "application/vnd.docker.image.rootfs.diff.tar"
                || m.starts_with("application/vnd.oci.image.layer.v1.tar");
            if !known {
                return Err(RegistryError::Invalid(format!(
                    "{reference}: layer {} has media type {m}, which is not an image layer berth can unpack",
                    l.digest
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema1_is_refused_with_dockers_notice() {
        let s1 = br#"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#;
        let e = Manifest::parse(s1, DOCKER_SCHEMA1_SIGNED, "docker.io/library/x:1").unwrap_err();
        assert!(e.to_string().starts_with("[DEPRECATION NOTICE]"), "{e}");
        assert!(e
            .to_string()
            .contains("Suggest the author of docker.io/library/x:1"));
    }

    #[test]
    fn index_selects_the_platform() {
        let idx = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","size":1,"platform":{"architecture":"amd64","os":"linux"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cc","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}"#;
        let Manifest::Index(i) = Manifest::parse(idx, OCI_INDEX, "x").unwrap() else {
            panic!()
        };
        assert_eq!(
            i.select(&Platform::parse("linux/amd64").unwrap())
                .unwrap()
                .digest,
            "sha256:bb"
        );
        assert_eq!(
            i.select(&Platform::parse("linux/arm64").unwrap())
                .unwrap()
                .digest,
            "sha256:cc"
        );
        assert_eq!(
            i.select(&Platform::parse("linux/arm").unwrap())
                .unwrap()
                .digest,
            "sha256:aa"
        );
        let e = i
            .select(&Platform::parse("linux/s390x").unwrap())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no matching manifest for linux/s390x in the manifest list entries"
        );
    }

    #[test]
    fn foreign_layers_are_refused() {
        let m = ImageManifest {
            schema_version: 2,
            media_type: DOCKER_MANIFEST.into(),
            config: Descriptor {
                media_type: DOCKER_CONFIG.into(),
                digest: "sha256:aa".into(),
                size: 1,
                urls: None,
                platform: None,
                annotations: None,
            },
            layers: vec![Descriptor {
                media_type: DOCKER_LAYER_FOREIGN.into(),
                digest: "sha256:bb".into(),
                size: 1,
                urls: Some(vec!["https://example.invalid/l".into()]),
                platform: None,
                annotations: None,
            }],
        };
        let e = m.check_layers("x:1").unwrap_err().to_string();
        assert!(e.contains("foreign (non-distributable)"), "{e}");
    }
}
