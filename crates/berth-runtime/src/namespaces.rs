//! `Namespaces` says which namespaces a container gets of its own, shares with the host, or
//! joins (another container's, by the path of its `/proc/<pid>/ns/<type>` file), and `ShmMount`
//! what its `/dev/shm` is: Docker's `--pid`, `--ipc`, `--uts` and `--cgroupns`. The network
//! namespace is [`NetworkMode`](crate::spec::NetworkMode)'s.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One namespace of the container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NamespaceMode {
    /// A new one of its own.
    #[default]
    Private,
    /// The host's (no new namespace).
    Host,
    /// Another process's, at this path (`/proc/<pid>/ns/pid`).
    Join(PathBuf),
}

/// The container's pid, ipc, uts and cgroup namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    /// `--pid`.
    pub pid: NamespaceMode,
    /// `--ipc`.
    pub ipc: NamespaceMode,
    /// `--uts`.
    pub uts: NamespaceMode,
    /// `--cgroupns` (Docker's default on cgroup v1 is the host's).
    pub cgroup: NamespaceMode,
    /// A private user namespace with these uid and gid maps (the engine's `userns-remap`);
    /// `None`: the host's.
    #[serde(default)]
    pub user: Option<UserMaps>,
}

/// The uid and gid maps of a container's own user namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMaps {
    /// uid ranges.
    pub uids: Vec<berth_store::mount::idmap::IdMap>,
    /// gid ranges.
    pub gids: Vec<berth_store::mount::idmap::IdMap>,
    /// The namespace to join, made with these maps (the one owning the container's network
    /// namespace); `None`: the runtime makes it.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces {
            pid: NamespaceMode::Private,
            ipc: NamespaceMode::Private,
            uts: NamespaceMode::Private,
            cgroup: NamespaceMode::Host,
            user: None,
        }
    }
}

/// What `/dev/shm` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShmMount {
    /// A tmpfs of this many bytes of its own (`--ipc private`, Docker's default).
    Private {
        /// `--shm-size`.
        size: i64,
    },
    /// A bind of this host directory (`--ipc shareable` or `container:`: a tmpfs the engine
    /// mounted; `--ipc host`: the host's `/dev/shm`).
    Bind(PathBuf),
    /// None at all (`--ipc none`).
    None,
}

impl Default for ShmMount {
    fn default() -> Self {
        ShmMount::Private {
            size: 64 * 1024 * 1024,
        }
    }
}
