//! `ContainerSpec` is berth's description of a container's process and filesystem;
//! [`ContainerSpec::to_oci`] turns it into the OCI runtime spec (`config.json`) that Docker 20.10
//! would hand to runc for the same `docker run` flags, and [`write_bundle`](crate::spec::write_bundle) stores it.
//!
//! Docker's defaults reproduced here (checked against the `config.json` of a dockerd 20.10
//! container): namespaces mount, network (unless `--network host`), uts, pid, ipc; the 14
//! default capabilities in bounding/effective/permitted for root and in bounding only for
//! other users; masked and read-only paths; `/proc /dev /dev/pts /sys /sys/fs/cgroup
//! /dev/mqueue /dev/shm`; `/etc/resolv.conf /etc/hostname /etc/hosts` bind-mounted from the
//! container directory (read-only with `--read-only`); the device cgroup allow-list; the two
//! network sysctls of a private network namespace; `PATH`, `HOSTNAME` and (with `-t`) `TERM`.
//! The confinement (capabilities, seccomp, masked paths, devices) comes from
//! [`Security`](crate::security::Security).

use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilities, LinuxDeviceCgroupBuilder, LinuxDeviceType,
    LinuxNamespaceBuilder, LinuxNamespaceType, Mount, MountBuilder, PosixRlimit,
    PosixRlimitBuilder, PosixRlimitType, Process, Root, Spec,
};
use serde::{Deserialize, Serialize};

use crate::namespaces::{NamespaceMode, Namespaces, ShmMount};
use crate::security::Security;

/// `PATH` when neither the image nor the user sets one.
pub const DEFAULT_PATH_ENV: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where `--init` finds its init binary by default (Debian's `tini-static`, which is what
/// Docker ships as `docker-init`).
pub const DEFAULT_INIT_BINARY: &str = "/usr/bin/tini-static";

/// Where the init binary appears inside the container.
pub const INIT_PATH_IN_CONTAINER: &str = "/sbin/docker-init";

/// Parent of every container's cgroup unless the spec says otherwise.
pub const DEFAULT_CGROUP_PARENT: &str = "/berth";

/// The slice of every container's scope under the systemd cgroup driver unless the spec says
/// otherwise (dockerd's default too).
pub const DEFAULT_SYSTEMD_SLICE: &str = "system.slice";

/// A cgroups path in the systemd driver's `slice:prefix:name` form (what [`ContainerSpec::cgroups_path`]
/// writes under that driver, and what runc's `--systemd-cgroup` takes) as its directory below a
/// hierarchy's root: the slice's place in systemd's tree (`a-b.slice` is in `a.slice`) and the
/// transient scope `prefix-name.scope`. `None` for a cgroupfs path.
pub fn systemd_cgroup_dir(cgroups_path: &str) -> Option<String> {
    let mut parts = cgroups_path.split(':');
    let (slice, prefix, name) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !slice.ends_with(".slice") || slice.contains('/') {
        return None;
    }
    let mut dir = String::new();
    if slice != "-.slice" {
        let stem = slice.trim_end_matches(".slice");
        let mut acc = String::new();
        for part in stem.split('-') {
            if !acc.is_empty() {
                acc.push('-');
            }
            acc.push_str(part);
            dir.push('/');
            dir.push_str(&acc);
            dir.push_str(".slice");
        }
    }
    Some(format!("{dir}/{prefix}-{name}.scope"))
}

pub use crate::security::{DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS};

/// A failure to build or store a spec.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The oci-spec builders rejected a value.
    #[error("container {id}: invalid OCI spec: {source}")]
    Build {
        /// Container ID.
        id: String,
        /// The builder's error.
        source: oci_spec::OciSpecError,
    },
    /// A capability name oci-spec does not know.
    #[error("unknown capability: {0:?}")]
    UnknownCapability(String),
    /// An unknown `--ulimit` name.
    #[error("invalid ulimit type: {0}")]
    UnknownRlimit(String),
    /// A mount destination that is not absolute.
    #[error("invalid mount path: '{0}' mount path must be absolute")]
    RelativeMount(String),
    /// `config.json` could not be written.
    #[error("write {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl SpecError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            SpecError::Write { .. } => berth_store::ErrorKind::Internal,
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

/// The numeric identity a process runs as.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Supplementary groups (Docker lists the primary group first).
    pub additional_gids: Vec<u32>,
}

impl User {
    /// root:root with supplementary group 0, Docker's default identity.
    pub fn root() -> User {
        User {
            uid: 0,
            gid: 0,
            additional_gids: vec![0],
        }
    }
}

/// The container's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NetworkMode {
    /// A new, private network namespace (`bridge`, `none`).
    #[default]
    Private,
    /// The host's network namespace (`--network host`).
    Host,
    /// Join the network namespace at this path (`--network container:<id>`).
    Join(PathBuf),
}

