//! Volume plugins: Docker's legacy plugin protocol (HTTP/JSON over a unix socket or TCP), so
//! any storage backend that implements `VolumeDriver` serves berth's volumes. This module owns
//! finding a plugin by name ([`discovery`]), talking to it with Docker's retry and timeout rules
//! ([`client`]) and the `VolumeDriver` calls themselves ([`driver`]); the volume store decides
//! when to call them. berth has no daemon, so every process activates the plugins it uses
//! itself (a `Plugin.Activate` per command, where dockerd activates once).

pub mod client;
pub mod discovery;
pub mod driver;

pub use driver::{Capabilities, PluginVolume, VolumePlugin};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The plugins this process activated, by name (dockerd's in-memory registry: a long-lived
/// `berth serve` activates each plugin once).
static ACTIVE: Mutex<BTreeMap<String, Arc<VolumePlugin>>> = Mutex::new(BTreeMap::new());

/// Volume plugin `name`, activated on first use in this process (found where dockerd looks).
pub fn volume_plugin(name: &str) -> Result<Arc<VolumePlugin>, PluginError> {
    if let Some(p) = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
        return Ok(p.clone());
    }
    // Activation may wait for a starting plugin: not under the lock.
    let plugin = Arc::new(VolumePlugin::activate(
        &discovery::Discovery::default(),
        name,
    )?);
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    Ok(active.entry(name.to_string()).or_insert(plugin).clone())
}

/// Whether plugin `name` is found and accepts a connection now (no retries): the repair pass
/// asks before it calls a plugin, so a plugin that is down does not stall every command.
pub fn reachable(name: &str) -> bool {
    match discovery::Discovery::default().locate(name) {
        Ok(discovery::Address::Unix(path)) => std::os::unix::net::UnixStream::connect(path).is_ok(),
        Ok(discovery::Address::Tcp(hostport)) => {
            use std::net::ToSocketAddrs;
            hostport
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .is_some_and(|a| {
                    std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2))
                        .is_ok()
                })
        }
        Err(_) => false,
    }
}

/// A volume plugin found where dockerd looks, that accepts connections and activated as a
/// `VolumeDriver` (what `GET /plugins` lists).
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Its name.
    pub name: String,
    /// Its socket's file name (`NAME.sock`), empty for a TCP address.
    pub socket: String,
    /// The activated plugin.
    pub plugin: Arc<VolumePlugin>,
}

/// Every volume plugin that can be used now, by name: plugins that do not accept connections
/// are skipped without waiting for them, as are plugins that do not implement `VolumeDriver`.
pub fn discovered_volume_plugins() -> Vec<Discovered> {
    let discovery = discovery::Discovery::default();
    let mut out: Vec<Discovered> = discovery
        .scan()
        .into_iter()
        .filter(|name| reachable(name))
        .filter_map(|name| {
            let plugin = volume_plugin(&name).ok()?;
            let socket = match discovery.locate(&name) {
                Ok(discovery::Address::Unix(p)) => p
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            Some(Discovered {
                name,
                socket,
                plugin,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The capability a plugin must list in `Implements` to serve volumes.
pub const VOLUME_DRIVER: &str = "VolumeDriver";

/// Failures to find or talk to a plugin. `Display` is the text dockerd shows for the same case.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// No socket or spec file of that name.
    #[error("plugin {0:?} not found")]
    NotFound(String),
    /// The plugin answered `Plugin.Activate` without `VolumeDriver` in `Implements`.
    #[error("Plugin does not implement the requested driver")]
    NotImplemented(String),
    /// A spec file that names no usable address.
    #[error("{path}: {reason}")]
    Spec {
        /// The spec file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting or talking to the plugin failed (after retrying for 30 seconds), in Go's
    /// `Post "URL": detail` form.
    #[error("Post {url:?}: {detail}")]
    Transport {
        /// The request URL as Go prints it.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The plugin answered with a status other than 200: `METHOD: its Err text (or body)`.
    #[error("{method}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The called method (`VolumeDriver.Create`).
        method: String,
        /// The plugin's `Err`, or its body.
        message: String,
    },
    /// The plugin answered 200 with a non-empty `Err`: dockerd shows the text alone.
    #[error("{0}")]
    Remote(String),
    /// The answer is not the JSON the protocol defines.
    #[error("{method}: error reading plugin resp: {reason}")]
    Decode {
        /// The called method.
        method: String,
        /// The JSON error.
        reason: String,
    },
}

impl PluginError {
    /// Whether the plugin said 404 (a method it does not implement, as for `Capabilities`).
    pub fn is_not_found_status(&self) -> bool {
        matches!(self, PluginError::Status { status: 404, .. })
    }
}
