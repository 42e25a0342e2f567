//! [`EngineConfig`]: the engine's settings file, in the shape of Docker's `daemon.json` (berth
//! has no daemon, so every process that opens a data root reads it: the CLI, `berth serve`,
//! each shim). `--config-file` (env `BERTH_CONFIG_FILE`) names it; without one,
//! `/etc/berth/daemon.json` is read if it exists. Keys berth does not know are ignored.
//!
//! Network keys, with Docker's names and meanings: `bridge` (the default bridge's interface;
//! `none`: no default bridge network),
//! `bip` (its gateway address and subnet, `10.5.0.1/24`), `default-address-pools`
//! (`[{"base": "10.10.0.0/16", "size": 24}]`), `exec-root` (namespace files and the network
//! backend's state), `ip` (the address `-p` binds when it names none), `mtu`, and `dns`,
//! `dns-search`, `dns-opts` (every container's defaults). berth's own: `dns-port` (where the
//! DNS server of user-defined networks listens), `netavark` and `aardvark-dns` (binaries), and
//! `rm-warning-threshold` (how much a writable layer may hold before `rm` on a terminal warns).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use berth_network::config::NetworkConfig;
use berth_network::ipam::{self, Pool};
use serde::Deserialize;

use crate::EngineError;

/// Where the configuration is read from when no `--config-file` is given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/berth/daemon.json";

/// One of `default-address-pools`.
#[derive(Debug, Clone, Deserialize)]
pub struct PoolConfig {
    /// The range (`10.10.0.0/16`).
    pub base: String,
    /// Prefix length of each network's subnet.
    pub size: u8,
}

/// The settings file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct EngineConfig {
    /// The default bridge's interface name.
    pub bridge: Option<String>,
    /// The default bridge's gateway and subnet.
    pub bip: Option<String>,
    /// Pools for networks created without `--subnet`.
    pub default_address_pools: Option<Vec<PoolConfig>>,
    /// Namespace files and network backend state.
    pub exec_root: Option<PathBuf>,
    /// Default address for published ports.
    pub ip: Option<String>,
    /// MTU of bridges and veths.
    pub mtu: Option<u32>,
    /// Default name servers of containers.
    pub dns: Vec<String>,
    /// Default search domains of containers.
    pub dns_search: Vec<String>,
    /// Default resolver options of containers.
    pub dns_opts: Vec<String>,
    /// Port of the DNS server on user-defined networks.
    pub dns_port: Option<u16>,
    /// The netavark binary.
    pub netavark: Option<PathBuf>,
    /// The aardvark-dns binary.
    #[serde(rename = "aardvark-dns")]
    pub aardvark_dns: Option<PathBuf>,
    /// berth's own: how much a container's writable layer may hold before `rm` on a terminal
    /// warns that it will be discarded (`1MiB` by default; `0` disables the warning).
    pub rm_warning_threshold: Option<String>,
}

/// [`EngineConfig::rm_warning_threshold`] when the file sets none.
pub const DEFAULT_RM_WARNING_THRESHOLD: u64 = 1 << 20;

/// Parses a warning threshold (`1MiB`, `512k`, `0`) in bytes.
pub fn parse_threshold(s: &str) -> Option<u64> {
    berth_go::ram_in_bytes(s)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
}

fn invalid(path: &Path, what: String) -> EngineError {
    EngineError::InvalidArgument(format!(
        "unable to configure the berth engine with file {}: {what}",
        path.display()
    ))
}

