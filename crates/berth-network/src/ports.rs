//! Published ports: [`parse_publish`] reads `-p` the way Docker's `nat.ParsePortSpec` does,
//! [`parse_expose`] reads `--expose`, [`PortKey`] is Docker's `80/tcp`, [`PortBinding`] one entry
//! of `HostConfig.PortBindings`, and [`reserve`] turns the bindings into [`PublishedPort`]s by
//! binding every host port (port 0 for a random one) — so a port that another process or
//! container holds fails the start with Docker's words before anything is set up, and the bound
//! sockets, held by the container's shim until it exits, keep the port reserved the way
//! Docker's userland proxy does.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::NetworkError;

/// A transport protocol a port is published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Proto {
    /// Docker's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }

    fn parse(s: &str) -> Option<Proto> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "sctp" => Some(Proto::Sctp),
            _ => None,
        }
    }
}

/// A container port and its protocol, Docker's `80/tcp` (the keys of `ExposedPorts`,
/// `PortBindings` and `NetworkSettings.Ports`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey {
    /// The port inside the container.
    pub port: u16,
    /// Its protocol.
    pub proto: Proto,
}

impl fmt::Display for PortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.proto.as_str())
    }
}

impl FromStr for PortKey {
    type Err = NetworkError;

    /// `80`, `80/tcp`, `53/udp` (a key sent through the API).
    fn from_str(s: &str) -> Result<PortKey, NetworkError> {
        let (port, proto) = split_proto(s);
        let proto = Proto::parse(proto)
            .ok_or_else(|| NetworkError::InvalidArgument(format!("Invalid proto: {proto}")))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| NetworkError::InvalidArgument(format!("Invalid containerPort: {port}")))?;
        Ok(PortKey { port, proto })
    }
}

/// One entry of `HostConfig.PortBindings` as Docker stores it: an empty `HostIp` means the
/// default binding address, an empty `HostPort` a random port, `8000-8010` the first free port
/// of a range.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    /// Host address, or empty.
    pub host_ip: String,
    /// Host port, range, or empty.
    pub host_port: String,
}

/// One `-p` mapping after parsing: a container port and where the host publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSpec {
    /// The container port.
    pub key: PortKey,
    /// The binding to add to `PortBindings`.
    pub binding: PortBinding,
}

fn split_proto(s: &str) -> (&str, &str) {
    match s.split_once('/') {
        Some((port, proto)) => (port, proto),
        None => (s, "tcp"),
    }
}

/// `80` or `8000-8010` as an inclusive range.
fn parse_range(s: &str) -> Option<(u16, u16)> {
    if s.is_empty() {
        return None;
    }
    match s.split_once('-') {
        None => s.parse().ok().map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
            (b >= a).then_some((a, b))
        }
    }
}

/// Parses one `-p`/`--publish` value: `[[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTO]`, where either
/// port may be a range (`8000-8005:80-85`; a host range for a single container port means
/// "the first free port of the range"), and an IPv6 address is written in brackets.
pub fn parse_publish(raw: &str) -> Result<Vec<PublishSpec>, NetworkError> {
    let invalid = |m: String| NetworkError::InvalidArgument(m);
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (ip, host, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_string(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (container, proto) = split_proto(container);
    let ip = match ip.strip_prefix('[') {
        Some(rest) => rest
            .strip_suffix(']')
            .ok_or_else(|| invalid(format!("Invalid ip address {ip}: missing ']' in address")))?
            .to_string(),
        None => ip,
    };
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(invalid(format!("Invalid ip address: {ip}")));
    }
    if container.is_empty() {
        return Err(invalid(format!("No port specified: {raw}<empty>")));
    }
    let (start, end) = parse_range(container)
        .ok_or_else(|| invalid(format!("Invalid containerPort: {container}")))?;
    let host_range = if host.is_empty() {
        None
    } else {
        Some(parse_range(host).ok_or_else(|| invalid(format!("Invalid hostPort: {host}")))?)
    };
    if let Some((hs, he)) = host_range {
        if end - start != he - hs && end != start {
            return Err(invalid(format!(
                "Invalid ranges specified for container and host Ports: {container} and {host}"
            )));
        }
    }
    let proto = Proto::parse(proto).ok_or_else(|| invalid(format!("Invalid proto: {proto}")))?;
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let host_port = match host_range {
            None => String::new(),
            // One container port, a host range: the first free port of it.
            Some((hs, he)) if start == end && hs != he => format!("{hs}-{he}"),
            Some((hs, _)) => (hs + i).to_string(),
        };
        out.push(PublishSpec {
            key: PortKey {
                port: start + i,
                proto,
            },
            binding: PortBinding {
                host_ip: ip.clone(),
                host_port,
            },
        });
    }
    Ok(out)
}

