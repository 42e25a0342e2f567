//! [`Plugin`]: one entry of `GET /plugins` in Docker's `types.Plugin` shape. berth lists the
//! legacy volume plugins it can use (dockerd lists only managed plugins, which berth has none
//! of); the docker CLI (`plugin ls`, `plugin inspect`) and docker-py read these entries.

use serde::Serialize;

/// A plugin, as `GET /plugins` and `GET /plugins/{name}/json` answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Plugin {
    /// A stable ID: the sha256 of `legacy:NAME` (legacy plugins have none of their own).
    #[serde(rename = "Id")]
    pub id: String,
    /// The plugin's name (its socket's or spec file's stem).
    pub name: String,
    /// Always true: a legacy plugin is there as long as its socket answers.
    pub enabled: bool,
    /// Empty: not pulled from anywhere.
    pub plugin_reference: String,
    /// Nothing settable.
    pub settings: PluginSettings,
    /// What it implements.
    pub config: PluginConfig,
}

/// `Settings`: empty lists.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PluginSettings {
    /// `[]`.
    pub args: Vec<String>,
    /// `[]`.
    pub devices: Vec<serde_json::Value>,
    /// `[]`.
    pub env: Vec<String>,
    /// `[]`.
    pub mounts: Vec<serde_json::Value>,
}

/// `Config`: the interface; the rest as Docker shows an empty config.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PluginConfig {
    /// `""`.
    pub docker_version: String,
    /// Says it is a legacy plugin and its scope.
    pub description: String,
    /// `""`.
    pub documentation: String,
    /// Its types (`docker.volumedriver/1.0`) and socket.
    pub interface: PluginInterface,
    /// `[]`.
    pub entrypoint: Vec<String>,
    /// `""`.
    pub work_dir: String,
    /// `{"Type": ""}`.
    pub network: serde_json::Value,
    /// `{"Capabilities": [], "AllowAllDevices": false, "Devices": []}`.
    pub linux: serde_json::Value,
    /// `""`.
    pub propagated_mount: String,
    /// `false`.
    pub ipc_host: bool,
    /// `false`.
    pub pid_host: bool,
    /// `[]`.
    pub mounts: Vec<serde_json::Value>,
    /// `[]`.
    pub env: Vec<serde_json::Value>,
    /// Empty arguments.
    pub args: serde_json::Value,
}

/// `Config.Interface`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PluginInterface {
    /// `docker.volumedriver/1.0`.
    pub types: Vec<String>,
    /// The socket's file name.
    pub socket: String,
    /// `""`.
    pub protocol_scheme: String,
}
