//! `CgroupHost` is what this machine's cgroups can enforce: the hierarchy (v1, v2, or v1 with a
//! v2 mount beside it — the hybrid mode, which runc treats as v1), and for each resource limit
//! whether its control file exists, found the way dockerd's `sysinfo` looks for them. Limits the
//! host cannot enforce are refused at create instead of dropped (dockerd warns and discards).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::RunConfigError;
use crate::config::CgroupDriver;

/// Whether systemd runs this machine (PID 1), found as `sd_booted()` and runc find it.
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Checks a container's `--cgroup-parent` against the cgroup driver and whether containers can
/// run under that driver here. Under `native.cgroupdriver=systemd` the parent must be a slice
/// (dockerd's check and words); without systemd on the host the container is refused in runc's
/// words, as dockerd's runc refuses it at start. Where systemd runs, the runtime (runc with
/// `--systemd-cgroup`) makes the container a transient scope in that slice; the in-process
/// runtime cannot (libcgroups 0.7 does so only on a unified host), so a container that names it
/// is refused rather than put where the driver did not ask.
pub(crate) fn check_driver(
    driver: CgroupDriver,
    parent: &str,
    runtime: &str,
) -> Result<(), RunConfigError> {
    if driver != CgroupDriver::Systemd {
        return Ok(());
    }
    if !parent.is_empty() && (parent.len() <= 6 || !parent.ends_with(".slice")) {
        return Err(RunConfigError::Invalid(
            "cgroup-parent for systemd cgroup should be a valid slice named as \"xxx.slice\""
                .into(),
        ));
    }
    if !systemd_running() {
        return Err(RunConfigError::Invalid(
            "systemd not running on this host, cannot use systemd cgroups manager (the settings file's exec-opts ask for native.cgroupdriver=systemd)".into(),
        ));
    }
    if runtime == berth_runtime::runtime::IN_PROCESS {
        return Err(RunConfigError::Invalid(
            "the in-process runtime (berth) cannot use the systemd cgroup driver: use --runtime runc, or exec-opts native.cgroupdriver=cgroupfs".into(),
        ));
    }
    Ok(())
}

/// What the host's cgroups can do.
#[derive(Debug, Clone, Default)]
pub struct CgroupHost {
    /// cgroup v2 only (unified); false for v1 and hybrid.
    pub v2: bool,
    /// `memory.limit_in_bytes` / `memory.max`.
    pub memory: bool,
    /// Swap accounting: `memory.memsw.limit_in_bytes` / `memory.swap.max`.
    pub swap: bool,
    /// `memory.soft_limit_in_bytes` / `memory.low`.
    pub reservation: bool,
    /// `memory.swappiness` (v1 only).
    pub swappiness: bool,
    /// `memory.oom_control` (v1 only).
    pub oom_kill_disable: bool,
    /// `memory.kmem.tcp.limit_in_bytes` (v1 only).
    pub kernel_tcp: bool,
    /// `cpu.shares` / `cpu.weight`.
    pub cpu_shares: bool,
    /// `cpu.cfs_period_us` / `cpu.max`.
    pub cfs: bool,
    /// `cpu.rt_runtime_us` (v1 only).
    pub realtime: bool,
    /// The cpuset controller.
    pub cpuset: bool,
    /// The pids controller.
    pub pids: bool,
    /// `blkio.weight` / `io.weight` (needs the BFQ scheduler).
    pub blkio_weight: bool,
    /// `blkio.weight_device` / `io.weight`.
    pub blkio_weight_device: bool,
    /// `blkio.throttle.*` / `io.max`.
    pub blkio_throttle: bool,
    /// CPUs the cpuset controller offers (`0-1`).
    pub cpus: String,
    /// Memory nodes it offers (`0`).
    pub mems: String,
    /// Where the cpu controller's v1 hierarchy is mounted.
    pub cpu_mount: Option<PathBuf>,
}

/// Mount points of the v1 hierarchies by controller name, from `/proc/self/mountinfo`.
fn v1_mounts() -> Vec<(Vec<String>, PathBuf)> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut r = right.split(' ');
            if r.next()? != "cgroup" {
                return None;
            }
            let options = r.nth(1)?;
            let target = left.split(' ').nth(4)?;
            Some((
                options.split(',').map(str::to_string).collect(),
                PathBuf::from(target),
            ))
        })
        .collect()
}