/// Parses one `--expose` value: `PORT[/PROTO]` or `START-END[/PROTO]`.
pub fn parse_expose(raw: &str) -> Result<Vec<PortKey>, NetworkError> {
    let (ports, proto) = split_proto(raw);
    let (start, end) = parse_range(ports).ok_or_else(|| {
        NetworkError::InvalidArgument(format!(
            "invalid range format for --expose: {raw}, error: invalid port {ports:?}"
        ))
    })?;
    let proto = Proto::parse(proto)
        .ok_or_else(|| NetworkError::InvalidArgument(format!("Invalid proto: {proto}")))?;
    Ok((start..=end).map(|port| PortKey { port, proto }).collect())
}

/// A port a running container publishes: what `NetworkSettings.Ports`, `docker port` and
/// `docker ps` show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublishedPort {
    /// The container port.
    pub container_port: u16,
    /// Its protocol.
    pub proto: Proto,
    /// The host address it is published on (`0.0.0.0`: every address).
    pub host_ip: Ipv4Addr,
    /// The host port.
    pub host_port: u16,
}

impl PublishedPort {
    /// Its `80/tcp` key.
    pub fn key(&self) -> PortKey {
        PortKey {
            port: self.container_port,
            proto: self.proto,
        }
    }
}

/// Why a host port could not be reserved.
#[derive(Debug)]
pub struct BindFailure {
    /// The address that was asked for (`0.0.0.0`).
    pub host_ip: Ipv4Addr,
    /// The port or range, as asked (`8080`, `8000-8010`).
    pub host_port: String,
    /// The protocol.
    pub proto: Proto,
    /// The bind error.
    pub error: std::io::Error,
}

impl BindFailure {
    /// Whether the port is held by someone else (rather than, say, an address the host lacks).
    pub fn in_use(&self) -> bool {
        self.error.kind() == std::io::ErrorKind::AddrInUse
    }

    /// Docker's userland-proxy wording: `Error starting userland proxy: listen tcp4
    /// 0.0.0.0:8080: bind: address already in use`.
    pub fn proxy_message(&self) -> String {
        let what = match self.error.kind() {
            std::io::ErrorKind::AddrInUse => "address already in use".to_string(),
            std::io::ErrorKind::AddrNotAvailable => "cannot assign requested address".to_string(),
            _ => self.error.to_string(),
        };
        let net = match self.proto {
            Proto::Tcp => "tcp4",
            Proto::Udp => "udp4",
            Proto::Sctp => "sctp4",
        };
        format!(
            "Error starting userland proxy: listen {net} {}:{}: bind: {what}",
            self.host_ip, self.host_port
        )
    }

    /// Docker's port-allocator wording, for a port another container publishes.
    pub fn allocated_message(&self) -> String {
        format!(
            "Bind for {}:{} failed: port is already allocated",
            self.host_ip, self.host_port
        )
    }
}

/// Host ports bound for a container: the ports it publishes and the sockets that hold them.
#[derive(Debug, Default)]
pub struct Reservation {
    /// Every published port, with random ports resolved.
    pub ports: Vec<PublishedPort>,
    /// The bound sockets (close-on-exec); closing them frees the ports.
    pub sockets: Vec<OwnedFd>,
}

