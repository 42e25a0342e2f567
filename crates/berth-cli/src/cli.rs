//! The command-line grammar: docker's global flags and commands, as clap types. Parsing only;
//! each command's behaviour lives in `commands/`.
//!
//! Every subcommand enum is `#[command(defer = true)]`: a command's flags are made only when clap
//! (or `parse.rs`'s walk) reaches that command, so one call builds the flags of the command it
//! runs rather than of all ~80 (that was 12M of the 15.6M instructions of `berth version`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// berth: a Docker-compatible container engine whose storage is first class.
#[derive(Debug, Parser)]
#[command(
    name = "berth",
    disable_version_flag = true,
    disable_help_subcommand = true,
    about = "A Docker-compatible container engine whose storage system is first class",
    after_help = "Run 'berth COMMAND --help' for more information on a command."
)]
pub struct Cli {
    /// Data root of images, containers and volumes.
    #[arg(
        long,
        env = "BERTH_ROOT",
        default_value = "/var/lib/berth",
        global = true
    )]
    pub root: PathBuf,
    /// Storage driver for a new data root: overlay (overlay2) or vfs [default: overlay where the
    /// kernel and backing filesystem support it, else vfs].
    #[arg(long = "storage-driver", env = "BERTH_STORAGE_DRIVER")]
    pub storage_driver: Option<String>,
    /// The engine's settings file (daemon.json keys: bip, bridge, default-address-pools,
    /// insecure-registries, registry-mirrors...) [default: /etc/berth/daemon.json when it exists].
    #[arg(long = "config-file", env = "BERTH_CONFIG_FILE", global = true)]
    pub config_file: Option<PathBuf>,
    /// Logging level (trace, debug, info, warn, error, fatal); debug shows runtime calls and mounts.
    #[arg(long = "log-level", short = 'l', default_value = "info")]
    pub log_level: String,
    /// Print version information and quit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Show the berth version information.
    Version(FormatArg),
    /// Display system-wide information.
    Info(FormatArg),
    /// Get real time events from the engine (every berth process records what it does).
    Events(EventsArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Search Docker Hub (or the index a term names) for images.
    Search(SearchArgs),
    /// Log in to a registry.
    Login(LoginArgs),
    /// Log out from a registry.
    Logout(LogoutArgs),
    /// List images.
    Images(ImagesArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Return low-level information on berth objects.
    Inspect(InspectArgs),
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Manage builds.
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Create a new container.
    Create(RunArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Pause all processes within one or more containers.
    Pause(NamesArg),
    /// Unpause all processes within one or more containers.
    Unpause(NamesArg),
    /// Remove one or more containers.
    Rm(RmArgs),
    /// List containers.
    Ps(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Attach local standard input, output, and error streams to a running container.
    Attach(AttachArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(NamesArg),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(NameArg),
    /// Create a new image from a container's changes.
    Commit(CommitArgs),
    /// Export a container's filesystem as a tar archive.
    Export(ExportArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Display the running processes of a container.
    Top(TopArgs),
    /// Display a live stream of container(s) resource usage statistics.
    Stats(StatsArgs),
    /// Rename a container.
    Rename(RenameArgs),
    /// Update configuration of one or more containers.
    Update(UpdateArgs),
    /// Show where each path of a container lives and what dies with it (berth only).
    Storage(crate::commands::storage::StorageArgs),
    /// Manage containers.
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// List port mappings or a specific mapping for the container.
    Port(PortArgs),
    /// Manage berth.
    #[command(subcommand)]
    System(SystemCommand),

    /// Serve the Docker Engine API on a unix socket (for the docker CLI and Docker's SDKs).
    Serve(ServeArgs),

    /// Generate the autocompletion script for the specified shell.
    Completion(CompletionArgs),

    /// Runs a container's shim (internal; started by berth itself).
    #[command(hide = true)]
    Shim {
        /// Container ID.
        id: String,
    },

    /// Writes berth's man pages, one per command, into DIR (used to build the package).
    #[command(hide = true, name = "gen-man")]
    GenMan {
        /// Directory for the pages (created if missing).
        dir: PathBuf,
    },

    /// Runs an exec instance and records its life (internal; started by berth itself).
    #[command(hide = true)]
    ExecShim {
        /// Exec instance ID.
        id: String,
    },

    /// runc's command line over the in-process runtime (internal; for the OCI runtime-tools
    /// validation suite).
    #[cfg(feature = "inproc")]
    #[command(hide = true, name = "oci-runtime")]
    OciRuntime {
        /// runc's arguments after `--`: `[--root DIR] create|start|state|kill|delete ...`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },

    /// Runs a container's health check on its interval (internal; started by its shim).
    #[command(hide = true)]
    HealthMonitor {
        /// Container ID.
        id: String,
    },
}

/// `container` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ContainerCommand {
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Create a new container.
    Create(RunArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Pause all processes within one or more containers.
    Pause(NamesArg),
    /// Unpause all processes within one or more containers.
    Unpause(NamesArg),
    /// Remove one or more containers.
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// List containers.
    #[command(alias = "list", alias = "ps")]
    Ls(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Attach to a running container.
    Attach(AttachArgs),
    /// Block until containers stop, then print their exit codes.
    Wait(NamesArg),
    /// Display detailed information on one or more containers.
    Inspect(ContainerInspectArgs),
    /// Remove all stopped containers.
    Prune(ForceArg),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(NameArg),
    /// Create a new image from a container's changes.
    Commit(CommitArgs),
    /// Export a container's filesystem as a tar archive.
    Export(ExportArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Display the running processes of a container.
    Top(TopArgs),
    /// Display a live stream of container(s) resource usage statistics.
    Stats(StatsArgs),
    /// Rename a container.
    Rename(RenameArgs),
    /// Update configuration of one or more containers.
    Update(UpdateArgs),
    /// List port mappings or a specific mapping for the container.
    Port(PortArgs),
    /// Show where each path of a container lives and what dies with it (berth only).
    Storage(crate::commands::storage::StorageArgs),
}

/// `port`.
#[derive(Debug, Args)]
pub struct PortArgs {
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
    /// `PRIVATE_PORT[/PROTO]`.
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

/// `network` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum NetworkCommand {
    /// Create a network.
    Create(NetworkCreateArgs),
    /// List networks.
    #[command(alias = "list")]
    Ls(NetworkLsArgs),
    /// Display detailed information on one or more networks.
    Inspect(NetworkInspectArgs),
    /// Remove one or more networks.
    #[command(alias = "remove")]
    Rm(NetworkRmArgs),
    /// Remove all unused networks.
    Prune(NetworkPruneArgs),
    /// Connect a container to a network.
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(NetworkDisconnectArgs),
}

/// `network create`.
#[derive(Debug, Args)]
pub struct NetworkCreateArgs {
    /// Driver to manage the Network.
    #[arg(short = 'd', long, default_value = "bridge")]
    pub driver: String,
    /// Subnet in CIDR format that represents a network segment.
    #[arg(long)]
    pub subnet: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet.
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Allocate container ip from a sub-range.
    #[arg(long = "ip-range")]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver.
    #[arg(long = "ipam-driver", default_value = "default")]
    pub ipam_driver: String,
    /// Set IPAM driver specific options.
    #[arg(long = "ipam-opt")]
    pub ipam_opt: Vec<String>,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver.
    #[arg(long = "aux-address")]
    pub aux_address: Vec<String>,
    /// Restrict external access to the network.
    #[arg(long)]
    pub internal: bool,
    /// Enable manual container attachment.
    #[arg(long)]
    pub attachable: bool,
    /// Enable IPv6 networking.
    #[arg(long)]
    pub ipv6: bool,
    /// Set metadata on a network.
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options.
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// The network's name.
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

/// `network ls`.
#[derive(Debug, Args)]
pub struct NetworkLsArgs {
    /// Provide filter values (e.g. "driver=bridge").
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Pretty-print networks using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate the output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display network IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `network inspect`.
#[derive(Debug, Args)]
pub struct NetworkInspectArgs {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Verbose output for diagnostics.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Networks.
    #[arg(value_name = "NETWORK", required = true)]
    pub names: Vec<String>,
}

/// `network rm`.
#[derive(Debug, Args)]
pub struct NetworkRmArgs {
    /// Networks.
    #[arg(value_name = "NETWORK", required = true)]
    pub names: Vec<String>,
}

/// `network prune`.
#[derive(Debug, Args)]
pub struct NetworkPruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>").
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `network connect`.
#[derive(Debug, Args)]
pub struct NetworkConnectArgs {
    /// Add network-scoped alias for the container.
    #[arg(long)]
    pub alias: Vec<String>,
    /// Driver options for the network.
    #[arg(long = "driver-opt")]
    pub driver_opt: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104).
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33).
    #[arg(long)]
    pub ip6: Option<String>,
    /// Add link to another container.
    #[arg(long)]
    pub link: Vec<String>,
    /// Add a link-local address for the container.
    #[arg(long = "link-local-ip")]
    pub link_local_ip: Vec<String>,
    /// The network.
    #[arg(value_name = "NETWORK")]
    pub network: String,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `network disconnect`.
#[derive(Debug, Args)]
pub struct NetworkDisconnectArgs {
    /// Force the container to disconnect from a network.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// The network.
    #[arg(value_name = "NETWORK")]
    pub network: String,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// One container name.
#[derive(Debug, Args)]
pub struct NameArg {
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
}

/// `commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Author.
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Commit message.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Pause container during commit.
    #[arg(short = 'p', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub pause: bool,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
    /// The new image's name.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
}

/// `cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information).
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// CONTAINER:SRC_PATH, a local path, or `-`.
    #[arg(value_name = "SRC", allow_hyphen_values = true)]
    pub src: String,
    /// CONTAINER:DEST_PATH, a local path, or `-`.
    #[arg(value_name = "DEST", allow_hyphen_values = true)]
    pub dst: String,
}

/// `top`.
#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct TopArgs {
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
    /// `ps` options.
    #[arg(value_name = "ps OPTIONS", allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

/// `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running).
    #[arg(short, long)]
    pub all: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result.
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// The containers (default: all running).
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// `rename`.
#[derive(Debug, Args)]
pub struct RenameArgs {
    /// Current name.
    #[arg(value_name = "CONTAINER")]
    pub old: String,
    /// New name.
    #[arg(value_name = "NEW_NAME")]
    pub new: String,
}

/// `run` and `create` (docker's container options).
#[derive(Debug, Args)]
#[command(disable_help_flag = true, trailing_var_arg = true)]
pub struct RunArgs {
    /// Print usage.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Run container in background and print container ID (run only).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Automatically remove the container (and its anonymous volumes) when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container.
    #[arg(long, allow_hyphen_values = true)]
    pub name: Option<String>,
    /// Set environment variables.
    #[arg(short = 'e', long = "env", allow_hyphen_values = true)]
    pub env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long = "env-file", allow_hyphen_values = true)]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir", allow_hyphen_values = true)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short = 'u', long, allow_hyphen_values = true)]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long, allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Container host name.
    #[arg(short = 'h', long, allow_hyphen_values = true)]
    pub hostname: Option<String>,
    /// Connect a container to a network (bridge, host, none, container:NAME|ID, or a
    /// network's name).
    #[arg(long = "network", alias = "net")]
    pub network: Option<String>,
    /// Add network-scoped alias for the container.
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104).
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33).
    #[arg(long)]
    pub ip6: Option<String>,
    /// Container IPv4/IPv6 link-local addresses.
    #[arg(long = "link-local-ip")]
    pub link_local_ip: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33).
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Publish a container's port(s) to the host.
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports.
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add link to another container.
    #[arg(long)]
    pub link: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options.
    #[arg(long = "dns-option", alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Mount the container's root filesystem as read only.
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Run an init inside the container that forwards signals and reaps processes.
    #[arg(long)]
    pub init: bool,
    /// Pull image before running ("always", "missing", "never").
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Set platform if server is multi-platform capable (os[/arch[/variant]]).
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Set meta data on a container.
    #[arg(short = 'l', long = "label", allow_hyphen_values = true)]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels.
    #[arg(long = "label-file", allow_hyphen_values = true)]
    pub label_file: Vec<PathBuf>,
    /// Logging driver for the container (json-file, local, none).
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// Log driver options.
    #[arg(long = "log-opt", allow_hyphen_values = true)]
    pub log_opt: Vec<String>,
    /// Bind mount a volume.
    #[arg(short = 'v', long = "volume", allow_hyphen_values = true)]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container.
    #[arg(long, allow_hyphen_values = true)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory.
    #[arg(long, allow_hyphen_values = true)]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s).
    #[arg(long = "volumes-from", allow_hyphen_values = true)]
    pub volumes_from: Vec<String>,
    /// Optional volume driver for the container.
    #[arg(long = "volume-driver")]
    pub volume_driver: Option<String>,
    /// Runtime to use for this container: runc, berth (in-process) or the path of any OCI
    /// runtime CLI.
    #[arg(long)]
    pub runtime: Option<String>,
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Signal to stop the container.
    #[arg(long = "stop-signal", allow_hyphen_values = true)]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container.
    #[arg(long = "stop-timeout")]
    pub stop_timeout: Option<i64>,
    /// Command to run to check health.
    #[arg(long = "health-cmd", allow_hyphen_values = true)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s).
    #[arg(long = "health-interval", allow_hyphen_values = true)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s).
    #[arg(long = "health-timeout", allow_hyphen_values = true)]
    pub health_timeout: Option<String>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s).
    #[arg(long = "health-start-period", allow_hyphen_values = true)]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s).
    #[arg(long = "health-start-interval", allow_hyphen_values = true)]
    pub health_start_interval: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long = "health-retries", allow_hyphen_values = true)]
    pub health_retries: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    pub restart: Option<String>,
    /// Ulimit options (name=soft[:hard]).
    #[arg(long, allow_hyphen_values = true)]
    pub ulimit: Vec<String>,
    /// Resource limits `update` can change too.
    #[command(flatten)]
    pub resources: ResourceFlags,
    /// Tune container memory swappiness (0 to 100).
    #[arg(long = "memory-swappiness", allow_hyphen_values = true)]
    pub memory_swappiness: Option<String>,
    /// Disable OOM Killer.
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Tune host's OOM preferences (-1000 to 1000).
    #[arg(long = "oom-score-adj", allow_hyphen_values = true)]
    pub oom_score_adj: Option<String>,
    /// Block IO weight (relative device weight).
    #[arg(long = "blkio-weight-device")]
    pub blkio_weight_device: Vec<String>,
    /// Limit read rate (bytes per second) from a device.
    #[arg(long = "device-read-bps")]
    pub device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device.
    #[arg(long = "device-write-bps")]
    pub device_write_bps: Vec<String>,
    /// Limit read rate (IO per second) from a device.
    #[arg(long = "device-read-iops")]
    pub device_read_iops: Vec<String>,
    /// Limit write rate (IO per second) to a device.
    #[arg(long = "device-write-iops")]
    pub device_write_iops: Vec<String>,
    /// Optional parent cgroup for the container.
    #[arg(long = "cgroup-parent", allow_hyphen_values = true)]
    pub cgroup_parent: Option<String>,
    /// PID namespace to use.
    #[arg(long)]
    pub pid: Option<String>,
    /// IPC mode to use.
    #[arg(long)]
    pub ipc: Option<String>,
    /// UTS namespace to use.
    #[arg(long)]
    pub uts: Option<String>,
    /// User namespace to use.
    #[arg(long)]
    pub userns: Option<String>,
    /// Cgroup namespace to use (host|private).
    #[arg(long)]
    pub cgroupns: Option<String>,
    /// Sysctl options.
    #[arg(long, allow_hyphen_values = true)]
    pub sysctl: Vec<String>,
    /// Size of /dev/shm.
    #[arg(long = "shm-size", allow_hyphen_values = true)]
    pub shm_size: Option<String>,
    /// Container NIS domain name.
    #[arg(long, allow_hyphen_values = true)]
    pub domainname: Option<String>,
    /// Write the container ID to the file.
    #[arg(long, allow_hyphen_values = true)]
    pub cidfile: Option<PathBuf>,
    /// Attach to STDIN, STDOUT or STDERR.
    #[arg(short = 'a', long)]
    pub attach: Vec<String>,
    /// Container isolation technology (Linux: default only).
    #[arg(long)]
    pub isolation: Option<String>,
    /// Storage driver options for the container.
    #[arg(long = "storage-opt", allow_hyphen_values = true)]
    pub storage_opt: Vec<String>,
    /// Skip image verification (berth verifies no signatures: only true).
    #[arg(
        long = "disable-content-trust",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub disable_content_trust: Option<String>,
    /// Add additional groups to join.
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    /// Add Linux capabilities.
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities.
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container.
    #[arg(long)]
    pub privileged: bool,
    /// Security Options.
    #[arg(long = "security-opt", allow_hyphen_values = true)]
    pub security_opt: Vec<String>,
    /// Add a host device to the container.
    #[arg(long, allow_hyphen_values = true)]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list.
    #[arg(long = "device-cgroup-rule", allow_hyphen_values = true)]
    pub device_cgroup_rule: Vec<String>,
    /// GPU devices to add to the container ('all' to pass all GPUs); berth has no GPU drivers.
    #[arg(long)]
    pub gpus: Option<String>,
    /// Proxy received signals to the process (accepted; berth forwards Ctrl-C through the tty).
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Command and arguments.
    #[arg(value_name = "COMMAND", allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// The resource flags of `run`, `create` and `update` (values are parsed by the command, with
/// docker's error texts).
#[derive(Debug, Args, Default)]
pub struct ResourceFlags {
    /// Memory limit.
    #[arg(short = 'm', long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap.
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit.
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Kernel memory limit (refused: nothing enforces it any more).
    #[arg(long = "kernel-memory", allow_hyphen_values = true)]
    pub kernel_memory: Option<String>,
    /// Number of CPUs.
    #[arg(long, allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares", allow_hyphen_values = true)]
    pub cpu_shares: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) period.
    #[arg(long = "cpu-period", allow_hyphen_values = true)]
    pub cpu_period: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota.
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<String>,
    /// Limit CPU real-time period in microseconds.
    #[arg(long = "cpu-rt-period", allow_hyphen_values = true)]
    pub cpu_rt_period: Option<String>,
    /// Limit CPU real-time runtime in microseconds.
    #[arg(long = "cpu-rt-runtime", allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1).
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1).
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable.
    #[arg(long = "blkio-weight", allow_hyphen_values = true)]
    pub blkio_weight: Option<String>,
}

