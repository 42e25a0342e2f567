//! Container types: the create request (`Config` + `HostConfig`), `inspect`, `ps` summaries.

use std::collections::BTreeMap;

use berth_image::config::ContainerConfig;
use berth_volume::mount_spec::api::{ApiMount, MountPoint};
use serde::{Deserialize, Serialize};

use super::GraphDriverData;

/// `HostConfig.LogConfig`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    /// Log driver (`json-file`).
    #[serde(rename = "Type")]
    pub kind: String,
    /// Driver options.
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            kind: "json-file".into(),
            config: BTreeMap::new(),
        }
    }
}

/// `HostConfig.RestartPolicy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `no`, `always`, `unless-stopped`, `on-failure`.
    pub name: String,
    /// For `on-failure`.
    pub maximum_retry_count: i64,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0,
        }
    }
}

/// `--ulimit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    /// Name (`nofile`).
    pub name: String,
    /// Hard limit (-1: unlimited).
    pub hard: i64,
    /// Soft limit (-1: unlimited).
    pub soft: i64,
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    /// The device (or a directory of devices) on the host.
    pub path_on_host: String,
    /// Where it appears in the container.
    pub path_in_container: String,
    /// Some of `rwm`.
    pub cgroup_permissions: String,
}

/// `--blkio-weight-device DEVICE:WEIGHT`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct WeightDevice {
    /// The block device.
    pub path: String,
    /// Relative weight, 10 to 1000.
    pub weight: u16,
}

/// `--device-read-bps DEVICE:RATE` and the other throttles.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ThrottleDevice {
    /// The block device.
    pub path: String,
    /// Bytes or operations per second.
    pub rate: u64,
}

/// Docker's `Resources`, embedded in `HostConfig`: cgroup limits, devices, ulimits.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Resources {
    /// `-c, --cpu-shares`.
    pub cpu_shares: i64,
    /// `-m, --memory` (bytes).
    pub memory: i64,
    /// `--cpus`, in billionths of a CPU.
    pub nano_cpus: i64,
    /// `--cgroup-parent`.
    pub cgroup_parent: String,
    /// `--blkio-weight`.
    pub blkio_weight: u16,
    /// `--blkio-weight-device`.
    pub blkio_weight_device: Option<Vec<WeightDevice>>,
    /// `--device-read-bps`.
    pub blkio_device_read_bps: Option<Vec<ThrottleDevice>>,
    /// `--device-write-bps`.
    pub blkio_device_write_bps: Option<Vec<ThrottleDevice>>,
    /// `--device-read-iops`.
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Option<Vec<ThrottleDevice>>,
    /// `--device-write-iops`.
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Option<Vec<ThrottleDevice>>,
    /// `--cpu-period` (µs).
    pub cpu_period: i64,
    /// `--cpu-quota` (µs).
    pub cpu_quota: i64,
    /// `--cpu-rt-period` (µs).
    pub cpu_realtime_period: i64,
    /// `--cpu-rt-runtime` (µs).
    pub cpu_realtime_runtime: i64,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: String,
    /// `--cpuset-mems`.
    pub cpuset_mems: String,
    /// `--device`.
    pub devices: Option<Vec<DeviceMapping>>,
    /// `--device-cgroup-rule`.
    pub device_cgroup_rules: Option<Vec<String>>,
    /// `--gpus` (refused: berth has no device drivers).
    pub device_requests: Option<Vec<serde_json::Value>>,
    /// `--kernel-memory`.
    pub kernel_memory: i64,
    /// Kernel TCP buffer memory.
    #[serde(rename = "KernelMemoryTCP")]
    pub kernel_memory_tcp: i64,
    /// `--memory-reservation`.
    pub memory_reservation: i64,
    /// `--memory-swap` (memory plus swap; -1 unlimited).
    pub memory_swap: i64,
    /// `--memory-swappiness` (`None`: the kernel's).
    pub memory_swappiness: Option<i64>,
    /// `--oom-kill-disable`.
    pub oom_kill_disable: Option<bool>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
    /// `--ulimit`.
    pub ulimits: Option<Vec<Ulimit>>,
    /// CPU count (Windows).
    pub cpu_count: i64,
    /// CPU percent (Windows).
    pub cpu_percent: i64,
    /// Maximum IOps (Windows).
    #[serde(rename = "IOMaximumIOps")]
    pub io_maximum_iops: u64,
    /// Maximum bandwidth (Windows).
    #[serde(rename = "IOMaximumBandwidth")]
    pub io_maximum_bandwidth: u64,
}

