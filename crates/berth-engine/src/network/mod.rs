//! Networks of the [`Engine`]. This module owns the network record (a row of the store's
//! `networks` table), the three predefined networks (`bridge`, `host`, `none`, made on first
//! use from the data root's [`berth_network::config::NetworkConfig`]), and finds networks the
//! way Docker does (full ID, name, unique ID prefix).
//!
//! One file per concern: `verbs` (create, ls, inspect, rm, prune), `connect` (connect,
//! disconnect), `plan` (a container's networking decided at create), `attach` (set up before
//! the process starts, torn down when it stops), `settings` (`NetworkSettings`, `ps` ports,
//! `port`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use berth_network::backend::NetworkSpec;
use berth_network::ipam::{self, Ipam};
use berth_store::metadata::networks::{self as rows, NetworkRow};
use berth_store::metadata::MetaError;

use crate::{Engine, EngineError};

mod attach;
mod connect;
mod error;
mod plan;
mod settings;
mod verbs;

pub use error::NetworkRequestError;
pub use settings::PortLine;

/// The default bridge network's name.
pub const BRIDGE: &str = "bridge";
/// The host network's name.
pub const HOST: &str = "host";
/// The no-network network's name.
pub const NONE: &str = "none";

/// Docker's option naming a bridge network's host interface.
pub(crate) const OPT_BRIDGE_NAME: &str = "com.docker.network.bridge.name";
/// Docker's option setting a network's MTU.
pub(crate) const OPT_MTU: &str = "com.docker.network.driver.mtu";
/// A key of a network's stored IPAM object (never shown: inspect re-reads it into Docker's
/// type) marking a subnet berth picked, on which `--ip` is refused as Docker refuses it.
pub(crate) const AUTO_SUBNET: &str = "BerthAutoSubnet";
/// Docker's option setting the address published ports bind to on a network.
pub(crate) const OPT_HOST_BINDING: &str = "com.docker.network.bridge.host_binding_ipv4";

