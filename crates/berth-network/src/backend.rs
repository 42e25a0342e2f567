//! The data plane behind a trait: a [`NetworkBackend`] connects one [`EndpointSpec`] (a
//! container's interface on one network) inside a network namespace — bridge, veth pair,
//! address, NAT and forwarding rules, DNS names, and the port forwards of [`PublishedPort`]s —
//! and disconnects it again. Two implement it: [`crate::native::Native`] (berth's own, the
//! default) and [`crate::netavark::Netavark`] (Podman's, selectable); [`Backend`] is either, as
//! the engine's settings choose and a sandbox records. The types here are berth's own.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ipam::Ipam;
use crate::native::Native;
use crate::netavark::Netavark;
use crate::ports::PublishedPort;
use crate::NetworkError;

/// A bridge network as the data plane needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// berth's network ID (64 hex). Backends name their firewall chains after it, so two data
    /// roots' networks never share chains even when both are called `bridge`.
    pub id: String,
    /// The name users see.
    pub name: String,
    /// The host's bridge interface.
    pub bridge: String,
    /// Subnet, gateway, range.
    pub ipam: Ipam,
    /// No route out of the network, no NAT (`--internal`).
    pub internal: bool,
    /// Containers find each other by name (user-defined networks).
    pub dns: bool,
    /// The MTU of the bridge and veths, if not the kernel's default.
    pub mtu: Option<u32>,
}

/// One container interface on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSpec {
    /// The network.
    pub network: NetworkSpec,
    /// The interface name inside the container (`eth0`, `eth1`…).
    pub interface: String,
    /// The container's address.
    pub ip: Ipv4Addr,
    /// Its MAC address.
    pub mac: String,
    /// The names other containers on the network resolve to `ip` (container name, aliases,
    /// short ID), when the network has DNS.
    pub names: Vec<String>,
    /// Host ports forwarded to this endpoint.
    pub ports: Vec<PublishedPort>,
}

/// The container an endpoint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRef {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Name servers the network's DNS server forwards this container's other queries to
    /// (`--dns`); the host's when empty.
    pub dns_servers: Vec<IpAddr>,
}

/// A network data plane.
pub trait NetworkBackend {
    /// Its name, for messages.
    fn name(&self) -> &'static str;

    /// Connects `endpoint` of `container` inside the namespace at `netns`. On failure nothing
    /// of this endpoint is left behind.
    fn connect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError>;

    /// Undoes [`NetworkBackend::connect`]; removes the bridge and the network's rules with the
    /// last endpoint. Works on what is left: a half-connected endpoint, or a namespace that is
    /// already gone.
    fn disconnect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError>;

    /// The address containers of `network` send DNS queries to, when the backend serves names
    /// on it.
    fn dns_server(&self, network: &NetworkSpec) -> Option<Ipv4Addr> {
        network.dns.then_some(network.ipam.gateway)
    }

    /// Removes what `network` keeps on the host between containers (`network rm`).
    fn remove_network(&self, _network: &NetworkSpec) -> Result<(), NetworkError> {
        Ok(())
    }

    /// Puts back what `network` keeps on the host if some of it was removed behind berth's
    /// back; returns whether anything was.
    fn repair_network(&self, _network: &NetworkSpec) -> Result<bool, NetworkError> {
        Ok(false)
    }
}

/// The backend a sandbox was set up with: either implementation, recorded in its state file
/// (a netavark sandbox written before the native backend existed reads as one, too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Backend {
    /// berth's own.
    Native(Native),
    /// Podman's netavark.
    Netavark(Netavark),
}

impl Backend {
    fn get(&self) -> &dyn NetworkBackend {
        match self {
            Backend::Native(n) => n,
            Backend::Netavark(n) => n,
        }
    }
}

impl NetworkBackend for Backend {
    fn name(&self) -> &'static str {
        self.get().name()
    }

    fn connect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError> {
        self.get().connect(netns, container, endpoint)
    }

    fn disconnect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError> {
        self.get().disconnect(netns, container, endpoint)
    }

    fn dns_server(&self, network: &NetworkSpec) -> Option<Ipv4Addr> {
        self.get().dns_server(network)
    }

    fn remove_network(&self, network: &NetworkSpec) -> Result<(), NetworkError> {
        self.get().remove_network(network)
    }

    fn repair_network(&self, network: &NetworkSpec) -> Result<bool, NetworkError> {
        self.get().repair_network(network)
    }
}