/// The host address a binding asks for: its own, else `default_ip`; IPv6 addresses are refused
/// (berth's networks are IPv4).
fn binding_ip(b: &PortBinding, default_ip: Ipv4Addr) -> Result<Ipv4Addr, NetworkError> {
    if b.host_ip.is_empty() {
        return Ok(default_ip);
    }
    match b.host_ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Ok(ip),
        Ok(IpAddr::V6(_)) => Err(NetworkError::InvalidArgument(format!(
            "cannot publish on {}: berth publishes ports on IPv4 addresses only",
            b.host_ip
        ))),
        Err(_) => Err(NetworkError::InvalidArgument(format!(
            "Invalid ip address: {}",
            b.host_ip
        ))),
    }
}

/// Binds one socket of `proto` to `ip:port` (0: the kernel picks); returns it and the port.
fn bind_one(proto: Proto, ip: Ipv4Addr, port: u16) -> std::io::Result<(OwnedFd, u16)> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    let (typ, protocol) = match proto {
        Proto::Tcp => (SocketType::STREAM, None),
        Proto::Udp => (SocketType::DGRAM, None),
        Proto::Sctp => (SocketType::STREAM, Some(rustix::net::ipproto::SCTP)),
    };
    let fd = rustix::net::socket_with(AddressFamily::INET, typ, SocketFlags::CLOEXEC, protocol)?;
    // No SO_REUSEADDR: while this socket exists nobody else can bind the port, listening or not.
    rustix::net::bind(&fd, &SocketAddrV4::new(ip, port))?;
    let bound = std::net::SocketAddr::try_from(rustix::net::getsockname(&fd)?)
        .map(|a| a.port())
        .unwrap_or(port);
    Ok((fd, bound))
}

