//! Restart at boot, daemonless: [`Engine::boot`] is what `berth system boot` (and the
//! `berth-restart.service` unit) runs once the machine is up. Docker's daemon does the same when
//! it starts; berth has no daemon, so this one command repairs what the crash or power cut left
//! and starts the containers whose restart policy asks for it, each with its own shim as usual.
//!
//! Which containers start is [`super::restart_policy::starts_at_boot`]'s call; the order here
//! puts every container after those it needs running (`--link`, `--network container:`) or whose
//! volumes it mounts (`--volumes-from`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Container, ZERO_TIME};
use crate::{Engine, EngineError};

/// What `boot` did with one container it meant to start.
#[derive(Debug)]
pub struct BootStart {
    /// The container's name.
    pub name: String,
    /// Whether it started, or why not.
    pub result: Result<(), EngineError>,
}

/// The containers `c` must come after: those named by its links, its `container:` network
/// mode and its `--volumes-from`.
fn dependencies(c: &Container) -> Vec<String> {
    let hc = &c.host_config;
    let mut deps = Vec::new();
    // Links are recorded as `/child:/parent/alias`, or `child[:alias]` as given.
    for link in hc.links.iter().flatten() {
        let child = link.split(':').next().unwrap_or_default();
        deps.push(child.trim_start_matches('/').to_string());
    }
    if let Some(other) = hc.network_mode.strip_prefix("container:") {
        deps.push(other.to_string());
    }
    for from in hc.volumes_from.iter().flatten() {
        deps.push(from.split(':').next().unwrap_or_default().to_string());
    }
    deps.retain(|d| !d.is_empty());
    deps
}

impl Engine {
    /// Repairs every container a crash or reboot left recorded as running (processes killed,
    /// mounts and network set-up released, recorded as exited) and the firewall chains of
    /// networks that lost them, then starts, dependencies
    /// first, each container whose restart policy brings it back at boot. Containers already
    /// running are left alone, so running it twice starts nothing the second time.
    pub fn boot(&mut self) -> Result<Vec<BootStart>, EngineError> {
        self.repair_host_networks();
        let mut wanted: BTreeMap<String, Container> = BTreeMap::new();
        for c in self.all_containers()? {
            let c = self.refresh(c)?;
            let ever_started = c.state.started_at != ZERO_TIME && !c.state.started_at.is_empty();
            if !c.state.status.is_running()
                && ever_started
                && super::restart_policy::starts_at_boot(
                    &c.host_config.restart_policy,
                    &c.dir(self),
                )
            {
                wanted.insert(c.id.clone(), c);
            }
        }
        // Depth-first: a container's dependencies that also start at boot go before it.
        let mut order = Vec::new();
        let mut placed = BTreeSet::new();
        let ids: Vec<String> = wanted.keys().cloned().collect();
        for id in ids {
            self.place(&id, &wanted, &mut placed, &mut order);
        }
        let mut started = Vec::new();
        for id in order {
            let name = wanted[&id].name.clone();
            let result = self.start_container(&id, false, None).map(|_| ());
            started.push(BootStart { name, result });
        }
        Ok(started)
    }

    /// Appends `id` to `order` after its dependencies among `wanted` (each is placed once, so
    /// a dependency cycle, which create refuses anyway, cannot loop).
    fn place(
        &self,
        id: &str,
        wanted: &BTreeMap<String, Container>,
        placed: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) {
        if !placed.insert(id.to_string()) {
            return;
        }
        for dep in dependencies(&wanted[id]) {
            if let Ok(d) = self.lookup_container(&dep) {
                if wanted.contains_key(&d.id) {
                    self.place(&d.id, wanted, placed, order);
                }
            }
        }
        order.push(id.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::HostConfig;

    fn container(hc: HostConfig) -> Container {
        Container {
            host_config: hc,
            ..crate::container::test_container("c")
        }
    }

    #[test]
    fn links_network_and_volumes_from_are_dependencies() {
        let hc = HostConfig {
            links: Some(vec!["/db:/web/mysql".into(), "cache".into()]),
            network_mode: "container:net".into(),
            volumes_from: Some(vec!["data:ro".into(), "more".into()]),
            ..Default::default()
        };
        assert_eq!(
            dependencies(&container(hc)),
            ["db", "cache", "net", "data", "more"]
        );
        assert!(dependencies(&container(HostConfig::default())).is_empty());
    }
}
