//! `info` and `version`: what this engine and its data root are.

use std::collections::BTreeMap;

use berth_image::store::ImageStore;
use serde::Serialize;

use crate::{Engine, EngineError};

/// The version berth reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Docker Engine API version berth speaks.
pub const API_VERSION: &str = "1.41";

/// `docker info`'s facts, with Docker's field names for `--format`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemInfo {
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
    /// Engine version.
    pub server_version: String,
    /// Data root.
    #[serde(rename = "DockerRootDir")]
    pub docker_root_dir: String,
    /// Logging driver.
    pub logging_driver: String,
    /// Who makes containers' cgroups (`cgroupfs`, or `systemd` from `exec-opts`).
    pub cgroup_driver: String,
    /// Kernel version.
    pub kernel_version: String,
    /// OS type.
    #[serde(rename = "OSType")]
    pub os_type: String,
    /// Architecture.
    pub architecture: String,
    /// Drivers by kind: `Volume`, `Network`, `Log`.
    pub plugins: BTreeMap<String, Vec<String>>,
    /// Swarm state: berth has none (`inactive`).
    pub swarm: BTreeMap<String, String>,
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
        let kernel = rustix_uname();
        Ok(SystemInfo {
            containers: running + paused + stopped,
            containers_running: running,
            containers_paused: paused,
            containers_stopped: stopped,
            images,
            volumes: self.volume_names()?.len() as i64,
            driver: driver_name,
            driver_status,
            server_version: VERSION.to_string(),
            docker_root_dir: self.root().display().to_string(),
            logging_driver: "json-file".into(),
            cgroup_driver: self.config.cgroup_driver.name().into(),
            kernel_version: kernel,
            os_type: "linux".into(),
            architecture: std::env::consts::ARCH.to_string(),
            plugins: [
                ("Volume", volume_drivers()),
                ("Network", vec!["host".into(), "none".into()]),
                ("Log", vec!["json-file".into()]),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            swarm: [("LocalNodeState".to_string(), "inactive".to_string())].into(),
        })
    }
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

fn rustix_uname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
