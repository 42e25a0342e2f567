//! A container's networking while it runs: [`Engine::attach_network`] runs before its process
//! starts — host ports bound, addresses allocated (one transaction), the namespace made and
//! every endpoint connected through the backend, `/etc/hosts`, `/etc/hostname` and
//! `/etc/resolv.conf` written, link variables computed — all or nothing; and
//! [`Engine::detach_network`] undoes it when the container stops, from whichever process sees
//! that first (the shim at exit, `stop`/`kill`/`rm -f`, the repair pass). Detaching twice is
//! harmless: the sandbox state file says what is left to undo.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use berth_network::backend::{ContainerRef, EndpointSpec};
use berth_network::etc::{self, DnsConfig, HostsEntry};
use berth_network::ipam;
use berth_network::links::{parse_link, Link};
use berth_network::ports::{self, PortBinding, PortKey, PublishedPort, ReserveError};
use berth_network::sandbox::Sandbox;
use berth_network::NetworkError;
use berth_runtime::spec::{EtcFiles, NetworkMode};
use berth_store::metadata::networks::{self as rows, EndpointRow, NetworkRow};
use berth_store::metadata::MetaError;

use super::plan::Mode;
use super::{spec_of, NetworkRequestError, BRIDGE};
use crate::container::Container;
use crate::{Engine, EngineError};

/// The state file of a container's sandbox, in its directory.
pub(crate) const SANDBOX_STATE: &str = "sandbox.json";
/// The link variables of a running container, in its directory (for `exec`).
const LINK_ENV: &str = "links.json";

/// What a starting container gets from its networking.
pub(crate) struct Attached {
    /// The namespace its runtime creates or joins.
    pub network: NetworkMode,
    /// The `/etc` files to bind-mount.
    pub etc_files: EtcFiles,
    /// Link variables for its environment.
    pub env: Vec<String>,
    /// Sockets holding its published host ports, for its shim to keep.
    pub held: Vec<OwnedFd>,
    /// The user namespace owning the network namespace (a remapped container's), to join.
    pub userns: Option<std::path::PathBuf>,
}

impl From<NetworkError> for EngineError {
    fn from(e: NetworkError) -> Self {
        EngineError::Network(e)
    }
}

/// A container endpoint with its network, as allocated at start.
struct Allocated {
    row: EndpointRow,
    network: NetworkRow,
    ip: Ipv4Addr,
}

/// Writes `content` to `path` unless the file holds it already: `create` wrote the same
/// `hostname`, `hosts` and `resolv.conf` a moment before the first start of most containers,
/// and rewriting a file frees and allocates its data block again (on a filesystem mounted with
/// `discard`, a synchronous discard each).
fn write_file(path: &Path, content: &str) -> Result<(), EngineError> {
    if std::fs::read(path).is_ok_and(|old| old == content.as_bytes()) {
        return Ok(());
    }
    std::fs::write(path, content).map_err(EngineError::Io)
}

/// Gives endpoint `e` on network `n` its running state inside transaction `tx`: the address it
/// asks for or the lowest free one, a new endpoint ID, `mac` (Docker's for the address by
/// default) and `ports`. Another running container holding the address fails it.
pub(super) fn allocate_endpoint(
    tx: &berth_store::metadata::Connection,
    e: &EndpointRow,
    n: &NetworkRow,
    mac: Option<String>,
    ports: Option<String>,
) -> Result<(EndpointRow, Ipv4Addr), EngineError> {
    let plan = super::ipam_of(n).ok_or_else(|| NetworkRequestError::NoSubnet(n.name.clone()))?;
    let ip = match &e.ipam_ipv4 {
        Some(ip) => ipam::parse_ip(ip).map_err(NetworkRequestError::Input)?,
        None => {
            let used: HashSet<Ipv4Addr> = rows::addresses_in_use(tx, &n.id)?
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect();
            plan.next_free(&used)
                .ok_or_else(|| NetworkRequestError::PoolExhausted {
                    name: n.name.clone(),
                    id: n.id.clone(),
                })?
        }
    };
    let row = EndpointRow {
        endpoint_id: Some(berth_store::fsutil::random_hex(32)),
        ip: Some(ip.to_string()),
        mac: Some(mac.unwrap_or_else(|| ipam::mac_for(ip))),
        ports,
        ..e.clone()
    };
    match rows::set_endpoint_address(tx, &row, &n.name) {
        Ok(()) => Ok((row, ip)),
        Err(MetaError::Exists(_)) => Err(NetworkRequestError::AddressInUse.into()),
        Err(other) => Err(other.into()),
    }
}