/// Binds a host port for every binding of `bindings` (keys are Docker's `80/tcp`): a fixed
/// port, the first free port of a range, or a random one. All or nothing: on failure every
/// socket bound so far is closed again.
pub fn reserve(
    bindings: &BTreeMap<PortKey, Vec<PortBinding>>,
    default_ip: Ipv4Addr,
) -> Result<Reservation, ReserveError> {
    let mut r = Reservation::default();
    for (key, list) in bindings {
        for b in list {
            let ip = binding_ip(b, default_ip).map_err(ReserveError::Invalid)?;
            let range = if b.host_port.is_empty() {
                (0, 0)
            } else {
                parse_range(&b.host_port).ok_or_else(|| {
                    ReserveError::Invalid(NetworkError::InvalidArgument(format!(
                        "Invalid hostPort: {}",
                        b.host_port
                    )))
                })?
            };
            let mut last = None;
            let mut bound = None;
            for port in range.0..=range.1 {
                match bind_one(key.proto, ip, port) {
                    Ok(ok) => {
                        bound = Some(ok);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            let Some((fd, host_port)) = bound else {
                return Err(ReserveError::Bind(BindFailure {
                    host_ip: ip,
                    host_port: b.host_port.clone(),
                    proto: key.proto,
                    error: last.unwrap_or_else(|| std::io::Error::other("empty port range")),
                }));
            };
            r.sockets.push(fd);
            r.ports.push(PublishedPort {
                container_port: key.port,
                proto: key.proto,
                host_ip: ip,
                host_port,
            });
        }
    }
    r.ports.sort();
    Ok(r)
}

/// Why [`reserve`] failed.
#[derive(Debug)]
pub enum ReserveError {
    /// A binding is malformed.
    Invalid(NetworkError),
    /// A port could not be bound.
    Bind(BindFailure),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(raw: &str) -> Vec<(String, String, String)> {
        parse_publish(raw)
            .unwrap()
            .into_iter()
            .map(|s| (s.key.to_string(), s.binding.host_ip, s.binding.host_port))
            .collect()
    }

    fn err(raw: &str) -> String {
        parse_publish(raw).unwrap_err().to_string()
    }

    fn t(k: &str, ip: &str, port: &str) -> (String, String, String) {
        (k.into(), ip.into(), port.into())
    }

    #[test]
    fn publish_forms_follow_docker() {
        assert_eq!(spec("80"), [t("80/tcp", "", "")]);
        assert_eq!(spec("8080:80"), [t("80/tcp", "", "8080")]);
        assert_eq!(
            spec("127.0.0.1:8080:80"),
            [t("80/tcp", "127.0.0.1", "8080")]
        );
        assert_eq!(spec("127.0.0.1::80"), [t("80/tcp", "127.0.0.1", "")]);
        assert_eq!(spec("53:53/udp"), [t("53/udp", "", "53")]);
        assert_eq!(spec("53:53/UDP"), [t("53/udp", "", "53")]);
        assert_eq!(spec("[::1]:8080:80"), [t("80/tcp", "::1", "8080")]);
        assert_eq!(
            spec("9000-9001:90-91/udp"),
            [t("90/udp", "", "9000"), t("91/udp", "", "9001")]
        );
        assert_eq!(spec("8100-8110:80"), [t("80/tcp", "", "8100-8110")]);
        assert_eq!(spec("80-81"), [t("80/tcp", "", ""), t("81/tcp", "", "")]);
    }

    #[test]
    fn publish_errors_are_dockers() {
        assert_eq!(err("70000:80"), "Invalid hostPort: 70000");
        assert_eq!(err("abc:80"), "Invalid hostPort: abc");
        assert_eq!(err("8080:abc"), "Invalid containerPort: abc");
        assert_eq!(err("1.2.3:80:80"), "Invalid ip address: 1.2.3");
        assert_eq!(err("80/quic"), "Invalid proto: quic");
        assert_eq!(err("8080:"), "No port specified: 8080:<empty>");
        assert_eq!(
            err("8000-8001:80-82"),
            "Invalid ranges specified for container and host Ports: 80-82 and 8000-8001"
        );
        assert_eq!(err("90-80"), "Invalid containerPort: 90-80");
    }

    #[test]
    fn expose_forms() {
        let keys = |r: &str| -> Vec<String> {
            parse_expose(r)
                .unwrap()
                .iter()
                .map(|k| k.to_string())
                .collect()
        };
        assert_eq!(keys("80"), ["80/tcp"]);
        assert_eq!(keys("53/udp"), ["53/udp"]);
        assert_eq!(keys("7000-7002"), ["7000/tcp", "7001/tcp", "7002/tcp"]);
        assert!(parse_expose("x").is_err());
        assert_eq!("80/tcp".parse::<PortKey>().unwrap().to_string(), "80/tcp");
        assert_eq!("80".parse::<PortKey>().unwrap().to_string(), "80/tcp");
    }

    #[test]
    fn reserve_binds_and_reports_taken_ports() {
        let lo = Ipv4Addr::LOCALHOST;
        let key = PortKey {
            port: 80,
            proto: Proto::Tcp,
        };
        let mut b = BTreeMap::new();
        b.insert(key, vec![PortBinding::default()]);
        let r = reserve(&b, lo).unwrap();
        assert_eq!(r.ports.len(), 1);
        let taken = r.ports[0].host_port;
        assert_ne!(taken, 0, "a random port is resolved");
        // The same port again: taken while the first reservation lives.
        let mut again = BTreeMap::new();
        again.insert(
            key,
            vec![PortBinding {
                host_ip: String::new(),
                host_port: taken.to_string(),
            }],
        );
        match reserve(&again, lo) {
            Err(ReserveError::Bind(f)) => {
                assert!(f.in_use());
                assert_eq!(
                    f.proxy_message(),
                    format!("Error starting userland proxy: listen tcp4 127.0.0.1:{taken}: bind: address already in use")
                );
            }
            other => panic!("expected a bind failure, got {other:?}"),
        }
        // A range skips the taken port.
        let mut range = BTreeMap::new();
        range.insert(
            key,
            vec![PortBinding {
                host_ip: String::new(),
                host_port: format!("{taken}-{}", taken.saturating_add(20)),
            }],
        );
        let r2 = reserve(&range, lo).unwrap();
        assert_ne!(r2.ports[0].host_port, taken);
        drop(r);
        reserve(&again, lo).expect("freed when the reservation is dropped");
    }
}
