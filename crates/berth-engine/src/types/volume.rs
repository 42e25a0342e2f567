//! Volume types: `volume inspect`/`ls` objects and the `system df` usage data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `UsageData` of a volume in `GET /system/df`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeUsage {
    /// Containers referencing it.
    pub ref_count: i64,
    /// Bytes (`-1`: not computed).
    pub size: i64,
}

/// A volume as Docker's API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeInfo {
    /// Creation time, RFC 3339 seconds.
    pub created_at: String,
    /// Driver.
    pub driver: String,
    /// Labels or `null`.
    pub labels: Option<BTreeMap<String, String>>,
    /// Host path of its data.
    pub mountpoint: String,
    /// Name.
    pub name: String,
    /// Options as given, or `null`.
    pub options: Option<BTreeMap<String, String>>,
    /// `local`, or `global` for a plugin that says so.
    pub scope: String,
    /// A plugin's status for the volume (inspect only; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<serde_json::Map<String, serde_json::Value>>,
    /// Only in `system df`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsage>,
}

/// What `volume prune` removed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumePruneReport {
    /// Names, in the order removed.
    pub volumes_deleted: Vec<String>,
    /// Bytes freed.
    pub space_reclaimed: u64,
}
