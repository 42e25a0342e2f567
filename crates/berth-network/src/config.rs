//! [`NetworkConfig`]: everything about networking that is fixed per data root — the exec root
//! (namespace files, netavark's and aardvark-dns's state, the lock), the default bridge's
//! interface and subnet, the pools user-defined networks take subnets from, the default address
//! published ports bind to, the DNS server's port and the backend's binaries.
//!
//! The default data root (`/var/lib/berth`) gets Docker-like values (`/run/berth`, bridge
//! `berth0`, Docker's address pools). Any other data root gets values derived from a hash of its
//! path — its own exec root under `/run/berth/`, bridge `berth-<hash>` and a /20 of
//! `10.64.0.0/10` — so that data roots used side by side (tests running in parallel) never share
//! a bridge, a subnet or a DNS configuration. The engine's configuration file overrides each,
//! and chooses the [`BackendKind`].

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

use crate::backend::Backend;
use crate::ipam::{docker_default_pools, Pool};
use crate::native::Native;
use crate::netavark::Netavark;
use crate::NetworkError;

/// The data root whose networking gets Docker-like defaults.
pub const DEFAULT_ROOT: &str = "/var/lib/berth";

/// Networking settings of one data root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Namespace files, netavark's `--config` dir, the lock (Docker's `exec-root`).
    pub exec_root: PathBuf,
    /// The default bridge network's host interface (Docker's `bridge`).
    pub bridge: String,
    /// The default bridge's gateway address and subnet (Docker's `bip`), else picked from
    /// the pools when the network is first made.
    pub bip: Option<(Ipv4Addr, Ipv4Net)>,
    /// Where networks without `--subnet` get theirs (Docker's `default-address-pools`).
    pub pools: Vec<Pool>,
    /// The address published ports bind to when `-p` names none (Docker's `ip`).
    pub host_ip: Ipv4Addr,
    /// The MTU of bridges and veths (Docker's `mtu`), if not the kernel's default.
    pub mtu: Option<u32>,
    /// The port the DNS server of user-defined networks listens on (53 unless set).
    pub dns_port: Option<u16>,
    /// The netavark binary, if not the installed one.
    pub netavark: Option<PathBuf>,
    /// The aardvark-dns binary, if not the installed one.
    pub aardvark: Option<PathBuf>,
    /// The data plane of bridge networks.
    pub backend: BackendKind,
}

/// Which [`Backend`] bridge networks use (the engine setting `network-backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// berth's own ([`crate::native::Native`]): the default.
    #[default]
    Native,
    /// Podman's netavark ([`crate::netavark::Netavark`]).
    Netavark,
}

impl BackendKind {
    /// The setting's value: `native` or `netavark`.
    pub fn parse(s: &str) -> Option<BackendKind> {
        match s {
            "native" => Some(BackendKind::Native),
            "netavark" => Some(BackendKind::Netavark),
            _ => None,
        }
    }
}

/// The base of every exec root berth chooses: the default data root's, and `root-<tag>` in it
/// for any other.
pub const RUN_DIR: &str = "/run/berth";

fn root_hash(root: &Path) -> [u8; 32] {
    Sha256::digest(root.as_os_str().as_encoded_bytes()).into()
}

impl NetworkConfig {
    /// The defaults for data root `root` (see the module doc).
    pub fn for_root(root: &Path) -> NetworkConfig {
        if root == Path::new(DEFAULT_ROOT) {
            return NetworkConfig {
                exec_root: PathBuf::from(RUN_DIR),
                bridge: "berth0".into(),
                bip: None,
                pools: docker_default_pools(),
                host_ip: Ipv4Addr::UNSPECIFIED,
                mtu: None,
                dns_port: None,
                netavark: None,
                aardvark: None,
                backend: BackendKind::default(),
            };
        }
        let h = root_hash(root);
        let tag = hex::encode(&h[..6]);
        // One /20 of 10.64.0.0/10 (1024 of them) per data root: the bridge and 15 networks.
        let block = u32::from(u16::from_be_bytes([h[6], h[7]]) % 1024);
        let base = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 64, 0, 0)) + (block << 12));
        NetworkConfig {
            exec_root: PathBuf::from(RUN_DIR).join(format!("root-{tag}")),
            bridge: format!("berth-{}", &tag[..8]),
            bip: None,
            pools: vec![Pool {
                base: Ipv4Net::new(base, 20).expect("valid prefix"),
                size: 24,
            }],
            host_ip: Ipv4Addr::UNSPECIFIED,
            mtu: None,
            dns_port: None,
            netavark: None,
            aardvark: None,
            backend: BackendKind::default(),
        }
    }

    /// The backend these settings choose, with its binaries found.
    pub fn backend(&self) -> Result<Backend, NetworkError> {
        Ok(match self.backend {
            BackendKind::Native => Backend::Native(Native::new(
                &self.exec_root,
                self.aardvark.as_deref(),
                self.dns_port,
            )?),
            BackendKind::Netavark => Backend::Netavark(Netavark::new(
                &self.exec_root,
                self.netavark.as_deref(),
                self.aardvark.as_deref(),
                self.dns_port,
            )?),
        })
    }

    /// Where container `sandbox_id`'s namespace file lives.
    pub fn netns_path(&self, sandbox_id: &str) -> PathBuf {
        self.exec_root
            .join("netns")
            .join(&sandbox_id[..sandbox_id.len().min(12)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_root_is_docker_like_and_others_are_apart() {
        let d = NetworkConfig::for_root(Path::new(DEFAULT_ROOT));
        assert_eq!(d.bridge, "berth0");
        assert_eq!(d.exec_root, Path::new("/run/berth"));
        let a = NetworkConfig::for_root(Path::new("/tmp/a/root"));
        let b = NetworkConfig::for_root(Path::new("/tmp/b/root"));
        assert_ne!(a.bridge, b.bridge);
        assert_ne!(a.exec_root, b.exec_root);
        assert!(a.bridge.len() <= 15, "interface names are at most 15 bytes");
        let big: Ipv4Net = "10.64.0.0/10".parse().unwrap();
        assert!(big.contains(&a.pools[0].base));
        assert_eq!(a, NetworkConfig::for_root(Path::new("/tmp/a/root")));
    }
}
