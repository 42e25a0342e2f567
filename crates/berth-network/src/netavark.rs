//! [`Netavark`], the network backend berth uses: Podman's `netavark` (Debian package
//! `netavark`), which creates the bridge and veth pair with netlink, programs NAT, forwarding
//! and port-forward rules with iptables (nf_tables underneath on Debian 12), and starts
//! `aardvark-dns` for networks with names.
//!
//! One `netavark setup` (or `teardown`) per endpoint, with the JSON it reads on stdin built from
//! berth's [`EndpointSpec`]. berth hands netavark the addresses it allocated (static IPs) and
//! Docker-style MACs, and names the netavark network after berth's network ID, because netavark
//! derives its iptables chain names from that name. Calls are serialised per exec root with a
//! file lock (netavark itself does not lock: two teardowns of a bridge's last endpoints, or two
//! writers of one aardvark config, would race). `aardvark-dns` listens on each DNS network's
//! gateway, port 53 unless configured, and exits with its network's last container.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backend::{ContainerRef, EndpointSpec, NetworkBackend, NetworkSpec};
use crate::netns;
use crate::NetworkError;

/// Where Debian, Fedora and others install netavark and aardvark-dns.
const LIBEXEC_DIRS: [&str; 3] = [
    "/usr/lib/podman",
    "/usr/libexec/podman",
    "/usr/local/libexec/podman",
];

/// The netavark backend: the binaries and directories it was set up with, recorded with each
/// container's sandbox so that its teardown uses exactly those.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Netavark {
    binary: PathBuf,
    aardvark: Option<PathBuf>,
    /// netavark's `--config` directory (aardvark-dns keeps its files below it).
    config_dir: PathBuf,
    /// The lock file serialising calls.
    lock: PathBuf,
    /// Where throw-away namespaces for tearing down after a reboot are made.
    scratch_ns: PathBuf,
    dns_port: Option<u16>,
}

/// `name` at `configured`, else in the usual libexec directories or on `$PATH`; the error
/// lists where it looked.
pub(crate) fn find_tool(name: &str, configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = configured {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(p.display().to_string())
        };
    }
    let mut looked = Vec::new();
    for dir in LIBEXEC_DIRS {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
        looked.push(p.display().to_string());
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if !dir.is_empty() && p.is_file() {
            return Ok(p);
        }
    }
    looked.push("$PATH".into());
    Err(looked.join(", "))
}

impl Netavark {
    /// The backend with its state under `exec_root` (`netavark/`, `netavark.lock`), using the
    /// given binaries or the installed ones.
    pub fn new(
        exec_root: &Path,
        binary: Option<&Path>,
        aardvark: Option<&Path>,
        dns_port: Option<u16>,
    ) -> Result<Netavark, NetworkError> {
        let binary = find_tool("netavark", binary).map_err(|looked| NetworkError::MissingTool {
            tool: "netavark",
            looked,
            purpose: "bridge networks",
            package: "netavark",
        })?;
        let aardvark = find_tool("aardvark-dns", aardvark).ok();
        Ok(Netavark {
            binary,
            aardvark,
            config_dir: exec_root.join("netavark"),
            lock: exec_root.join("netavark.lock"),
            scratch_ns: exec_root.join("netns"),
            dns_port,
        })
    }

