//! A container's networking decided at `create`: [`Engine::plan_network`] checks the network
//! mode and every networking field against it with Docker's texts (`conflicting options: …`),
//! normalises what Docker normalises (`default`, `container:<full id>`, `/db:/web/mysql`
//! links, `80/tcp` port keys, published ports added to `ExposedPorts`), and returns the
//! container's endpoints — its connections to networks, recorded with the container in one
//! transaction. Addresses are not allocated here: a container holds one only while it runs.

use std::collections::BTreeMap;

use berth_image::config::{ContainerConfig, Empty};
use berth_network::etc::parse_extra_host;
use berth_network::links::parse_link;
use berth_network::ports::{PortBinding, PortKey};
use berth_store::metadata::networks::{EndpointRow, NetworkRow};

use super::{ipam_of, NetworkRequestError, BRIDGE, HOST, NONE};
use crate::types::{EndpointSettings, HostConfig, NetworkingConfig};
use crate::{Engine, EngineError};

/// How a container is networked, from its `NetworkMode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `none`: a namespace with only loopback.
    None,
    /// `host`: the host's namespace.
    Host,
    /// `container:ID`: another container's namespace.
    Container(String),
    /// `default`, `bridge` or a network's name: endpoints on bridge networks.
    Bridge(String),
}

impl Mode {
    /// Reads a `NetworkMode`.
    pub(crate) fn of(network_mode: &str) -> Mode {
        match network_mode {
            "" | "default" => Mode::Bridge(BRIDGE.into()),
            NONE => Mode::None,
            HOST => Mode::Host,
            m => match m.strip_prefix("container:") {
                Some(id) => Mode::Container(id.to_string()),
                None => Mode::Bridge(m.to_string()),
            },
        }
    }
}

/// Checks a MAC address the way Docker words it.
pub(crate) fn parse_mac(mac: &str) -> Result<(), EngineError> {
    let parts: Vec<&str> = mac.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    if !ok {
        return Err(NetworkRequestError::BadMac(mac.to_string()).into());
    }
    Ok(())
}

fn conflict(what: &'static str) -> EngineError {
    NetworkRequestError::ConflictingOptions(what).into()
}

/// Normalised `PortBindings` (keys `80/tcp`, every binding checked).
fn normalize_ports(hc: &mut HostConfig) -> Result<(), EngineError> {
    let mut out = BTreeMap::new();
    for (k, v) in std::mem::take(&mut hc.port_bindings) {
        let key: PortKey = k.parse().map_err(NetworkRequestError::Input)?;
        let list: Vec<PortBinding> = v.unwrap_or_default();
        for b in &list {
            if !b.host_ip.is_empty() && b.host_ip.parse::<std::net::IpAddr>().is_err() {
                return Err(NetworkRequestError::BadHostIp(b.host_ip.clone()).into());
            }
            if !b.host_port.is_empty() {
                // Same rule as `-p`'s host part.
                berth_network::ports::parse_publish(&format!("{}:1", b.host_port))
                    .map_err(NetworkRequestError::Input)?;
            }
        }
        let entry: &mut Vec<PortBinding> = out.entry(key.to_string()).or_default();
        entry.extend(list);
    }
    hc.port_bindings = out.into_iter().map(|(k, v)| (k, Some(v))).collect();
    Ok(())
}

/// Normalised `ExposedPorts` keys.
fn normalize_exposed(config: &mut ContainerConfig) -> Result<(), EngineError> {
    if let Some(ports) = config.exposed_ports.take() {
        let mut out = BTreeMap::new();
        for k in ports.into_keys() {
            let key: PortKey = k.parse().map_err(NetworkRequestError::Input)?;
            out.insert(key.to_string(), Empty {});
        }
        config.exposed_ports = Some(out);
    }
    Ok(())
}

