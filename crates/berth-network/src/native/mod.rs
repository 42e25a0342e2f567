//! [`Native`], berth's own bridge backend, made for a daemonless engine that sets networking up
//! and tears it down in every `run --rm`: the per-container work is a few netlink requests
//! (a veth pair whose peer is born in the container's namespace, its address, the default
//! route) and, only for published ports, one `iptables-restore` batch; everything that belongs
//! to the network — the bridge, its address, forwarding sysctls, the NAT and forwarding chains
//! ([`firewall`]) — is set up once, by the first container that needs it, and stays while the
//! network exists, as Docker keeps docker0's. A marker file per network in the exec root
//! (holding the boot ID, so a reboot invalidates it) says it is in place; a missing bridge, a
//! stale marker or a port batch that finds its chain gone (rules deleted behind berth's back)
//! sets the network up again. `network rm` ([`Native::remove_network`]) removes it all.
//!
//! Bridge networks of one engine are isolated from each other as Docker isolates its own
//! ([`firewall::Isolation`]): a container reaches another network only through an interface
//! on it.
//!
//! Names are served by `aardvark-dns` ([`aardvark`]) as under netavark.
//!
//! Why not netavark on this path: netavark 1.4 creates a network's chains when its first
//! container joins and deletes them when the last leaves, with a separate `iptables` process
//! per rule (about 40 per `run --rm` on an idle bridge), plus its own start: 0.2–0.5 s per
//! container against a few milliseconds here (design.md, "Network backend").

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::{ContainerRef, EndpointSpec, NetworkBackend, NetworkSpec};
use crate::NetworkError;

mod aardvark;
mod firewall;
mod netlink;

use aardvark::Aardvark;
use firewall::{Firewall, Isolation};
use netlink::Netlink;

/// The native backend's settings, recorded with each sandbox so its teardown uses exactly
/// these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Native {
    /// Marker files of set-up networks and the lock file live here.
    state_dir: PathBuf,
    /// aardvark-dns, if installed (needed by networks with names).
    aardvark: Option<PathBuf>,
    /// Its configuration directory.
    aardvark_dir: PathBuf,
    /// The port it listens on.
    dns_port: Option<u16>,
}

fn net_err(what: &'static str, name: &str, e: std::io::Error) -> NetworkError {
    NetworkError::io(what, name, e)
}

