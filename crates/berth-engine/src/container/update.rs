//! `update`: changes a container's resource limits and restart policy, with dockerd's merge rules
//! (a zero field keeps the current value) and checks. A running container's cgroup changes at
//! once (`runc update`); the record changes only once the runtime accepted the new limits, so
//! a refused update leaves the container as it was.

use super::runconfig::cgroups::CgroupHost;
use super::runconfig::resources::{check, linux_resources, Check};
use super::runconfig::RunConfigError;
use crate::types::{Resources, UpdateRequest};
use crate::{Engine, EngineError};

/// Docker's text for an update that conflicts with the container's settings.
fn cannot_update(id: &str, why: impl std::fmt::Display) -> EngineError {
    EngineError::RunConfig(RunConfigError::Invalid(format!(
        "Cannot update container {id}: {why}"
    )))
}

/// `new` merged into `current` as dockerd merges an update.
fn merge(id: &str, current: &mut Resources, new: &Resources) -> Result<(), EngineError> {
    let conflict = |what| cannot_update(id, format!("Conflicting options: {what}"));
    if new.nano_cpus > 0 && current.cpu_period > 0 {
        return Err(conflict(
            "Nano CPUs cannot be updated as CPU Period has already been set",
        ));
    }
    if new.nano_cpus > 0 && current.cpu_quota > 0 {
        return Err(conflict(
            "Nano CPUs cannot be updated as CPU Quota has already been set",
        ));
    }
    if new.cpu_period > 0 && current.nano_cpus > 0 {
        return Err(conflict(
            "CPU Period cannot be updated as NanoCPUs has already been set",
        ));
    }
    if new.cpu_quota > 0 && current.nano_cpus > 0 {
        return Err(conflict(
            "CPU Quota cannot be updated as NanoCPUs has already been set",
        ));
    }
    if new.memory != 0 && new.memory > current.memory_swap && new.memory_swap == 0 {
        return Err(cannot_update(
            id,
            "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
        ));
    }
    fn is_set<T: Default + PartialEq>(v: &T) -> bool {
        *v != T::default()
    }
    macro_rules! take {
        ($($field:ident),*) => {
            $(if is_set(&new.$field) {
                current.$field = new.$field.clone();
            })*
        };
    }
    take!(
        blkio_weight,
        cpu_shares,
        nano_cpus,
        cpu_period,
        cpu_quota,
        cpuset_cpus,
        cpuset_mems,
        memory,
        memory_swap,
        memory_reservation,
        kernel_memory,
        cpu_realtime_period,
        cpu_realtime_runtime
    );
    if let Some(p) = new.pids_limit {
        // 0 and any negative value lift the limit (dockerd records 0).
        current.pids_limit = Some(p.max(0));
    }
    Ok(())
}

/// Fields `docker update` cannot change: refused rather than ignored.
fn refuse_fixed(new: &Resources) -> Result<(), EngineError> {
    let fixed = [
        (
            "Devices",
            new.devices.as_ref().is_some_and(|d| !d.is_empty()),
        ),
        (
            "DeviceCgroupRules",
            new.device_cgroup_rules
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
        (
            "DeviceRequests",
            new.device_requests.as_ref().is_some_and(|d| !d.is_empty()),
        ),
        (
            "Ulimits",
            new.ulimits.as_ref().is_some_and(|d| !d.is_empty()),
        ),
        ("CgroupParent", !new.cgroup_parent.is_empty()),
        (
            "MemorySwappiness",
            new.memory_swappiness.is_some_and(|s| s != -1),
        ),
        ("OomKillDisable", new.oom_kill_disable == Some(true)),
        ("KernelMemoryTCP", new.kernel_memory_tcp != 0),
        (
            "BlkioWeightDevice",
            new.blkio_weight_device
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
        (
            "BlkioDeviceReadBps",
            new.blkio_device_read_bps
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
        (
            "BlkioDeviceWriteBps",
            new.blkio_device_write_bps
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
        (
            "BlkioDeviceReadIOps",
            new.blkio_device_read_iops
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
        (
            "BlkioDeviceWriteIOps",
            new.blkio_device_write_iops
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
    ];
    match fixed.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(EngineError::RunConfig(RunConfigError::Invalid(format!(
            "{name} cannot be changed by an update (Docker's update ignores it); recreate the container"
        )))),
        None => Ok(()),
    }
}

impl Engine {
    /// `docker update`: returns the warnings (none: berth refuses what it cannot apply).
    pub fn update_container(
        &mut self,
        name: &str,
        req: &UpdateRequest,
    ) -> Result<Vec<String>, EngineError> {
        let c = self.container(name)?;
        if let Some(policy) = &req.restart_policy {
            super::create::validate_restart_policy(policy)?;
        }
        refuse_fixed(&req.resources)?;
        let host = CgroupHost::get();
        check(&req.resources, host, Check::Update)?;
        let mut hc = c.host_config.clone();
        merge(&c.id, &mut hc.resources, &req.resources)?;
        check(&hc.resources, host, Check::Update).map_err(|e| cannot_update(&c.id, e))?;
        if let Some(policy) = req.restart_policy.as_ref().filter(|p| !p.name.is_empty()) {
            if hc.auto_remove && policy.name != "no" {
                return Err(cannot_update(
                    &c.id,
                    "Restart policy cannot be updated because AutoRemove is enabled for the container",
                ));
            }
            hc.restart_policy = policy.clone();
        }
        if c.state.status.is_running() && c.state.status != super::Status::Restarting {
            let resources = linux_resources(&hc.resources)?;
            if hc.resources.cpu_realtime_runtime > 0 {
                let spec = berth_runtime::spec::ContainerSpec {
                    id: c.id.clone(),
                    cgroup_parent: (!hc.resources.cgroup_parent.is_empty())
                        .then(|| hc.resources.cgroup_parent.clone()),
                    systemd_cgroup: self.config.cgroup_driver
                        == crate::config::CgroupDriver::Systemd,
                    ..Default::default()
                };
                let path = spec.cgroups_path();
                super::runconfig::resources::prepare_realtime(
                    &berth_runtime::spec::systemd_cgroup_dir(&path).unwrap_or(path),
                    hc.resources.cpu_realtime_runtime,
                )?;
            }
            berth_runtime::Runtime::update(&self.runtime_for(&c), &c.id, &resources)
                .map_err(|e| cannot_update(&c.id, e))?;
        }
        self.save_host_config(&c.id, &hc)?;
        self.emit_container(&c, "update", &[]);
        Ok(Vec::new())
    }
}
