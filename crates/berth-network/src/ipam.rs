//! Address management, the pure half: [`Ipam`] is one network's IPv4 configuration (subnet,
//! gateway, optional allocation range) and picks the next free address given those in use;
//! [`Pool`] is one of Docker's `default-address-pools`, from which [`pick_subnet`] carves the
//! subnet of a network created without `--subnet`, avoiding the subnets of other networks and
//! the host's routes ([`host_routes`]). Which addresses are in use is decided by the store, in
//! the same transaction that records the new one.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::NetworkError;

/// One network's IPv4 address plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipam {
    /// The subnet (`172.18.0.0/16`).
    pub subnet: Ipv4Net,
    /// The bridge's address, which containers route through.
    pub gateway: Ipv4Addr,
    /// Where container addresses are allocated (`--ip-range`); the whole subnet when `None`.
    pub ip_range: Option<Ipv4Net>,
    /// Addresses never given to containers (`--aux-address`).
    #[serde(default)]
    pub reserved: Vec<Ipv4Addr>,
}

/// Parses a CIDR the way Docker words its errors.
pub fn parse_cidr(s: &str) -> Result<Ipv4Net, NetworkError> {
    if let Ok(net) = s.parse::<ipnet::Ipv6Net>() {
        return Err(NetworkError::InvalidArgument(format!(
            "berth networks are IPv4 only: cannot use {net}"
        )));
    }
    s.parse::<Ipv4Net>()
        .map_err(|_| NetworkError::InvalidArgument(format!("invalid CIDR address: {s}")))
}

/// Parses an IPv4 address the way Docker words its errors (an IPv6 one is refused as such).
pub fn parse_ip(s: &str) -> Result<Ipv4Addr, NetworkError> {
    if let Ok(ip) = s.parse::<std::net::Ipv6Addr>() {
        return Err(NetworkError::InvalidArgument(format!(
            "berth networks are IPv4 only: cannot use {ip}"
        )));
    }
    s.parse()
        .map_err(|_| NetworkError::InvalidArgument(format!("invalid IP address: {s}")))
}

impl Ipam {
    /// A plan for `subnet` (its network address is used, whatever host bits were written),
    /// with the first host address as gateway unless one is given, checked like Docker checks
    /// `network create --subnet --gateway --ip-range`.
    pub fn new(
        subnet: Ipv4Net,
        gateway: Option<Ipv4Addr>,
        ip_range: Option<Ipv4Net>,
    ) -> Result<Ipam, NetworkError> {
        let subnet = subnet.trunc();
        if subnet.prefix_len() > 30 {
            return Err(NetworkError::InvalidArgument(format!(
                "subnet {subnet} is too small for a bridge network: berth needs at least a /30"
            )));
        }
        let gateway = match gateway {
            Some(gw) => {
                if !subnet.contains(&gw) {
                    return Err(NetworkError::InvalidArgument(format!(
                        "no matching subnet for gateway {gw}"
                    )));
                }
                gw
            }
            None => first_host(subnet),
        };
        if let Some(r) = ip_range {
            if !subnet.contains(&r.trunc()) {
                return Err(NetworkError::InvalidArgument(format!(
                    "no matching subnet for range {r}"
                )));
            }
        }
        Ok(Ipam {
            subnet,
            gateway,
            ip_range: ip_range.map(|r| r.trunc()),
            reserved: Vec::new(),
        })
    }

    /// Whether `ip` may be given to a container (`--ip`): inside the subnet, not the network or
    /// broadcast address, not the gateway.
    pub fn check_static(&self, ip: Ipv4Addr) -> Result<(), NetworkError> {
        if !self.subnet.contains(&ip)
            || ip == self.subnet.network()
            || ip == self.subnet.broadcast()
        {
            return Err(NetworkError::InvalidArgument(format!(
                "no available IPv4 address {ip} in subnet {}",
                self.subnet
            )));
        }
        if ip == self.gateway || self.reserved.contains(&ip) {
            return Err(NetworkError::Conflict(format!(
                "Address already in use: {ip} is the gateway of {}",
                self.subnet
            )));
        }
        Ok(())
    }

    /// The lowest free address of the allocation range, skipping the subnet's network and
    /// broadcast addresses, the gateway, the reserved addresses and `used`.
    pub fn next_free(&self, used: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        let range = self.ip_range.unwrap_or(self.subnet);
        let (lo, hi) = (u32::from(range.network()), u32::from(range.broadcast()));
        (lo..=hi).map(Ipv4Addr::from).find(|ip| {
            *ip != self.subnet.network()
                && *ip != self.subnet.broadcast()
                && *ip != self.gateway
                && !self.reserved.contains(ip)
                && !used.contains(ip)
        })
    }
}

/// The first host address of `net` (Docker's default gateway).
pub fn first_host(net: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()) + 1)
}

/// Docker's MAC address for a container address: `02:42` followed by the four address bytes.
pub fn mac_for(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

/// One of `default-address-pools`: subnets of prefix `size` carved from `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// The range to carve from.
    pub base: Ipv4Net,
    /// The prefix length of each subnet.
    pub size: u8,
}

/// Docker's default pools: `172.17.0.0/16` … `172.31.0.0/16`, then `192.168.0.0/20` …
/// `192.168.240.0/20`.
pub fn docker_default_pools() -> Vec<Pool> {
    let mut pools: Vec<Pool> = (17..=31)
        .map(|b| Pool {
            base: Ipv4Net::new(Ipv4Addr::new(172, b, 0, 0), 16).expect("valid prefix"),
            size: 16,
        })
        .collect();
    pools.push(Pool {
        base: "192.168.0.0/16".parse().expect("constant"),
        size: 20,
    });
    pools
}

