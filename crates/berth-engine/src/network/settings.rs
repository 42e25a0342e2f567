//! What a container's networking looks like from outside: `NetworkSettings` of inspect (filled
//! as Docker fills it: the default bridge's endpoint also at the top level, addresses only while
//! running, exposed ports `null` unless published), the `Ports` and `NetworkSettings` of a `ps`
//! entry, and `docker port`.

use std::collections::BTreeMap;

use berth_network::ports::{PortKey, PublishedPort};
use berth_network::sandbox::Sandbox;
use berth_store::metadata::networks::{self as rows, EndpointRow, NetworkRow};

use super::plan::Mode;
use super::{ipam_of, NetworkRequestError, BRIDGE, HOST, NONE};
use crate::container::{Container, ZERO_TIME};
use crate::types::{
    EndpointIpamConfig, EndpointSettings, NetworkSettings, PortMapping, SummaryNetworkSettings,
    SummaryPort,
};
use crate::{Engine, EngineError};

/// One line of `docker port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortLine {
    /// `80/tcp`.
    pub key: String,
    /// Host address.
    pub host_ip: String,
    /// Host port.
    pub host_port: u16,
}

fn published_of(e: &EndpointRow) -> Vec<PublishedPort> {
    e.ports
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default()
}

/// Whether `c` has its network set up: running or paused (a restarting container is between
/// two set-ups).
fn has_network(c: &Container) -> bool {
    use crate::container::Status;
    matches!(c.state.status, Status::Running | Status::Paused)
}

/// `key` sorted by number, then protocol.
fn port_order(key: &str) -> (u16, String) {
    match key.parse::<PortKey>() {
        Ok(k) => (k.port, k.proto.as_str().to_string()),
        Err(_) => (u16::MAX, key.to_string()),
    }
}