impl Engine {
    /// Checks and normalises a new container's networking; returns its endpoints (without
    /// the container ID, which the caller fills in).
    pub(crate) fn plan_network(
        &mut self,
        name: &str,
        config: &mut ContainerConfig,
        hc: &mut HostConfig,
        networking: Option<&NetworkingConfig>,
        user_hostname: bool,
    ) -> Result<Vec<EndpointRow>, EngineError> {
        if hc.network_mode.is_empty() {
            hc.network_mode = "default".into();
        }
        normalize_ports(hc)?;
        normalize_exposed(config)?;
        if !hc.port_bindings.is_empty() {
            let exposed = config.exposed_ports.get_or_insert_with(Default::default);
            for k in hc.port_bindings.keys() {
                exposed.entry(k.clone()).or_default();
            }
        }
        for h in hc.extra_hosts.iter().flatten() {
            parse_extra_host(h, Some(std::net::Ipv4Addr::UNSPECIFIED))
                .map_err(NetworkRequestError::Input)?;
        }
        for d in &hc.dns {
            d.parse::<std::net::IpAddr>()
                .map_err(|_| NetworkRequestError::BadDns(d.clone()))?;
        }
        let endpoints_config = networking
            .and_then(|n| n.endpoints_config.clone())
            .unwrap_or_default();
        if !config.mac_address.is_empty() {
            parse_mac(&config.mac_address)?;
        }
        let links = hc.links.clone().unwrap_or_default();
        let mode = if config.network_disabled {
            Mode::None
        } else {
            Mode::of(&hc.network_mode)
        };
        match mode {
            Mode::None | Mode::Host => {
                if !links.is_empty() {
                    return Err(NetworkRequestError::LinksNeedUserNetwork.into());
                }
                if mode == Mode::None && !hc.port_bindings.is_empty() {
                    return Err(conflict("port publishing and the none network mode"));
                }
                if !config.mac_address.is_empty() {
                    return Err(conflict("mac-address and the network mode"));
                }
                for (net, ep) in &endpoints_config {
                    if ep.aliases.as_ref().is_some_and(|a| !a.is_empty()) {
                        return Err(NetworkRequestError::AliasesNeedUserNetwork.into());
                    }
                    if !matches!(net.as_str(), HOST | NONE) && net != &hc.network_mode {
                        return Err(NetworkRequestError::ConnectInMode {
                            network: net.clone(),
                            mode: hc.network_mode.clone(),
                        }
                        .into());
                    }
                }
                Ok(Vec::new())
            }
            Mode::Container(other) => {
                if user_hostname {
                    return Err(conflict("hostname and the network mode"));
                }
                if !links.is_empty() {
                    return Err(NetworkRequestError::LinksNeedUserNetwork.into());
                }
                if !hc.dns.is_empty() || !hc.dns_search.is_empty() || !hc.dns_options.is_empty() {
                    return Err(conflict("dns and the network mode"));
                }
                if hc.extra_hosts.as_ref().is_some_and(|h| !h.is_empty()) {
                    return Err(conflict("custom host-to-IP mapping and the network mode"));
                }
                if !hc.port_bindings.is_empty() || hc.publish_all_ports {
                    return Err(conflict(
                        "port publishing and the container type network mode",
                    ));
                }
                if config.exposed_ports.as_ref().is_some_and(|p| !p.is_empty()) {
                    return Err(conflict(
                        "port exposing and the container type network mode",
                    ));
                }
                if !config.mac_address.is_empty() {
                    return Err(conflict("mac-address and the network mode"));
                }
                let target = self.lookup_container(&other)?;
                hc.network_mode = format!("container:{}", target.id);
                config.hostname = target.config.hostname.clone();
                config.domainname = target.config.domainname.clone();
                Ok(Vec::new())
            }
            Mode::Bridge(net_name) if hc.network_mode == "default" && self.bridge_disabled() => {
                // No default bridge (`"bridge": "none"`): loopback only, as with dockerd's
                // `--bridge=none`.
                let _ = net_name;
                if !links.is_empty() {
                    return Err(NetworkRequestError::LinksNeedUserNetwork.into());
                }
                if !hc.port_bindings.is_empty() {
                    return Err(conflict("port publishing and a data root without a bridge network (\"bridge\": \"none\")"));
                }
                Ok(Vec::new())
            }
            Mode::Bridge(net_name) => {
                let primary = self.find_network(&net_name)?;
                match primary.driver.as_str() {
                    "host" => {
                        hc.network_mode = HOST.into();
                        return self.plan_network(name, config, hc, networking, user_hostname);
                    }
                    "null" => {
                        hc.network_mode = NONE.into();
                        return self.plan_network(name, config, hc, networking, user_hostname);
                    }
                    _ => {}
                }
                if primary.name != BRIDGE && hc.network_mode != "default" {
                    hc.network_mode = net_name.clone();
                }
                let mut endpoints = Vec::new();
                let mut primary_settings = None;
                let mut others = Vec::new();
                for (key, ep) in endpoints_config {
                    let key = if key == "default" {
                        BRIDGE.to_string()
                    } else {
                        key
                    };
                    let n = self.find_network(&key)?;
                    if n.id == primary.id {
                        primary_settings = Some(ep);
                    } else {
                        others.push((n, ep));
                    }
                }
                let default_links = if primary.name == BRIDGE {
                    self.normalize_links(name, &links)?
                } else {
                    Vec::new()
                };
                if primary.name == BRIDGE {
                    hc.links = (!default_links.is_empty()).then_some(default_links);
                }
                let mut settings = primary_settings.unwrap_or_default();
                if primary.name != BRIDGE && !links.is_empty() {
                    // Links on a user-defined network are the endpoint's (names, not env).
                    let mut l = settings.links.take().unwrap_or_default();
                    l.extend(links.iter().cloned());
                    settings.links = Some(l);
                    hc.links = None;
                }
                endpoints.push(self.plan_endpoint(&primary, settings, 0, name)?);
                for (i, (n, ep)) in others.into_iter().enumerate() {
                    endpoints.push(self.plan_endpoint(&n, ep, i as i64 + 1, name)?);
                }
                Ok(endpoints)
            }
        }
    }