/// `update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The limits to change.
    #[command(flatten)]
    pub resources: ResourceFlags,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    pub restart: Option<String>,
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals.
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `stop` / `restart`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long = "timeout", alias = "time")]
    pub time: Option<i64>,
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container.
    #[arg(short = 's', long, default_value = "KILL")]
    pub signal: String,
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container.
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Remove the specified link.
    #[arg(short = 'l', long)]
    pub link: bool,
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `ps`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Pretty-print containers using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Show n last created containers (includes all states).
    #[arg(short = 'n', long = "last")]
    pub last: Option<i64>,
    /// Show the latest created container (includes all states).
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display container IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Display total file sizes.
    #[arg(short = 's', long)]
    pub size: bool,
}

/// `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Show extra details provided to logs.
    #[arg(long)]
    pub details: bool,
    /// Follow log output.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes).
    #[arg(long)]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs.
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs before a timestamp or relative.
    #[arg(long)]
    pub until: Option<String>,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
}

/// `exec`.
#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    /// Detached mode: run command in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID.
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
    /// Command and arguments.
    #[arg(value_name = "COMMAND", required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN.
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process.
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
}

/// Positional container names.
#[derive(Debug, Args)]
pub struct NamesArg {
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `container inspect`.
#[derive(Debug, Args)]
pub struct ContainerInspectArgs {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes.
    #[arg(short = 's', long)]
    pub size: bool,
    /// Containers.
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `-f/--force` alone.
#[derive(Debug, Args)]
pub struct ForceArg {
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values.
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// List what would be removed and the data each container's writable layer holds, by
    /// directory; remove nothing (berth only).
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

/// `image` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ImageCommand {
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// List images.
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on one or more images.
    Inspect(ImageInspectArgs),
    /// Remove one or more images.
    #[command(alias = "remove")]
    Rm(RmiArgs),
    /// Remove unused images.
    Prune(ImagePruneArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Save one or more images to a tar archive.
    Save(SaveArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
}

/// `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Download all tagged images in the repository.
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set platform if server is multi-platform capable (os[/arch[/variant]]).
    #[arg(long)]
    pub platform: Option<String>,
    /// Skip image verification (berth does not verify signatures: only `true` is accepted).
    #[arg(long = "disable-content-trust", default_value_t = true, action = clap::ArgAction::Set)]
    pub disable_content_trust: bool,
    /// The image.
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub name: String,
}

/// `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push all tags of the repository.
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Skip image signing (berth does not sign: only `true` is accepted).
    #[arg(long = "disable-content-trust", default_value_t = true, action = clap::ArgAction::Set)]
    pub disable_content_trust: bool,
    /// The image.
    #[arg(value_name = "NAME[:TAG]")]
    pub name: String,
}

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password.
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the password from stdin.
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// The registry (default: Docker Hub).
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

/// `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry (default: Docker Hub).
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

/// A lone `--format`.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

/// `build --progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BuildProgress {
    /// The compact view on a terminal, the classic builder's text elsewhere.
    Auto,
    /// The classic builder's text.
    Plain,
    /// The compact view (stdout must be a terminal).
    Tty,
}

/// `build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag in the 'name:tag' format.
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (Default is 'PATH/Dockerfile'); `-` reads it from STDIN.
    #[arg(short = 'f', long = "file")]
    pub file: Option<String>,
    /// Set build-time variables.
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image.
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image.
    #[arg(long)]
    pub pull: bool,
    /// Suppress the build output and print image ID on success.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Write the image ID to the file.
    #[arg(long)]
    pub iidfile: Option<PathBuf>,
    /// Set metadata for an image.
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Set the networking mode for the RUN instructions during build.
    #[arg(long, default_value = "default")]
    pub network: String,
    /// Set platform if server is multi-platform capable (must be this machine's).
    #[arg(long)]
    pub platform: Option<String>,
    /// Remove intermediate containers after a successful build.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub rm: bool,
    /// Type of progress output: auto (the compact view on a terminal), plain (the classic
    /// builder's text, with every RUN's output) or tty.
    #[arg(long, value_enum, default_value_t = BuildProgress::Auto)]
    pub progress: BuildProgress,
    /// Always remove intermediate containers (berth always does when a step fails).
    #[arg(long = "force-rm")]
    pub force_rm: bool,
    /// Context: a directory, or `-` for a tar (or a Dockerfile) on STDIN.
    #[arg(value_name = "PATH | URL | -")]
    pub context: String,
}

