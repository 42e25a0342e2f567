//! Deleting a stopped container on a cgroup v1 or hybrid host without libcontainer's delete.
//! Its delete builds libcgroups' v1 manager, which looks up each of the twelve controllers'
//! mount point by reading `/proc/self/mountinfo` and `/proc/self/cgroup` once per controller,
//! each through a procfs handle it verifies again (24 files, about 600 system calls), only to
//! remove one directory per hierarchy. [`remove_stopped`] reads the mount table once and does
//! the same removal: processes still listed in a directory are killed (a container without its
//! own PID namespace can leave some behind), the directory is removed with the same retries,
//! then the state directory. Anything it does not cover is left to libcontainer: poststop
//! hooks, Intel RDT, a unified (v2) host, a container without a cgroups path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libcgroups::common::CgroupSetup;
use libcontainer::container::Container;

/// Removes stopped container `c`'s cgroup directories and its state directory; `Ok(false)`,
/// having touched nothing, when libcontainer's delete must do it (see the module comment).
pub(crate) fn remove_stopped(c: &Container) -> std::io::Result<bool> {
    if c.intel_rdt_dir().is_some() || c.intel_rdt_monitoring_dir().is_some() {
        return Ok(false);
    }
    let Ok(config) = c.spec() else {
        return Ok(false);
    };
    let poststop = config.hooks.as_ref().and_then(|h| h.poststop().as_ref());
    if poststop.is_some_and(|hooks| !hooks.is_empty()) {
        return Ok(false);
    }
    let Ok(relative) = config.cgroup_path.strip_prefix("/") else {
        return Ok(false);
    };
    if relative.as_os_str().is_empty() || !plain(relative) {
        return Ok(false);
    }
    match libcgroups::common::get_cgroup_setup() {
        Ok(CgroupSetup::Legacy | CgroupSetup::Hybrid) => {}
        _ => return Ok(false),
    }
    let Ok(mut points) = libcgroups::v1::util::list_subsystem_mount_points() else {
        return Ok(false);
    };
    points.sort();
    points.dedup();
    for point in points {
        remove_cgroup(&point.join(relative))?;
    }
    match std::fs::remove_dir_all(&c.root) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(true),
    }
}

/// Whether `p` only goes down (no `..`, no root): joined to a mount point it stays under it.
fn plain(p: &Path) -> bool {
    p.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Kills what is left in cgroup `dir` and removes it, retrying while the killed processes exit
/// (four attempts, 10 ms, 10 ms and 20 ms apart, as libcgroups makes them).
fn remove_cgroup(dir: &PathBuf) -> std::io::Result<()> {
    let procs = match std::fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(procs) => procs,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for pid in procs
        .lines()
        .filter_map(|l| l.trim().parse::<libc::pid_t>().ok())
    {
        // SAFETY: kill(2) with a pid read from the container's own cgroup.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    let mut delay = Duration::from_millis(10);
    let mut last = None;
    for attempt in 1..=4u32 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Some(e),
        }
        if attempt < 4 {
            std::thread::sleep(delay);
            delay = (delay * attempt).min(Duration::from_millis(100));
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("could not delete"));
    Err(std::io::Error::new(
        e.kind(),
        format!("removing cgroup {}: {e}", dir.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_that_stay_under_the_mount_point_are_removed_here() {
        assert!(plain(Path::new("berth/abc")));
        assert!(!plain(Path::new("berth/../../etc")));
        assert!(!plain(Path::new("/berth")));
        assert!(!plain(Path::new("./berth")));
    }
}
