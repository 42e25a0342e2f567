//! [`VolumePlugin`]: an activated plugin that implements `VolumeDriver`, with one typed method
//! per protocol call (`Create`, `Remove`, `Mount`, `Unmount`, `Path`, `Get`, `List`,
//! `Capabilities`). Deadlines are dockerd's: two minutes for the calls that may do storage work
//! (create, remove, mount, unmount), one minute for the others. An answer with an `Err` is an
//! error with that text, as dockerd reports it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::client::Client;
use super::discovery::{Address, Discovery};
use super::{PluginError, VOLUME_DRIVER};

const LONG: Duration = Duration::from_secs(120);
const SHORT: Duration = Duration::from_secs(60);

/// A volume as a plugin describes it (`Get`, `List`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PluginVolume {
    /// Name.
    pub name: String,
    /// Host path of its data, if the plugin says (often only while mounted).
    pub mountpoint: String,
    /// The plugin's creation time, if it says.
    pub created_at: Option<String>,
    /// Free-form status (`volume inspect`'s `Status`).
    pub status: Option<serde_json::Map<String, Value>>,
}

/// What `Capabilities` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `local` or `global`.
    pub scope: String,
}

/// An activated volume plugin.
pub struct VolumePlugin {
    name: String,
    client: Client,
    capabilities: Capabilities,
}

impl std::fmt::Debug for VolumePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VolumePlugin")
            .field("name", &self.name)
            .finish()
    }
}

fn err_field(method: &str, v: &Value) -> Result<(), PluginError> {
    match v.get("Err") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(Value::String(s)) => Err(PluginError::Remote(s.clone())),
        Some(other) => Err(PluginError::Decode {
            method: method.to_string(),
            reason: format!("Err is not a string: {other}"),
        }),
    }
}

fn string_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string()
}

fn volume_of(method: &str, v: &Value) -> Result<PluginVolume, PluginError> {
    let status = match v.get("Status") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(other) => {
            return Err(PluginError::Decode {
                method: method.into(),
                reason: format!("Status is not an object: {other}"),
            })
        }
    };
    Ok(PluginVolume {
        name: string_field(v, "Name"),
        mountpoint: string_field(v, "Mountpoint"),
        created_at: v
            .get("CreatedAt")
            .and_then(|c| c.as_str())
            .map(str::to_string),
        status,
    })
}

impl VolumePlugin {
    /// Finds plugin `name` and activates it: `Plugin.Activate` (retried while the plugin starts)
    /// must list `VolumeDriver`; then asks for its `Capabilities`, as dockerd does.
    pub fn activate(discovery: &Discovery, name: &str) -> Result<VolumePlugin, PluginError> {
        let addr: Address = discovery.locate(name)?;
        let client = Client::new(&addr)?;
        let answer = client.call("Plugin.Activate", None, SHORT)?;
        let implements = answer
            .get("Implements")
            .and_then(|i| i.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str()).collect::<Vec<_>>())
            .unwrap_or_default();
        if !implements.contains(&VOLUME_DRIVER) {
            return Err(PluginError::NotImplemented(name.to_string()));
        }
        let mut plugin = VolumePlugin {
            name: name.to_string(),
            client,
            capabilities: Capabilities {
                scope: "local".into(),
            },
        };
        plugin.capabilities = plugin.fetch_capabilities()?;
        Ok(plugin)
    }

    /// What the plugin said at activation.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, method: &str, body: Value, timeout: Duration) -> Result<Value, PluginError> {
        let answer = self.client.call(method, Some(&body), timeout)?;
        err_field(method, &answer)?;
        Ok(answer)
    }

    /// `VolumeDriver.Create`; `opts` is sent as `null` when none were given, as dockerd does.
    pub fn create(
        &self,
        name: &str,
        opts: Option<&BTreeMap<String, String>>,
    ) -> Result<(), PluginError> {
        self.call(
            "VolumeDriver.Create",
            json!({"Name": name, "Opts": opts}),
            LONG,
        )?;
        Ok(())
    }

    /// `VolumeDriver.Remove`.
    pub fn remove(&self, name: &str) -> Result<(), PluginError> {
        self.call("VolumeDriver.Remove", json!({"Name": name}), LONG)?;
        Ok(())
    }

    /// `VolumeDriver.Mount` for caller `id`: the host path to bind.
    pub fn mount(&self, name: &str, id: &str) -> Result<String, PluginError> {
        let v = self.call("VolumeDriver.Mount", json!({"Name": name, "ID": id}), LONG)?;
        Ok(string_field(&v, "Mountpoint"))
    }

    /// `VolumeDriver.Unmount` for caller `id`.
    pub fn unmount(&self, name: &str, id: &str) -> Result<(), PluginError> {
        self.call(
            "VolumeDriver.Unmount",
            json!({"Name": name, "ID": id}),
            LONG,
        )?;
        Ok(())
    }

    /// `VolumeDriver.Path`: where the volume is mounted, empty if the plugin does not say.
    pub fn path(&self, name: &str) -> Result<String, PluginError> {
        let v = self.call("VolumeDriver.Path", json!({"Name": name}), SHORT)?;
        Ok(string_field(&v, "Mountpoint"))
    }

    /// `VolumeDriver.Get`.
    pub fn get(&self, name: &str) -> Result<PluginVolume, PluginError> {
        let method = "VolumeDriver.Get";
        let v = self.call(method, json!({"Name": name}), SHORT)?;
        match v.get("Volume") {
            Some(vol @ Value::Object(_)) => volume_of(method, vol),
            _ => Err(PluginError::Remote(format!(
                "no such volume {name} in plugin {}",
                self.name
            ))),
        }
    }

    /// `VolumeDriver.List`.
    pub fn list(&self) -> Result<Vec<PluginVolume>, PluginError> {
        let method = "VolumeDriver.List";
        let v = self.call(method, json!({}), SHORT)?;
        match v.get("Volumes") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a.iter().map(|x| volume_of(method, x)).collect(),
            Some(other) => Err(PluginError::Decode {
                method: method.into(),
                reason: format!("Volumes is not a list: {other}"),
            }),
        }
    }

    /// `VolumeDriver.Capabilities`; a plugin without the call (404) is `local`, as in dockerd.
    pub fn fetch_capabilities(&self) -> Result<Capabilities, PluginError> {
        match self.call("VolumeDriver.Capabilities", json!({}), SHORT) {
            Ok(v) => {
                let scope = v
                    .get("Capabilities")
                    .and_then(|c| c.get("Scope"))
                    .and_then(|s| s.as_str())
                    .map(str::to_lowercase)
                    .unwrap_or_default();
                Ok(Capabilities {
                    scope: if scope == "global" {
                        "global".into()
                    } else {
                        "local".into()
                    },
                })
            }
            Err(e) if e.is_not_found_status() => Ok(Capabilities {
                scope: "local".into(),
            }),
            Err(e) => Err(e),
        }
    }
}