    /// Runs `netavark <op> <netns>` with `input` on stdin under the exec root's lock.
    fn run(&self, op: &'static str, netns: &Path, input: &[u8]) -> Result<(), NetworkError> {
        std::fs::create_dir_all(&self.config_dir)
            .map_err(|e| NetworkError::io("create", &self.config_dir, e))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|e| NetworkError::io("open", &self.lock, e))?;
        rustix::fs::flock(lock.as_fd(), rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| NetworkError::io("lock", &self.lock, e.into()))?;
        // A first setup on a machine can race another process creating netavark's shared
        // chains ("Chain already exists"); the second attempt finds them.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.run_once(op, netns, input) {
                Err(NetworkError::Backend { message, .. })
                    if attempt < 3 && message.contains("already exists") && op == "setup" =>
                {
                    log::debug!("netavark setup raced another process ({message}); retrying");
                    let _ = self.run_once("teardown", netns, input);
                }
                other => return other,
            }
        }
    }

    fn run_once(&self, op: &'static str, netns: &Path, input: &[u8]) -> Result<(), NetworkError> {
        let started = Instant::now();
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--config").arg(&self.config_dir);
        if let Some(a) = &self.aardvark {
            cmd.arg("--aardvark-binary").arg(a);
        }
        cmd.arg(op)
            .arg(netns)
            .env("NETAVARK_FW", "iptables")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(port) = self.dns_port {
            cmd.env("NETAVARK_DNS_PORT", port.to_string());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| NetworkError::io("run", &self.binary, e))?;
        if let Some(mut stdin) = child.stdin.take() {
            // netavark reads all of stdin before it acts; a failed write shows in its status.
            let _ = stdin.write_all(input);
        }
        let out = child
            .wait_with_output()
            .map_err(|e| NetworkError::io("run", &self.binary, e))?;
        log::debug!(
            "netavark {op} {}: {} in {:?}",
            netns.display(),
            out.status,
            started.elapsed()
        );
        if out.status.success() {
            return Ok(());
        }
        // netavark reports `{"error": "..."}` on stdout.
        let message = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| {
                let err = String::from_utf8_lossy(&out.stderr);
                let err = err
                    .lines()
                    .filter(|l| !l.contains("failed to connect to syslog"))
                    .collect::<Vec<_>>()
                    .join("; ");
                if err.is_empty() {
                    format!("exited with {}", out.status)
                } else {
                    err
                }
            });
        Err(NetworkError::Backend {
            backend: "netavark",
            op,
            message,
        })
    }
}

/// netavark's input (its `NetworkOptions`), for one endpoint.
#[derive(Serialize)]
struct Options<'a> {
    container_id: &'a str,
    container_name: &'a str,
    networks: BTreeMap<&'a str, PerNetwork<'a>>,
    network_info: BTreeMap<&'a str, Network<'a>>,
    port_mappings: Vec<PortMapping>,
    dns_servers: Option<&'a [IpAddr]>,
}

#[derive(Serialize)]
struct PerNetwork<'a> {
    aliases: Vec<&'a str>,
    interface_name: &'a str,
    static_ips: Vec<IpAddr>,
    static_mac: &'a str,
}

#[derive(Serialize)]
struct Network<'a> {
    dns_enabled: bool,
    driver: &'static str,
    id: &'a str,
    internal: bool,
    ipv6_enabled: bool,
    name: &'a str,
    network_interface: &'a str,
    options: BTreeMap<&'static str, String>,
    ipam_options: BTreeMap<&'static str, &'static str>,
    subnets: Vec<Subnet>,
}

#[derive(Serialize)]
struct Subnet {
    subnet: String,
    gateway: String,
}

#[derive(Serialize)]
struct PortMapping {
    container_port: u16,
    host_ip: String,
    host_port: u16,
    protocol: &'static str,
    range: u16,
}

fn options<'a>(container: &'a ContainerRef, ep: &'a EndpointSpec) -> Options<'a> {
    let net: &NetworkSpec = &ep.network;
    let mut opts = BTreeMap::new();
    if let Some(mtu) = net.mtu {
        opts.insert("mtu", mtu.to_string());
    }
    let network = Network {
        dns_enabled: net.dns,
        driver: "bridge",
        id: &net.id,
        internal: net.internal,
        ipv6_enabled: false,
        name: &net.id,
        network_interface: &net.bridge,
        options: opts,
        ipam_options: BTreeMap::from([("driver", "host-local")]),
        subnets: vec![Subnet {
            subnet: net.ipam.subnet.to_string(),
            gateway: net.ipam.gateway.to_string(),
        }],
    };
    let mut aliases: Vec<&str> = Vec::new();
    for n in &ep.names {
        if n != &container.name && !aliases.contains(&n.as_str()) {
            aliases.push(n);
        }
    }
    let per = PerNetwork {
        aliases,
        interface_name: &ep.interface,
        static_ips: vec![IpAddr::V4(ep.ip)],
        static_mac: &ep.mac,
    };
    Options {
        container_id: &container.id,
        container_name: &container.name,
        networks: BTreeMap::from([(net.id.as_str(), per)]),
        network_info: BTreeMap::from([(net.id.as_str(), network)]),
        port_mappings: ep
            .ports
            .iter()
            .map(|p| PortMapping {
                container_port: p.container_port,
                host_ip: if p.host_ip.is_unspecified() {
                    String::new()
                } else {
                    p.host_ip.to_string()
                },
                host_port: p.host_port,
                protocol: p.proto.as_str(),
                range: 1,
            })
            .collect(),
        dns_servers: (!container.dns_servers.is_empty()).then_some(&container.dns_servers[..]),
    }
}