/// Docker's `HostConfig`: how the host runs the container, in Docker's field order. Every field
/// Docker 20.10 reports is present so `inspect` has Docker's shape; create applies each one or
/// refuses it (see `container::runconfig`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// `-v` strings with a source, as sent.
    pub binds: Option<Vec<String>>,
    /// `--cidfile`.
    #[serde(rename = "ContainerIDFile")]
    pub container_id_file: String,
    /// Logging.
    pub log_config: LogConfig,
    /// `default` (the `bridge` network), `bridge`, `none`, `host`, `container:ID` or a
    /// network's name.
    pub network_mode: String,
    /// Published ports: `80/tcp` → host bindings.
    pub port_bindings: BTreeMap<String, Option<Vec<berth_network::ports::PortBinding>>>,
    /// Restart policy.
    pub restart_policy: RestartPolicy,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--volume-driver`.
    pub volume_driver: String,
    /// `--volumes-from`, as given.
    pub volumes_from: Option<Vec<String>>,
    /// `--cap-add`, as given.
    pub cap_add: Option<Vec<String>>,
    /// `--cap-drop`, as given.
    pub cap_drop: Option<Vec<String>>,
    /// Cgroup namespace mode.
    pub cgroupns_mode: String,
    /// DNS servers.
    pub dns: Vec<String>,
    /// DNS options.
    pub dns_options: Vec<String>,
    /// DNS search domains.
    pub dns_search: Vec<String>,
    /// `--add-host`.
    pub extra_hosts: Option<Vec<String>>,
    /// `--group-add`.
    pub group_add: Option<Vec<String>>,
    /// IPC mode.
    pub ipc_mode: String,
    /// Cgroup.
    pub cgroup: String,
    /// Links.
    pub links: Option<Vec<String>>,
    /// OOM score adjustment.
    pub oom_score_adj: i64,
    /// PID mode.
    pub pid_mode: String,
    /// `--privileged`.
    pub privileged: bool,
    /// `-P`.
    pub publish_all_ports: bool,
    /// `--read-only`.
    pub readonly_rootfs: bool,
    /// `--security-opt` (a seccomp profile file is sent as its JSON, as the docker CLI does).
    pub security_opt: Option<Vec<String>>,
    /// `--storage-opt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_opt: Option<BTreeMap<String, String>>,
    /// `--tmpfs`: path → options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// UTS mode.
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    /// User namespace mode.
    pub userns_mode: String,
    /// `/dev/shm` size.
    pub shm_size: i64,
    /// `--sysctl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, String>>,
    /// OCI runtime: `berth` (the in-process runtime), `runc` or a path to any OCI runtime
    /// CLI; empty at create for the engine's default.
    pub runtime: String,
    /// Initial console size `[height, width]` of a container with a terminal (the API's start
    /// sizes the terminal with it; the CLI sends its own terminal's size).
    pub console_size: [u32; 2],
    /// OCI annotations for the runtime (`--annotation`, API ≥ 1.43), written to the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Isolation (only the default on Linux).
    pub isolation: String,
    /// Cgroup limits, devices, ulimits.
    #[serde(flatten)]
    pub resources: Resources,
    /// `--mount`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<ApiMount>>,
    /// Masked paths (`None` at create: Docker's defaults; empty with `systempaths=unconfined`).
    pub masked_paths: Option<Vec<String>>,
    /// Read-only paths (like `masked_paths`).
    pub readonly_paths: Option<Vec<String>>,
    /// `--init`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            binds: None,
            container_id_file: String::new(),
            log_config: LogConfig::default(),
            network_mode: "default".into(),
            port_bindings: BTreeMap::new(),
            restart_policy: RestartPolicy::default(),
            auto_remove: false,
            volume_driver: String::new(),
            volumes_from: None,
            cap_add: None,
            cap_drop: None,
            cgroupns_mode: "host".into(),
            dns: Vec::new(),
            dns_options: Vec::new(),
            dns_search: Vec::new(),
            extra_hosts: None,
            group_add: None,
            ipc_mode: "private".into(),
            cgroup: String::new(),
            links: None,
            oom_score_adj: 0,
            pid_mode: String::new(),
            privileged: false,
            publish_all_ports: false,
            readonly_rootfs: false,
            security_opt: None,
            storage_opt: None,
            tmpfs: None,
            uts_mode: String::new(),
            userns_mode: String::new(),
            shm_size: 67_108_864,
            sysctls: None,
            // Filled at create with the engine's default runtime.
            runtime: String::new(),
            console_size: [0, 0],
            annotations: None,
            isolation: String::new(),
            resources: Resources::default(),
            mounts: None,
            masked_paths: None,
            readonly_paths: None,
            init: None,
        }
    }
}

impl HostConfig {
    /// Fields a client left at Go's zero value take the daemon's default, as Docker's daemon
    /// fills them at create: the Go SDK sends `"ShmSize":0`, `"IpcMode":""`,
    /// `"LogConfig":{"Type":""}` for a container that asked for nothing.
    pub fn fill_defaults(&mut self) {
        let defaults = HostConfig::default();
        if self.log_config.kind.is_empty() {
            self.log_config.kind = defaults.log_config.kind;
        }
        if self.shm_size == 0 {
            self.shm_size = defaults.shm_size;
        }
        if self.ipc_mode.is_empty() {
            self.ipc_mode = defaults.ipc_mode;
        }
        if self.cgroupns_mode.is_empty() {
            self.cgroupns_mode = defaults.cgroupns_mode;
        }
        if self.runtime.is_empty() {
            self.runtime = defaults.runtime;
        }
    }
}