fn is_cgroup2(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|s| s.f_type == 0x6367_7270)
}

impl CgroupHost {
    /// This machine (probed once per process).
    pub fn get() -> &'static CgroupHost {
        static HOST: OnceLock<CgroupHost> = OnceLock::new();
        HOST.get_or_init(CgroupHost::probe)
    }

    fn probe() -> CgroupHost {
        let root = Path::new("/sys/fs/cgroup");
        if is_cgroup2(root) {
            let controllers =
                std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            let read = |f: &str| {
                std::fs::read_to_string(root.join(f))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            return CgroupHost {
                v2: true,
                memory: has("memory"),
                swap: has("memory") && Path::new("/proc/swaps").exists(),
                reservation: has("memory"),
                cpu_shares: has("cpu"),
                cfs: has("cpu"),
                cpuset: has("cpuset"),
                pids: has("pids"),
                blkio_weight: has("io") && root.join("io.bfq.weight").exists(),
                blkio_weight_device: has("io") && root.join("io.bfq.weight").exists(),
                blkio_throttle: has("io"),
                cpus: read("cpuset.cpus.effective"),
                mems: read("cpuset.mems.effective"),
                ..Default::default()
            };
        }
        let mounts = v1_mounts();
        let dir = |controller: &str| {
            mounts
                .iter()
                .find(|(opts, _)| opts.iter().any(|o| o == controller))
                .map(|(_, p)| p.clone())
        };
        let file = |controller: &str, f: &str| dir(controller).is_some_and(|d| d.join(f).exists());
        let read = |controller: &str, f: &str| {
            dir(controller)
                .and_then(|d| std::fs::read_to_string(d.join(f)).ok())
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        CgroupHost {
            v2: false,
            memory: file("memory", "memory.limit_in_bytes"),
            swap: file("memory", "memory.memsw.limit_in_bytes"),
            reservation: file("memory", "memory.soft_limit_in_bytes"),
            swappiness: file("memory", "memory.swappiness"),
            oom_kill_disable: file("memory", "memory.oom_control"),
            kernel_tcp: file("memory", "memory.kmem.tcp.limit_in_bytes"),
            cpu_shares: file("cpu", "cpu.shares"),
            cfs: file("cpu", "cpu.cfs_period_us"),
            realtime: file("cpu", "cpu.rt_runtime_us"),
            cpuset: file("cpuset", "cpuset.cpus"),
            // The root of the pids hierarchy has no pids.max: the mount is the feature.
            pids: dir("pids").is_some(),
            blkio_weight: file("blkio", "blkio.weight"),
            blkio_weight_device: file("blkio", "blkio.weight_device"),
            blkio_throttle: file("blkio", "blkio.throttle.read_bps_device"),
            cpus: read("cpuset", "cpuset.cpus"),
            mems: read("cpuset", "cpuset.mems"),
            cpu_mount: dir("cpu"),
        }
    }
}

/// A cpuset list (`0-3,5`) as its members; `None` if it does not parse (Docker's
/// `parsers.ParseUintList`).
pub fn parse_cpuset(list: &str) -> Option<std::collections::BTreeSet<u32>> {
    let mut out = std::collections::BTreeSet::new();
    if list.is_empty() {
        return Some(out);
    }
    for part in list.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if b < a {
                    return None;
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(part.parse().ok()?);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpusets_parse() {
        assert_eq!(
            parse_cpuset("0-2,5")
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            [0, 1, 2, 5]
        );
        assert_eq!(parse_cpuset("").unwrap().len(), 0);
        for bad in ["x", "1-", "3-1", "1,,2", "-1"] {
            assert!(parse_cpuset(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn this_host_is_probed() {
        let h = CgroupHost::get();
        // Every CI and development machine has memory and pids limits and a cpuset.
        assert!(h.memory && h.pids && h.cpuset, "{h:?}");
        assert!(
            parse_cpuset(&h.cpus).is_some_and(|c| c.contains(&0)),
            "{h:?}"
        );
    }
}
