//! The namespaces half of the run configuration: `--pid`, `--ipc` (`private`, `shareable`,
//! `container:`, `host`, `none`), `--uts`, `--userns`, `--cgroupns`, `--sysctl` and `--shm-size`.
//! [`validate`] checks the modes and sysctls at create (Docker's texts; sysctls the kernel does
//! not namespace, or that would change the host's namespace, are refused before runc would);
//! [`Engine::namespaces`] resolves them at start: a `container:` mode joins the running
//! container's namespace file, and a shareable container gets a tmpfs of its own on the host
//! (`containers/<id>/mounts/shm`) that containers joining its IPC namespace mount too.

use std::path::{Path, PathBuf};

use berth_runtime::namespaces::{NamespaceMode, Namespaces, ShmMount, UserMaps};
use berth_store::mount::{Mount, Mounter};

use super::RunConfigError;
use crate::container::Container;
use crate::types::HostConfig;
use crate::{Engine, EngineError};

fn invalid(text: impl Into<String>) -> RunConfigError {
    RunConfigError::Invalid(text.into())
}

/// The sysctls Docker lets a container set: the IPC ones the kernel namespaces, message queues,
/// and the network ones (in a private network namespace).
pub fn check_sysctl(key: &str, value: &str) -> Result<(), String> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("net.") || key.starts_with("fs.mqueue.") {
        Ok(())
    } else {
        Err(format!("sysctl '{key}={value}' is not whitelisted"))
    }
}

/// The container a `container:NAME` mode names.
fn container_target(mode: &str) -> Option<&str> {
    mode.strip_prefix("container:")
}

/// Create-time checks of the namespace modes and sysctls (`hostname` is the config's, which the
/// UTS mode `host` conflicts with).
pub(crate) fn validate(hc: &HostConfig, hostname: &str) -> Result<(), RunConfigError> {
    match hc.pid_mode.as_str() {
        "" | "host" => {}
        m if container_target(m).is_some_and(|t| !t.is_empty()) => {}
        m => return Err(invalid(format!("invalid PID mode: {m}"))),
    }
    match hc.ipc_mode.as_str() {
        "" | "private" | "shareable" | "host" | "none" => {}
        m if container_target(m).is_some_and(|t| !t.is_empty()) => {}
        m => return Err(invalid(format!("Invalid IPC mode: {m}"))),
    }
    match hc.uts_mode.as_str() {
        "" => {}
        "host" if !hostname.is_empty() => {
            return Err(invalid("conflicting options: hostname and the UTS mode"))
        }
        "host" => {}
        m => return Err(invalid(format!("invalid UTS mode: {m}"))),
    }
    if !matches!(hc.userns_mode.as_str(), "" | "host") {
        return Err(invalid(format!("invalid USER mode: {}", hc.userns_mode)));
    }
    if !matches!(hc.cgroupns_mode.as_str(), "" | "host" | "private") {
        return Err(invalid(format!(
            "invalid cgroup namespace mode: {}",
            hc.cgroupns_mode
        )));
    }
    if hc.shm_size < 0 {
        return Err(invalid("SHM size can not be less than 0"));
    }
    for (key, value) in hc.sysctls.iter().flatten() {
        check_sysctl(key, value).map_err(invalid)?;
        // runc's words for the sysctls a shared namespace would apply to the host.
        if key.starts_with("net.") && hc.network_mode == "host" {
            return Err(invalid(format!(
                "sysctl {key:?} not allowed in host network namespace"
            )));
        }
        if !key.starts_with("net.") && hc.ipc_mode == "host" {
            return Err(invalid(format!(
                "sysctl {key:?} is not allowed in the hosts ipc namespace"
            )));
        }
    }
    Ok(())
}

/// Where a shareable container's `/dev/shm` lives on the host.
pub(crate) fn shm_dir(container_dir: &Path) -> PathBuf {
    container_dir.join("mounts").join("shm")
}

/// Unmounts a shareable container's `/dev/shm` tmpfs, if it is mounted.
pub(crate) fn release_shm(mounter: &Mounter, container_dir: &Path) {
    let _ = mounter.release(&shm_dir(container_dir));
}