impl Engine {
    /// The sandbox state file of container `id`.
    pub(crate) fn sandbox_state(&self, id: &str) -> PathBuf {
        self.container_dir(id).join(SANDBOX_STATE)
    }

    /// `--dns`, `--dns-search`, `--dns-option` of `c`, else the engine's defaults.
    fn dns_config(&self, c: &Container) -> DnsConfig {
        let hc = &c.host_config;
        let pick = |own: &Vec<String>, dflt: &Vec<String>| {
            if own.is_empty() {
                dflt.clone()
            } else {
                own.clone()
            }
        };
        DnsConfig {
            servers: pick(&hc.dns, &self.config.dns),
            search: pick(&hc.dns_search, &self.config.dns_search),
            options: pick(&hc.dns_options, &self.config.dns_opts),
        }
    }

    fn extra_hosts(
        &self,
        c: &Container,
        gateway: Option<Ipv4Addr>,
    ) -> Result<Vec<HostsEntry>, EngineError> {
        let gateway = gateway.or_else(|| {
            rows::network_by_name(self.store.db().conn(), BRIDGE)
                .ok()
                .flatten()
                .and_then(|b| b.gateway?.parse().ok())
        });
        c.host_config
            .extra_hosts
            .iter()
            .flatten()
            .map(|h| {
                etc::parse_extra_host(h, gateway).map_err(|e| NetworkRequestError::Input(e).into())
            })
            .collect()
    }

    /// Sets up `c`'s networking before its process starts (see the module doc).
    /// `joined_userns`: the user namespace of the container whose PID or IPC namespace a
    /// remapped `c` joins, which then owns the network namespace made for `c`.
    pub(crate) fn attach_network(
        &mut self,
        c: &Container,
        joined_userns: Option<&Path>,
    ) -> Result<Attached, EngineError> {
        let dir = c.dir(self);
        let own = EtcFiles::in_dir(&dir);
        write_file(&own.hostname, &format!("{}\n", c.config.hostname))?;
        let mode = if c.config.network_disabled {
            Mode::None
        } else {
            Mode::of(&c.host_config.network_mode)
        };
        match mode {
            Mode::None | Mode::Host => {
                let host = mode == Mode::Host;
                let extra = self.extra_hosts(c, None)?;
                let hosts = if host {
                    let mut h = std::fs::read_to_string("/etc/hosts")
                        .unwrap_or_else(|_| etc::HOSTS_DEFAULT.to_string());
                    for e in &extra {
                        h.push_str(&format!("{}\t{}\n", e.ip, e.names.join(" ")));
                    }
                    h
                } else {
                    etc::hosts(&extra, &[], None)
                };
                write_file(&own.hosts, &hosts)?;
                let host_rc = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
                let dns = self.dns_config(c);
                let rc = if host && dns == DnsConfig::default() {
                    host_rc
                } else {
                    etc::resolv_conf(&host_rc, &dns, None)
                };
                write_file(&own.resolv_conf, &rc)?;
                Ok(Attached {
                    network: if host {
                        NetworkMode::Host
                    } else {
                        NetworkMode::Private
                    },
                    etc_files: own,
                    env: Vec::new(),
                    held: Vec::new(),
                    userns: None,
                })
            }
            Mode::Container(id) => {
                let target = self.container(&id).map_err(|e| match e {
                    EngineError::NoSuchContainer(_) => {
                        NetworkRequestError::NoSuchJoinTarget(id.clone()).into()
                    }
                    other => other,
                })?;
                if !target.state.status.is_running() {
                    return Err(NetworkRequestError::JoinTargetNotRunning(target.id.clone()).into());
                }
                let sandbox = Sandbox::load(&self.sandbox_state(&target.id))?;
                // A remapped container joins the user namespace owning the network namespace.
                let userns = sandbox.as_ref().and_then(Sandbox::userns);
                let network = match sandbox {
                    Some(s) => NetworkMode::Join(s.netns),
                    None if Mode::of(&target.host_config.network_mode) == Mode::Host => {
                        NetworkMode::Host
                    }
                    None => NetworkMode::Join(PathBuf::from(format!(
                        "/proc/{}/ns/net",
                        target.state.pid
                    ))),
                };
                Ok(Attached {
                    network,
                    etc_files: EtcFiles::in_dir(&target.dir(self)),
                    env: Vec::new(),
                    held: Vec::new(),
                    userns,
                })
            }
            Mode::Bridge(_) => self.attach_bridge(c, own, joined_userns),
        }
    }