/// The host end of container `container`'s veth on network `network`: `vb` and 11 hex digits
/// of a hash of both IDs, so it is known at teardown without asking anyone.
fn host_veth(container: &str, network: &str) -> String {
    let h = Sha256::digest(format!("{container}/{network}").as_bytes());
    format!("vb{}", &hex::encode(h)[..11])
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn write_sysctl(path: &str, value: &str) -> Result<(), NetworkError> {
    if std::fs::read_to_string(path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(path, value).map_err(|e| NetworkError::io("set", path, e))
}

/// An exclusive lock on a file, released when dropped.
struct Lock(#[allow(dead_code)] std::fs::File);

impl Native {
    /// The backend with its state under `exec_root` (`networks/`, `aardvark-dns/`), using the
    /// given aardvark-dns binary or the installed one.
    pub fn new(
        exec_root: &Path,
        aardvark: Option<&Path>,
        dns_port: Option<u16>,
    ) -> Result<Native, NetworkError> {
        Firewall::find()?;
        Ok(Native {
            state_dir: exec_root.join("networks"),
            aardvark: crate::netavark::find_tool("aardvark-dns", aardvark).ok(),
            aardvark_dir: exec_root.join("aardvark-dns"),
            dns_port,
        })
    }

    fn lock(&self) -> Result<Lock, NetworkError> {
        std::fs::create_dir_all(&self.state_dir)
            .map_err(|e| NetworkError::io("create", &self.state_dir, e))?;
        let path = self.state_dir.join(".lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| NetworkError::io("open", &path, e))?;
        rustix::fs::flock(f.as_fd(), rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| NetworkError::io("lock", &path, e.into()))?;
        Ok(Lock(f))
    }

    /// This engine's isolation chains, tagged with a hash of its state directory (one per
    /// data root, so concurrent engines never share them).
    fn isolation(&self) -> Isolation {
        let h = Sha256::digest(self.state_dir.as_os_str().as_encoded_bytes());
        Isolation::new(&hex::encode(h)[..8])
    }

    fn marker(&self, net: &NetworkSpec) -> PathBuf {
        self.state_dir.join(&net.id)
    }

    fn marked(&self, net: &NetworkSpec) -> bool {
        std::fs::read_to_string(self.marker(net)).is_ok_and(|b| b == boot_id())
    }

    fn aardvark(&self) -> Result<Aardvark<'_>, NetworkError> {
        let binary = self
            .aardvark
            .as_deref()
            .ok_or_else(|| NetworkError::MissingTool {
                tool: "aardvark-dns",
                looked: "/usr/lib/podman, /usr/libexec/podman, $PATH".into(),
                purpose: "container names on user-defined networks",
                package: "aardvark-dns",
            })?;
        Ok(Aardvark {
            binary,
            dir: self.aardvark_dir.clone(),
            port: self.dns_port.unwrap_or(53),
        })
    }

    /// Sets network `net` up on the host — bridge, address, sysctls, firewall chains — unless
    /// it is in place (`force`: re-install the firewall rules whatever the marker says).
    /// Returns the bridge's index.
    fn ensure_network(
        &self,
        nl: &mut Netlink,
        net: &NetworkSpec,
        force: bool,
    ) -> Result<u32, NetworkError> {
        let _lock = self.lock()?;
        let br = &net.bridge;
        let existing = nl
            .link_index(br)
            .map_err(|e| net_err("find bridge", br, e))?;
        if let (Some(index), false, true) = (existing, force, self.marked(net)) {
            return Ok(index);
        }
        nl.add_bridge(br, net.mtu)
            .map_err(|e| net_err("create bridge", br, e))?;
        let index = nl
            .link_index(br)
            .map_err(|e| net_err("find bridge", br, e))?
            .ok_or_else(|| net_err("find bridge", br, std::io::ErrorKind::NotFound.into()))?;
        let prefix = net.ipam.subnet.prefix_len();
        nl.add_address(index, net.ipam.gateway, prefix)
            .map_err(|e| net_err("address bridge", br, e))?;
        nl.set_up(index).map_err(|e| net_err("bring up", br, e))?;
        write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")?;
        // Published ports answer on 127.0.0.1 too: let DNATed loopback traffic be routed.
        write_sysctl(&format!("/proc/sys/net/ipv4/conf/{br}/route_localnet"), "1")?;
        Firewall::find()?.install_network(net, self.dns_port, &self.isolation())?;
        let marker = self.marker(net);
        std::fs::write(&marker, boot_id()).map_err(|e| NetworkError::io("write", &marker, e))?;
        Ok(index)
    }

    /// Removes what network `net` has on the host: its firewall chains, its bridge, its
    /// marker. What is already gone is fine. (`network rm`, `network prune`.)
    fn remove_network_now(&self, net: &NetworkSpec) -> Result<(), NetworkError> {
        let _lock = self.lock()?;
        let mut first = Firewall::find()?
            .remove_network(net, &self.isolation())
            .err();
        let mut nl = Netlink::host().map_err(|e| net_err("open netlink", &net.bridge, e))?;
        if let Err(e) = nl.delete_link(&net.bridge) {
            first.get_or_insert(net_err("delete bridge", &net.bridge, e));
        }
        if let Ok(a) = self.aardvark() {
            // Normally gone with the network's last container.
            let _ = std::fs::remove_file(a.dir.join(&net.id));
        }
        let _ = std::fs::remove_file(self.marker(net));
        first.map_or(Ok(()), Err)
    }

    /// Sets network `net` up again if any of its firewall chains is missing (deleted behind
    /// berth's back); returns whether it did. Containers' published ports are not restored.
    fn repair_network_now(&self, net: &NetworkSpec) -> Result<bool, NetworkError> {
        if !self.marked(net) || Firewall::find()?.network_installed(net, &self.isolation())? {
            return Ok(false);
        }
        let mut nl = Netlink::host().map_err(|e| net_err("open netlink", &net.bridge, e))?;
        self.ensure_network(&mut nl, net, true)?;
        Ok(true)
    }

    /// The container half of connect, undone by the caller on failure.
    fn connect_endpoint(
        &self,
        netns: &Path,
        container: &ContainerRef,
        ep: &EndpointSpec,
        veth: &str,
        progress: &mut Progress,
    ) -> Result<(), NetworkError> {
        let net = &ep.network;
        let mut nl = Netlink::host().map_err(|e| net_err("open netlink", veth, e))?;
        let bridge = match nl
            .link_index(&net.bridge)
            .map_err(|e| net_err("find bridge", &net.bridge, e))?
        {
            Some(i) if self.marked(net) => i,
            _ => self.ensure_network(&mut nl, net, false)?,
        };
        let ns = std::fs::File::open(netns).map_err(|e| NetworkError::io("open", netns, e))?;
        let mac = netlink::parse_mac(&ep.mac);
        let add =
            |nl: &mut Netlink| nl.add_veth(veth, bridge, net.mtu, &ep.interface, mac, ns.as_fd());
        progress.veth = true;
        if let Err(e) = add(&mut nl) {
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(net_err("create veth", veth, e));
            }
            // Left by a teardown that never ran: replace it.
            nl.delete_link(veth)
                .and_then(|()| add(&mut nl))
                .map_err(|e| net_err("create veth", veth, e))?;
        }
        let port = nl
            .link_index(veth)
            .and_then(|i| i.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
            .and_then(|i| nl.set_hairpin(i))
            .map_err(|e| net_err("set hairpin mode on", veth, e));
        port?;
        let mut inside =
            Netlink::in_namespace(netns).map_err(|e| NetworkError::io("enter", netns, e))?;
        let iface = &ep.interface;
        let configure = |inside: &mut Netlink| -> std::io::Result<()> {
            if let Some(lo) = inside.link_index("lo")? {
                inside.set_up(lo)?;
            }
            let index = inside
                .link_index(iface)?
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
            inside.add_address(index, ep.ip, net.ipam.subnet.prefix_len())?;
            inside.set_up(index)?;
            if !net.internal {
                inside.add_default_route(net.ipam.gateway)?;
            }
            Ok(())
        };
        configure(&mut inside).map_err(|e| net_err("configure", iface, e))?;
        if !ep.ports.is_empty() {
            let fw = Firewall::find()?;
            progress.ports = true;
            if let Err(first) = fw.add_ports(net, ep.ip, &ep.ports) {
                // The network's chains were removed behind berth's back: put them back (only
                // then: setting up again empties the chain other containers' ports are in).
                if fw.network_installed(net, &self.isolation())? {
                    return Err(first);
                }
                log::debug!(
                    "publishing ports: {first}; setting network {} up again",
                    net.name
                );
                self.ensure_network(&mut nl, net, true)?;
                fw.add_ports(net, ep.ip, &ep.ports)?;
            }
        }
        if net.dns {
            let line =
                aardvark::entry_line(&container.id, ep.ip, &ep.names, &container.dns_servers);
            let a = self.aardvark()?;
            let _lock = self.lock()?;
            progress.dns = true;
            a.add(&net.id, net.ipam.gateway, &line)?;
        }
        Ok(())
    }
}

/// What a connect got to, for undoing it.
#[derive(Default)]
struct Progress {
    veth: bool,
    ports: bool,
    dns: bool,
}

impl Native {
    fn undo(
        &self,
        container: &ContainerRef,
        ep: &EndpointSpec,
        done: &Progress,
    ) -> Result<(), NetworkError> {
        let net = &ep.network;
        let mut first = None;
        if done.ports {
            if let Err(e) = Firewall::find().and_then(|fw| fw.remove_ports(net, ep.ip, &ep.ports)) {
                first.get_or_insert(e);
            }
        }
        if done.dns {
            let r = self.aardvark().and_then(|a| {
                let _lock = self.lock()?;
                a.remove(&net.id, &container.id)
            });
            if let Err(e) = r {
                first.get_or_insert(e);
            }
        }
        if done.veth {
            let veth = host_veth(&container.id, &net.id);
            let r = Netlink::host().and_then(|mut nl| nl.delete_link(&veth));
            if let Err(e) = r {
                first.get_or_insert(net_err("delete veth", &veth, e));
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl NetworkBackend for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn connect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError> {
        let veth = host_veth(&container.id, &endpoint.network.id);
        let mut progress = Progress::default();
        let result = self.connect_endpoint(netns, container, endpoint, &veth, &mut progress);
        if result.is_err() {
            if let Err(e) = self.undo(container, endpoint, &progress) {
                log::debug!("undoing a failed connect: {e}");
            }
        }
        result
    }

    fn disconnect(
        &self,
        _netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError> {
        // Deleting the host end takes the container's end with it, whether or not its
        // namespace still exists.
        let all = Progress {
            veth: true,
            ports: !endpoint.ports.is_empty(),
            dns: endpoint.network.dns,
        };
        self.undo(container, endpoint, &all)
    }

    fn remove_network(&self, network: &NetworkSpec) -> Result<(), NetworkError> {
        self.remove_network_now(network)
    }

    fn repair_network(&self, network: &NetworkSpec) -> Result<bool, NetworkError> {
        self.repair_network_now(network)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_veth_names_fit_and_differ() {
        let a = host_veth(&"a".repeat(64), &"n".repeat(64));
        let b = host_veth(&"b".repeat(64), &"n".repeat(64));
        let c = host_veth(&"a".repeat(64), &"m".repeat(64));
        assert!(a.len() <= 15 && a.starts_with("vb"), "{a}");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
