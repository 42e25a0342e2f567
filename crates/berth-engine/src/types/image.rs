//! Image types: `image inspect`, `images`, `history`, `rmi`, `image prune`.

use std::collections::BTreeMap;

use berth_image::config::ContainerConfig;
use serde::{Deserialize, Serialize};

/// `GraphDriver` of image and container inspect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriverData {
    /// Driver facts (`LowerDir`, `UpperDir`...), `null` for drivers without any.
    pub data: Option<BTreeMap<String, String>>,
    /// Driver name.
    pub name: String,
}

/// `RootFS` of image inspect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFsInfo {
    /// Always `layers`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Diff IDs, bottom first.
    pub layers: Vec<String>,
}

/// `Metadata` of image inspect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageMetadata {
    /// When the image was last tagged (`0001-01-01T00:00:00Z` if never).
    pub last_tag_time: String,
}

/// `docker image inspect` of one image.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// `sha256:` image ID.
    #[serde(rename = "Id")]
    pub id: String,
    /// Tags in familiar form.
    pub repo_tags: Vec<String>,
    /// Digest references in familiar form.
    pub repo_digests: Vec<String>,
    /// Parent image ID or `""`.
    pub parent: String,
    /// Comment.
    pub comment: String,
    /// Creation time, RFC 3339 with nanoseconds.
    pub created: String,
    /// Source container of a commit, or `""`.
    pub container: String,
    /// That container's config.
    pub container_config: ContainerConfig,
    /// Engine version that built it.
    pub docker_version: String,
    /// Author.
    pub author: String,
    /// Default container config.
    pub config: ContainerConfig,
    /// Architecture.
    pub architecture: String,
    /// CPU variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS.
    pub os: String,
    /// Total size of all layers.
    pub size: i64,
    /// Same as `Size` (kept for old clients).
    pub virtual_size: i64,
    /// Storage details of the top layer.
    pub graph_driver: GraphDriverData,
    /// Layers.
    #[serde(rename = "RootFS")]
    pub root_fs: RootFsInfo,
    /// Tag time.
    pub metadata: ImageMetadata,
}

/// One entry of `GET /images/json` (`docker images` builds its rows from these).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// Number of containers using it (`-1`: not computed).
    pub containers: i64,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// `sha256:` image ID.
    #[serde(rename = "Id")]
    pub id: String,
    /// Labels of the image config.
    pub labels: Option<BTreeMap<String, String>>,
    /// Parent image ID or `""`.
    pub parent_id: String,
    /// Digest references.
    pub repo_digests: Vec<String>,
    /// Tags.
    pub repo_tags: Vec<String>,
    /// Shared size (`-1`: not computed).
    pub shared_size: i64,
    /// Size.
    pub size: i64,
    /// Same as `Size`.
    pub virtual_size: i64,
}

/// One row of `GET /images/{name}/history`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// Image ID for steps that are local images, else `<missing>`.
    #[serde(rename = "Id")]
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The step's command.
    pub created_by: String,
    /// Tags of the image at this step.
    pub tags: Option<Vec<String>>,
    /// Bytes the step's layer added.
    pub size: i64,
    /// Comment.
    pub comment: String,
}

/// What `rmi` did, one line each (`Untagged: x`, `Deleted: sha256:...`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ImageDeleteItem {
    /// A name was removed.
    Untagged(String),
    /// An image or layer was deleted.
    Deleted(String),
}

/// What `image prune` removed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePruneReport {
    /// Each untag and delete, in order (`null` when none, as Docker sends it).
    #[serde(serialize_with = "empty_as_null", default)]
    pub images_deleted: Vec<ImageDeleteItem>,
    /// Bytes freed.
    pub space_reclaimed: u64,
}

/// An empty list as `null` (Go's nil slice).
fn empty_as_null<S: serde::Serializer, T: Serialize>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

/// `Descriptor` of `GET /distribution/{name}/json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistributionDescriptor {
    /// The manifest's media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size.
    pub size: u64,
}

/// `GET /distribution/{name}/json`: what the registry has under a name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionInspect {
    /// The manifest (or index) the name resolves to.
    pub descriptor: DistributionDescriptor,
    /// The platforms it offers.
    pub platforms: Vec<berth_registry::DescriptorPlatform>,
}
