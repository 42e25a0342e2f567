//! `Security` is how a container is confined: its capabilities, `no_new_privs`, seccomp filter,
//! AppArmor profile, masked and read-only paths, whether `/sys` is writable, and the host devices
//! it gets with their cgroup rules. [`Security::default`] is Docker's default confinement (the
//! seccomp filter aside, which the engine resolves from a profile file for each container);
//! [`host_devices`] finds device nodes the way runc does for `--privileged` and `--device DIR`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType, LinuxSeccomp};
use serde::{Deserialize, Serialize};

/// Docker's default capability set, in Docker's order.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Paths Docker hides from the container (`maskedPaths`).
pub const MASKED_PATHS: [&str; 10] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];

/// Paths Docker makes read-only (`readonlyPaths`).
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// A device node created in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Path inside the container.
    pub path: String,
    /// `c`, `b` or `p`.
    pub kind: char,
    /// Major number.
    pub major: i64,
    /// Minor number.
    pub minor: i64,
    /// Permission bits of the node.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

/// One rule of the device cgroup (`--device-cgroup-rule`, and one per `--device`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRule {
    /// Allow (or deny).
    pub allow: bool,
    /// `a` (all), `c` or `b`.
    pub kind: char,
    /// Major number; `None` for `*`.
    pub major: Option<i64>,
    /// Minor number; `None` for `*`.
    pub minor: Option<i64>,
    /// Some of `rwm`.
    pub access: String,
}

impl DeviceRule {
    /// The rule that lets the container use `dev` with `access`.
    pub fn allowing(dev: &Device, access: &str) -> DeviceRule {
        DeviceRule {
            allow: true,
            kind: dev.kind,
            major: Some(dev.major),
            minor: Some(dev.minor),
            access: access.to_string(),
        }
    }

    /// `a *:* rwm`: every device (`--privileged`).
    pub fn allow_all() -> DeviceRule {
        DeviceRule {
            allow: true,
            kind: 'a',
            major: None,
            minor: None,
            access: "rwm".into(),
        }
    }

    pub(crate) fn to_oci(&self) -> LinuxDeviceCgroup {
        let mut r = LinuxDeviceCgroup::default();
        r.set_allow(self.allow)
            .set_typ((self.kind != 'a').then(|| device_type(self.kind)))
            // Docker writes -1 for a `*` of a rule that names a type.
            .set_major(self.major.or((self.kind != 'a').then_some(-1)))
            .set_minor(self.minor.or((self.kind != 'a').then_some(-1)))
            .set_access(Some(self.access.clone()));
        r
    }
}

fn device_type(kind: char) -> LinuxDeviceType {
    match kind {
        'b' => LinuxDeviceType::B,
        'p' => LinuxDeviceType::P,
        'a' => LinuxDeviceType::A,
        _ => LinuxDeviceType::C,
    }
}

impl Device {
    pub(crate) fn to_oci(&self) -> LinuxDevice {
        let mut d = LinuxDevice::default();
        d.set_path(PathBuf::from(&self.path))
            .set_typ(device_type(self.kind))
            .set_major(self.major)
            .set_minor(self.minor)
            .set_file_mode(Some(self.mode))
            .set_uid(Some(self.uid))
            .set_gid(Some(self.gid));
        d
    }

    /// The device node at `host` (following a symlink), to appear at `path` in the container;
    /// `None` if `host` is not a device node.
    pub fn from_host(host: &Path, path: &str) -> std::io::Result<Option<Device>> {
        let meta = std::fs::metadata(host)?;
        let ft = meta.file_type();
        let kind = if ft.is_char_device() {
            'c'
        } else if ft.is_block_device() {
            'b'
        } else if ft.is_fifo() {
            'p'
        } else {
            return Ok(None);
        };
        let rdev = meta.rdev();
        Ok(Some(Device {
            path: path.to_string(),
            kind,
            major: i64::from(rustix::fs::major(rdev)),
            minor: i64::from(rustix::fs::minor(rdev)),
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        }))
    }
}

/// The device nodes under `dir` (recursively, not following symlinks), as runc lists a host's
/// devices: `pts`, `shm`, `fd`, `mqueue` and the `.lxc`/`.lxd-mounts`/`.udev` directories are
/// skipped, and so is `/dev/console`. Each keeps its path relative to `dir`, placed under
/// `container_dir`.
pub fn host_devices(dir: &Path, container_dir: &str) -> std::io::Result<Vec<Device>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let ft = e.file_type()?;
            if ft.is_dir() {
                let name = e.file_name();
                if !matches!(
                    name.to_str(),
                    Some("pts" | "shm" | "fd" | "mqueue" | ".lxc" | ".lxd-mounts" | ".udev")
                ) {
                    stack.push(path);
                }
                continue;
            }
            if ft.is_symlink() || path == Path::new("/dev/console") {
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let target = Path::new(container_dir).join(rel);
            if let Some(dev) = Device::from_host(&path, &target.to_string_lossy())? {
                out.push(dev);
            }
        }
    }
    Ok(out)
}

/// How a container is confined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// Its capabilities (`CAP_*`): the bounding set, and for root also effective and permitted.
    pub capabilities: Vec<String>,
    /// `no-new-privileges`.
    pub no_new_privileges: bool,
    /// The resolved seccomp filter; `None` runs unconfined.
    pub seccomp: Option<LinuxSeccomp>,
    /// The AppArmor profile, where AppArmor is enabled.
    pub apparmor_profile: Option<String>,
    /// Paths hidden from the container.
    pub masked_paths: Vec<String>,
    /// Paths made read-only.
    pub readonly_paths: Vec<String>,
    /// `/sys` and `/sys/fs/cgroup` writable (`--privileged`).
    pub writable_sysfs: bool,
    /// Host devices created in the container.
    pub devices: Vec<Device>,
    /// Device cgroup rules after Docker's defaults.
    pub device_rules: Vec<DeviceRule>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            capabilities: DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect(),
            no_new_privileges: false,
            seccomp: None,
            apparmor_profile: None,
            masked_paths: MASKED_PATHS.iter().map(|s| s.to_string()).collect(),
            readonly_paths: READONLY_PATHS.iter().map(|s| s.to_string()).collect(),
            writable_sysfs: false,
            devices: Vec::new(),
            device_rules: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_devices_are_found_like_runc_finds_them() {
        let devs = host_devices(Path::new("/dev"), "/dev").unwrap();
        let null = devs.iter().find(|d| d.path == "/dev/null").unwrap();
        assert_eq!((null.kind, null.major, null.minor), ('c', 1, 3));
        assert!(devs.iter().all(|d| !d.path.starts_with("/dev/pts/")));
        assert!(devs.iter().all(|d| d.path != "/dev/console"));
        assert!(Device::from_host(Path::new("/etc/hostname"), "/x")
            .unwrap()
            .is_none());
    }

    #[test]
    fn rules_serialize_as_docker_writes_them() {
        let r = DeviceRule {
            allow: true,
            kind: 'c',
            major: Some(42),
            minor: None,
            access: "rm".into(),
        };
        assert_eq!(
            serde_json::to_value(r.to_oci()).unwrap(),
            serde_json::json!({"allow": true, "type": "c", "major": 42, "minor": -1, "access": "rm"})
        );
        assert_eq!(
            serde_json::to_value(DeviceRule::allow_all().to_oci()).unwrap(),
            serde_json::json!({"allow": true, "access": "rwm"})
        );
    }
}
