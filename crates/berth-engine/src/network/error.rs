//! [`NetworkRequestError`]: every networking request the engine refuses — `network create`/`rm`/
//! `connect`/`disconnect`, a container's network settings at create and start, links, `port` —
//! with the text Docker's daemon sends, byte for byte (the e2e and conformance tests compare
//! them), and its class ([`NetworkRequestError::kind`]): what is missing is `NotFound` (404),
//! what clashes with what exists is `Conflict` (409), the rest is the caller's `InvalidArgument`
//! (400). Failures of the network backend itself stay `berth_network::NetworkError`.

use berth_store::ErrorKind;

/// A networking request berth refuses.
#[derive(Debug, thiserror::Error)]
pub enum NetworkRequestError {
    // What is missing (404).
    /// No network by that name or ID.
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    /// A network or IPAM driver berth does not have.
    #[error("plugin {0:?} not found")]
    NoSuchPlugin(String),
    /// A link to a container that does not exist.
    #[error("could not get container for {0}: No such container: {0}")]
    NoSuchLinkTarget(String),
    /// `--network container:NAME` of a container that does not exist.
    #[error("cannot join network of a non running container: {0}")]
    NoSuchJoinTarget(String),
    /// `port CTR PORT` of a port the container does not publish.
    #[error("No public port '{port}' published for {container}")]
    NoPublicPort {
        /// The port asked for, as given.
        port: String,
        /// The container's name.
        container: String,
    },

