//! `info` and `version`: what this engine and its data root are.

use std::collections::BTreeMap;

use berth_image::store::ImageStore;
use serde::Serialize;

use crate::config::EngineConfig;
use crate::container::runconfig::cgroups::CgroupHost;
use crate::{Engine, EngineError};

/// The version berth reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Docker Engine API version berth speaks.
pub const API_VERSION: &str = "1.41";

/// `docker info`'s facts, with Docker's field names for `--format` (and `GET /info`'s JSON):
/// every field dockerd fills that means something here, in dockerd's order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemInfo {
    /// This data root's engine ID (a UUID made the first time it is asked for).
    #[serde(rename = "ID")]
    pub id: String,
    /// Number of containers.
    pub containers: i64,
    /// Running containers.
    pub containers_running: i64,
    /// Paused containers.
    pub containers_paused: i64,
    /// Stopped containers.
    pub containers_stopped: i64,
    /// Number of images.
    pub images: i64,
    /// Number of volumes (a berth addition).
    pub volumes: i64,
    /// Storage driver name.
    pub driver: String,
    /// Driver facts, as `[name, value]` pairs.
    pub driver_status: Vec<[String; 2]>,
    /// Drivers by kind: `Volume`, `Network`, `Log`.
    pub plugins: BTreeMap<String, Vec<String>>,
    /// What the cgroups can limit, as dockerd's `sysinfo` finds it.
    pub memory_limit: bool,
    /// Swap limits.
    pub swap_limit: bool,
    /// Kernel memory limits (v1).
    pub kernel_memory: bool,
    /// Kernel TCP memory limits (v1).
    #[serde(rename = "KernelMemoryTCP")]
    pub kernel_memory_tcp: bool,
    /// CFS period.
    pub cpu_cfs_period: bool,
    /// CFS quota.
    pub cpu_cfs_quota: bool,
    /// CPU shares.
    #[serde(rename = "CPUShares")]
    pub cpu_shares: bool,
    /// cpusets.
    #[serde(rename = "CPUSet")]
    pub cpu_set: bool,
    /// The pids limit.
    pub pids_limit: bool,
    /// `net.ipv4.ip_forward` is on.
    #[serde(rename = "IPv4Forwarding")]
    pub ipv4_forwarding: bool,
    /// `net.bridge.bridge-nf-call-iptables` is on.
    pub bridge_nf_iptables: bool,
    /// `net.bridge.bridge-nf-call-ip6tables` is on.
    pub bridge_nf_ip6tables: bool,
    /// Debug logging (`RUST_LOG` asks for debug or trace).
    pub debug: bool,
    /// File descriptors this process has open.
    pub n_fd: i64,
    /// The OOM killer may be disabled (`memory.oom_control`, v1).
    pub oom_kill_disable: bool,
    /// Threads of this process (dockerd counts goroutines).
    pub n_goroutines: i64,
    /// Now, RFC 3339 with nanoseconds.
    pub system_time: String,
    /// Logging driver of containers that name none.
    pub logging_driver: String,
    /// Who makes containers' cgroups (`cgroupfs`, or `systemd` from `exec-opts`).
    pub cgroup_driver: String,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// Event listeners (berth serves them from the store's log: none is registered).
    pub n_events_listener: i64,
    /// Kernel version.
    pub kernel_version: String,
    /// `PRETTY_NAME` of `/etc/os-release`.
    pub operating_system: String,
    /// `VERSION_ID` of `/etc/os-release`.
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    /// OS type.
    #[serde(rename = "OSType")]
    pub os_type: String,
    /// Architecture.
    pub architecture: String,
    /// Docker Hub's index, where `search` looks for unqualified terms.
    pub index_server_address: String,
    /// Registries: Docker Hub's index config, the insecure CIDRs and the mirrors.
    pub registry_config: serde_json::Value,
    /// CPUs this process may run on.
    #[serde(rename = "NCPU")]
    pub ncpu: i64,
    /// Memory of the host in bytes.
    pub mem_total: i64,
    /// Always `null` (no generic resources).
    pub generic_resources: Option<()>,
    /// Data root.
    #[serde(rename = "DockerRootDir")]
    pub docker_root_dir: String,
    /// The proxies this process sees (`HTTP_PROXY`...), as pulls use them.
    pub http_proxy: String,
    /// `HTTPS_PROXY`.
    pub https_proxy: String,
    /// `NO_PROXY`.
    pub no_proxy: String,
    /// Host name.
    pub name: String,
    /// Engine labels (none).
    pub labels: Vec<String>,
    /// Experimental features (none).
    pub experimental_build: bool,
    /// Engine version.
    pub server_version: String,
    /// The runtimes `--runtime` accepts by name.
    pub runtimes: BTreeMap<String, serde_json::Value>,
    /// The runtime of containers that name none.
    pub default_runtime: String,
    /// Swarm state: berth has none (`inactive`).
    pub swarm: serde_json::Value,
    /// Containers outlive whatever process started them (no daemon to restore them from).
    pub live_restore_enabled: bool,
    /// Isolation technology (Windows only: empty).
    pub isolation: String,
    /// The binary `--init` runs.
    pub init_binary: String,
    /// No containerd: an empty ID.
    pub containerd_commit: Commit,
    /// runc's commit (`runc --version`).
    pub runc_commit: Commit,
    /// The init binary's version.
    pub init_commit: Commit,
    /// What confines containers by default: `name=seccomp,profile=...`, `name=userns` when
    /// remapped.
    pub security_options: Vec<String>,
    /// `default-address-pools` of the settings file, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_address_pools: Option<Vec<serde_json::Value>>,
    /// What the host lacks that containers may miss, in dockerd's words; `null` when nothing.
    pub warnings: Option<Vec<String>>,
}

