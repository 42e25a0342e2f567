//! [`Sandbox`]: a running container's network namespace and the endpoints connected in it,
//! recorded in a state file (`sandbox.json` in the container directory) **before** anything is
//! set up, so that whoever tears it down — the shim when the container exits, `stop`/`kill`/
//! `rm -f`, or the repair pass after the shim was killed or the host rebooted — undoes exactly
//! what was done, with the backend and directories it was done with, whatever the engine's
//! configuration says by then. Teardown is idempotent: no state file, nothing to do.

use std::path::{Path, PathBuf};

use berth_store::mount::idmap::IdMap;
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, ContainerRef, EndpointSpec, NetworkBackend};
use crate::netns::NetnsOwner;
use crate::{netns, NetworkError};

/// A container's network namespace and its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sandbox {
    /// Docker's `SandboxID` (64 hex).
    pub id: String,
    /// The namespace file (Docker's `SandboxKey`), which the runtime joins.
    pub netns: PathBuf,
    /// The backend that connected the endpoints.
    pub backend: Backend,
    /// The container.
    pub container: ContainerRef,
    /// Its endpoints, in connection order (the first is `eth0`).
    pub endpoints: Vec<EndpointSpec>,
    /// A remapped container's uid and gid maps: its network namespace is then owned by a user
    /// namespace of those maps, kept beside it for the runtime to join ([`Sandbox::userns`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_maps: Option<(Vec<IdMap>, Vec<IdMap>)>,
    /// For a remapped container that joins another's PID or IPC namespace (and so its user
    /// namespace): that user namespace (`/proc/PID/ns/user`), which then owns the network
    /// namespace instead of a new one of [`Sandbox::user_maps`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_userns: Option<PathBuf>,
}

fn write_state(path: &Path, s: &Sandbox) -> Result<(), NetworkError> {
    let json = serde_json::to_vec_pretty(s).expect("sandboxes serialize");
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).map_err(|e| NetworkError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| NetworkError::io("write", path, e))
}

impl Sandbox {
    /// The user namespace that owns the network namespace, for a remapped container.
    pub fn userns(&self) -> Option<PathBuf> {
        (self.user_maps.is_some() || self.join_userns.is_some())
            .then(|| netns::user_ns_path(&self.netns))
    }

    /// The sandbox recorded at `state`, if any.
    pub fn load(state: &Path) -> Result<Option<Sandbox>, NetworkError> {
        match std::fs::read(state) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| NetworkError::io("read", state, std::io::Error::other(e.to_string()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NetworkError::io("read", state, e)),
        }
    }

    /// Records the sandbox at `state`, creates its namespace and connects every endpoint —
    /// all or nothing: on failure whatever was done is undone and the state file removed.
    pub fn create(&self, state: &Path) -> Result<(), NetworkError> {
        write_state(state, self)?;
        let owner = match (&self.join_userns, &self.user_maps) {
            (Some(path), _) => NetnsOwner::Existing(path),
            (None, Some((u, g))) => NetnsOwner::New(u, g),
            (None, None) => NetnsOwner::Host,
        };
        let result = netns::create_owned(&self.netns, owner).and_then(|()| {
            for (i, ep) in self.endpoints.iter().enumerate() {
                if let Err(e) = self.backend.connect(&self.netns, &self.container, ep) {
                    for done in self.endpoints[..i].iter().rev() {
                        let _ = self.backend.disconnect(&self.netns, &self.container, done);
                    }
                    return Err(e);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            let _ = netns::remove(&self.netns);
            let _ = std::fs::remove_file(state);
            return Err(e);
        }
        Ok(())
    }

    /// Tears down the sandbox recorded at `state` (endpoints, then the namespace) and removes
    /// the state file. Nothing recorded: nothing to do. Every step is attempted; the first
    /// failure is returned.
    pub fn destroy(state: &Path) -> Result<(), NetworkError> {
        let Some(s) = Sandbox::load(state)? else {
            return Ok(());
        };
        let mut first = None;
        for ep in s.endpoints.iter().rev() {
            if let Err(e) = s.backend.disconnect(&s.netns, &s.container, ep) {
                log::warn!(
                    "container {}: disconnecting from network {}: {e}",
                    s.container.name,
                    ep.network.name
                );
                first.get_or_insert(e);
            }
        }
        if let Err(e) = netns::remove(&s.netns) {
            first.get_or_insert(e);
        }
        match std::fs::remove_file(state) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                first.get_or_insert(NetworkError::io("remove", state, e));
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// The address the container's DNS queries go to on its endpoint `i`, when the backend
    /// serves names on that network.
    pub fn dns_server(&self, i: usize) -> Option<std::net::Ipv4Addr> {
        self.endpoints
            .get(i)
            .and_then(|e| self.backend.dns_server(&e.network))
    }

    /// Connects one more endpoint to the running sandbox at `state` (`network connect`).
    pub fn connect(state: &Path, ep: EndpointSpec) -> Result<Sandbox, NetworkError> {
        let mut s = Sandbox::load(state)?
            .ok_or_else(|| NetworkError::NotFound("the container has no network sandbox".into()))?;
        s.backend.connect(&s.netns, &s.container, &ep)?;
        s.endpoints.push(ep);
        if let Err(e) = write_state(state, &s) {
            let ep = s.endpoints.pop().expect("pushed above");
            let _ = s.backend.disconnect(&s.netns, &s.container, &ep);
            return Err(e);
        }
        Ok(s)
    }

    /// Disconnects the endpoint on network `network_id` from the running sandbox at `state`
    /// (`network disconnect`); a network it is not on is fine.
    pub fn disconnect(state: &Path, network_id: &str) -> Result<(), NetworkError> {
        let Some(mut s) = Sandbox::load(state)? else {
            return Ok(());
        };
        let Some(i) = s.endpoints.iter().position(|e| e.network.id == network_id) else {
            return Ok(());
        };
        let ep = s.endpoints.remove(i);
        let result = s.backend.disconnect(&s.netns, &s.container, &ep);
        write_state(state, &s)?;
        result
    }
}