    fn attach_bridge(
        &mut self,
        c: &Container,
        own: EtcFiles,
        joined_userns: Option<&Path>,
    ) -> Result<Attached, EngineError> {
        let endpoints = rows::endpoints_of_container(self.store.db().conn(), &c.id)?;
        let mut networks = Vec::new();
        for e in &endpoints {
            let n = rows::network_by_id(self.store.db().conn(), &e.network_id)?
                .ok_or_else(|| NetworkRequestError::NoSuchNetwork(e.network_id.clone()))?;
            self.check_subnet_free(&n)?;
            networks.push(n);
        }
        // Host ports first: a taken port fails the start before anything else is made.
        let reservation = match networks.first() {
            Some(primary) => self.reserve_ports(c, primary)?,
            None => ports::Reservation::default(),
        };
        let allocated = self.allocate_addresses(c, &endpoints, &networks, &reservation.ports)?;
        let result = self.build_sandbox(c, &allocated, &reservation.ports, own, joined_userns);
        match result {
            Ok(mut attached) => {
                attached.held = reservation.sockets;
                Ok(attached)
            }
            Err(e) => {
                self.detach_network(c);
                Err(e)
            }
        }
    }

    /// Refuses to start on a network whose subnet the host routes through another interface
    /// (another data root's bridge, a VPN…): the container would be unreachable.
    fn check_subnet_free(&self, n: &NetworkRow) -> Result<(), EngineError> {
        let Some(plan) = super::ipam_of(n) else {
            return Ok(());
        };
        for r in ipam::host_routes() {
            if r.dev != n.bridge && ipam::overlaps(r.net, plan.subnet) {
                return Err(NetworkRequestError::SubnetOverlapsRoute {
                    name: n.name.clone(),
                    subnet: plan.subnet.to_string(),
                    route: r.net.to_string(),
                    dev: r.dev.clone(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// The port bindings of `c`, with `-P`'s random ports for exposed ports that have none.
    fn port_requests(c: &Container) -> Result<BTreeMap<PortKey, Vec<PortBinding>>, EngineError> {
        let parse = |k: &str| -> Result<PortKey, EngineError> {
            k.parse()
                .map_err(|e: NetworkError| NetworkRequestError::Input(e).into())
        };
        let mut out = BTreeMap::new();
        for (k, v) in &c.host_config.port_bindings {
            let list = v.clone().unwrap_or_default();
            if !list.is_empty() {
                out.insert(parse(k)?, list);
            }
        }
        if c.host_config.publish_all_ports {
            for k in c.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
                out.entry(parse(k)?)
                    .or_insert_with(|| vec![PortBinding::default()]);
            }
        }
        Ok(out)
    }

    fn reserve_ports(
        &self,
        c: &Container,
        primary: &NetworkRow,
    ) -> Result<ports::Reservation, EngineError> {
        let requests = Self::port_requests(c)?;
        if requests.is_empty() {
            return Ok(ports::Reservation::default());
        }
        match ports::reserve(&requests, self.host_binding_ip(primary)) {
            Ok(r) => Ok(r),
            Err(ReserveError::Invalid(e)) => Err(e.into()),
            Err(ReserveError::Bind(f)) => {
                let by_container = f.in_use() && self.port_published_by_a_container(&f);
                Err(NetworkError::PortUnavailable {
                    endpoint: c.name.clone(),
                    endpoint_id: berth_store::fsutil::random_hex(32),
                    reason: if by_container {
                        f.allocated_message()
                    } else {
                        f.proxy_message()
                    },
                }
                .into())
            }
        }
    }

    /// Whether a running container of this data root publishes the host port of `f`.
    fn port_published_by_a_container(&self, f: &ports::BindFailure) -> bool {
        let Ok(active) = rows::active_endpoints(self.store.db().conn()) else {
            return false;
        };
        active.iter().any(|e| {
            let published: Vec<PublishedPort> = e
                .ports
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_default();
            published
                .iter()
                .any(|p| p.proto == f.proto && f.host_port == p.host_port.to_string())
        })
    }

    /// Gives every endpoint of `c` an address, in one transaction.
    fn allocate_addresses(
        &mut self,
        c: &Container,
        endpoints: &[EndpointRow],
        networks: &[NetworkRow],
        published: &[PublishedPort],
    ) -> Result<Vec<Allocated>, EngineError> {
        let mac = c.config.mac_address.clone();
        let ports_json = serde_json::to_string(published).expect("serializes");
        self.store
            .db_mut()
            .write(|tx| -> Result<Vec<Allocated>, EngineError> {
                let mut out = Vec::new();
                for (i, (e, n)) in endpoints.iter().zip(networks).enumerate() {
                    // The network may have been removed since it was read.
                    if rows::network_by_id(tx, &n.id)?.is_none() {
                        return Err(NetworkRequestError::NoSuchNetwork(n.id.clone()).into());
                    }
                    let asked = e
                        .mac_address
                        .clone()
                        .or_else(|| (i == 0 && !mac.is_empty()).then(|| mac.clone()));
                    let (row, ip) =
                        allocate_endpoint(tx, e, n, asked, (i == 0).then(|| ports_json.clone()))?;
                    out.push(Allocated {
                        row,
                        network: n.clone(),
                        ip,
                    });
                }
                Ok(out)
            })
    }

    /// The names `c` answers to on the network of `e`: its name, its aliases, its short ID,
    /// and the aliases other containers on the network link to it under (a link on a
    /// user-defined network is a name, as Docker's embedded DNS answers it).
    pub(super) fn dns_names(&self, c: &Container, e: &EndpointRow) -> Vec<String> {
        let mut names = vec![c.name.clone()];
        let mut add = |a: String| {
            if !names.contains(&a) {
                names.push(a);
            }
        };
        for a in &e.aliases {
            add(a.clone());
        }
        add(c.id[..12].to_string());
        let others =
            rows::endpoints_of_network(self.store.db().conn(), &e.network_id).unwrap_or_default();
        for other in others.iter().filter(|o| o.container_id != c.id) {
            for l in &other.links {
                if let Ok((child, alias)) = parse_link(l) {
                    if child == c.name || c.id.starts_with(&child) {
                        add(alias);
                    }
                }
            }
        }
        names
    }

    fn build_sandbox(
        &mut self,
        c: &Container,
        allocated: &[Allocated],
        published: &[PublishedPort],
        own: EtcFiles,
        joined_userns: Option<&Path>,
    ) -> Result<Attached, EngineError> {
        let Some(primary) = allocated.first() else {
            // Disconnected from every network: loopback only.
            write_file(
                &own.hosts,
                &etc::hosts(&self.extra_hosts(c, None)?, &[], None),
            )?;
            let rc = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            write_file(
                &own.resolv_conf,
                &etc::resolv_conf(&rc, &self.dns_config(c), None),
            )?;
            return Ok(Attached {
                network: NetworkMode::Private,
                etc_files: own,
                env: Vec::new(),
                held: Vec::new(),
                userns: None,
            });
        };
        let cfg = &self.network;
        let backend = cfg.backend()?;
        let dns = self.dns_config(c);
        let sandbox_id = berth_store::fsutil::random_hex(32);
        let mut endpoints = Vec::new();
        for (i, a) in allocated.iter().enumerate() {
            endpoints.push(EndpointSpec {
                network: spec_of(&a.network)?,
                interface: format!("eth{i}"),
                ip: a.ip,
                mac: a.row.mac.clone().unwrap_or_default(),
                names: self.dns_names(c, &a.row),
                ports: if i == 0 {
                    published.to_vec()
                } else {
                    Vec::new()
                },
            });
        }
        let sandbox = Sandbox {
            id: sandbox_id.clone(),
            netns: cfg.netns_path(&sandbox_id),
            backend,
            container: ContainerRef {
                id: c.id.clone(),
                name: c.name.clone(),
                dns_servers: dns
                    .servers
                    .iter()
                    .filter_map(|s| s.parse::<IpAddr>().ok())
                    .collect(),
            },
            endpoints,
            user_maps: self
                .remap_for(&c.host_config)
                .map(|r| (r.uids.clone(), r.gids.clone())),
            join_userns: joined_userns.map(Path::to_path_buf),
        };
        sandbox.create(&self.sandbox_state(&c.id))?;

        let gateway = super::ipam_of(&primary.network).map(|p| p.gateway);
        let extra = self.extra_hosts(c, gateway)?;
        let (link_entries, env) = self.resolve_links(c, allocated)?;
        // `exec` gives its processes the link variables too (Docker).
        let links_file = self.container_dir(&c.id).join(LINK_ENV);
        if env.is_empty() {
            let _ = std::fs::remove_file(&links_file);
        } else {
            write_file(
                &links_file,
                &serde_json::to_string(&env).expect("serializes"),
            )?;
        }
        let own_entry = etc::own_entry(primary.ip, &c.config.hostname, &c.config.domainname);
        write_file(
            &own.hosts,
            &etc::hosts(&extra, &link_entries, Some(&own_entry)),
        )?;
        let host_rc = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let embedded = primary.network.dns.then(|| sandbox.dns_server(0)).flatten();
        write_file(
            &own.resolv_conf,
            &etc::resolv_conf(&host_rc, &dns, embedded),
        )?;
        Ok(Attached {
            network: NetworkMode::Join(sandbox.netns.clone()),
            etc_files: own,
            env,
            held: Vec::new(),
            userns: sandbox.userns(),
        })
    }

    /// `/etc/hosts` lines and environment of `c`'s links: legacy links on the default bridge
    /// (`HostConfig.Links`, with Docker's variables) and links on user-defined networks
    /// (names only).
    fn resolve_links(
        &mut self,
        c: &Container,
        allocated: &[Allocated],
    ) -> Result<(Vec<HostsEntry>, Vec<String>), EngineError> {
        let mut entries = Vec::new();
        let mut env = Vec::new();
        for a in allocated {
            let legacy = a.network.name == BRIDGE;
            let links: Vec<String> = if legacy {
                c.host_config.links.clone().unwrap_or_default()
            } else {
                a.row.links.clone()
            };
            for l in links {
                let (child, alias) = parse_link(&l).map_err(NetworkRequestError::Input)?;
                let target = match self.container(&child) {
                    Ok(t) => t,
                    // On a user-defined network a link is a name that may exist later.
                    Err(EngineError::NoSuchContainer(_)) if !legacy => continue,
                    Err(EngineError::NoSuchContainer(_)) => {
                        return Err(NetworkRequestError::NoSuchLinkTarget(child.clone()).into())
                    }
                    Err(e) => return Err(e),
                };
                if !legacy && !target.state.status.is_running() {
                    continue;
                }
                let not_running = || {
                    EngineError::from(NetworkRequestError::LinkTargetNotRunning {
                        target: target.name.clone(),
                        parent: c.name.clone(),
                        alias: alias.clone(),
                    })
                };
                if !target.state.status.is_running() {
                    return Err(not_running());
                }
                let ip = rows::endpoints_of_container(self.store.db().conn(), &target.id)?
                    .into_iter()
                    .find(|e| e.network_id == a.network.id)
                    .and_then(|e| e.ip)
                    .and_then(|ip| ip.parse().ok())
                    .ok_or_else(not_running)?;
                let link = Link {
                    parent: c.name.clone(),
                    alias: alias.clone(),
                    child: target.name.clone(),
                    child_short_id: target.id[..12].to_string(),
                    child_ip: ip,
                    ports: target
                        .config
                        .exposed_ports
                        .iter()
                        .flatten()
                        .filter_map(|(k, _)| k.parse().ok())
                        .collect(),
                    child_env: target.config.env.clone().unwrap_or_default(),
                };
                entries.push(link.hosts_entry());
                if legacy {
                    env.extend(link.env());
                }
            }
        }
        Ok((entries, env))
    }

    /// The link variables `c` was started with (what `exec` adds to its processes).
    pub(crate) fn link_env(&self, c: &Container) -> Vec<String> {
        std::fs::read(self.container_dir(&c.id).join(LINK_ENV))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Undoes [`Engine::attach_network`] for `c`: endpoints disconnected, namespace removed,
    /// addresses freed. Failures are logged: a stopping container is not kept running for a
    /// firewall rule.
    pub(crate) fn detach_network(&mut self, c: &Container) {
        let state = self.sandbox_state(&c.id);
        let holds_addresses = || {
            rows::endpoints_of_container(self.store.db().conn(), &c.id)
                .map(|eps| eps.iter().any(|e| e.ip.is_some()))
                .unwrap_or(true)
        };
        if !state.exists() && !holds_addresses() {
            return;
        }
        if let Err(e) = Sandbox::destroy(&state) {
            log::warn!("container {}: network teardown: {e}", c.id);
        }
        let id = c.id.clone();
        if let Err(e) = self
            .store
            .db_mut()
            .write(|tx| rows::clear_endpoint_addresses(tx, &id))
        {
            log::warn!("container {}: freeing its addresses: {e}", c.id);
        }
    }
}