impl Engine {
    /// The running container a `container:NAME` mode joins (Docker's texts when it cannot).
    fn namespace_donor(&mut self, target: &str, what: &str) -> Result<Container, EngineError> {
        let donor = self
            .container(target)
            .map_err(|e| EngineError::RunConfig(invalid(format!("{what}: {e}"))))?;
        if !donor.state.status.is_running() || donor.state.pid <= 0 {
            return Err(EngineError::RunConfig(invalid(format!(
                "{what}: Container {} is not running",
                donor.id
            ))));
        }
        Ok(donor)
    }

    /// The namespaces and `/dev/shm` of `c` at start.
    pub(crate) fn namespaces(
        &mut self,
        c: &Container,
    ) -> Result<(Namespaces, ShmMount), EngineError> {
        let hc = &c.host_config;
        let ns_file = |pid: i64, kind: &str| PathBuf::from(format!("/proc/{pid}/ns/{kind}"));
        // The containers whose namespaces this one joins, with what it joins.
        let mut donors: Vec<(Container, &str)> = Vec::new();
        let pid = match hc.pid_mode.as_str() {
            "host" => NamespaceMode::Host,
            m => match container_target(m) {
                Some(t) => {
                    let donor = self.namespace_donor(
                        t,
                        &format!("cannot join PID of a non running container: {t}"),
                    )?;
                    donors.push((donor.clone(), "PID"));
                    NamespaceMode::Join(ns_file(donor.state.pid, "pid"))
                }
                None => NamespaceMode::Private,
            },
        };
        let shm_size = if hc.shm_size > 0 {
            hc.shm_size
        } else {
            64 * 1024 * 1024
        };
        let (ipc, shm) = match hc.ipc_mode.as_str() {
            "host" => (NamespaceMode::Host, ShmMount::Bind("/dev/shm".into())),
            "none" => (NamespaceMode::Private, ShmMount::None),
            "shareable" => {
                let dir = shm_dir(&c.dir(self));
                mount_shm(self.mounter(), &dir, shm_size)?;
                (NamespaceMode::Private, ShmMount::Bind(dir))
            }
            m => match container_target(m) {
                Some(t) => {
                    let what = format!("can't join IPC of container {t}");
                    let donor = self.namespace_donor(t, &what)?;
                    donors.push((donor.clone(), "IPC"));
                    let (ns, shm) = match donor.host_config.ipc_mode.as_str() {
                        "host" => (NamespaceMode::Host, PathBuf::from("/dev/shm")),
                        "shareable" => (
                            NamespaceMode::Join(ns_file(donor.state.pid, "ipc")),
                            shm_dir(&donor.dir(self)),
                        ),
                        _ => {
                            return Err(EngineError::RunConfig(invalid(format!(
                                "{what}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
                            ))))
                        }
                    };
                    (ns, ShmMount::Bind(shm))
                }
                None => (NamespaceMode::Private, ShmMount::Private { size: shm_size }),
            },
        };
        let uts = if hc.uts_mode == "host" {
            NamespaceMode::Host
        } else {
            NamespaceMode::Private
        };
        let cgroup = if hc.cgroupns_mode == "private" {
            NamespaceMode::Private
        } else {
            NamespaceMode::Host
        };
        if let Some(t) = container_target(&hc.network_mode) {
            // Whether it can be joined is the network's to say (in its words); here only its
            // user namespace matters.
            if let Ok(donor) = self.container(t) {
                if donor.state.status.is_running() && donor.state.pid > 0 {
                    donors.push((donor, "network"));
                }
            }
        }
        let mut user = self.remap_for(hc).map(|r| UserMaps {
            uids: r.uids.clone(),
            gids: r.gids.clone(),
            path: None,
        });
        if let Some(user) = &mut user {
            // As in dockerd, a remapped container that shares a namespace of another shares its
            // user namespace too (the one that owns what it joins); one in the host's user
            // namespace cannot be joined from a remapped one (dockerd's runc fails to start it
            // with "can't get final child's PID from pipe: EOF").
            for (donor, what) in &donors {
                if self.remap_for(&donor.host_config).is_none() {
                    return Err(EngineError::RunConfig(invalid(format!(
                        "cannot join the {what} namespace of container {}: it runs in the host's user namespace (--userns=host) and this container is remapped (userns-remap); start this one with --userns=host too",
                        donor.id
                    ))));
                }
                user.path = Some(ns_file(donor.state.pid, "user"));
            }
        }
        Ok((
            Namespaces {
                pid,
                ipc,
                uts,
                cgroup,
                user,
            },
            shm,
        ))
    }
}