impl Engine {
    fn endpoint_settings(
        &self,
        c: &Container,
        e: &EndpointRow,
        n: Option<&NetworkRow>,
    ) -> EndpointSettings {
        let user_network = n.is_some_and(|n| n.name != BRIDGE);
        let mut aliases = e.aliases.clone();
        if user_network && c.state.status.is_running() {
            aliases.push(c.id[..12].to_string());
        }
        let prefix = n.and_then(ipam_of).map(|p| p.subnet.prefix_len());
        let running = e.ip.is_some();
        let never_started = c.state.started_at == ZERO_TIME && !running;
        EndpointSettings {
            ipam_config: e.ipam_ipv4.as_ref().map(|ip| EndpointIpamConfig {
                ipv4_address: ip.clone(),
                ..Default::default()
            }),
            links: (!e.links.is_empty()).then(|| {
                e.links
                    .iter()
                    .map(|l| match berth_network::links::parse_link(l) {
                        Ok((child, alias)) => format!("{child}:{alias}"),
                        Err(_) => l.clone(),
                    })
                    .collect()
            }),
            aliases: (!aliases.is_empty()).then_some(aliases),
            network_id: if never_started {
                String::new()
            } else {
                e.network_id.clone()
            },
            endpoint_id: e.endpoint_id.clone().unwrap_or_default(),
            gateway: if running {
                n.and_then(|n| n.gateway.clone()).unwrap_or_default()
            } else {
                String::new()
            },
            ip_address: e.ip.clone().unwrap_or_default(),
            ip_prefix_len: if running { prefix.unwrap_or(0) } else { 0 },
            ipv6_gateway: String::new(),
            global_ipv6_address: String::new(),
            global_ipv6_prefix_len: 0,
            mac_address: e
                .mac
                .clone()
                .or_else(|| e.mac_address.clone())
                .unwrap_or_default(),
            driver_opts: e
                .driver_opts
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok()),
        }
    }

    /// `Networks{}` of a container: by network name (a removed network by its ID).
    fn networks_of(
        &self,
        c: &Container,
    ) -> Result<(BTreeMap<String, EndpointSettings>, Vec<EndpointRow>), EngineError> {
        let conn = self.store.db().conn();
        let mut out = BTreeMap::new();
        let mode = Mode::of(&c.host_config.network_mode);
        let endpoints = rows::endpoints_of_container(conn, &c.id)?;
        match mode {
            Mode::None | Mode::Host => {
                let name = if mode == Mode::Host { HOST } else { NONE };
                let n = rows::network_by_name(conn, name)?;
                let never_started = c.state.started_at == ZERO_TIME;
                out.insert(
                    name.to_string(),
                    EndpointSettings {
                        network_id: match (&n, never_started) {
                            (Some(n), false) => n.id.clone(),
                            _ => String::new(),
                        },
                        ..Default::default()
                    },
                );
            }
            Mode::Container(_) => {}
            Mode::Bridge(_) => {
                for e in &endpoints {
                    let n = rows::network_by_id(conn, &e.network_id)?;
                    let key = n
                        .as_ref()
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| e.network_id.clone());
                    out.insert(key, self.endpoint_settings(c, e, n.as_ref()));
                }
            }
        }
        Ok((out, endpoints))
    }

    /// `NetworkSettings` of `docker inspect`.
    pub(crate) fn network_settings(&self, c: &Container) -> Result<NetworkSettings, EngineError> {
        let (networks, endpoints) = self.networks_of(c)?;
        let running = has_network(c);
        let sandbox = if running {
            Sandbox::load(&self.sandbox_state(&c.id)).ok().flatten()
        } else {
            None
        };
        let mut ports = BTreeMap::new();
        if running && matches!(Mode::of(&c.host_config.network_mode), Mode::Bridge(_)) {
            for k in c.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
                ports.insert(k.clone(), None);
            }
            if let Some(first) = endpoints.first() {
                for p in published_of(first) {
                    let list: &mut Option<Vec<PortMapping>> =
                        ports.entry(p.key().to_string()).or_insert(None);
                    list.get_or_insert_with(Vec::new).push(PortMapping {
                        host_ip: p.host_ip.to_string(),
                        host_port: p.host_port.to_string(),
                    });
                }
            }
        }
        let bridge = networks.get(BRIDGE).filter(|_| running);
        let field = |f: fn(&EndpointSettings) -> String| bridge.map(f).unwrap_or_default();
        Ok(NetworkSettings {
            bridge: String::new(),
            sandbox_id: sandbox.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
            hairpin_mode: false,
            link_local_ipv6_address: String::new(),
            link_local_ipv6_prefix_len: 0,
            ports,
            sandbox_key: sandbox
                .as_ref()
                .map(|s| s.netns.display().to_string())
                .unwrap_or_default(),
            secondary_ip_addresses: None,
            secondary_ipv6_addresses: None,
            endpoint_id: field(|e| e.endpoint_id.clone()),
            gateway: field(|e| e.gateway.clone()),
            global_ipv6_address: String::new(),
            global_ipv6_prefix_len: 0,
            ip_address: field(|e| e.ip_address.clone()),
            ip_prefix_len: bridge.map(|e| e.ip_prefix_len).unwrap_or(0),
            ipv6_gateway: String::new(),
            mac_address: field(|e| e.mac_address.clone()),
            networks,
        })
    }

    /// `Ports` and `NetworkSettings` of a `ps` entry.
    pub(crate) fn summary_network(
        &self,
        c: &Container,
    ) -> Result<(Vec<SummaryPort>, SummaryNetworkSettings), EngineError> {
        let (networks, endpoints) = self.networks_of(c)?;
        let mut ports = Vec::new();
        if has_network(c) && matches!(Mode::of(&c.host_config.network_mode), Mode::Bridge(_)) {
            let published = endpoints.first().map(published_of).unwrap_or_default();
            for k in c.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
                let Ok(key) = k.parse::<PortKey>() else {
                    continue;
                };
                if published.iter().any(|p| p.key() == key) {
                    continue;
                }
                ports.push(SummaryPort {
                    ip: None,
                    private_port: key.port,
                    public_port: None,
                    kind: key.proto.as_str().into(),
                });
            }
            for p in published {
                ports.push(SummaryPort {
                    ip: Some(p.host_ip.to_string()),
                    private_port: p.container_port,
                    public_port: Some(p.host_port),
                    kind: p.proto.as_str().into(),
                });
            }
            ports.sort_by(|a, b| {
                (a.private_port, &a.kind, &a.ip, a.public_port).cmp(&(
                    b.private_port,
                    &b.kind,
                    &b.ip,
                    b.public_port,
                ))
            });
        }
        Ok((ports, SummaryNetworkSettings { networks }))
    }

    /// `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`.
    pub fn port(
        &mut self,
        name: &str,
        private: Option<&str>,
    ) -> Result<Vec<PortLine>, EngineError> {
        let c = self.container(name)?;
        let want = private
            .map(|p| p.parse::<PortKey>().map_err(NetworkRequestError::Input))
            .transpose()?;
        let mut lines = Vec::new();
        if has_network(&c) {
            let endpoints = rows::endpoints_of_container(self.store.db().conn(), &c.id)?;
            for p in endpoints.first().map(published_of).unwrap_or_default() {
                if want.is_some_and(|w| w != p.key()) {
                    continue;
                }
                lines.push(PortLine {
                    key: p.key().to_string(),
                    host_ip: p.host_ip.to_string(),
                    host_port: p.host_port,
                });
            }
        }
        lines.sort_by_key(|l| (port_order(&l.key), l.host_ip.clone(), l.host_port));
        if let (Some(w), true) = (want, lines.is_empty()) {
            return Err(NetworkRequestError::NoPublicPort {
                port: w.to_string(),
                container: c.name.clone(),
            }
            .into());
        }
        Ok(lines)
    }
}