impl NetworkBackend for Netavark {
    fn name(&self) -> &'static str {
        "netavark"
    }

    fn connect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError> {
        let input = serde_json::to_vec(&options(container, endpoint)).expect("serializes");
        let result = self.run("setup", netns, &input);
        if result.is_err() {
            // netavark can fail after creating the veth or some rules: undo what it did.
            if let Err(e) = self.run("teardown", netns, &input) {
                log::debug!("netavark teardown after a failed setup: {e}");
            }
        }
        result
    }

    fn disconnect(
        &self,
        netns: &Path,
        container: &ContainerRef,
        endpoint: &EndpointSpec,
    ) -> Result<(), NetworkError> {
        let input = serde_json::to_vec(&options(container, endpoint)).expect("serializes");
        if netns::is_namespace(netns) {
            return self.run("teardown", netns, &input);
        }
        // The namespace is gone (the host rebooted, or someone removed it): netavark needs one
        // to run at all, and still has firewall rules and DNS entries to remove. An empty
        // namespace has no veth to delete, which netavark reports while cleaning up the rest.
        let scratch = self.scratch_ns.join(format!(
            ".teardown-{}-{}",
            std::process::id(),
            &container.id[..container.id.len().min(12)]
        ));
        netns::create(&scratch)?;
        let result = self.run("teardown", &scratch, &input);
        let _ = netns::remove(&scratch);
        if let Err(e) = result {
            log::debug!("netavark teardown without the container's namespace: {e}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::Ipam;
    use crate::ports::{Proto, PublishedPort};

    fn endpoint() -> (ContainerRef, EndpointSpec) {
        let c = ContainerRef {
            id: "c".repeat(64),
            name: "web".into(),
            dns_servers: vec![],
        };
        let ep = EndpointSpec {
            network: NetworkSpec {
                id: "n".repeat(64),
                name: "bridge".into(),
                bridge: "berth0".into(),
                ipam: Ipam::new("10.5.0.0/24".parse().unwrap(), None, None).unwrap(),
                internal: false,
                dns: false,
                mtu: Some(1400),
            },
            interface: "eth0".into(),
            ip: "10.5.0.2".parse().unwrap(),
            mac: "02:42:0a:05:00:02".into(),
            names: vec!["web".into(), "alias".into(), "web".into()],
            ports: vec![PublishedPort {
                container_port: 80,
                proto: Proto::Tcp,
                host_ip: std::net::Ipv4Addr::UNSPECIFIED,
                host_port: 8080,
            }],
        };
        (c, ep)
    }

    #[test]
    fn input_names_the_network_by_id_and_passes_what_berth_decided() {
        let (c, ep) = endpoint();
        let v = serde_json::to_value(options(&c, &ep)).unwrap();
        let id = "n".repeat(64);
        assert_eq!(v["network_info"][&id]["name"], id.as_str());
        assert_eq!(v["network_info"][&id]["network_interface"], "berth0");
        assert_eq!(v["network_info"][&id]["options"]["mtu"], "1400");
        assert_eq!(v["network_info"][&id]["subnets"][0]["gateway"], "10.5.0.1");
        assert_eq!(v["networks"][&id]["static_ips"][0], "10.5.0.2");
        assert_eq!(v["networks"][&id]["aliases"], serde_json::json!(["alias"]));
        assert_eq!(v["port_mappings"][0]["host_ip"], "");
        assert_eq!(v["port_mappings"][0]["host_port"], 8080);
        assert_eq!(v["dns_servers"], serde_json::Value::Null);
    }
}
