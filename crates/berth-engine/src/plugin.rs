//! The plugin verbs (`GET /plugins`, `GET /plugins/{name}/json`): the legacy volume plugins
//! found where dockerd looks and answering now, as Docker-shaped [`Plugin`]s, with the
//! `capability` and `enable` filters of `docker plugin ls`. berth runs no managed plugins.

use crate::filters::Filters;
use crate::types::{Plugin, PluginConfig, PluginInterface, PluginSettings};
use crate::{Engine, EngineError};
use berth_volume::plugin::{discovered_volume_plugins, Discovered};

/// The capability every listed plugin has, as `docker plugin ls --filter capability=` names it.
const CAPABILITY: &str = "volumedriver";

fn entry(d: &Discovered) -> Plugin {
    Plugin {
        id: berth_store::digest::Digest::of_bytes(format!("legacy:{}", d.name).as_bytes())
            .hex()
            .to_string(),
        name: d.name.clone(),
        enabled: true,
        plugin_reference: String::new(),
        settings: PluginSettings::default(),
        config: PluginConfig {
            docker_version: String::new(),
            description: format!(
                "legacy volume plugin ({} scope)",
                d.plugin.capabilities().scope
            ),
            documentation: String::new(),
            interface: PluginInterface {
                types: vec![format!("docker.{CAPABILITY}/1.0")],
                socket: d.socket.clone(),
                protocol_scheme: String::new(),
            },
            entrypoint: Vec::new(),
            work_dir: String::new(),
            network: serde_json::json!({"Type": ""}),
            linux: serde_json::json!({"Capabilities": [], "AllowAllDevices": false, "Devices": []}),
            propagated_mount: String::new(),
            ipc_host: false,
            pid_host: false,
            mounts: Vec::new(),
            env: Vec::new(),
            args: serde_json::json!({"Name": "", "Description": "", "Settable": [], "Value": []}),
        },
    }
}

impl Engine {
    /// `GET /plugins?filters=`: `capability` (any value matches, case-insensitive) and
    /// `enabled` (`true`/`false`), refused otherwise in Docker's words.
    pub fn list_plugins(&self, filters: &Filters) -> Result<Vec<Plugin>, EngineError> {
        filters.validate(&["capability", "enabled"])?;
        let enabled = filters.bool_value("enabled", false)?;
        if enabled == Some(false) {
            return Ok(Vec::new());
        }
        if filters.contains("capability")
            && !filters
                .get("capability")
                .any(|c| c.eq_ignore_ascii_case(CAPABILITY))
        {
            return Ok(Vec::new());
        }
        Ok(discovered_volume_plugins().iter().map(entry).collect())
    }

    /// `GET /plugins/{name}/json`: `NAME` or `NAME:latest`; dockerd's `plugin "NAME" not
    /// found` otherwise.
    pub fn inspect_plugin(&self, name: &str) -> Result<Plugin, EngineError> {
        let bare = name.strip_suffix(":latest").unwrap_or(name);
        discovered_volume_plugins()
            .iter()
            .find(|d| d.name == bare)
            .map(entry)
            .ok_or_else(|| EngineError::NoSuchPlugin(name.to_string()))
    }
}