/// `builder` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum BuilderCommand {
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Remove build cache.
    Prune(BuilderPruneArgs),
}

/// `builder prune`.
#[derive(Debug, Args)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. 'until=24h').
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image.
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable (accepted, must be this machine's).
    #[arg(long)]
    pub platform: Option<String>,
    /// Tarball path, or `-` for STDIN.
    #[arg(value_name = "file|-")]
    pub source: String,
    /// Name for the new image.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short = 'i', long = "input")]
    pub input: Option<PathBuf>,
    /// Suppress the load output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Archive layout: `docker` (docker save's classic layout) or `oci-archive`.
    #[arg(long, default_value = "docker")]
    pub format: String,
    /// Images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `images` / `image ls`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show digests.
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Pretty-print images using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Restrict to a repository (and tag).
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `rmi` / `image rm`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of the image.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents.
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    /// Images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// Source image.
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    /// New name.
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// `search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Pretty-print search using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Max number of search results.
    #[arg(long, default_value_t = 25)]
    pub limit: i64,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// What to search for (`TERM`, or `HOST[:PORT]/TERM` for another registry's index).
    #[arg(value_name = "TERM")]
    pub term: String,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format.
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: bool,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Pretty-print using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

/// `image inspect`.
#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output using the given Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes if the type is container.
    #[arg(short = 's', long)]
    pub size: bool,
    /// Return JSON for specified type.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Names or IDs.
    #[arg(value_name = "NAME|ID", required = true)]
    pub names: Vec<String>,
}