/// One mount on top of the root filesystem, as the OCI spec lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecMount {
    /// Absolute path inside the container.
    pub destination: String,
    /// Filesystem type (`bind`, `tmpfs`, ...).
    pub fstype: String,
    /// Source (a host path for binds).
    pub source: String,
    /// Mount options (`rbind`, `ro`, `rprivate`, `size=...`).
    pub options: Vec<String>,
}

impl SpecMount {
    fn to_oci(&self) -> Result<Mount, oci_spec::OciSpecError> {
        MountBuilder::default()
            .destination(&self.destination)
            .typ(&self.fstype)
            .source(&self.source)
            .options(self.options.clone())
            .build()
    }
}

/// The files the engine writes in the container directory and that are bind-mounted over the
/// image's `/etc` files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcFiles {
    /// Host path of the container's `/etc/hosts`.
    pub hosts: PathBuf,
    /// Host path of the container's `/etc/hostname`.
    pub hostname: PathBuf,
    /// Host path of the container's `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
}

impl EtcFiles {
    /// The three files under `container_dir`, named like Docker's.
    pub fn in_dir(container_dir: &Path) -> EtcFiles {
        EtcFiles {
            hosts: container_dir.join("hosts"),
            hostname: container_dir.join("hostname"),
            resolv_conf: container_dir.join("resolv.conf"),
        }
    }
}

/// A resource limit (`--ulimit name=soft[:hard]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// Docker's name: `nofile`, `nproc`, `core`, ...
    pub name: String,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// Everything berth decides about a container's process and filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Container ID (names its cgroup).
    pub id: String,
    /// The ready root filesystem (the engine's overlay mount).
    pub rootfs: PathBuf,
    /// The command and its arguments (entrypoint + cmd, already merged).
    pub args: Vec<String>,
    /// `KEY=value` entries (image env, then the user's); they replace or extend Docker's
    /// defaults, and a bare `KEY` removes `KEY`.
    pub env: Vec<String>,
    /// Working directory (`""` means `/`).
    pub cwd: String,
    /// Numeric identity (see [`crate::user::resolve_user`]).
    pub user: User,
    /// Container hostname.
    pub hostname: String,
    /// Allocate a terminal (`-t`).
    pub tty: bool,
    /// Read-only root filesystem (`--read-only`).
    pub read_only_rootfs: bool,
    /// Network namespace.
    pub network: NetworkMode,
    /// Run an init process as PID 1 (`--init`).
    pub init: bool,
    /// The init binary on the host; [`DEFAULT_INIT_BINARY`] when `None`.
    pub init_binary: Option<PathBuf>,
    /// The `/etc` files to bind-mount, if the engine wrote them.
    pub etc_files: Option<EtcFiles>,
    /// Volumes, binds and tmpfs mounts, in the order they are to be mounted.
    pub mounts: Vec<SpecMount>,
    /// `--ulimit` values, as given (the engine refuses limits it cannot grant); `nofile`
    /// defaults to our own hard limit.
    pub rlimits: Vec<Rlimit>,
    /// Cgroup parent; [`DEFAULT_CGROUP_PARENT`] when `None` (a slice, [`DEFAULT_SYSTEMD_SLICE`]
    /// when `None`, with `systemd_cgroup`).
    pub cgroup_parent: Option<String>,
    /// The systemd cgroup driver: the container gets a transient `berth-<id>.scope` in the
    /// parent slice, made by the runtime over D-Bus, instead of a cgroupfs directory.
    #[serde(default)]
    pub systemd_cgroup: bool,
    /// Capabilities, seccomp, masked paths, devices.
    pub security: Security,
    /// Cgroup limits (memory, cpu, pids, block I/O); the device rules come from `security`.
    pub resources: oci_spec::runtime::LinuxResources,
    /// The pid, ipc, uts and cgroup namespaces.
    pub namespaces: Namespaces,
    /// `/dev/shm`.
    pub shm: ShmMount,
    /// `--sysctl` values (after the two a private network namespace gets).
    pub sysctls: std::collections::BTreeMap<String, String>,
    /// `--domainname` (set as the `kernel.domainname` sysctl, as Docker does).
    pub domainname: String,
    /// `--oom-score-adj`.
    pub oom_score_adj: i32,
    /// OCI annotations (the API's `HostConfig.Annotations`).
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