/// What `docker update` sends (`UpdateConfig`): resources to change (a zero or empty field
/// leaves the current value) and a restart policy (an empty name leaves it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateRequest {
    /// The resources.
    #[serde(flatten)]
    pub resources: Resources,
    /// The restart policy.
    pub restart_policy: Option<RestartPolicy>,
}

/// What `docker create`/`run` sends: the container `Config` and its `HostConfig`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateRequest {
    /// Name (`--name`), without the leading `/`.
    pub name: Option<String>,
    /// The container config (`Image` names the image).
    pub config: ContainerConfig,
    /// The host config.
    pub host_config: HostConfig,
    /// `--pull`: the CLI pulls before it creates (`missing`, `always`); the engine never pulls
    /// in a create, as Docker's daemon does not.
    pub pull: PullPolicy,
    /// Per-network settings (`--network-alias`, `--ip`, the API's `EndpointsConfig`).
    pub networking_config: Option<super::NetworkingConfig>,
    /// `--platform` (the API's `platform` parameter): the image must be of this platform.
    #[serde(default)]
    pub platform: Option<String>,
    /// The API version of the request, which decides how mounts are read (`None`: the
    /// newest, as the CLI behaves).
    #[serde(skip)]
    pub api_version: Option<berth_volume::mount_spec::ApiVersion>,
}

/// `--pull`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PullPolicy {
    /// Pull if not present.
    #[default]
    Missing,
    /// Never pull.
    Never,
    /// Pull before every create.
    Always,
}

/// `State` of container inspect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerStateInfo {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub status: String,
    /// Running (also when paused).
    pub running: bool,
    /// Paused.
    pub paused: bool,
    /// Restarting.
    pub restarting: bool,
    /// Killed by the OOM killer.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Dead.
    pub dead: bool,
    /// Host pid of the init process (0 when not running).
    pub pid: i64,
    /// Last exit code.
    pub exit_code: i32,
    /// Why the last start failed.
    pub error: String,
    /// Last start.
    pub started_at: String,
    /// Last exit.
    pub finished_at: String,
    /// The health check's state, for a container that has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// `State.Health` of container inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    /// Failed probes in a row.
    pub failing_streak: i64,
    /// The last probes' results, oldest first.
    pub log: Vec<HealthcheckResult>,
}

/// One probe of a health check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthcheckResult {
    /// When it started (RFC 3339).
    pub start: String,
    /// When it ended (RFC 3339).
    pub end: String,
    /// Its exit code: 0 healthy, else unhealthy; -1 when it could not run or timed out.
    pub exit_code: i64,
    /// The start of its output.
    pub output: String,
}

/// `docker inspect CONTAINER`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    /// 64-hex ID.
    #[serde(rename = "Id")]
    pub id: String,
    /// Creation time.
    pub created: String,
    /// Executable.
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// State.
    pub state: ContainerStateInfo,
    /// Image ID.
    pub image: String,
    /// Host path of its resolv.conf.
    pub resolv_conf_path: String,
    /// Host path of its hostname file.
    pub hostname_path: String,
    /// Host path of its hosts file.
    pub hosts_path: String,
    /// Host path of its json-file log.
    pub log_path: String,
    /// `/name`.
    pub name: String,
    /// Restarts.
    pub restart_count: i64,
    /// Storage driver.
    pub driver: String,
    /// `linux`.
    pub platform: String,
    /// SELinux mount label.
    pub mount_label: String,
    /// SELinux process label.
    pub process_label: String,
    /// AppArmor profile.
    pub app_armor_profile: String,
    /// Running execs.
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    /// Host config.
    pub host_config: HostConfig,
    /// Storage of the writable layer.
    pub graph_driver: GraphDriverData,
    /// Writable-layer size (`--size`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Size of all layers (`--size`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    /// Mounts.
    pub mounts: Vec<MountPoint>,
    /// Config.
    pub config: ContainerConfig,
    /// Network settings.
    pub network_settings: super::NetworkSettings,
}

/// One entry of `GET /containers/json` (what `docker ps` prints).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// 64-hex ID.
    #[serde(rename = "Id")]
    pub id: String,
    /// Names, with `/`.
    pub names: Vec<String>,
    /// Image as given at create.
    pub image: String,
    /// Image ID.
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// Command line.
    pub command: String,
    /// Creation, Unix seconds.
    pub created: i64,
    /// Exposed and published ports.
    pub ports: Vec<super::SummaryPort>,
    /// Writable layer size (`-s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// All layers (`-s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`...
    pub state: String,
    /// `Up 2 minutes`, `Exited (0) 3 seconds ago`...
    pub status: String,
    /// The host config's network mode.
    pub host_config: SummaryHostConfig,
    /// Networks.
    pub network_settings: super::SummaryNetworkSettings,
    /// Mounts.
    pub mounts: Vec<MountPoint>,
}

/// `HostConfig` of a container summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    /// `default`, `none`, `host`, a network's name...
    pub network_mode: String,
}

/// One line of `docker diff`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeItem {
    /// Absolute path.
    pub path: String,
    /// 0 = modified, 1 = added, 2 = deleted.
    pub kind: u8,
}