/// A component's version, as dockerd reports containerd's, runc's and the init's.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Commit {
    /// The version found.
    #[serde(rename = "ID")]
    pub id: String,
    /// What this engine expects (the same: berth pins none).
    pub expected: String,
}

impl Commit {
    fn found(id: String) -> Commit {
        Commit {
            expected: id.clone(),
            id,
        }
    }
}

impl Engine {
    /// `docker info`.
    pub fn info(&mut self) -> Result<SystemInfo, EngineError> {
        let driver = self.store.driver();
        let driver_name = driver.name().to_string();
        let driver_status = driver.status().into_iter().map(|(k, v)| [k, v]).collect();
        let images = ImageStore::new(&mut self.store).list()?.len() as i64;
        let (mut running, mut paused, mut stopped) = (0, 0, 0);
        for c in self.all_containers()? {
            match self.refresh(c)?.state.status {
                crate::container::Status::Paused => paused += 1,
                s if s.is_running() => running += 1,
                _ => stopped += 1,
            }
        }
        let volumes = self.volume_names()?.len() as i64;
        let id = self.engine_id()?;
        let cg = CgroupHost::get();
        let config = self.config();
        let default_runtime = config.default_runtime().to_string();
        let warnings = host_warnings(cg);
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let os_field = |key: &str| {
            os_release
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim_matches('"').to_string())
                .unwrap_or_default()
        };
        let init = berth_runtime::spec::DEFAULT_INIT_BINARY;
        Ok(SystemInfo {
            id,
            containers: running + paused + stopped,
            containers_running: running,
            containers_paused: paused,
            containers_stopped: stopped,
            images,
            volumes,
            driver: driver_name,
            driver_status,
            plugins: [
                ("Volume", volume_drivers()),
                (
                    "Network",
                    vec!["bridge".into(), "host".into(), "null".into()],
                ),
                ("Log", vec!["json-file".into(), "local".into()]),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            memory_limit: cg.memory,
            swap_limit: cg.swap,
            kernel_memory: !cg.v2 && cg.kernel_tcp,
            kernel_memory_tcp: cg.kernel_tcp,
            cpu_cfs_period: cg.cfs,
            cpu_cfs_quota: cg.cfs,
            cpu_shares: cg.cpu_shares,
            cpu_set: cg.cpuset,
            pids_limit: cg.pids,
            ipv4_forwarding: sysctl_on("net/ipv4/ip_forward"),
            bridge_nf_iptables: sysctl_on("net/bridge/bridge-nf-call-iptables"),
            bridge_nf_ip6tables: sysctl_on("net/bridge/bridge-nf-call-ip6tables"),
            debug: std::env::var("RUST_LOG")
                .is_ok_and(|l| l.contains("debug") || l.contains("trace")),
            n_fd: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64),
            oom_kill_disable: cg.oom_kill_disable,
            n_goroutines: proc_status_field("Threads:"),
            system_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            logging_driver: config
                .log_driver
                .clone()
                .unwrap_or_else(|| "json-file".into()),
            cgroup_driver: self.config.cgroup_driver.name().into(),
            cgroup_version: if cg.v2 { "2" } else { "1" }.into(),
            n_events_listener: 0,
            kernel_version: read_trimmed("/proc/sys/kernel/osrelease"),
            operating_system: os_field("PRETTY_NAME"),
            os_version: os_field("VERSION_ID"),
            os_type: "linux".into(),
            architecture: std::env::consts::ARCH.to_string(),
            index_server_address: berth_registry::credentials::DOCKER_HUB_KEY.into(),
            registry_config: registry_config(config),
            ncpu: cpus_allowed(),
            mem_total: crate::container::stats::host_memory() as i64,
            generic_resources: None,
            docker_root_dir: self.root().display().to_string(),
            http_proxy: proxy_env("HTTP_PROXY"),
            https_proxy: proxy_env("HTTPS_PROXY"),
            no_proxy: proxy_env("NO_PROXY"),
            name: rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
            labels: Vec::new(),
            experimental_build: false,
            server_version: VERSION.to_string(),
            runtimes: runtimes(self.root()),
            default_runtime,
            swarm: serde_json::json!({
                "NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                "ControlAvailable": false, "Error": "", "RemoteManagers": null,
            }),
            live_restore_enabled: true,
            isolation: String::new(),
            init_binary: init.into(),
            containerd_commit: Commit::default(),
            runc_commit: Commit::found(version_line("runc", "commit: ")),
            // `tini version 0.19.0 - git.de40ad0`: dockerd reports the commit only.
            init_commit: Commit::found(
                version_line(init, "tini version ")
                    .split_once(" - git.")
                    .map(|(_, commit)| commit.to_string())
                    .unwrap_or_default(),
            ),
            security_options: security_options(config),
            default_address_pools: config.default_address_pools.as_ref().map(|pools| {
                pools
                    .iter()
                    .map(|p| serde_json::json!({"Base": p.base, "Size": p.size}))
                    .collect()
            }),
            warnings: (!warnings.is_empty()).then_some(warnings),
        })
    }

    /// The data root's engine ID: made (random, in a UUID's shape) the first time, kept in `engine-id`.
    fn engine_id(&self) -> Result<String, EngineError> {
        let path = self.root().join("engine-id");
        if let Ok(id) = std::fs::read_to_string(&path) {
            return Ok(id.trim().to_string());
        }
        let hex = berth_store::fsutil::random_hex(16);
        let id = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        // Two processes asking at once: the first file made wins, and both report it.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(id.as_bytes())?;
                Ok(id)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok(std::fs::read_to_string(&path)?.trim().to_string())
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn sysctl_on(name: &str) -> bool {
    read_trimmed(&format!("/proc/sys/{name}")) == "1"
}

fn proc_status_field(key: &str) -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or(0)
}