/// Mounts a shareable container's `/dev/shm` tmpfs on the host (once per run).
fn mount_shm(mounter: &Mounter, dir: &Path, size: i64) -> Result<(), EngineError> {
    if mounter.is_mount_point(dir) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let m = Mount {
        fstype: "tmpfs".into(),
        source: "shm".into(),
        target: dir.to_path_buf(),
        options: vec![
            "nosuid".into(),
            "noexec".into(),
            "nodev".into(),
            "mode=1777".into(),
            format!("size={size}"),
        ],
        cwd: None,
    };
    mounter.mount(&m)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::mount::recording::{Call, RecordingSys};
    use berth_store::mount::MountArgs;

    #[test]
    fn a_shareable_dev_shm_is_one_tmpfs_made_once_and_released() {
        let t = tempfile::tempdir().unwrap();
        let sys = std::sync::Arc::new(RecordingSys::default());
        let mounter = Mounter::new(sys.clone());
        let dir = shm_dir(t.path());
        mount_shm(&mounter, &dir, 1 << 20).unwrap();
        mount_shm(&mounter, &dir, 1 << 20).unwrap();
        assert!(dir.is_dir());
        release_shm(&mounter, t.path());
        release_shm(&mounter, t.path());
        assert_eq!(
            sys.calls(),
            [
                Call::Mount(MountArgs {
                    source: "shm".into(),
                    target: dir.clone(),
                    fstype: Some("tmpfs".into()),
                    flags: libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV,
                    data: "mode=1777,size=1048576".into(),
                    cwd: None,
                }),
                Call::Umount {
                    target: dir,
                    detach: false
                },
            ]
        );
    }

    fn hc(f: impl FnOnce(&mut HostConfig)) -> HostConfig {
        let mut h = HostConfig::default();
        f(&mut h);
        h
    }

    #[test]
    fn modes_and_sysctls_are_checked_like_docker() {
        let err = |h: HostConfig, host: &str| validate(&h, host).unwrap_err().to_string();
        assert_eq!(
            err(hc(|h| h.pid_mode = "bogus".into()), ""),
            "invalid PID mode: bogus"
        );
        assert_eq!(
            err(hc(|h| h.pid_mode = "container:".into()), ""),
            "invalid PID mode: container:"
        );
        assert_eq!(
            err(hc(|h| h.ipc_mode = "bogus".into()), ""),
            "Invalid IPC mode: bogus"
        );
        assert_eq!(
            err(hc(|h| h.uts_mode = "bogus".into()), ""),
            "invalid UTS mode: bogus"
        );
        assert_eq!(
            err(hc(|h| h.uts_mode = "host".into()), "foo"),
            "conflicting options: hostname and the UTS mode"
        );
        assert_eq!(
            err(hc(|h| h.userns_mode = "bogus".into()), ""),
            "invalid USER mode: bogus"
        );
        assert_eq!(
            err(hc(|h| h.cgroupns_mode = "bogus".into()), ""),
            "invalid cgroup namespace mode: bogus"
        );
        let sysctl = |k: &str| {
            hc(|h| h.sysctls = Some([(k.to_string(), "1".to_string())].into_iter().collect()))
        };
        assert_eq!(
            err(sysctl("kernel.foo"), ""),
            "sysctl 'kernel.foo=1' is not whitelisted"
        );
        assert!(validate(&sysctl("net.ipv4.ip_forward"), "").is_ok());
        assert!(validate(&sysctl("fs.mqueue.msg_max"), "").is_ok());
        let mut host_net = sysctl("net.ipv4.ip_forward");
        host_net.network_mode = "host".into();
        assert_eq!(
            err(host_net, ""),
            "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"
        );
        let mut host_ipc = sysctl("kernel.msgmax");
        host_ipc.ipc_mode = "host".into();
        assert_eq!(
            err(host_ipc, ""),
            "sysctl \"kernel.msgmax\" is not allowed in the hosts ipc namespace"
        );
        for ok in ["private", "shareable", "host", "none", "container:db"] {
            assert!(
                validate(&hc(|h| h.ipc_mode = ok.into()), "").is_ok(),
                "{ok}"
            );
        }
    }
}