    /// One endpoint of a new or connecting container, checked like Docker checks it.
    pub(crate) fn plan_endpoint(
        &mut self,
        n: &NetworkRow,
        ep: EndpointSettings,
        position: i64,
        container_name: &str,
    ) -> Result<EndpointRow, EngineError> {
        if n.driver != "bridge" {
            return Err(NetworkRequestError::HostNetwork.into());
        }
        let aliases = ep.aliases.clone().unwrap_or_default();
        if n.name == BRIDGE && !aliases.is_empty() {
            return Err(NetworkRequestError::AliasesNeedUserNetwork.into());
        }
        let mut ipam_ipv4 = None;
        if let Some(cfg) = &ep.ipam_config {
            if !cfg.ipv6_address.is_empty() {
                return Err(NetworkRequestError::Ip6.into());
            }
            if cfg.link_local_ips.as_ref().is_some_and(|l| !l.is_empty()) {
                return Err(NetworkRequestError::LinkLocal.into());
            }
            if !cfg.ipv4_address.is_empty() {
                if n.name == BRIDGE {
                    return Err(NetworkRequestError::StaticIpOnDefault.into());
                }
                if n.ipam.get(super::AUTO_SUBNET).is_some() {
                    return Err(NetworkRequestError::StaticIpNeedsSubnet.into());
                }
                let ip = berth_network::ipam::parse_ip(&cfg.ipv4_address)
                    .map_err(NetworkRequestError::Input)?;
                let plan = ipam_of(n).ok_or(NetworkRequestError::StaticIpNeedsSubnet)?;
                plan.check_static(ip).map_err(NetworkRequestError::Input)?;
                ipam_ipv4 = Some(ip.to_string());
            }
        }
        // Links on a user-defined network are names, resolved when the containers run (the
        // target need not exist yet, as in Docker); on the default bridge they are checked now.
        let links = match &ep.links {
            Some(l) if n.name == BRIDGE => self.normalize_links(container_name, l)?,
            Some(l) => {
                for link in l {
                    parse_link(link).map_err(NetworkRequestError::Input)?;
                }
                l.clone()
            }
            None => Vec::new(),
        };
        if !ep.mac_address.is_empty() {
            parse_mac(&ep.mac_address)?;
        }
        Ok(EndpointRow {
            container_id: String::new(),
            network_id: n.id.clone(),
            position,
            aliases,
            ipam_ipv4,
            links,
            driver_opts: ep
                .driver_opts
                .as_ref()
                .filter(|o| !o.is_empty())
                .map(|o| serde_json::to_string(o).expect("serializes")),
            mac_address: (!ep.mac_address.is_empty()).then(|| ep.mac_address.to_lowercase()),
            ..Default::default()
        })
    }

    /// `db:mysql` → `/db:/web/mysql`, checking that `db` exists.
    fn normalize_links(&self, parent: &str, links: &[String]) -> Result<Vec<String>, EngineError> {
        let mut out = Vec::new();
        for l in links {
            let (child, alias) = parse_link(l).map_err(NetworkRequestError::Input)?;
            let c = self.lookup_container(&child).map_err(|e| match e {
                EngineError::NoSuchContainer(_) => {
                    NetworkRequestError::NoSuchLinkTarget(child.clone()).into()
                }
                other => other,
            })?;
            out.push(format!("/{}:/{parent}/{alias}", c.name));
        }
        Ok(out)
    }
}