fn proxy_env(name: &str) -> String {
    std::env::var(name)
        .or_else(|_| std::env::var(name.to_lowercase()))
        .unwrap_or_default()
}

/// The CPUs this process may run on (Go's `runtime.NumCPU`, which dockerd reports).
fn cpus_allowed() -> i64 {
    rustix::thread::sched_getaffinity(None)
        .map(|set| set.count() as i64)
        .unwrap_or(1)
}

/// The part after `prefix` of the first line of `binary --version` that has it (runc's
/// `commit: ...`, tini's `tini version 0.19.0 - git.abc`); empty when it does not run.
fn version_line(binary: &str, prefix: &str) -> String {
    let Ok(out) = std::process::Command::new(binary)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return String::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// runc, and the in-process runtime when this binary has it.
fn runtimes(root: &std::path::Path) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::from([("runc".to_string(), serde_json::json!({"path": "runc"}))]);
    let inproc = berth_runtime::runtime::IN_PROCESS;
    if berth_runtime::runtime::AnyRuntime::named(inproc, root).is_some() {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "berth".into());
        out.insert(inproc.to_string(), serde_json::json!({ "path": exe }));
    }
    out
}

/// What confines containers by default: berth's seccomp profile (Docker's unless the settings
/// file names another) and user-namespace remapping when configured. berth loads no AppArmor
/// profile by default and `no-new-privileges` cannot be a default, so neither is listed.
fn security_options(config: &EngineConfig) -> Vec<String> {
    let mut out = Vec::new();
    let seccomp = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Seccomp:")));
    if seccomp {
        let profile = config
            .seccomp_profile
            .as_ref()
            .map_or_else(|| "default".to_string(), |p| p.display().to_string());
        out.push(format!("name=seccomp,profile={profile}"));
    }
    if config.remap.is_some() {
        out.push("name=userns".into());
    }
    out
}

