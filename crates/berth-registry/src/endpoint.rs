//! [`RegistryOptions`] holds what the engine's configuration says about registries (insecure
//! registries, Docker Hub mirrors, where per-host certificates live), and [`endpoints`] turns a
//! registry name into the base URLs to try, in order, as Docker's daemon does:
//!
//! * `docker.io` → each mirror, then `https://registry-1.docker.io`;
//! * a secure registry → `https://host`;
//! * an insecure one (listed by name or CIDR, or on the loopback addresses, which Docker treats
//!   as insecure by default) → `https://host` without certificate checks, then `http://host`.

use std::net::IpAddr;
use std::path::PathBuf;

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";

/// Registry settings of the engine (daemon.json's `insecure-registries`, `registry-mirrors`).
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Registries reached without TLS verification and over plain HTTP if need be: `host`,
    /// `host:port`, or a CIDR such as `10.0.0.0/8`.
    pub insecure_registries: Vec<String>,
    /// Mirrors of Docker Hub, tried in order before it (`https://mirror.example`,
    /// `http://127.0.0.1:5000`).
    pub mirrors: Vec<String>,
    /// Directories holding `<host>/ca.crt`, `<host>/client.cert`, `<host>/client.key`.
    pub certs_dirs: Vec<PathBuf>,
    /// Blobs larger than this go up in chunks of this size (berth's `upload-chunk-size`).
    pub upload_chunk: u64,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure_registries: Vec::new(),
            mirrors: Vec::new(),
            certs_dirs: vec![PathBuf::from("/etc/docker/certs.d")],
            upload_chunk: crate::upload::DEFAULT_CHUNK,
        }
    }
}

/// One base URL to reach a registry at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host[:port]` or `http://host[:port]`, without a trailing slash.
    pub base: String,
    /// `host[:port]`: where certs.d entries are looked up.
    pub host: String,
    /// Whether the server certificate is checked.
    pub verify_tls: bool,
    /// A Docker Hub mirror (failures fall through to the next endpoint).
    pub mirror: bool,
}

/// Splits `host[:port]` (IPv6 in brackets) into the host part.
fn host_part(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host_port.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    }
}

fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl RegistryOptions {
    /// Whether `host` (`name[:port]`) is insecure: loopback (`localhost`, 127.0.0.0/8, ::1) as
    /// in Docker's defaults, or listed by name, `name:port` or CIDR.
    pub fn is_insecure(&self, host: &str) -> bool {
        let name = host_part(host);
        let ip: Option<IpAddr> = if name == "localhost" {
            Some(IpAddr::from([127, 0, 0, 1]))
        } else {
            name.parse().ok()
        };
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.insecure_registries.iter().any(|entry| {
            let entry = entry
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .trim_end_matches('/');
            entry == host || entry == name || ip.is_some_and(|ip| in_cidr(ip, entry))
        })
    }

    /// The endpoints to try for registry `domain` (as references name it), in order.
    pub fn endpoints(&self, domain: &str) -> Vec<Endpoint> {
        let mut out = Vec::new();
        let host = if domain == DOCKER_HUB || domain == "index.docker.io" {
            for m in &self.mirrors {
                let m = m.trim_end_matches('/');
                let (scheme, host) = match m.split_once("://") {
                    Some((s, h)) => (s, h.split('/').next().unwrap_or(h)),
                    None => ("https", m),
                };
                out.push(Endpoint {
                    base: format!("{scheme}://{host}"),
                    host: host.to_string(),
                    verify_tls: !self.is_insecure(host),
                    mirror: true,
                });
            }
            DOCKER_HUB_HOST
        } else {
            domain
        };
        if self.is_insecure(host) {
            out.push(Endpoint {
                base: format!("https://{host}"),
                host: host.to_string(),
                verify_tls: false,
                mirror: false,
            });
            out.push(Endpoint {
                base: format!("http://{host}"),
                host: host.to_string(),
                verify_tls: false,
                mirror: false,
            });
        } else {
            out.push(Endpoint {
                base: format!("https://{host}"),
                host: host.to_string(),
                verify_tls: true,
                mirror: false,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_insecure_by_default_others_when_listed() {
        let o = RegistryOptions {
            insecure_registries: vec!["reg.local:5000".into(), "10.1.0.0/16".into()],
            ..Default::default()
        };
        assert!(o.is_insecure("localhost:5000"));
        assert!(o.is_insecure("127.0.0.7:1"));
        assert!(o.is_insecure("[::1]:5000"));
        assert!(o.is_insecure("reg.local:5000"));
        assert!(!o.is_insecure("reg.local:5001"));
        assert!(o.is_insecure("10.1.2.3:443"));
        assert!(!o.is_insecure("10.2.0.1"));
        assert!(!o.is_insecure("quay.io"));
    }

    #[test]
    fn docker_hub_goes_through_mirrors_first() {
        let o = RegistryOptions {
            mirrors: vec!["http://127.0.0.1:5001/".into()],
            ..Default::default()
        };
        let e = o.endpoints("docker.io");
        assert_eq!(e[0].base, "http://127.0.0.1:5001");
        assert!(e[0].mirror);
        assert_eq!(e[1].base, "https://registry-1.docker.io");
        assert!(e[1].verify_tls);
        let l = o.endpoints("localhost:5000");
        assert_eq!(
            l.iter().map(|e| e.base.as_str()).collect::<Vec<_>>(),
            ["https://localhost:5000", "http://localhost:5000"]
        );
        assert_eq!(o.endpoints("quay.io").len(), 1);
    }
}