impl EngineConfig {
    /// Reads `path`, or the default file when `None` (and it exists).
    pub fn load(path: Option<&Path>) -> Result<(EngineConfig, Option<PathBuf>), EngineError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => PathBuf::from(DEFAULT_CONFIG_FILE),
            None => return Ok((EngineConfig::default(), None)),
        };
        let bytes = std::fs::read(&path).map_err(|e| invalid(&path, e.to_string()))?;
        let config: EngineConfig =
            serde_json::from_slice(&bytes).map_err(|e| invalid(&path, e.to_string()))?;
        config.network_for(Path::new("/"), &path)?;
        config.rm_warning_threshold_in(&path)?;
        Ok((config, Some(path)))
    }

    /// The writable-layer size above which `rm` warns ([`DEFAULT_RM_WARNING_THRESHOLD`] unless
    /// the file says otherwise; 0: never).
    pub fn rm_warning_threshold(&self) -> u64 {
        self.rm_warning_threshold_in(Path::new(DEFAULT_CONFIG_FILE))
            .unwrap_or(DEFAULT_RM_WARNING_THRESHOLD)
    }

    fn rm_warning_threshold_in(&self, file: &Path) -> Result<u64, EngineError> {
        match &self.rm_warning_threshold {
            None => Ok(DEFAULT_RM_WARNING_THRESHOLD),
            Some(s) => parse_threshold(s).ok_or_else(|| {
                invalid(
                    file,
                    format!("invalid rm-warning-threshold {s:?}: want a size such as 1MiB, or 0"),
                )
            }),
        }
    }

    /// The networking settings of data root `root`: its defaults with this file's values over
    /// them.
    pub fn network(&self, root: &Path) -> NetworkConfig {
        self.network_for(root, Path::new(DEFAULT_CONFIG_FILE))
            .unwrap_or_else(|_| NetworkConfig::for_root(root))
    }

    fn network_for(&self, root: &Path, file: &Path) -> Result<NetworkConfig, EngineError> {
        let mut n = NetworkConfig::for_root(root);
        if let Some(b) = &self.bridge {
            if b.is_empty() || b.len() > 15 || b.contains(['/', ' ', ':']) {
                return Err(invalid(file, format!("invalid bridge name {b:?}")));
            }
            n.bridge = b.clone();
        }
        if let Some(bip) = &self.bip {
            let (addr, prefix) = bip.split_once('/').ok_or_else(|| {
                invalid(file, format!("invalid bip {bip:?}: want ADDRESS/PREFIX"))
            })?;
            let gw: Ipv4Addr = addr
                .parse()
                .map_err(|_| invalid(file, format!("invalid bip {bip:?}")))?;
            let net = ipam::parse_cidr(&format!("{gw}/{prefix}"))
                .map_err(|e| invalid(file, e.to_string()))?;
            n.bip = Some((gw, net.trunc()));
        }
        if let Some(pools) = &self.default_address_pools {
            n.pools = pools
                .iter()
                .map(|p| {
                    let base =
                        ipam::parse_cidr(&p.base).map_err(|e| invalid(file, e.to_string()))?;
                    if p.size < base.prefix_len() || p.size > 30 {
                        return Err(invalid(
                            file,
                            format!("invalid pool size {} for base {}", p.size, p.base),
                        ));
                    }
                    Ok(Pool {
                        base: base.trunc(),
                        size: p.size,
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(dir) = &self.exec_root {
            n.exec_root = dir.clone();
        }
        if let Some(ip) = &self.ip {
            n.host_ip = ip
                .parse()
                .map_err(|_| invalid(file, format!("invalid ip {ip:?}")))?;
        }
        n.mtu = self.mtu;
        n.dns_port = self.dns_port;
        n.netavark = self.netavark.clone();
        n.aardvark = self.aardvark_dns.clone();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_keys_override_the_roots_defaults() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("daemon.json");
        std::fs::write(
            &f,
            r#"{"bridge": "br-test0", "bip": "10.77.3.1/24", "exec-root": "/tmp/x",
                "default-address-pools": [{"base": "10.78.0.0/16", "size": 24}],
                "registry-mirrors": ["ignored"]}"#,
        )
        .unwrap();
        let (c, path) = EngineConfig::load(Some(&f)).unwrap();
        assert_eq!(path.as_deref(), Some(f.as_path()));
        let n = c.network(Path::new("/srv/berth"));
        assert_eq!(n.bridge, "br-test0");
        assert_eq!(
            n.bip,
            Some((
                "10.77.3.1".parse().unwrap(),
                "10.77.3.0/24".parse().unwrap()
            ))
        );
        assert_eq!(n.exec_root, Path::new("/tmp/x"));
        assert_eq!(n.pools[0].size, 24);

        std::fs::write(&f, r#"{"bip": "10.77.3.1"}"#).unwrap();
        let e = EngineConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("invalid bip"), "{e}");
        std::fs::write(&f, "{").unwrap();
        assert!(EngineConfig::load(Some(&f)).is_err());
    }
}