/// `image prune`.
#[derive(Debug, Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values.
    #[arg(long = "filter")]
    pub filter: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// `volume` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum VolumeCommand {
    /// Create a volume.
    Create(VolumeCreateArgs),
    /// List volumes.
    #[command(alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes.
    Inspect(VolumeInspectArgs),
    /// Remove one or more volumes.
    #[command(alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove unused local volumes.
    Prune(VolumePruneArgs),
    /// Write a volume's content to a tar archive (berth; streamed to STDOUT by default).
    Export(VolumeExportArgs),
    /// Replace a volume's content with a tar archive (berth; created if missing).
    Import(VolumeImportArgs),
    /// Copy a volume into a new one (berth; reflinks where the filesystem can).
    Clone(VolumeCloneArgs),
    /// Rename a volume no container references (berth).
    Rename(VolumeRenameArgs),
}

/// `volume export`.
#[derive(Debug, Args)]
pub struct VolumeExportArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// The volume.
    #[arg(value_name = "VOLUME")]
    pub name: String,
}

/// `volume import`.
#[derive(Debug, Args)]
pub struct VolumeImportArgs {
    /// Import even though containers use the volume (its content is replaced in place).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Create the archive's device nodes (character and block devices); without it they are
    /// left out and listed.
    #[arg(long)]
    pub devices: bool,
    /// The volume.
    #[arg(value_name = "VOLUME")]
    pub name: String,
    /// A tar archive (plain, gzip or zstd), or `-` for STDIN.
    #[arg(value_name = "FILE|-")]
    pub source: String,
}