/// The first subnet of `pools` that overlaps none of `taken`.
pub fn pick_subnet(pools: &[Pool], taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    for pool in pools {
        let Ok(subnets) = pool.base.subnets(pool.size) else {
            continue;
        };
        for s in subnets {
            if !taken.iter().any(|t| overlaps(*t, s)) {
                return Some(s);
            }
        }
    }
    None
}

/// Whether two networks share an address.
pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// One IPv4 route of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoute {
    /// The destination network.
    pub net: Ipv4Net,
    /// The interface it goes through.
    pub dev: String,
}

/// The host's IPv4 routes other than the default route (`/proc/net/route`).
pub fn host_routes() -> Vec<HostRoute> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    parse_proc_routes(&text)
}

fn parse_proc_routes(text: &str) -> Vec<HostRoute> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let (Ok(dest), Ok(mask)) = (u32::from_str_radix(f[1], 16), u32::from_str_radix(f[7], 16))
        else {
            continue;
        };
        // The kernel prints the network-order address as a host-order number.
        let dest = Ipv4Addr::from(dest.to_ne_bytes());
        let prefix = mask.count_ones() as u8;
        if prefix == 0 {
            continue;
        }
        if let Ok(net) = Ipv4Net::new(dest, prefix) {
            out.push(HostRoute {
                net: net.trunc(),
                dev: f[0].to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn allocation_skips_network_gateway_broadcast_and_used() {
        let ipam = Ipam::new(net("10.1.2.0/29"), None, None).unwrap();
        assert_eq!(ipam.gateway, Ipv4Addr::new(10, 1, 2, 1));
        let mut used = HashSet::new();
        let mut got = Vec::new();
        while let Some(ip) = ipam.next_free(&used) {
            used.insert(ip);
            got.push(ip.to_string());
        }
        assert_eq!(
            got,
            ["10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"]
        );
    }

    #[test]
    fn ipv6_is_refused_as_such() {
        for (got, text) in [
            (
                parse_cidr("fd00:1::/64").map(drop),
                "IPv4 only: cannot use fd00:1::/64",
            ),
            (
                parse_ip("fd00:1::1").map(drop),
                "IPv4 only: cannot use fd00:1::1",
            ),
            (parse_ip("1.2.3").map(drop), "invalid IP address: 1.2.3"),
        ] {
            let e = got.unwrap_err().to_string();
            assert!(e.contains(text), "{e}");
        }
    }

    #[test]
    fn ip_range_and_gateway_follow_docker() {
        let ipam = Ipam::new(
            net("10.198.60.0/24"),
            Some(Ipv4Addr::new(10, 198, 60, 254)),
            Some(net("10.198.60.128/25")),
        )
        .unwrap();
        assert_eq!(
            ipam.next_free(&HashSet::new()),
            Some(Ipv4Addr::new(10, 198, 60, 128))
        );
        assert!(Ipam::new(net("10.0.0.0/24"), Some(Ipv4Addr::new(10, 0, 1, 1)), None).is_err());
        assert!(Ipam::new(net("10.0.0.0/24"), None, Some(net("10.0.1.0/25"))).is_err());
        assert!(ipam.check_static(Ipv4Addr::new(10, 198, 60, 5)).is_ok());
        assert!(ipam.check_static(Ipv4Addr::new(10, 198, 61, 5)).is_err());
        let mut aux = ipam.clone();
        aux.reserved = vec![Ipv4Addr::new(10, 198, 60, 128)];
        assert_eq!(
            aux.next_free(&HashSet::new()),
            Some(Ipv4Addr::new(10, 198, 60, 129))
        );
        assert!(aux.check_static(Ipv4Addr::new(10, 198, 60, 128)).is_err());
        assert!(ipam.check_static(Ipv4Addr::new(10, 198, 60, 254)).is_err());
        assert_eq!(
            parse_cidr("10.0.0.0/33").unwrap_err().to_string(),
            "invalid CIDR address: 10.0.0.0/33"
        );
    }

    #[test]
    fn pools_skip_taken_subnets() {
        let pools = docker_default_pools();
        assert_eq!(pick_subnet(&pools, &[]), Some(net("172.17.0.0/16")));
        assert_eq!(
            pick_subnet(&pools, &[net("172.17.0.0/16"), net("172.18.5.0/24")]),
            Some(net("172.19.0.0/16"))
        );
        let all: Vec<Ipv4Net> = (16..32).map(|i| net(&format!("172.{i}.0.0/16"))).collect();
        assert_eq!(pick_subnet(&pools, &all), Some(net("192.168.0.0/20")));
        assert_eq!(mac_for(Ipv4Addr::new(10, 199, 0, 2)), "02:42:0a:c7:00:02");
    }

    #[test]
    fn proc_routes_are_read_in_kernel_byte_order() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                    eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                    eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                    docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let routes = parse_proc_routes(text);
        assert_eq!(
            routes,
            [
                HostRoute {
                    net: net("192.0.2.0/24"),
                    dev: "eth0".into()
                },
                HostRoute {
                    net: net("172.17.0.0/16"),
                    dev: "docker0".into()
                }
            ]
        );
    }
}