    // What clashes with what exists (409).
    /// A second network of a driver that allows one (`host`, `null`).
    #[error("only one instance of \"{0}\" network is allowed")]
    OnlyOneInstance(String),
    /// `network create` of a name in use.
    #[error("network with name {0} already exists")]
    NameExists(String),
    /// A subnet that overlaps another network's.
    #[error("Pool overlaps with other one on this address space")]
    PoolOverlaps,
    /// `network rm` of `bridge`, `host` or `none`.
    #[error("{0} is a pre-defined network and cannot be removed")]
    PreDefined(String),
    /// `network rm` of a network containers are connected to.
    #[error("error while removing network: network {name} id {id} has active endpoints")]
    ActiveEndpoints {
        /// The network's name.
        name: String,
        /// The network's ID.
        id: String,
    },
    /// Every address of the network's pool is taken.
    #[error("no available IPv4 addresses on this network's address pools: {name} ({id})")]
    PoolExhausted {
        /// The network's name.
        name: String,
        /// The network's ID.
        id: String,
    },
    /// A static address another endpoint holds.
    #[error("Address already in use")]
    AddressInUse,
    /// `--network container:NAME` of a container that is not running.
    #[error("cannot join network of a non running container: {0}")]
    JoinTargetNotRunning(String),
    /// A network whose subnet the host routes elsewhere (another bridge, a VPN).
    #[error(
        "network {name}: its subnet {subnet} overlaps the host's route to {route} via {dev}; give the network another subnet"
    )]
    SubnetOverlapsRoute {
        /// The network's name.
        name: String,
        /// Its subnet.
        subnet: String,
        /// The host's route.
        route: String,
        /// The route's interface.
        dev: String,
    },
    /// A link to a container that is not running (or has no address on the network).
    #[error("Cannot link to a non running container: /{target} AS /{parent}/{alias}")]
    LinkTargetNotRunning {
        /// The linked container's name.
        target: String,
        /// The linking container's name.
        parent: String,
        /// The link's alias.
        alias: String,
    },
    /// Connecting to or disconnecting from the host network, or a non-bridge network.
    #[error("container cannot be disconnected from host network or connected to host network")]
    HostNetwork,
    /// Connecting a container that shares another's (or the host's) network namespace.
    #[error(
        "container sharing network namespace with another container or host cannot be connected to any other network"
    )]
    SharedNamespace,
    /// `network connect` of a container already on the network.
    #[error("endpoint with name {container} already exists in network {network}")]
    EndpointExists {
        /// The container's name.
        container: String,
        /// The network's name.
        network: String,
    },
    /// `network disconnect` of a container not on the network.
    #[error("container {container} is not connected to network {network}")]
    NotConnected {
        /// The container's ID.
        container: String,
        /// The network's name.
        network: String,
    },

    // The caller's mistakes (400).
    /// An address, subnet, port, link or host entry that does not parse.
    #[error(transparent)]
    Input(berth_network::NetworkError),
    /// A `type` filter of `network ls` other than `custom`/`builtin`.
    #[error("invalid filter: 'type'='{0}'")]
    BadTypeFilter(String),
    /// IPAM driver options.
    #[error("berth's IPAM driver takes no options")]
    IpamOptions,
    /// More than one IPAM pool.
    #[error("berth networks take one IPv4 subnet")]
    OneSubnet,
    /// `--ip-range` or `--gateway` without `--subnet`.
    #[error("every ip-range or gateway must have a corresponding subnet")]
    PoolWithoutSubnet,
    /// A network name Docker refuses.
    #[error("invalid network name {0:?}")]
    BadName(String),
    /// A swarm driver (`overlay`...).
    #[error(
        "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."
    )]
    NotSwarmManager,
    /// `--ingress`.
    #[error("berth has no swarm: ingress networks are not supported")]
    Ingress,
    /// `--scope` other than `local`.
    #[error("berth has no swarm: network scope {0:?} is not supported")]
    Scope(String),
    /// `--config-only`.
    #[error("berth has no swarm: configuration-only networks are not supported")]
    ConfigOnly,
    /// `network create --ipv6`.
    #[error("berth networks are IPv4 only: --ipv6 is not supported")]
    Ipv6,
    /// `--ip6`.
    #[error("berth networks are IPv4 only: --ip6 is not supported")]
    Ip6,
    /// `--link-local-ip`.
    #[error("berth does not support link-local addresses (--link-local-ip)")]
    LinkLocal,
    /// A bridge name option the kernel would refuse.
    #[error("invalid bridge name {0:?}")]
    BadBridgeName(String),
    /// An MTU option that is not a number.
    #[error("invalid MTU value {0:?}")]
    BadMtu(String),
    /// A driver option berth does not implement.
    #[error("berth does not support the network option {0:?}")]
    UnsupportedOption(String),
    /// An auxiliary address outside the subnet.
    #[error("no matching subnet for aux-address {name}={ip}")]
    AuxAddressOutside {
        /// Its name.
        name: String,
        /// The address.
        ip: String,
    },
    /// No free default pool for a network without `--subnet`.
    #[error(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )]
    NoDefaultPool,
    /// A network row without a subnet (an endpoint cannot be addressed).
    #[error("network {0} has no subnet")]
    NoSubnet(String),
    /// A network row without an IPv4 subnet (its backend spec cannot be made).
    #[error("network {0} has no IPv4 subnet")]
    NoIpv4Subnet(String),
    /// An ID prefix several networks share.
    #[error("network {name} is ambiguous ({count} matches found based on ID prefix)")]
    Ambiguous {
        /// The prefix given.
        name: String,
        /// How many networks it matches.
        count: usize,
    },
    /// A MAC address that does not parse.
    #[error("invalid MAC address: {0}")]
    BadMac(String),
    /// Options that contradict each other (`--network host` with `-p`...).
    #[error("conflicting options: {0}")]
    ConflictingOptions(&'static str),
    /// A `HostIp` of a port binding that is not an address.
    #[error("Invalid ip address: {0}")]
    BadHostIp(String),
    /// A `--dns` server that is not an address.
    #[error("{0} is not an ip address")]
    BadDns(String),
    /// `--link` on the default bridge... or on no network.
    #[error("links are only supported for user-defined networks")]
    LinksNeedUserNetwork,
    /// `--network-alias` on a network that is not user-defined.
    #[error("network-scoped aliases are only supported for user-defined networks")]
    AliasesNeedUserNetwork,
    /// An endpoint for a second network in `host`/`none`/`container:` mode.
    #[error("container cannot be connected to network {network} in {mode} mode")]
    ConnectInMode {
        /// The network asked for.
        network: String,
        /// The container's network mode.
        mode: String,
    },
    /// `--ip` on the default bridge.
    #[error("user specified IP address is supported on user defined networks only")]
    StaticIpOnDefault,
    /// `--ip` on a network whose subnet berth picked.
    #[error(
        "user specified IP address is supported only when connecting to networks with user configured subnets"
    )]
    StaticIpNeedsSubnet,
}

