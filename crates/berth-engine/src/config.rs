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
//! DNS server of user-defined networks listens), `network-backend` (`native`, berth's own and the
//! default, or `netavark`), `netavark` and `aardvark-dns` (binaries), and
//! `rm-warning-threshold` (how much a writable layer may hold before `rm` on a terminal warns).
//!
//! Container keys: `seccomp-profile` (the file containers get by default instead of Docker's
//! own profile; read and checked when the file is loaded, as dockerd checks it at start),
//! `log-driver` and `log-opts` (for containers that name no log driver, merged as dockerd merges
//! them), `userns-remap` (see [`crate::userns`]), `storage-opts` (the storage driver's options:
//! `overlay2.size` limits every writable layer that sets no size of its own), `exec-opts` (dockerd's
//! `native.cgroupdriver=cgroupfs|systemd`, see [`CgroupDriver`]). The other keys of dockerd's that change what
//! containers get (`default-ulimits`, `exec-opts` ...) are refused unless they hold dockerd's default, so a
//! setting is never silently dropped; keys about the daemon itself are ignored.
//!
//! Registry keys, with Docker's names and checks: `insecure-registries` (`host`, `host:port` or a
//! CIDR, reached without TLS verification, and over plain HTTP when HTTPS fails; loopback
//! registries are insecure regardless) and `registry-mirrors` (`http(s)://` mirrors of Docker
//! Hub, tried in order before it), and berth's own `upload-chunk-size` (`32MiB` by default:
//! layers larger than this are pushed in chunks of this size, each resumable on its own).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use berth_network::config::{BackendKind, NetworkConfig};
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

/// Who makes containers' cgroups: `exec-opts`' `native.cgroupdriver` (dockerd's names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CgroupDriver {
    /// The runtime writes cgroupfs directly (dockerd's default on cgroup v1, and berth's).
    #[default]
    Cgroupfs,
    /// systemd makes a scope per container (`berth-<id>.scope`) under a slice, through runc's
    /// `--systemd-cgroup`; refused where systemd does not run the host (see
    /// [`crate::container::runconfig::cgroups::check_driver`]).
    Systemd,
}

impl CgroupDriver {
    /// dockerd's name (`info`'s `CgroupDriver`).
    pub fn name(self) -> &'static str {
        match self {
            CgroupDriver::Cgroupfs => "cgroupfs",
            CgroupDriver::Systemd => "systemd",
        }
    }

    /// The driver `exec-opts` asks for, checked with dockerd's words (the first
    /// `native.cgroupdriver` counts, as in dockerd).
    fn from_exec_opts(opts: &[String]) -> Result<CgroupDriver, String> {
        for opt in opts {
            let Some((key, _)) = opt.split_once('=') else {
                return Err(format!("unable to parse key/value option: {opt}"));
            };
            let key = key.trim();
            if !key.eq_ignore_ascii_case("native.cgroupdriver") {
                return Err(format!(
                    "berth does not support the exec-opt {key:?} (it knows native.cgroupdriver)"
                ));
            }
        }
        let Some(value) = opts
            .iter()
            .filter_map(|o| o.split_once('='))
            .map(|(_, v)| v.trim())
            .next()
        else {
            return Ok(CgroupDriver::default());
        };
        match value {
            "" | "cgroupfs" => Ok(CgroupDriver::Cgroupfs),
            "systemd" => Ok(CgroupDriver::Systemd),
            "none" => Err(
                "native.cgroupdriver option none is internally used and cannot be specified manually"
                    .into(),
            ),
            other => Err(format!("native.cgroupdriver option {other} not supported")),
        }
    }
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
    /// The data plane of bridge networks: `native` (the default) or `netavark`.
    pub network_backend: Option<String>,
    /// Registries reached without TLS verification.
    pub insecure_registries: Vec<String>,
    /// Mirrors of Docker Hub.
    pub registry_mirrors: Vec<String>,
    /// berth's own: the chunk size of chunked uploads (`32MiB`).
    pub upload_chunk_size: Option<String>,
    /// berth's own: how much a container's writable layer may hold before `rm` on a terminal
    /// warns that it will be discarded (`1MiB` by default; `0` disables the warning).
    pub rm_warning_threshold: Option<String>,
    /// The default seccomp profile (Docker's JSON format).
    pub seccomp_profile: Option<PathBuf>,
    /// The runtime of containers that name none: `runc` (the default) or `berth` (in-process).
    pub default_runtime: Option<String>,
    /// The default log driver.
    pub log_driver: Option<String>,
    /// The default log driver's options.
    pub log_opts: BTreeMap<String, String>,
    /// `storage-opts`: the storage driver's options (dockerd's keys; checked against the driver
    /// when the engine opens, see [`crate::container::quota`]).
    pub storage_opts: Vec<String>,
    /// `exec-opts`: the runtime's options (`native.cgroupdriver=`).
    pub exec_opts: Vec<String>,
    /// `native.cgroupdriver` resolved when the file is loaded.
    #[serde(skip)]
    pub cgroup_driver: CgroupDriver,
    /// `userns-remap`: the user whose subordinate ids remapped containers run as.
    pub userns_remap: String,
    /// `userns-remap` resolved when the file is loaded.
    #[serde(skip)]
    pub remap: Option<crate::userns::Remap>,
    /// Every other key, checked against [`UNSUPPORTED`].
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// [`EngineConfig::rm_warning_threshold`] when the file sets none.
pub const DEFAULT_RM_WARNING_THRESHOLD: u64 = 1 << 20;