/// `volume clone`.
#[derive(Debug, Args)]
pub struct VolumeCloneArgs {
    /// Clone even while a running container writes to the source.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Source volume.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// New volume.
    #[arg(value_name = "TARGET")]
    pub target: String,
}

/// `volume rename`.
#[derive(Debug, Args)]
pub struct VolumeRenameArgs {
    /// Current name.
    #[arg(value_name = "VOLUME")]
    pub old: String,
    /// New name.
    #[arg(value_name = "NEW_NAME")]
    pub new: String,
}

/// `volume create`.
#[derive(Debug, Args)]
pub struct VolumeCreateArgs {
    /// Specify volume driver name.
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume.
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options.
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// Specify volume name.
    #[arg(long = "name")]
    pub name_flag: Option<String>,
    /// Volume name.
    #[arg(value_name = "VOLUME")]
    pub name: Option<String>,
}

/// `volume ls`.
#[derive(Debug, Args)]
pub struct VolumeLsArgs {
    /// Provide filter values (e.g. "dangling=true").
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template.
    #[arg(long)]
    pub format: Option<String>,
    /// Only display volume names.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `volume inspect`.
#[derive(Debug, Args)]
pub struct VolumeInspectArgs {
    /// Format output using a custom template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Volumes.
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

/// `volume rm`.
#[derive(Debug, Args)]
pub struct VolumeRmArgs {
    /// Do not fail on missing volumes (in-use volumes are still refused).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Volumes.
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

/// `volume prune`.
#[derive(Debug, Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>").
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `system` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SystemCommand {
    /// Show disk usage.
    Df(DfArgs),
    /// Get real time events from the engine.
    Events(EventsArgs),
    /// Display system-wide information.
    Info(FormatArg),
    /// Remove unused data.
    Prune(SystemPruneArgs),
    /// Repair what a crash or reboot left and start every container whose restart policy asks
    /// for it (run at boot by berth-restart.service; running it twice is harmless).
    Boot,
}

/// `events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format the output using the given Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Show all events created since timestamp.
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp.
    #[arg(long)]
    pub until: Option<String>,
}

/// `system df`.
#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Format output using a custom template.
    #[arg(long)]
    pub format: Option<String>,
}

/// `system prune`.
#[derive(Debug, Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Prune anonymous volumes.
    #[arg(long)]
    pub volumes: bool,
    /// Provide filter values (e.g. "label=<key>=<value>").
    #[arg(long = "filter")]
    pub filter: Vec<String>,
}

/// `berth completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh or fish.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `berth completion` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    /// GNU bash (load with `source <(berth completion bash)`).
    Bash,
    /// zsh (a `_berth` function for a directory on `$fpath`).
    Zsh,
    /// fish (for `~/.config/fish/completions/berth.fish`).
    Fish,
}

/// `berth serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Socket to listen on.
    #[arg(short = 'H', long = "host", env = "BERTH_HOST", default_value = berth_api::DEFAULT_HOST)]
    pub host: String,
    /// Group for the unix socket [default: berth, when the machine has that group].
    #[arg(short = 'G', long = "group")]
    pub group: Option<String>,
}
