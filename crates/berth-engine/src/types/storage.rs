//! [`ContainerStorage`]: berth's answer to "where does each path of this container live, and
//! what happens to it on `rm`" — the JSON of `berth container storage` and of the berth-only
//! `GET /containers/{id}/storage`. Docker has no such object; field names follow its style.

use serde::{Deserialize, Serialize};

/// One container's storage, row by row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerStorage {
    /// Full container ID.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// `created`, `running`, `exited`...
    pub state: String,
    /// The graph driver of its layers (`overlay2`, `vfs`).
    pub driver: String,
    /// One row per path with its own backing: the image layers and the writable layer at `/`,
    /// the writable layer's changes split by directory, then each mount by destination.
    pub paths: Vec<StoragePath>,
    /// Bytes `rm` would discard (the writable layer, plus anonymous volumes that go with
    /// `--rm`); `rm -v` also discards [`ContainerStorage::anonymous_volume_bytes`].
    pub discarded_by_rm: u64,
    /// Bytes in the container's anonymous volumes (kept by `rm`, removed by `rm -v`).
    pub anonymous_volume_bytes: u64,
}

/// What backs a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backing {
    /// The image's read-only layers.
    Image,
    /// The container's copy-on-write layer.
    Layer,
    /// A volume, named or anonymous.
    Volume,
    /// A host path.
    Bind,
    /// Memory.
    Tmpfs,
}

/// How long what is written at a path lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lifetime {
    /// Read-only, kept with the image.
    Image,
    /// Removed with the container.
    Container,
    /// Outlives the container.
    Volume,
    /// Outlives the container; `rm -v` removes it.
    AnonymousVolume,
    /// The host's data.
    Host,
    /// In memory only; gone when the container stops.
    Memory,
}

impl Lifetime {
    /// The `LIFETIME` column.
    pub fn text(self) -> &'static str {
        match self {
            Lifetime::Image => "read-only, kept with the image",
            Lifetime::Container => "dies with rm",
            Lifetime::Volume => "outlives the container",
            Lifetime::AnonymousVolume => "outlives the container (rm -v removes it)",
            Lifetime::Host => "host data",
            Lifetime::Memory => "memory only, gone at stop",
        }
    }
}

/// One row of [`ContainerStorage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoragePath {
    /// Absolute path in the container.
    pub path: String,
    /// What backs it.
    #[serde(rename = "Type")]
    pub backing: Backing,
    /// The `BACKED BY` column: `3 image layers (5.2MB)`, `writable layer`, `volume db (local)`,
    /// `bind /srv/data`, `tmpfs (64MiB)`.
    pub backed_by: String,
    /// How long it lives.
    pub lifetime: Lifetime,
    /// Bytes the container wrote there: for the writable layer its changes (the `/` row of
    /// type `layer` is the total), for a volume what it holds, for a tmpfs what it holds while
    /// the container runs; `null` where berth does not measure (image layers, binds, a stopped
    /// container's tmpfs).
    pub written: Option<u64>,
    /// Changed entries behind `written` (writable layer rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// Volume name, bind host path, or the image as the container names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Volume driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Image layer count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<u64>,
    /// Image size, or a tmpfs's size limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Mounted read-only.
    pub read_only: bool,
}

/// One container's writable layer split by the directories that hold its changes
/// (`system df -v`, `container prune --dry-run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WritableLayer {
    /// Full container ID.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Bytes of all its changes (`SizeRw`).
    pub bytes: u64,
    /// Where they are, by path; they add up to `bytes`.
    pub dirs: Vec<LayerDir>,
}

/// One directory of a [`WritableLayer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerDir {
    /// Absolute path in the container (`/` for changes directly in the root).
    pub path: String,
    /// Bytes there that no more specific row holds.
    pub bytes: u64,
    /// Changed entries there.
    pub entries: u64,
}