fn rlimit_type(name: &str) -> Option<(PosixRlimitType, rustix::process::Resource)> {
    use rustix::process::Resource as R;
    use PosixRlimitType as T;
    Some(match name {
        "core" => (T::RlimitCore, R::Core),
        "cpu" => (T::RlimitCpu, R::Cpu),
        "data" => (T::RlimitData, R::Data),
        "fsize" => (T::RlimitFsize, R::Fsize),
        "locks" => (T::RlimitLocks, R::Locks),
        "memlock" => (T::RlimitMemlock, R::Memlock),
        "msgqueue" => (T::RlimitMsgqueue, R::Msgqueue),
        "nice" => (T::RlimitNice, R::Nice),
        "nofile" => (T::RlimitNofile, R::Nofile),
        "nproc" => (T::RlimitNproc, R::Nproc),
        "rss" => (T::RlimitRss, R::Rss),
        "rtprio" => (T::RlimitRtprio, R::Rtprio),
        "rttime" => (T::RlimitRttime, R::Rttime),
        "sigpending" => (T::RlimitSigpending, R::Sigpending),
        "stack" => (T::RlimitStack, R::Stack),
        _ => return None,
    })
}

/// The resource behind a Docker `--ulimit` name (`nofile`), if the name is known.
pub fn rlimit_resource(name: &str) -> Option<rustix::process::Resource> {
    rlimit_type(name).map(|(_, r)| r)
}

/// Our own hard limit for `resource` (`None`: unlimited).
fn own_hard_limit(resource: rustix::process::Resource) -> Option<u64> {
    rustix::process::getrlimit(resource).maximum
}

/// Applies Docker's environment rules: `defaults` first, then each entry of `env` replaces the
/// variable of the same name or is appended; a bare `NAME` removes `NAME`.
pub fn merge_env(defaults: Vec<String>, env: &[String]) -> Vec<String> {
    let name = |kv: &str| kv.split('=').next().unwrap_or_default().to_string();
    let mut out = defaults;
    for kv in env {
        let key = name(kv);
        if !kv.contains('=') {
            out.retain(|e| name(e) != key);
            continue;
        }
        match out.iter_mut().find(|e| name(e) == key) {
            Some(slot) => *slot = kv.clone(),
            None => out.push(kv.clone()),
        }
    }
    out
}

/// The capabilities of a process running as `uid` in a container holding `caps` (`CAP_*`
/// names): Docker 20.10 gives root the set in bounding, effective and permitted, and other users
/// the bounding set only. Names oci-spec does not know are refused.
pub fn capabilities_for(uid: u32, caps: &[String]) -> Result<LinuxCapabilities, SpecError> {
    let set = caps
        .iter()
        .map(|c| {
            serde_json::from_value::<Capability>(serde_json::Value::String(c.clone()))
                .map_err(|_| SpecError::UnknownCapability(c.clone()))
        })
        .collect::<Result<oci_spec::runtime::Capabilities, _>>()?;
    let mut out = LinuxCapabilities::default();
    out.set_bounding(Some(set.clone()))
        .set_inheritable(None)
        .set_ambient(None);
    if uid == 0 {
        out.set_effective(Some(set.clone()))
            .set_permitted(Some(set));
    } else {
        out.set_effective(None).set_permitted(None);
    }
    Ok(out)
}

fn oci_user(user: &User) -> oci_spec::runtime::User {
    let mut u = oci_spec::runtime::User::default();
    u.set_uid(user.uid).set_gid(user.gid).set_additional_gids(
        (!user.additional_gids.is_empty()).then(|| user.additional_gids.clone()),
    );
    u
}

/// Number of path components, for Docker's parents-before-children mount order.
fn depth(dest: &str) -> usize {
    Path::new(dest).components().count()
}