impl NetworkRequestError {
    /// The class of the refusal (HTTP status, CLI exit code).
    pub fn kind(&self) -> ErrorKind {
        use NetworkRequestError::*;
        match self {
            NoSuchNetwork(_)
            | NoSuchPlugin(_)
            | NoSuchLinkTarget(_)
            | NoSuchJoinTarget(_)
            | NoPublicPort { .. } => ErrorKind::NotFound,
            OnlyOneInstance(_)
            | NameExists(_)
            | PoolOverlaps
            | PreDefined(_)
            | ActiveEndpoints { .. }
            | PoolExhausted { .. }
            | AddressInUse
            | JoinTargetNotRunning(_)
            | SubnetOverlapsRoute { .. }
            | LinkTargetNotRunning { .. }
            | HostNetwork
            | SharedNamespace
            | EndpointExists { .. }
            | NotConnected { .. } => ErrorKind::Conflict,
            Input(_)
            | BadTypeFilter(_)
            | IpamOptions
            | OneSubnet
            | PoolWithoutSubnet
            | BadName(_)
            | NotSwarmManager
            | Ingress
            | Scope(_)
            | ConfigOnly
            | Ipv6
            | Ip6
            | LinkLocal
            | BadBridgeName(_)
            | BadMtu(_)
            | UnsupportedOption(_)
            | AuxAddressOutside { .. }
            | NoDefaultPool
            | NoSubnet(_)
            | NoIpv4Subnet(_)
            | Ambiguous { .. }
            | BadMac(_)
            | ConflictingOptions(_)
            | BadHostIp(_)
            | BadDns(_)
            | LinksNeedUserNetwork
            | AliasesNeedUserNetwork
            | ConnectInMode { .. }
            | StaticIpOnDefault
            | StaticIpNeedsSubnet => ErrorKind::InvalidArgument,
        }
    }
}

impl From<berth_network::NetworkError> for NetworkRequestError {
    /// A parse failure of the caller's input (an address, a port, a link).
    fn from(e: berth_network::NetworkError) -> Self {
        NetworkRequestError::Input(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts are Docker's (the e2e tests compare them through the CLI and the API); a few
    /// pinned here so a change of wording fails fast, with their classes.
    #[test]
    fn words_and_classes_are_dockers() {
        let cases: [(NetworkRequestError, &str, ErrorKind); 6] = [
            (
                NetworkRequestError::NoSuchNetwork("n1".into()),
                "network n1 not found",
                ErrorKind::NotFound,
            ),
            (
                NetworkRequestError::NoSuchPlugin("weave".into()),
                "plugin \"weave\" not found",
                ErrorKind::NotFound,
            ),
            (
                NetworkRequestError::OnlyOneInstance("host".into()),
                "only one instance of \"host\" network is allowed",
                ErrorKind::Conflict,
            ),
            (
                NetworkRequestError::ActiveEndpoints {
                    name: "n1".into(),
                    id: "abc".into(),
                },
                "error while removing network: network n1 id abc has active endpoints",
                ErrorKind::Conflict,
            ),
            (
                NetworkRequestError::ConflictingOptions("dns and the network mode"),
                "conflicting options: dns and the network mode",
                ErrorKind::InvalidArgument,
            ),
            (
                NetworkRequestError::LinkTargetNotRunning {
                    target: "db".into(),
                    parent: "web".into(),
                    alias: "d".into(),
                },
                "Cannot link to a non running container: /db AS /web/d",
                ErrorKind::Conflict,
            ),
        ];
        for (e, text, kind) in cases {
            assert_eq!((e.to_string().as_str(), e.kind()), (text, kind));
        }
    }
}
