//! Network types: `network inspect`/`ls` objects, the `network create` request, a container's
//! `NetworkingConfig`/`EndpointSettings`, and `NetworkSettings` of container inspect — Docker's
//! field names, order and `null`s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `IPAM.Config[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamPool {
    /// Subnet (CIDR).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    /// Allocation range (CIDR).
    #[serde(rename = "IPRange", skip_serializing_if = "String::is_empty")]
    pub ip_range: String,
    /// Gateway.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// Reserved addresses (accepted only when empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auxiliary_addresses: Option<BTreeMap<String, String>>,
}

/// A network's `IPAM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    /// `default`.
    pub driver: String,
    /// Driver options (`null` for the predefined networks).
    pub options: Option<BTreeMap<String, String>>,
    /// Pools.
    pub config: Option<Vec<IpamPool>>,
}

impl Default for Ipam {
    fn default() -> Self {
        Ipam {
            driver: "default".into(),
            options: None,
            config: None,
        }
    }
}

/// `Containers{}` entry of network inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkContainer {
    /// Container name (no `/`).
    pub name: String,
    /// Endpoint ID.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// MAC address.
    pub mac_address: String,
    /// `10.0.0.2/24`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    /// Empty.
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// `ConfigFrom`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigFrom {
    /// Empty.
    pub network: String,
}

/// `docker network inspect` (and each entry of `GET /networks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInspect {
    /// Name.
    pub name: String,
    /// 64-hex ID.
    #[serde(rename = "Id")]
    pub id: String,
    /// Creation time (RFC 3339, nanoseconds).
    pub created: String,
    /// `local`.
    pub scope: String,
    /// `bridge`, `host`, `null`.
    pub driver: String,
    /// Always false.
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    /// Address management.
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    /// `--internal`.
    pub internal: bool,
    /// `--attachable`.
    pub attachable: bool,
    /// Always false.
    pub ingress: bool,
    /// Unused.
    pub config_from: ConfigFrom,
    /// Always false.
    pub config_only: bool,
    /// Running containers, by ID.
    pub containers: BTreeMap<String, NetworkContainer>,
    /// Driver options.
    pub options: BTreeMap<String, String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// `POST /networks/create` and `docker network create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    /// Name.
    pub name: String,
    /// Refuse a name in use (berth always does).
    pub check_duplicate: bool,
    /// `bridge` (default).
    pub driver: String,
    /// No external routing.
    pub internal: bool,
    /// Standalone containers may connect (always true for bridge networks).
    pub attachable: bool,
    /// Swarm ingress (refused).
    pub ingress: bool,
    /// Address management.
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    /// IPv6 (refused).
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    /// Driver options.
    pub options: Option<BTreeMap<String, String>>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// `local` (the only scope berth has), or empty.
    pub scope: String,
    /// A configuration-only network (swarm; refused).
    pub config_only: bool,
}

/// `IPAMConfig` of an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointIpamConfig {
    /// `--ip`.
    #[serde(rename = "IPv4Address", skip_serializing_if = "String::is_empty")]
    pub ipv4_address: String,
    /// `--ip6` (refused).
    #[serde(rename = "IPv6Address", skip_serializing_if = "String::is_empty")]
    pub ipv6_address: String,
    /// Link-local addresses (refused).
    #[serde(rename = "LinkLocalIPs", skip_serializing_if = "Option::is_none")]
    pub link_local_ips: Option<Vec<String>>,
}

/// A container's settings on one network: what `create`'s `EndpointsConfig` and
/// `network connect`'s `EndpointConfig` send, and what inspect's `Networks{}` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSettings {
    /// Static address.
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// Links (`name:alias`).
    pub links: Option<Vec<String>>,
    /// Network-scoped aliases.
    pub aliases: Option<Vec<String>>,
    /// Network ID.
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    /// Endpoint ID (running).
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// Gateway (running).
    pub gateway: String,
    /// Address (running).
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// Prefix length (running).
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    /// Empty.
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    /// Empty.
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    /// Zero.
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    /// MAC (running).
    pub mac_address: String,
    /// Driver options.
    pub driver_opts: Option<BTreeMap<String, String>>,
}

/// `NetworkingConfig` of `POST /containers/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    /// Per network, by name or ID.
    pub endpoints_config: Option<BTreeMap<String, EndpointSettings>>,
}

/// `docker network connect` / `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnectRequest {
    /// The container.
    pub container: String,
    /// Its settings on the network.
    pub endpoint_config: Option<EndpointSettings>,
}

/// `docker network disconnect` / `POST /networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkDisconnectRequest {
    /// The container.
    pub container: String,
    /// Disconnect even if the container is in a state where that is unusual.
    pub force: bool,
}

/// One published port of a running container, as `NetworkSettings.Ports` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortMapping {
    /// Host address.
    pub host_ip: String,
    /// Host port.
    pub host_port: String,
}

/// `NetworkSettings` of container inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// Empty.
    pub bridge: String,
    /// The sandbox (network namespace) ID.
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    /// False.
    pub hairpin_mode: bool,
    /// Empty.
    #[serde(rename = "LinkLocalIPv6Address")]
    pub link_local_ipv6_address: String,
    /// Zero.
    #[serde(rename = "LinkLocalIPv6PrefixLen")]
    pub link_local_ipv6_prefix_len: u8,
    /// Exposed ports: their host bindings, or `null` when not published.
    pub ports: BTreeMap<String, Option<Vec<PortMapping>>>,
    /// The namespace file.
    pub sandbox_key: String,
    /// Null.
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<String>>,
    /// Null.
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<String>>,
    /// The default bridge endpoint's ID.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// The default bridge's gateway.
    pub gateway: String,
    /// Empty.
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    /// Zero.
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    /// The address on the default bridge.
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// Its prefix length.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    /// Empty.
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    /// The MAC on the default bridge.
    pub mac_address: String,
    /// Per network.
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// `NetworkSettings` of a `GET /containers/json` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworkSettings {
    /// Per network.
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// `Ports[]` entry of a `GET /containers/json` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryPort {
    /// Host address (published ports).
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Container port.
    pub private_port: u16,
    /// Host port (published ports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// `tcp`, `udp`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// What `network prune` removed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkPruneReport {
    /// Names, in the order removed.
    pub networks_deleted: Vec<String>,
}