impl ContainerSpec {
    fn build_err(&self) -> impl Fn(oci_spec::OciSpecError) -> SpecError + '_ {
        move |source| SpecError::Build {
            id: self.id.clone(),
            source,
        }
    }

    /// The container's cgroup: its parent (`--cgroup-parent`, else [`DEFAULT_CGROUP_PARENT`])
    /// and its ID; under the systemd driver `<slice>:berth:<id>` (dockerd's is
    /// `system.slice:docker:<id>`), the scope `berth-<id>.scope` in that slice.
    pub fn cgroups_path(&self) -> String {
        if self.systemd_cgroup {
            let slice = self
                .cgroup_parent
                .as_deref()
                .unwrap_or(DEFAULT_SYSTEMD_SLICE);
            return format!("{slice}:berth:{}", self.id);
        }
        let parent = self
            .cgroup_parent
            .as_deref()
            .unwrap_or(DEFAULT_CGROUP_PARENT);
        format!("{}/{}", parent.trim_end_matches('/'), self.id)
    }

    /// The process's environment: `PATH` (unless given), `HOSTNAME`, `TERM=xterm` with a tty,
    /// then the spec's entries.
    pub fn process_env(&self) -> Vec<String> {
        let mut defaults = vec![
            DEFAULT_PATH_ENV.to_string(),
            format!("HOSTNAME={}", self.hostname),
        ];
        if self.tty {
            defaults.push("TERM=xterm".to_string());
        }
        merge_env(defaults, &self.env)
    }

    fn rlimits(&self) -> Result<Vec<PosixRlimit>, SpecError> {
        let mut wanted: Vec<(String, u64, u64)> = Vec::new();
        if let Some(hard) = own_hard_limit(rustix::process::Resource::Nofile) {
            wanted.push(("nofile".into(), hard, hard));
        }
        for r in &self.rlimits {
            wanted.retain(|(n, _, _)| *n != r.name);
            wanted.push((r.name.clone(), r.soft, r.hard));
        }
        let mut out = Vec::new();
        for (name, soft, hard) in wanted {
            let (typ, _) =
                rlimit_type(&name).ok_or_else(|| SpecError::UnknownRlimit(name.clone()))?;
            out.push(
                PosixRlimitBuilder::default()
                    .typ(typ)
                    .hard(hard)
                    .soft(soft.min(hard))
                    .build()
                    .map_err(self.build_err())?,
            );
        }
        Ok(out)
    }

    fn process(&self) -> Result<Process, SpecError> {
        let mut args = self.args.clone();
        if self.init {
            args.splice(0..0, [INIT_PATH_IN_CONTAINER.to_string(), "--".to_string()]);
        }
        let cwd = if self.cwd.is_empty() { "/" } else { &self.cwd };
        let mut p = Process::default();
        p.set_terminal(self.tty.then_some(true))
            .set_console_size(None)
            .set_user(oci_user(&self.user))
            .set_args(Some(args))
            .set_command_line(None)
            .set_env(Some(self.process_env()))
            .set_cwd(PathBuf::from(cwd))
            .set_capabilities(Some(capabilities_for(
                self.user.uid,
                &self.security.capabilities,
            )?))
            .set_rlimits(Some(self.rlimits()?))
            .set_no_new_privileges(self.security.no_new_privileges.then_some(true))
            .set_apparmor_profile(self.security.apparmor_profile.clone())
            .set_oom_score_adj(Some(self.oom_score_adj))
            .set_selinux_label(None)
            .set_io_priority(None)
            .set_scheduler(None)
            .set_exec_cpu_affinity(None);
        Ok(p)
    }

    fn mount(
        &self,
        dest: &str,
        typ: &str,
        source: &str,
        options: &[&str],
    ) -> Result<Mount, SpecError> {
        MountBuilder::default()
            .destination(dest)
            .typ(typ)
            .source(source)
            .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .build()
            .map_err(self.build_err())
    }

    fn mounts(&self) -> Result<Vec<Mount>, SpecError> {
        for m in &self.mounts {
            if !m.destination.starts_with('/') {
                return Err(SpecError::RelativeMount(m.destination.clone()));
            }
        }
        let user_dests: Vec<&str> = self
            .mounts
            .iter()
            .map(|m| m.destination.trim_end_matches('/'))
            .collect();
        let overridden = |dest: &str| {
            user_dests.contains(&dest)
                || (dest.starts_with("/dev/") && user_dests.contains(&"/dev"))
        };
        let defaults: [(&str, &str, &str, &[&str]); 6] = [
            ("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
            (
                "/dev",
                "tmpfs",
                "tmpfs",
                &["nosuid", "strictatime", "mode=755", "size=65536k"],
            ),
            (
                "/dev/pts",
                "devpts",
                "devpts",
                &[
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                    "gid=5",
                ],
            ),
            (
                "/sys",
                "sysfs",
                "sysfs",
                &["nosuid", "noexec", "nodev", "ro"],
            ),
            (
                "/sys/fs/cgroup",
                "cgroup",
                "cgroup",
                &["ro", "nosuid", "noexec", "nodev"],
            ),
            (
                "/dev/mqueue",
                "mqueue",
                "mqueue",
                &["nosuid", "noexec", "nodev"],
            ),
        ];
        let mut out = Vec::new();
        for (dest, typ, source, options) in defaults {
            if overridden(dest) {
                continue;
            }
            // `--privileged`: /sys and the cgroup tree without Docker's "ro".
            let options: Vec<&str> = options
                .iter()
                .copied()
                .filter(|o| {
                    !(self.security.writable_sysfs
                        && *o == "ro"
                        && matches!(dest, "/sys" | "/sys/fs/cgroup"))
                })
                .collect();
            out.push(self.mount(dest, typ, source, &options)?);
        }
        if !overridden("/dev/shm") {
            match &self.shm {
                ShmMount::Private { size } => {
                    let size = format!("size={size}");
                    out.push(self.mount(
                        "/dev/shm",
                        "tmpfs",
                        "shm",
                        &["nosuid", "noexec", "nodev", "mode=1777", &size],
                    )?);
                }
                ShmMount::Bind(source) => out.push(self.mount(
                    "/dev/shm",
                    "bind",
                    &source.to_string_lossy(),
                    &["rbind", "nosuid", "noexec", "nodev"],
                )?),
                ShmMount::None => {}
            }
        }
        if self.init {
            let bin = self
                .init_binary
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_INIT_BINARY));
            out.push(self.mount(
                INIT_PATH_IN_CONTAINER,
                "bind",
                &bin.to_string_lossy(),
                &["bind", "ro"],
            )?);
        }
        // The /etc files and the caller's mounts, parents before children (a stable sort keeps
        // the caller's order among mounts of equal depth).
        let mut rest: Vec<SpecMount> = Vec::new();
        if let Some(etc) = &self.etc_files {
            let options: Vec<String> = if self.read_only_rootfs {
                vec!["rbind".into(), "ro".into(), "rprivate".into()]
            } else {
                vec!["rbind".into(), "rprivate".into()]
            };
            for (dest, src) in [
                ("/etc/resolv.conf", &etc.resolv_conf),
                ("/etc/hostname", &etc.hostname),
                ("/etc/hosts", &etc.hosts),
            ] {
                if !overridden(dest) {
                    rest.push(SpecMount {
                        destination: dest.into(),
                        fstype: "bind".into(),
                        source: src.to_string_lossy().into_owned(),
                        options: options.clone(),
                    });
                }
            }
        }
        rest.extend(self.mounts.iter().cloned());
        rest.sort_by_key(|m| depth(&m.destination));
        for m in &rest {
            out.push(m.to_oci().map_err(self.build_err())?);
        }
        Ok(out)
    }

    /// Every sysctl the container gets: the two a private network namespace gets by default
    /// (as Docker sets them; in a user namespace, where most of that gid range has no place,
    /// dockerd leaves `ping_group_range` alone), then `--sysctl`.
    fn all_sysctls(&self) -> std::collections::BTreeMap<String, String> {
        let mut sysctls = std::collections::BTreeMap::new();
        if self.network != NetworkMode::Host {
            sysctls.insert("net.ipv4.ip_unprivileged_port_start".into(), "0".into());
            if self.namespaces.user.is_none() {
                sysctls.insert("net.ipv4.ping_group_range".into(), "0 2147483647".into());
            }
        }
        sysctls.extend(self.sysctls.clone());
        sysctls
    }

    fn linux(&self) -> Result<oci_spec::runtime::Linux, SpecError> {
        let ns = |typ: LinuxNamespaceType, path: Option<&Path>| {
            let b = LinuxNamespaceBuilder::default().typ(typ);
            match path {
                Some(p) => b.path(p).build(),
                None => b.build(),
            }
        };
        let mut namespaces = vec![ns(LinuxNamespaceType::Mount, None)];
        match &self.network {
            NetworkMode::Private => namespaces.push(ns(LinuxNamespaceType::Network, None)),
            NetworkMode::Join(p) => namespaces.push(ns(LinuxNamespaceType::Network, Some(p))),
            NetworkMode::Host => {}
        }
        for (typ, mode) in [
            (LinuxNamespaceType::Uts, &self.namespaces.uts),
            (LinuxNamespaceType::Pid, &self.namespaces.pid),
            (LinuxNamespaceType::Ipc, &self.namespaces.ipc),
            (LinuxNamespaceType::Cgroup, &self.namespaces.cgroup),
        ] {
            match mode {
                NamespaceMode::Private => namespaces.push(ns(typ, None)),
                NamespaceMode::Join(p) => namespaces.push(ns(typ, Some(p))),
                NamespaceMode::Host => {}
            }
        }
        if let Some(u) = &self.namespaces.user {
            namespaces.push(ns(LinuxNamespaceType::User, u.path.as_deref()));
        }
        let namespaces = namespaces
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.build_err())?;

        let dev =
            |allow: bool, typ: Option<LinuxDeviceType>, major: Option<i64>, minor: Option<i64>| {
                let mut b = LinuxDeviceCgroupBuilder::default()
                    .allow(allow)
                    .access("rwm");
                if let Some(t) = typ {
                    b = b.typ(t);
                }
                if let Some(m) = major {
                    b = b.major(m);
                }
                if let Some(m) = minor {
                    b = b.minor(m);
                }
                b.build()
            };
        let c = Some(LinuxDeviceType::C);
        let devices = [
            dev(false, None, None, None),
            dev(true, c, Some(1), Some(5)),
            dev(true, c, Some(1), Some(3)),
            dev(true, c, Some(1), Some(9)),
            dev(true, c, Some(1), Some(8)),
            dev(true, c, Some(5), Some(0)),
            dev(true, c, Some(5), Some(1)),
            dev(false, c, Some(10), Some(229)),
        ]
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(self.build_err())?;
        let mut devices = devices;
        devices.extend(self.security.device_rules.iter().map(|r| r.to_oci()));
        let mut resources = self.resources.clone();
        resources.set_devices(Some(devices));

        let mut linux = LinuxBuilder::default()
            .resources(resources)
            .cgroups_path(self.cgroups_path())
            .namespaces(namespaces)
            .build()
            .map_err(self.build_err())?;
        let mut sysctls: std::collections::HashMap<String, String> =
            self.all_sysctls().into_iter().collect();
        if !self.domainname.is_empty() && self.namespaces.uts != NamespaceMode::Host {
            // As Docker sets it: runc has no domainname of its own.
            sysctls.insert("kernel.domainname".into(), self.domainname.clone());
        }
        linux.set_sysctl((!sysctls.is_empty()).then_some(sysctls));
        let id_maps = |maps: &[berth_store::mount::idmap::IdMap]| {
            maps.iter()
                .map(|m| {
                    oci_spec::runtime::LinuxIdMappingBuilder::default()
                        .container_id(m.container_id)
                        .host_id(m.host_id)
                        .size(m.size)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let (uid_mappings, gid_mappings) = match &self.namespaces.user {
            Some(u) => (
                Some(id_maps(&u.uids).map_err(self.build_err())?),
                Some(id_maps(&u.gids).map_err(self.build_err())?),
            ),
            None => (None, None),
        };
        linux
            .set_uid_mappings(uid_mappings)
            .set_gid_mappings(gid_mappings)
            .set_masked_paths(
                (!self.security.masked_paths.is_empty())
                    .then(|| self.security.masked_paths.clone()),
            )
            .set_readonly_paths(
                (!self.security.readonly_paths.is_empty())
                    .then(|| self.security.readonly_paths.clone()),
            )
            .set_devices(
                (!self.security.devices.is_empty())
                    .then(|| self.security.devices.iter().map(|d| d.to_oci()).collect()),
            )
            .set_seccomp(self.security.seccomp.clone())
            .set_rootfs_propagation(None)
            .set_mount_label(None)
            .set_intel_rdt(None)
            .set_personality(None);
        Ok(linux)
    }

    /// The OCI runtime spec for this container.
    pub fn to_oci(&self) -> Result<Spec, SpecError> {
        let mut root = Root::default();
        root.set_path(self.rootfs.clone())
            .set_readonly(self.read_only_rootfs.then_some(true));
        let mut spec = Spec::default();
        spec.set_version("1.0.2-dev".to_string())
            .set_root(Some(root))
            .set_process(Some(self.process()?))
            // With the host's UTS namespace the container has the host's name.
            .set_hostname(
                (!self.hostname.is_empty() && self.namespaces.uts != NamespaceMode::Host)
                    .then(|| self.hostname.clone()),
            )
            .set_domainname(None)
            .set_mounts(Some(self.mounts()?))
            .set_hooks(None)
            .set_annotations(
                (!self.annotations.is_empty())
                    .then(|| self.annotations.clone().into_iter().collect()),
            )
            .set_linux(Some(self.linux()?));
        Ok(spec)
    }
}

/// Writes `spec` as `<bundle>/config.json` (created atomically; `bundle` is created if
/// missing) and returns the file's path.
pub fn write_bundle(bundle: &Path, spec: &Spec) -> Result<PathBuf, SpecError> {
    let path = bundle.join("config.json");
    let werr = |source| SpecError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(bundle).map_err(werr)?;
    let tmp = bundle.join(".config.json.tmp");
    // Compact, as containerd and Docker write it: the pretty form was twice the bytes (17 kB
    // against 9 kB with Docker's seccomp profile) for the engine to format and for every
    // reader of the bundle (the runtime reads it at create and start) to skip.
    let json = serde_json::to_vec(spec).map_err(|e| werr(e.into()))?;
    std::fs::write(&tmp, json).map_err(werr)?;
    std::fs::rename(&tmp, &path).map_err(werr)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sample() -> ContainerSpec {
        ContainerSpec {
            id: "abc".into(),
            rootfs: "/r/merged".into(),
            args: vec!["sh".into(), "-c".into(), "true".into()],
            hostname: "abc123".into(),
            user: User::root(),
            etc_files: Some(EtcFiles::in_dir(Path::new("/c/abc"))),
            ..Default::default()
        }
    }

    #[test]
    fn the_systemd_driver_names_a_scope_in_the_parent_slice() {
        let mut spec = sample();
        spec.systemd_cgroup = true;
        assert_eq!(spec.cgroups_path(), "system.slice:berth:abc");
        assert_eq!(
            json(&spec)["linux"]["cgroupsPath"],
            "system.slice:berth:abc"
        );
        spec.cgroup_parent = Some("app-web.slice".into());
        assert_eq!(spec.cgroups_path(), "app-web.slice:berth:abc");
        assert_eq!(
            systemd_cgroup_dir("system.slice:berth:abc").as_deref(),
            Some("/system.slice/berth-abc.scope")
        );
        assert_eq!(
            systemd_cgroup_dir("app-web.slice:berth:abc").as_deref(),
            Some("/app.slice/app-web.slice/berth-abc.scope")
        );
        assert_eq!(
            systemd_cgroup_dir("-.slice:berth:abc").as_deref(),
            Some("/berth-abc.scope")
        );
        assert_eq!(systemd_cgroup_dir("berth/abc"), None);
        assert_eq!(systemd_cgroup_dir("a:b:c"), None);
    }

    fn json(spec: &ContainerSpec) -> Value {
        serde_json::to_value(spec.to_oci().unwrap()).unwrap()
    }

    fn strs(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn docker_defaults() {
        let j = json(&sample());
        assert_eq!(j["ociVersion"], "1.0.2-dev");
        assert_eq!(j["root"], serde_json::json!({"path": "/r/merged"}));
        assert_eq!(j["hostname"], "abc123");
        let p = &j["process"];
        assert_eq!(p["args"], serde_json::json!(["sh", "-c", "true"]));
        assert_eq!(p["cwd"], "/");
        assert_eq!(
            p["user"],
            serde_json::json!({"uid": 0, "gid": 0, "additionalGids": [0]})
        );
        assert_eq!(
            p["env"],
            serde_json::json!([
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME=abc123"
            ])
        );
        assert!(p.get("terminal").is_none());
        assert!(p.get("noNewPrivileges").is_none());
        assert_eq!(p["oomScoreAdj"], 0);
        let caps = sorted(DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect());
        for set in ["bounding", "effective", "permitted"] {
            assert_eq!(sorted(strs(&p["capabilities"][set])), caps, "{set}");
        }
        assert!(p["capabilities"].get("inheritable").is_none());
        assert!(p["capabilities"].get("ambient").is_none());
        let nofile = &p["rlimits"][0];
        assert_eq!(nofile["type"], "RLIMIT_NOFILE");
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
        if let Some(hard) = hard {
            assert_eq!(nofile["hard"], hard);
            assert_eq!(nofile["soft"], hard);
        }

        let mounts: Vec<(String, String, String, Vec<String>)> = j["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["destination"].as_str().unwrap().into(),
                    m["type"].as_str().unwrap().into(),
                    m["source"].as_str().unwrap().into(),
                    strs(&m["options"]),
                )
            })
            .collect();
        let expect: Vec<(&str, &str, &str, &str)> = vec![
            ("/proc", "proc", "proc", "nosuid,noexec,nodev"),
            (
                "/dev",
                "tmpfs",
                "tmpfs",
                "nosuid,strictatime,mode=755,size=65536k",
            ),
            (
                "/dev/pts",
                "devpts",
                "devpts",
                "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
            ),
            ("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"),
            (
                "/sys/fs/cgroup",
                "cgroup",
                "cgroup",
                "ro,nosuid,noexec,nodev",
            ),
            ("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"),
            (
                "/dev/shm",
                "tmpfs",
                "shm",
                "nosuid,noexec,nodev,mode=1777,size=67108864",
            ),
            (
                "/etc/resolv.conf",
                "bind",
                "/c/abc/resolv.conf",
                "rbind,rprivate",
            ),
            ("/etc/hostname", "bind", "/c/abc/hostname", "rbind,rprivate"),
            ("/etc/hosts", "bind", "/c/abc/hosts", "rbind,rprivate"),
        ];
        assert_eq!(mounts.len(), expect.len());
        for (got, want) in mounts.iter().zip(&expect) {
            assert_eq!(
                (
                    got.0.as_str(),
                    got.1.as_str(),
                    got.2.as_str(),
                    got.3.join(",")
                ),
                (want.0, want.1, want.2, want.3.to_string())
            );
        }

        let l = &j["linux"];
        let ns: Vec<&str> = l["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["mount", "network", "uts", "pid", "ipc"]);
        assert_eq!(strs(&l["maskedPaths"]), MASKED_PATHS);
        assert_eq!(strs(&l["readonlyPaths"]), READONLY_PATHS);
        assert_eq!(l["cgroupsPath"], "/berth/abc");
        assert_eq!(systemd_cgroup_dir("/berth/abc"), None);
        assert_eq!(l["sysctl"]["net.ipv4.ip_unprivileged_port_start"], "0");
        assert_eq!(l["sysctl"]["net.ipv4.ping_group_range"], "0 2147483647");
        assert_eq!(
            l["resources"]["devices"],
            serde_json::json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
                {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
                {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
                {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "rwm"}
            ])
        );
        assert!(l.get("seccomp").is_none());
        assert!(l.get("devices").is_none());
        assert!(j.get("hooks").is_none());
        assert!(j.get("annotations").is_none());
    }

    #[test]
    fn flags_change_the_spec_like_docker() {
        let mut s = sample();
        s.tty = true;
        s.read_only_rootfs = true;
        s.init = true;
        s.user = User {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![1000, 10],
        };
        s.env = vec!["PATH=/x".into(), "FOO=bar".into(), "HOSTNAME".into()];
        s.cwd = "/tmp".into();
        s.network = NetworkMode::Host;
        s.rlimits = vec![Rlimit {
            name: "nofile".into(),
            soft: 10,
            hard: u64::MAX,
        }];
        s.mounts = vec![
            SpecMount {
                destination: "/data/sub".into(),
                fstype: "bind".into(),
                source: "/h/sub".into(),
                options: vec!["rbind".into()],
            },
            SpecMount {
                destination: "/dev/shm".into(),
                fstype: "tmpfs".into(),
                source: "tmpfs".into(),
                options: vec![],
            },
            SpecMount {
                destination: "/etc".into(),
                fstype: "bind".into(),
                source: "/h/etc".into(),
                options: vec!["rbind".into(), "ro".into()],
            },
        ];
        let j = json(&s);
        let p = &j["process"];
        assert_eq!(p["terminal"], true);
        assert_eq!(
            p["env"],
            serde_json::json!(["PATH=/x", "TERM=xterm", "FOO=bar"])
        );
        assert_eq!(
            p["args"],
            serde_json::json!(["/sbin/docker-init", "--", "sh", "-c", "true"])
        );
        assert_eq!(p["cwd"], "/tmp");
        assert_eq!(p["user"]["additionalGids"], serde_json::json!([1000, 10]));
        assert_eq!(strs(&p["capabilities"]["bounding"]).len(), 14);
        assert!(p["capabilities"].get("effective").is_none());
        assert!(p["capabilities"].get("permitted").is_none());
        let nofile = &p["rlimits"][0];
        assert_eq!(nofile["soft"], 10);
        assert_eq!(
            nofile["hard"],
            u64::MAX,
            "explicit limits are passed as given"
        );
        assert_eq!(j["root"]["readonly"], true);
        let dests: Vec<&str> = j["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            dests,
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/sys",
                "/sys/fs/cgroup",
                "/dev/mqueue",
                "/sbin/docker-init",
                "/etc",
                "/etc/resolv.conf",
                "/etc/hostname",
                "/etc/hosts",
                "/data/sub",
                "/dev/shm"
            ]
        );
        let init = &j["mounts"][6];
        assert_eq!(init["source"], DEFAULT_INIT_BINARY);
        assert_eq!(strs(&init["options"]), ["bind", "ro"]);
        assert_eq!(
            strs(&j["mounts"][8]["options"]),
            ["rbind", "ro", "rprivate"]
        );
        let ns: Vec<&str> = j["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["mount", "uts", "pid", "ipc"]);
        assert!(j["linux"].get("sysctl").is_none());
    }

    #[test]
    fn user_mount_on_dev_replaces_default_dev_mounts() {
        let mut s = sample();
        s.etc_files = None;
        s.mounts = vec![SpecMount {
            destination: "/dev".into(),
            fstype: "bind".into(),
            source: "/dev".into(),
            options: vec!["rbind".into()],
        }];
        let j = json(&s);
        let dests: Vec<&str> = j["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(dests, ["/proc", "/sys", "/sys/fs/cgroup", "/dev"]);
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let mut s = sample();
        s.rlimits = vec![Rlimit {
            name: "bogus".into(),
            soft: 1,
            hard: 1,
        }];
        assert_eq!(
            s.to_oci().unwrap_err().to_string(),
            "invalid ulimit type: bogus"
        );
        let mut s = sample();
        s.mounts = vec![SpecMount {
            destination: "rel".into(),
            fstype: "tmpfs".into(),
            source: "tmpfs".into(),
            options: vec![],
        }];
        assert_eq!(
            s.to_oci().unwrap_err().to_string(),
            "invalid mount path: 'rel' mount path must be absolute"
        );
    }

    #[test]
    fn env_merge_follows_docker() {
        let d = vec!["PATH=/bin".to_string(), "HOSTNAME=h".to_string()];
        assert_eq!(
            merge_env(d.clone(), &["A=1".into(), "PATH=/x".into(), "A=2".into()]),
            ["PATH=/x", "HOSTNAME=h", "A=2"]
        );
        assert_eq!(merge_env(d, &["HOSTNAME".into()]), ["PATH=/bin"]);
    }

    #[test]
    fn bundle_is_written_atomically() {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("b");
        let path = write_bundle(&bundle, &sample().to_oci().unwrap()).unwrap();
        assert_eq!(path, bundle.join("config.json"));
        let back = Spec::load(&path).unwrap();
        assert_eq!(back, sample().to_oci().unwrap());
        assert!(!bundle.join(".config.json.tmp").exists());
    }
}
