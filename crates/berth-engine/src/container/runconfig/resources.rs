//! The resource half of the run configuration: memory, CPU, pids, block I/O, ulimits, the OOM
//! score. [`validate`] checks a `Resources` with dockerd's rules and texts (at create and at
//! `update`) and refuses a limit this host's cgroups cannot enforce, where dockerd warns and
//! drops it; [`linux_resources`] is the OCI `linux.resources` runc applies at start and
//! `runc update` applies to a running container.

use std::path::Path;

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxPids, LinuxResources, LinuxThrottleDevice,
    LinuxThrottleDeviceBuilder, LinuxWeightDevice, LinuxWeightDeviceBuilder,
};

use super::cgroups::{parse_cpuset, CgroupHost};
use super::RunConfigError;
use crate::types::{HostConfig, Resources, ThrottleDevice, Ulimit, WeightDevice};

/// Docker's smallest memory limit and reservation.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

fn invalid(text: impl Into<String>) -> RunConfigError {
    RunConfigError::Invalid(text.into())
}

fn unenforceable(text: &str) -> RunConfigError {
    RunConfigError::Unenforceable(text.to_string())
}

/// Whether this is a create or an update (some rules differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// `create`/`run`.
    Create,
    /// `update` of an existing container.
    Update,
}

/// Checks `r` as dockerd does (`verifyPlatformContainerResources`), refusing what `host` cannot
/// enforce.
pub(crate) fn check(r: &Resources, host: &CgroupHost, when: Check) -> Result<(), RunConfigError> {
    // Memory.
    if r.memory != 0 && r.memory < MIN_MEMORY {
        return Err(invalid("Minimum memory limit allowed is 6MB"));
    }
    if r.memory > 0 && !host.memory {
        return Err(unenforceable(
            "Your kernel does not support memory limit capabilities or the cgroup is not mounted",
        ));
    }
    if r.memory_swap > 0 && !host.swap {
        return Err(unenforceable(
            "Your kernel does not support swap limit capabilities or the cgroup is not mounted",
        ));
    }
    if r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory {
        return Err(invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if r.memory == 0 && r.memory_swap > 0 && when == Check::Create {
        return Err(invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ));
    }
    if let Some(s) = r.memory_swappiness.filter(|s| *s != -1) {
        if !host.swappiness {
            return Err(unenforceable(
                "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted",
            ));
        }
        if !(0..=100).contains(&s) {
            return Err(invalid(format!(
                "Invalid value: {s}, valid memory swappiness range is 0-100"
            )));
        }
    }
    if r.memory_reservation > 0 && !host.reservation {
        return Err(unenforceable(
            "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted",
        ));
    }
    if r.memory_reservation != 0 && r.memory_reservation < MIN_MEMORY {
        return Err(invalid("Minimum memory reservation allowed is 6MB"));
    }
    if r.memory > 0 && r.memory_reservation > 0 && r.memory < r.memory_reservation {
        return Err(invalid(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ));
    }
    if r.kernel_memory != 0 {
        if r.kernel_memory < MIN_MEMORY {
            return Err(invalid("Minimum kernel memory limit allowed is 6MB"));
        }
        // dockerd 20.10 accepts it with a deprecation warning and nothing enforces it: runc no
        // longer writes memory.kmem.limit_in_bytes, Linux 6 ignores it, cgroup v2 has none.
        return Err(unenforceable(
            "Kernel memory limits are not enforced by this kernel and runtime (memory.kmem.limit_in_bytes is deprecated); berth refuses --kernel-memory rather than ignore it",
        ));
    }
    if r.kernel_memory_tcp > 0 && !host.kernel_tcp {
        return Err(unenforceable(
            "Your kernel does not support kernel memory TCP limit capabilities or the cgroup is not mounted",
        ));
    }
    if r.oom_kill_disable == Some(true) && !host.oom_kill_disable {
        return Err(unenforceable("Your kernel does not support OomKillDisable"));
    }
    if r.pids_limit.is_some_and(|p| p > 0) && !host.pids {
        return Err(unenforceable(
            "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted",
        ));
    }

    // CPU.
    if r.cpu_shares < 0 {
        return Err(invalid("shares: invalid argument"));
    }
    if r.cpu_shares > 0 && !host.cpu_shares {
        return Err(unenforceable(
            "Your kernel does not support CPU shares or the cgroup is not mounted",
        ));
    }
    if r.nano_cpus > 0 && r.cpu_period > 0 {
        return Err(invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    if r.nano_cpus > 0 && r.cpu_quota > 0 {
        return Err(invalid(
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ));
    }
    if r.nano_cpus > 0 && !host.cfs {
        return Err(unenforceable(
            "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted",
        ));
    }
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if r.nano_cpus < 0 || r.nano_cpus > ncpu * 1_000_000_000 {
        return Err(invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    if r.cpu_period != 0 && !host.cfs {
        return Err(unenforceable(
            "Your kernel does not support CPU CFS period or the cgroup is not mounted",
        ));
    }
    if r.cpu_period != 0 && !(1000..=1_000_000).contains(&r.cpu_period) {
        return Err(invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if r.cpu_quota > 0 && !host.cfs {
        return Err(unenforceable(
            "Your kernel does not support CPU CFS quota or the cgroup is not mounted",
        ));
    }
    if r.cpu_quota > 0 && r.cpu_quota < 1000 {
        return Err(invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    if (r.cpu_realtime_period > 0 || r.cpu_realtime_runtime > 0) && !host.realtime {
        return Err(unenforceable(
            "Your kernel does not support CPU real-time scheduler",
        ));
    }
    if r.cpu_realtime_period != 0
        && r.cpu_realtime_runtime != 0
        && r.cpu_realtime_runtime > r.cpu_realtime_period
    {
        return Err(invalid(
            "cpu real-time runtime cannot be higher than cpu real-time period",
        ));
    }
    for (value, what, nodes, available) in [
        (&r.cpuset_cpus, "cpus", "CPUs", &host.cpus),
        (&r.cpuset_mems, "mems", "memory nodes", &host.mems),
    ] {
        if value.is_empty() {
            continue;
        }
        if !host.cpuset {
            return Err(unenforceable(
                "Your kernel does not support cpuset or the cgroup is not mounted",
            ));
        }
        let wanted = parse_cpuset(value).ok_or_else(|| {
            invalid(format!(
                "Invalid value {value} for cpuset {what}: invalid format: {value}"
            ))
        })?;
        let offered = parse_cpuset(available).unwrap_or_default();
        if !wanted.is_subset(&offered) {
            return Err(invalid(format!(
                "Requested {nodes} are not available - requested {value}, available: {available}"
            )));
        }
    }

    // Block I/O.
    if r.blkio_weight > 0 && !host.blkio_weight {
        return Err(unenforceable(
            "Your kernel does not support Block I/O weight or the cgroup is not mounted",
        ));
    }
    if r.blkio_weight > 0 && !(10..=1000).contains(&r.blkio_weight) {
        return Err(invalid("Range of blkio weight is from 10 to 1000"));
    }
    if r.blkio_weight_device
        .as_ref()
        .is_some_and(|d| !d.is_empty())
        && !host.blkio_weight_device
    {
        return Err(unenforceable(
            "Your kernel does not support Block I/O weight_device or the cgroup is not mounted",
        ));
    }
    for (list, what) in [
        (&r.blkio_device_read_bps, "BPS Block I/O read limit"),
        (&r.blkio_device_write_bps, "BPS Block I/O write limit"),
        (&r.blkio_device_read_iops, "IOPS Block I/O read limit"),
        (&r.blkio_device_write_iops, "IOPS Block I/O write limit"),
    ] {
        if list.as_ref().is_some_and(|d| !d.is_empty()) && !host.blkio_throttle {
            return Err(RunConfigError::Unenforceable(format!(
                "Your kernel does not support {what} or the cgroup is not mounted"
            )));
        }
    }

    // Windows-only settings.
    if r.cpu_count != 0 {
        return Err(invalid("linux does not support CPU count"));
    }
    if r.cpu_percent != 0 {
        return Err(invalid("linux does not support CPU percent"));
    }
    if r.io_maximum_iops != 0 {
        return Err(invalid(
            "Invalid QoS settings: linux does not support configuration of maximum IOPs",
        ));
    }
    if r.io_maximum_bandwidth != 0 {
        return Err(invalid(
            "Invalid QoS settings: linux does not support configuration of maximum bandwidth",
        ));
    }
    for u in r.ulimits.iter().flatten() {
        check_ulimit(u)?;
    }
    Ok(())
}

/// `--ulimit`: a known name, soft ≤ hard, and not above what berth may grant (with
/// `CAP_SYS_RESOURCE` the runtime can raise its own limits; this host's bounding set may lack it).
fn check_ulimit(u: &Ulimit) -> Result<(), RunConfigError> {
    let resource = berth_runtime::spec::rlimit_resource(&u.name)
        .ok_or_else(|| invalid(format!("invalid ulimit type: {}", u.name)))?;
    if u.hard != -1 && u.soft > u.hard {
        return Err(invalid(format!(
            "ulimit soft limit must be less than or equal to hard limit: {} > {}",
            u.soft, u.hard
        )));
    }
    let can_raise = super::security::engine_holds("CAP_SYS_RESOURCE");
    let own = rustix::process::getrlimit(resource).maximum;
    if let Some(own) = own.filter(|_| !can_raise) {
        if u.hard < 0 || u.hard as u64 > own {
            return Err(invalid(format!(
                "ulimit {}: hard limit {} is above berth's own ({own}), and raising it needs CAP_SYS_RESOURCE, which this host's bounding set lacks",
                u.name, u.hard
            )));
        }
    }
    Ok(())
}

/// `--oom-score-adj`: Docker's range; lowering the score below berth's own needs
/// `CAP_SYS_RESOURCE`.
pub(crate) fn check_oom_score_adj(adj: i64) -> Result<(), RunConfigError> {
    if !(-1000..=1000).contains(&adj) {
        return Err(invalid(format!(
            "Invalid value {adj}, range for oom score adj is [-1000, 1000]"
        )));
    }
    let own: i64 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    if adj < own && !super::security::engine_holds("CAP_SYS_RESOURCE") {
        return Err(invalid(format!(
            "Invalid value {adj} for --oom-score-adj: a score below berth's own ({own}) needs CAP_SYS_RESOURCE, which this host's bounding set lacks"
        )));
    }
    Ok(())
}

/// Create-time checks, and dockerd's adjustments: `MemorySwap` defaults to twice `Memory`, a
/// `PidsLimit` of 0 or less and a swappiness of -1 mean unset, `OomKillDisable` unset is false.
pub(crate) fn validate(hc: &mut HostConfig) -> Result<(), RunConfigError> {
    let r = &mut hc.resources;
    if r.pids_limit.is_some_and(|p| p <= 0) {
        r.pids_limit = None;
    }
    if r.memory_swappiness == Some(-1) {
        r.memory_swappiness = None;
    }
    check(r, CgroupHost::get(), Check::Create)?;
    check_oom_score_adj(hc.oom_score_adj)?;
    if !matches!(hc.isolation.as_str(), "" | "default") {
        return Err(invalid(format!(
            "Invalid isolation: {:?} - linux only supports 'default'",
            hc.isolation
        )));
    }
    for d in r.blkio_weight_device.iter().flatten() {
        block_device(&d.path)?;
    }
    for d in [
        &r.blkio_device_read_bps,
        &r.blkio_device_write_bps,
        &r.blkio_device_read_iops,
        &r.blkio_device_write_iops,
    ]
    .into_iter()
    .flatten()
    .flatten()
    {
        block_device(&d.path)?;
    }
    if r.memory > 0 && r.memory_swap == 0 && CgroupHost::get().swap {
        r.memory_swap = r.memory * 2;
    }
    if r.oom_kill_disable.is_none() {
        r.oom_kill_disable = Some(false);
    }
    if hc.shm_size < 0 {
        return Err(invalid("SHM size can not be less than 0"));
    }
    Ok(())
}

/// The major and minor numbers of the block device at `path`.
fn block_device(path: &str) -> Result<(i64, i64), RunConfigError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata(path)
        .map_err(|e| invalid(format!("stat {path}: {}", berth_go::errno_text(&e))))?;
    if !meta.file_type().is_block_device() {
        return Err(invalid(format!("{path} is not a block device")));
    }
    let rdev = meta.rdev();
    Ok((
        i64::from(rustix::fs::major(rdev)),
        i64::from(rustix::fs::minor(rdev)),
    ))
}

fn weight_devices(list: &[WeightDevice]) -> Result<Vec<LinuxWeightDevice>, RunConfigError> {
    list.iter()
        .map(|d| {
            let (major, minor) = block_device(&d.path)?;
            LinuxWeightDeviceBuilder::default()
                .major(major)
                .minor(minor)
                .weight(d.weight)
                .build()
                .map_err(|e| invalid(e.to_string()))
        })
        .collect()
}

fn throttle_devices(
    list: &Option<Vec<ThrottleDevice>>,
) -> Result<Option<Vec<LinuxThrottleDevice>>, RunConfigError> {
    let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    list.iter()
        .map(|d| {
            let (major, minor) = block_device(&d.path)?;
            LinuxThrottleDeviceBuilder::default()
                .major(major)
                .minor(minor)
                .rate(d.rate)
                .build()
                .map_err(|e| invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The OCI `linux.resources` (devices aside) for `r`, as dockerd builds it.
pub(crate) fn linux_resources(r: &Resources) -> Result<LinuxResources, RunConfigError> {
    let mut memory = LinuxMemory::default();
    memory
        .set_limit((r.memory > 0).then_some(r.memory))
        .set_reservation((r.memory_reservation > 0).then_some(r.memory_reservation))
        .set_swap((r.memory_swap > 0 || r.memory_swap == -1).then_some(r.memory_swap))
        .set_swappiness(r.memory_swappiness.map(|s| s as u64))
        .set_disable_oom_killer(r.oom_kill_disable)
        .set_kernel_tcp((r.kernel_memory_tcp != 0).then_some(r.kernel_memory_tcp));

    let mut cpu = LinuxCpu::default();
    cpu.set_shares(Some(r.cpu_shares.max(0) as u64))
        .set_cpus((!r.cpuset_cpus.is_empty()).then(|| r.cpuset_cpus.clone()))
        .set_mems((!r.cpuset_mems.is_empty()).then(|| r.cpuset_mems.clone()));
    if r.nano_cpus > 0 {
        // Docker's rule: a 100 ms period and the matching quota.
        let period: u64 = 100_000;
        cpu.set_period(Some(period))
            .set_quota(Some(r.nano_cpus * period as i64 / 1_000_000_000));
    }
    if r.cpu_period != 0 {
        cpu.set_period(Some(r.cpu_period as u64));
    }
    if r.cpu_quota != 0 {
        cpu.set_quota(Some(r.cpu_quota));
    }
    if r.cpu_realtime_period != 0 {
        cpu.set_realtime_period(Some(r.cpu_realtime_period as u64));
    }
    if r.cpu_realtime_runtime != 0 {
        cpu.set_realtime_runtime(Some(r.cpu_realtime_runtime));
    }

    let mut block_io = LinuxBlockIo::default();
    block_io
        .set_weight(Some(r.blkio_weight))
        .set_weight_device(
            r.blkio_weight_device
                .as_ref()
                .filter(|l| !l.is_empty())
                .map(|l| weight_devices(l))
                .transpose()?,
        )
        .set_throttle_read_bps_device(throttle_devices(&r.blkio_device_read_bps)?)
        .set_throttle_write_bps_device(throttle_devices(&r.blkio_device_write_bps)?)
        .set_throttle_read_iops_device(throttle_devices(&r.blkio_device_read_iops)?)
        .set_throttle_write_iops_device(throttle_devices(&r.blkio_device_write_iops)?);

    let mut out = LinuxResources::default();
    out.set_memory(Some(memory))
        .set_cpu(Some(cpu))
        .set_block_io(Some(block_io))
        .set_pids(r.pids_limit.map(|p| {
            let mut pids = LinuxPids::default();
            // runc needs -1 to lift a limit on update.
            pids.set_limit(if p <= 0 { -1 } else { p });
            pids
        }));
    Ok(out)
}

/// Makes room for a real-time budget: a container's `cpu.rt_runtime_us` cannot exceed its
/// parent's, and new cgroups start with none, so each ancestor of `cgroups_path` (in the v1 cpu
/// hierarchy) gets the root's budget when its own is smaller than `runtime` (what dockerd's
/// `--cpu-rt-runtime` daemon option does once for its parent).
pub(crate) fn prepare_realtime(cgroups_path: &str, runtime: i64) -> Result<(), RunConfigError> {
    let Some(root) = CgroupHost::get().cpu_mount.clone() else {
        return Ok(());
    };
    let read = |dir: &Path| -> i64 {
        std::fs::read_to_string(dir.join("cpu.rt_runtime_us"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    let budget = read(&root);
    let io = |dir: &Path, e: std::io::Error| {
        RunConfigError::Invalid(format!(
            "cannot give {} a real-time budget: {e}",
            dir.display()
        ))
    };
    let mut dir = root.clone();
    let parents: Vec<&str> = cgroups_path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    for part in &parents[..parents.len().saturating_sub(1)] {
        dir = dir.join(part);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        if read(&dir) < runtime {
            std::fs::write(dir.join("cpu.rt_runtime_us"), budget.to_string())
                .map_err(|e| io(&dir, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> CgroupHost {
        CgroupHost {
            memory: true,
            swap: true,
            reservation: true,
            swappiness: true,
            oom_kill_disable: true,
            cpu_shares: true,
            cfs: true,
            realtime: true,
            cpuset: true,
            pids: true,
            blkio_throttle: true,
            cpus: "0-1".into(),
            mems: "0".into(),
            ..Default::default()
        }
    }

    fn err(r: Resources) -> String {
        check(&r, &host(), Check::Create).unwrap_err().to_string()
    }

    #[test]
    fn dockers_rules_and_texts() {
        let m = 1024 * 1024;
        assert_eq!(
            err(Resources {
                memory: 1024,
                ..Default::default()
            }),
            "Minimum memory limit allowed is 6MB"
        );
        assert_eq!(
            err(Resources {
                memory_swap: 100 * m,
                ..Default::default()
            }),
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        );
        assert!(check(
            &Resources {
                memory_swap: 100 * m,
                ..Default::default()
            },
            &host(),
            Check::Update
        )
        .is_ok());
        assert_eq!(
            err(Resources {
                memory: 100 * m,
                memory_swap: 50 * m,
                ..Default::default()
            }),
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert_eq!(
            err(Resources {
                memory_swappiness: Some(101),
                ..Default::default()
            }),
            "Invalid value: 101, valid memory swappiness range is 0-100"
        );
        assert_eq!(
            err(Resources {
                memory: 10 * m,
                memory_reservation: 20 * m,
                ..Default::default()
            }),
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        );
        assert_eq!(
            err(Resources {
                kernel_memory: m,
                ..Default::default()
            }),
            "Minimum kernel memory limit allowed is 6MB"
        );
        assert!(err(Resources {
            kernel_memory: 64 * m,
            ..Default::default()
        })
        .starts_with("Kernel memory limits are not enforced"));
        assert_eq!(
            err(Resources {
                nano_cpus: 500_000_000,
                cpu_period: 1000,
                ..Default::default()
            }),
            "Conflicting options: Nano CPUs and CPU Period cannot both be set"
        );
        assert_eq!(
            err(Resources {
                cpu_period: 100,
                ..Default::default()
            }),
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        );
        assert_eq!(
            err(Resources {
                cpu_quota: 100,
                ..Default::default()
            }),
            "CPU cfs quota can not be less than 1ms (i.e. 1000)"
        );
        assert_eq!(
            err(Resources {
                cpu_realtime_period: 1000,
                cpu_realtime_runtime: 10000,
                ..Default::default()
            }),
            "cpu real-time runtime cannot be higher than cpu real-time period"
        );
        assert_eq!(
            err(Resources {
                cpuset_cpus: "5".into(),
                ..Default::default()
            }),
            "Requested CPUs are not available - requested 5, available: 0-1"
        );
        assert_eq!(
            err(Resources {
                cpuset_cpus: "x".into(),
                ..Default::default()
            }),
            "Invalid value x for cpuset cpus: invalid format: x"
        );
        assert_eq!(
            err(Resources {
                cpuset_mems: "1".into(),
                ..Default::default()
            }),
            "Requested memory nodes are not available - requested 1, available: 0"
        );
        assert_eq!(
            err(Resources {
                blkio_weight: 500,
                ..Default::default()
            }),
            "Your kernel does not support Block I/O weight or the cgroup is not mounted"
        );
        assert_eq!(
            err(Resources {
                cpu_percent: 20,
                ..Default::default()
            }),
            "linux does not support CPU percent"
        );
        assert_eq!(
            err(Resources {
                ulimits: Some(vec![Ulimit {
                    name: "nofile".into(),
                    soft: 200,
                    hard: 100
                }]),
                ..Default::default()
            }),
            "ulimit soft limit must be less than or equal to hard limit: 200 > 100"
        );
        assert_eq!(
            err(Resources {
                ulimits: Some(vec![Ulimit {
                    name: "foo".into(),
                    soft: 1,
                    hard: 1
                }]),
                ..Default::default()
            }),
            "invalid ulimit type: foo"
        );
        assert_eq!(
            check_oom_score_adj(1001).unwrap_err().to_string(),
            "Invalid value 1001, range for oom score adj is [-1000, 1000]"
        );
    }

    #[test]
    fn resources_are_built_like_dockers() {
        let r = Resources {
            memory: 64 << 20,
            memory_swap: 128 << 20,
            memory_reservation: 32 << 20,
            memory_swappiness: Some(10),
            oom_kill_disable: Some(true),
            nano_cpus: 500_000_000,
            cpu_shares: 512,
            cpuset_cpus: "0".into(),
            pids_limit: Some(50),
            ..Default::default()
        };
        let j = serde_json::to_value(linux_resources(&r).unwrap()).unwrap();
        assert_eq!(
            j["memory"],
            serde_json::json!({"limit": 67108864, "reservation": 33554432, "swap": 134217728,
                               "swappiness": 10, "disableOOMKiller": true})
        );
        assert_eq!(
            j["cpu"],
            serde_json::json!({"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"})
        );
        assert_eq!(j["pids"], serde_json::json!({"limit": 50}));
        assert_eq!(j["blockIO"], serde_json::json!({"weight": 0}));
    }
}