/// Parses a warning threshold (`1MiB`, `512k`, `0`) in bytes.
pub fn parse_threshold(s: &str) -> Option<u64> {
    berth_go::ram_in_bytes(s)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
}

/// dockerd's settings that change what containers get and that berth does not apply, with the
/// value that means dockerd's default (accepted, since berth does the same); `None`: any value
/// is refused.
const UNSUPPORTED: &[(&str, Option<&str>)] = &[
    ("default-ulimits", Some("{}")),
    ("default-shm-size", Some(r#""64M""#)),
    ("default-ipc-mode", Some(r#""private""#)),
    ("default-cgroupns-mode", None),
    ("cgroup-parent", Some(r#""""#)),
    ("no-new-privileges", Some("false")),
    ("selinux-enabled", Some("false")),
    ("init", Some("false")),
    ("init-path", None),
    ("runtimes", Some("{}")),
    ("cpu-rt-period", None),
    ("cpu-rt-runtime", None),
    ("icc", Some("true")),
    ("ipv6", Some("false")),
];

/// The runtime names `default-runtime` accepts: runc, and berth's in-process runtime.
const KNOWN_RUNTIMES: &[&str] = &["runc", berth_runtime::runtime::IN_PROCESS];

/// The engine's configuration refused (dockerd's `unable to configure the Docker daemon` words).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file is unreadable or holds a setting berth refuses.
    #[error("unable to configure the berth engine with file {}: {what}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// `--storage-driver` names a driver berth does not have.
    #[error("unknown storage driver {0:?}: berth supports overlay (overlay2) and vfs")]
    UnknownDriver(String),
}

fn invalid(path: &Path, what: String) -> EngineError {
    ConfigError::File {
        path: path.to_path_buf(),
        what,
    }
    .into()
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
        let mut config: EngineConfig =
            serde_json::from_slice(&bytes).map_err(|e| invalid(&path, e.to_string()))?;
        config.remap =
            crate::userns::Remap::resolve(&config.userns_remap).map_err(|e| invalid(&path, e))?;
        config.network_for(Path::new("/"), &path)?;
        config.cgroup_driver =
            CgroupDriver::from_exec_opts(&config.exec_opts).map_err(|e| invalid(&path, e))?;
        if let Some(p) = &config.seccomp_profile {
            berth_runtime::seccomp::SeccompProfile::load(p)
                .map_err(|e| invalid(&path, e.to_string()))?;
        }
        for (key, default) in UNSUPPORTED {
            let Some(v) = config.other.get(*key) else {
                continue;
            };
            let is_default = default
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                .is_some_and(|d| &d == v);
            if !is_default {
                return Err(invalid(
                    &path,
                    format!("berth does not support the setting {key:?} (value {v})"),
                ));
            }
        }
        crate::container::runconfig::logging::settings(&config.default_log_config())
            .map_err(|e| invalid(&path, e.to_string()))?;
        config.rm_warning_threshold_in(&path)?;
        if let Some(r) = &config.default_runtime {
            let built_in = berth_runtime::AnyRuntime::named(r, Path::new("/")).is_some();
            if !KNOWN_RUNTIMES.contains(&r.as_str()) || !built_in {
                return Err(invalid(
                    &path,
                    format!(
                        "default runtime {r} does not exist (berth knows {})",
                        KNOWN_RUNTIMES.join(", ")
                    ),
                ));
            }
        }
        config
            .validate_registries()
            .map_err(|e| invalid(&path, e))?;
        Ok((config, Some(path)))
    }

    /// The runtime containers that name none run on (`default-runtime`, else the in-process
    /// runtime when this binary has it, else `runc`).
    pub fn default_runtime(&self) -> &str {
        self.default_runtime
            .as_deref()
            .unwrap_or(berth_runtime::runtime::DEFAULT)
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

    /// The log configuration containers that name no driver get (`log-driver`, else
    /// `json-file`, with `log-opts`).
    pub fn default_log_config(&self) -> crate::types::LogConfig {
        crate::types::LogConfig {
            kind: self
                .log_driver
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "json-file".into()),
            config: self.log_opts.clone(),
        }
    }

    /// dockerd's merge of its default log configuration into a container's: an empty driver is
    /// the default one, and a container of the default driver gets the default options it does
    /// not set itself.
    pub fn merge_log_config(&self, cfg: &mut crate::types::LogConfig) {
        let default = self.default_log_config();
        if cfg.kind.is_empty() {
            cfg.kind = default.kind.clone();
        }
        if cfg.kind == default.kind {
            for (k, v) in default.config {
                cfg.config.entry(k).or_insert(v);
            }
        }
    }

    /// Checks the registry keys the way dockerd does when it loads them.
    fn validate_registries(&self) -> Result<(), String> {
        for m in &self.registry_mirrors {
            let (scheme, rest) = m
                .split_once("://")
                .ok_or_else(|| format!("invalid mirror: \"{m}\" is not a valid URI"))?;
            if scheme != "http" && scheme != "https" {
                return Err(format!(
                    "invalid mirror: unsupported scheme \"{scheme}\" in \"{m}\""
                ));
            }
            let host = rest.split('/').next().unwrap_or("");
            if host.is_empty() {
                return Err(format!("invalid mirror: \"{m}\" is not a valid URI"));
            }
            if rest.trim_end_matches('/').contains('/') {
                return Err(format!(
                    "invalid mirror: path, query, or fragment at end of the URI \"{m}\""
                ));
            }
        }
        if let Some(c) = &self.upload_chunk_size {
            if parse_threshold(c).is_none_or(|n| n == 0) {
                return Err(format!(
                    "invalid upload-chunk-size {c:?}: a size such as 32MiB"
                ));
            }
        }
        for r in &self.insecure_registries {
            if r.contains("://") {
                return Err(format!("insecure registry {r} should not contain '://'"));
            }
            if r.is_empty() || r.contains(char::is_whitespace) {
                return Err(format!("insecure registry {r:?} is not a valid host"));
            }
        }
        Ok(())
    }

    /// What the registry client needs from this configuration.
    pub fn registry_options(&self) -> berth_registry::RegistryOptions {
        berth_registry::RegistryOptions {
            insecure_registries: self.insecure_registries.clone(),
            mirrors: self.registry_mirrors.clone(),
            upload_chunk: self
                .upload_chunk_size
                .as_deref()
                .and_then(parse_threshold)
                .unwrap_or(berth_registry::upload::DEFAULT_CHUNK),
            ..Default::default()
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
        if let Some(b) = &self.network_backend {
            n.backend = BackendKind::parse(b).ok_or_else(|| {
                invalid(
                    file,
                    format!("invalid network-backend {b:?}: use \"native\" or \"netavark\""),
                )
            })?;
        }
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
                "registry-mirrors": ["http://127.0.0.1:5001"], "unknown-key": 1}"#,
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
        assert_eq!(c.registry_mirrors, ["http://127.0.0.1:5001"]);

        std::fs::write(&f, r#"{"bip": "10.77.3.1"}"#).unwrap();
        let e = EngineConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("invalid bip"), "{e}");
        std::fs::write(&f, "{").unwrap();
        assert!(EngineConfig::load(Some(&f)).is_err());
    }

    /// `seccomp-profile` names a file that must exist and parse when the settings are read.
    #[test]
    fn seccomp_profile_is_checked_when_read() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("daemon.json");
        let profile = t.path().join("p.json");
        std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#).unwrap();
        std::fs::write(&f, format!(r#"{{"seccomp-profile": {profile:?}}}"#)).unwrap();
        let (c, _) = EngineConfig::load(Some(&f)).unwrap();
        assert_eq!(c.seccomp_profile.as_deref(), Some(profile.as_path()));

        std::fs::write(&profile, "[").unwrap();
        let e = EngineConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("Decoding seccomp profile failed"), "{e}");
        std::fs::remove_file(&profile).unwrap();
        let e = EngineConfig::load(Some(&f)).unwrap_err().to_string();
        assert!(e.contains("opening seccomp profile"), "{e}");
    }

    /// dockerd's container settings berth does not apply are refused unless they hold dockerd's
    /// default; the default log configuration is checked with the container rules and merged.
    #[test]
    fn container_settings_are_applied_or_refused() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("daemon.json");
        let load = |json: &str| {
            std::fs::write(&f, json).unwrap();
            EngineConfig::load(Some(&f)).map(|(c, _)| c)
        };
        let e = load(r#"{"userns-remap": "nobody:nogroup"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(r#"Can't create ID mappings: no subuid ranges found for user "nobody""#),
            "{e}"
        );
        assert!(load(
            r#"{"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 1, "Soft": 1}}}"#
        )
        .is_err());
        assert_eq!(
            load(r#"{"exec-opts": ["native.cgroupdriver=systemd"]}"#)
                .unwrap()
                .cgroup_driver,
            CgroupDriver::Systemd
        );
        assert_eq!(
            load(r#"{"exec-opts": ["native.cgroupdriver=cgroupfs"]}"#)
                .unwrap()
                .cgroup_driver,
            CgroupDriver::Cgroupfs
        );
        assert_eq!(load("{}").unwrap().cgroup_driver, CgroupDriver::Cgroupfs);
        for (opts, words) in [
            (
                r#"["native.cgroupdriver=none"]"#,
                "native.cgroupdriver option none is internally used and cannot be specified manually",
            ),
            (
                r#"["native.cgroupdriver=foo"]"#,
                "native.cgroupdriver option foo not supported",
            ),
            (r#"["isolation=hyperv"]"#, "does not support the exec-opt"),
            (r#"["native.cgroupdriver"]"#, "unable to parse key/value option"),
        ] {
            let e = load(&format!(r#"{{"exec-opts": {opts}}}"#))
                .unwrap_err()
                .to_string();
            assert!(e.contains(words), "{opts}: {e}");
        }
        assert!(load(r#"{"storage-opts": ["overlay2.size=1G"]}"#).is_ok());
        assert!(load(r#"{"userns-remap": "", "no-new-privileges": false, "debug": true}"#).is_ok());
        assert!(load(r#"{"log-driver": "syslog"}"#).is_err());
        assert!(load(r#"{"log-opts": {"max-size": "x"}}"#).is_err());

        let c = load(
            r#"{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}"#,
        )
        .unwrap();
        let mut mine = crate::types::LogConfig {
            kind: String::new(),
            config: BTreeMap::from([("max-size".to_string(), "1m".to_string())]),
        };
        c.merge_log_config(&mut mine);
        assert_eq!(mine.kind, "json-file");
        assert_eq!(mine.config["max-size"], "1m");
        assert_eq!(mine.config["max-file"], "3");
        let mut other = crate::types::LogConfig {
            kind: "none".into(),
            config: BTreeMap::new(),
        };
        c.merge_log_config(&mut other);
        assert!(other.config.is_empty());
    }

    #[test]
    fn registry_keys_are_checked_as_dockerd_checks_them() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("daemon.json");
        let load = |body: &str| {
            std::fs::write(&f, body).unwrap();
            EngineConfig::load(Some(&f)).map(|(c, _)| c)
        };
        let c = load(r#"{"insecure-registries":["reg:5000","10.0.0.0/8"]}"#).unwrap();
        assert_eq!(c.insecure_registries, ["reg:5000", "10.0.0.0/8"]);
        let e = load(r#"{"registry-mirrors":["ftp://m"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported scheme \"ftp\""), "{e}");
        let e = load(r#"{"registry-mirrors":["http://m/path"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("path, query, or fragment"), "{e}");
        let e = load(r#"{"insecure-registries":["http://r"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("should not contain '://'"), "{e}");
        assert!(load(r#"{"insecure-registries":"r"}"#).is_err());
        let c = load(r#"{"upload-chunk-size":"4MiB"}"#).unwrap();
        assert_eq!(c.registry_options().upload_chunk, 4 << 20);
        let e = load(r#"{"upload-chunk-size":"lots"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid upload-chunk-size \"lots\""), "{e}");
        assert_eq!(
            load("{}").unwrap().registry_options().upload_chunk,
            berth_registry::upload::DEFAULT_CHUNK
        );
        let missing = t.path().join("nope.json");
        let e = EngineConfig::load(Some(&missing)).unwrap_err().to_string();
        assert!(
            e.starts_with("unable to configure the berth engine with file"),
            "{e}"
        );
    }
}