/// A network's address plan, if it has one.
pub(crate) fn ipam_of(n: &NetworkRow) -> Option<Ipam> {
    let subnet = n.subnet.as_deref()?.parse().ok()?;
    let gateway = n.gateway.as_deref()?.parse().ok()?;
    let ip_range = n.ip_range.as_deref().and_then(|r| r.parse().ok());
    let reserved = n.ipam["Config"][0]["AuxiliaryAddresses"]
        .as_object()
        .map(|aux| {
            aux.values()
                .filter_map(|v| v.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    Some(Ipam {
        subnet,
        gateway,
        ip_range,
        reserved,
    })
}

/// What the data plane needs of a bridge network.
pub(crate) fn spec_of(n: &NetworkRow) -> Result<NetworkSpec, EngineError> {
    let ipam = ipam_of(n).ok_or_else(|| NetworkRequestError::NoIpv4Subnet(n.name.clone()))?;
    Ok(NetworkSpec {
        id: n.id.clone(),
        name: n.name.clone(),
        bridge: n.bridge.clone(),
        ipam,
        internal: n.internal,
        dns: n.dns,
        mtu: n.options.get(OPT_MTU).and_then(|m| m.parse().ok()),
    })
}

/// Whether `name` is one of the predefined networks.
pub(crate) fn is_predefined(name: &str) -> bool {
    matches!(name, BRIDGE | HOST | NONE)
}

impl Engine {
    /// Makes the predefined networks if this data root lacks them, and brings the default
    /// bridge in line with the configuration (`bridge`, `bip`) while no container uses it.
    pub(crate) fn ensure_networks(&mut self) -> Result<(), EngineError> {
        let conn = self.store.db().conn();
        let bridge = rows::network_by_name(conn, BRIDGE)?;
        match &bridge {
            Some(b) if self.bridge_matches_config(b) => return Ok(()),
            None if self.bridge_disabled() && rows::network_by_name(conn, NONE)?.is_some() => {
                return Ok(())
            }
            _ => {}
        }
        let host = rows::network_by_name(conn, HOST)?.is_none();
        let none = rows::network_by_name(conn, NONE)?.is_none();
        for (name, driver, missing) in [(HOST, "host", host), (NONE, "null", none)] {
            if !missing {
                continue;
            }
            let row = NetworkRow {
                id: berth_store::fsutil::random_hex(32),
                name: name.into(),
                driver: driver.into(),
                bridge: String::new(),
                subnet: None,
                gateway: None,
                ip_range: None,
                ipam: serde_json::json!({"Driver": "default", "Options": null, "Config": []}),
                internal: false,
                attachable: false,
                dns: false,
                options: BTreeMap::new(),
                labels: BTreeMap::new(),
                created_at: crate::now(),
            };
            match rows::insert_network(self.store.db().conn(), &row) {
                Ok(()) | Err(MetaError::Exists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.make_default_bridge(bridge)
    }

    /// `"bridge": "none"` (dockerd's `--bridge=none`): no default bridge network; containers
    /// without `--network` get loopback only.
    pub(crate) fn bridge_disabled(&self) -> bool {
        self.network.bridge == NONE
    }

    fn bridge_matches_config(&self, b: &NetworkRow) -> bool {
        let cfg = &self.network;
        b.bridge == cfg.bridge
            && match cfg.bip {
                Some((gw, net)) => {
                    b.subnet.as_deref() == Some(net.to_string().as_str())
                        && b.gateway.as_deref() == Some(gw.to_string().as_str())
                }
                None => true,
            }
    }

    /// Records the default bridge (replacing an outdated unused one; removing it when the
    /// configuration disables it).
    fn make_default_bridge(&mut self, old: Option<NetworkRow>) -> Result<(), EngineError> {
        let cfg = self.network.clone();
        if let Some(old) = &old {
            if !rows::active_users(self.store.db().conn(), &old.id)?.is_empty() {
                log::debug!(
                    "the bridge network is in use: its new settings apply once its containers stop"
                );
                return Ok(());
            }
        }
        if self.bridge_disabled() {
            if let Some(old) = &old {
                rows::delete_network(self.store.db().conn(), &old.id)?;
            }
            return Ok(());
        }
        let (gateway, subnet) = match cfg.bip {
            Some(b) => b,
            None => {
                let taken = self.taken_subnets(old.as_ref().map(|o| o.id.as_str()))?;
                let subnet = ipam::pick_subnet(&cfg.pools, &taken)
                    .ok_or(NetworkRequestError::NoDefaultPool)?;
                (ipam::first_host(subnet), subnet)
            }
        };
        let mut options = BTreeMap::from([
            (
                "com.docker.network.bridge.default_bridge".to_string(),
                "true".to_string(),
            ),
            ("com.docker.network.bridge.enable_icc".into(), "true".into()),
            (
                "com.docker.network.bridge.enable_ip_masquerade".into(),
                "true".into(),
            ),
            (OPT_HOST_BINDING.into(), cfg.host_ip.to_string()),
            (OPT_BRIDGE_NAME.into(), cfg.bridge.clone()),
        ]);
        options.insert(
            OPT_MTU.into(),
            cfg.mtu
                .map(|m| m.to_string())
                .unwrap_or_else(|| "1500".into()),
        );
        let row = NetworkRow {
            id: old
                .as_ref()
                .map(|o| o.id.clone())
                .unwrap_or_else(|| berth_store::fsutil::random_hex(32)),
            name: BRIDGE.into(),
            driver: "bridge".into(),
            bridge: cfg.bridge.clone(),
            subnet: Some(subnet.to_string()),
            gateway: Some(gateway.to_string()),
            ip_range: None,
            ipam: serde_json::json!({
                "Driver": "default",
                "Options": null,
                "Config": [{"Subnet": subnet.to_string(), "Gateway": gateway.to_string()}]
            }),
            internal: false,
            attachable: false,
            dns: false,
            options,
            labels: BTreeMap::new(),
            created_at: old
                .as_ref()
                .map(|o| o.created_at.clone())
                .unwrap_or_else(crate::now),
        };
        let result = self.store.db_mut().write(|tx| -> Result<(), MetaError> {
            if let Some(old) = &old {
                rows::delete_network(tx, &old.id)?;
            }
            rows::insert_network(tx, &row)
        });
        match result {
            // Another process made it meanwhile.
            Ok(()) | Err(MetaError::Exists(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Subnets a new network must not overlap: every other network's, and the host's routes
    /// (except through bridges of this data root, which belong to those networks).
    pub(crate) fn taken_subnets(
        &self,
        except: Option<&str>,
    ) -> Result<Vec<ipnet::Ipv4Net>, EngineError> {
        let all = rows::all_networks(self.store.db().conn())?;
        let mut taken: Vec<ipnet::Ipv4Net> = all
            .iter()
            .filter(|n| Some(n.id.as_str()) != except)
            .filter_map(|n| n.subnet.as_deref()?.parse().ok())
            .collect();
        for r in ipam::host_routes() {
            if all
                .iter()
                .any(|n| n.bridge == r.dev && Some(n.id.as_str()) == except)
            {
                continue;
            }
            taken.push(r.net);
        }
        Ok(taken)
    }

    /// Finds a network by full ID, name, or unique ID prefix (Docker's order).
    pub(crate) fn find_network(&mut self, name_or_id: &str) -> Result<NetworkRow, EngineError> {
        self.ensure_networks()?;
        let not_found = || NetworkRequestError::NoSuchNetwork(name_or_id.to_string()).into();
        if name_or_id.is_empty() {
            return Err(not_found());
        }
        let conn = self.store.db().conn();
        if let Some(n) = rows::network_by_id(conn, name_or_id)? {
            return Ok(n);
        }
        if let Some(n) = rows::network_by_name(conn, name_or_id)? {
            return Ok(n);
        }
        if name_or_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut found = rows::networks_by_id_prefix(conn, name_or_id, 2)?;
            match found.len() {
                1 => return Ok(found.remove(0)),
                0 => {}
                _ => {
                    return Err(NetworkRequestError::Ambiguous {
                        name: name_or_id.to_string(),
                        count: found.len(),
                    }
                    .into())
                }
            }
        }
        Err(not_found())
    }

    /// The address published ports of network `n` bind to when `-p` names none.
    pub(crate) fn host_binding_ip(&self, n: &NetworkRow) -> Ipv4Addr {
        n.options
            .get(OPT_HOST_BINDING)
            .and_then(|ip| ip.parse().ok())
            .unwrap_or(self.network.host_ip)
    }
}