/// `RegistryConfig`: Docker Hub's index, insecure registries (CIDRs apart from names, with
/// loopback always insecure) and mirrors, in dockerd's shape.
fn registry_config(config: &EngineConfig) -> serde_json::Value {
    let mut cidrs = vec!["127.0.0.0/8".to_string()];
    let mut indexes = serde_json::Map::new();
    indexes.insert(
        "docker.io".into(),
        serde_json::json!({"Mirrors": config.registry_mirrors, "Name": "docker.io",
            "Official": true, "Secure": true}),
    );
    for r in &config.insecure_registries {
        if r.contains('/') {
            if !cidrs.contains(r) {
                cidrs.push(r.clone());
            }
        } else {
            indexes.insert(
                r.clone(),
                serde_json::json!({"Mirrors": [], "Name": r, "Official": false, "Secure": false}),
            );
        }
    }
    serde_json::json!({
        "IndexConfigs": indexes,
        "InsecureRegistryCIDRs": cidrs,
        "Mirrors": config.registry_mirrors,
    })
}

/// dockerd's warnings about limits the host cannot apply.
fn host_warnings(cg: &CgroupHost) -> Vec<String> {
    let mut w = Vec::new();
    if !cg.memory {
        w.push("WARNING: No memory limit support".to_string());
    }
    if !cg.swap {
        w.push("WARNING: No swap limit support".to_string());
    }
    if !cg.cfs {
        w.push("WARNING: No cpu cfs quota support".to_string());
        w.push("WARNING: No cpu cfs period support".to_string());
    }
    if !cg.cpu_shares {
        w.push("WARNING: No cpu shares support".to_string());
    }
    if !cg.cpuset {
        w.push("WARNING: No cpuset support".to_string());
    }
    w
}

/// `local` and the volume plugins that answer now, sorted (dockerd lists the drivers it has
/// activated, which after any `volume ls` are all it discovered).
fn volume_drivers() -> Vec<String> {
    let mut names: Vec<String> = berth_volume::plugin::discovered_volume_plugins()
        .into_iter()
        .map(|d| d.name)
        .chain(["local".to_string()])
        .collect();
    names.sort();
    names.dedup();
    names
}
