//! berth's networking: Docker's network model — the default `bridge`, user-defined bridge
//! networks with DNS names, published ports, legacy links — for a daemonless engine.
//!
//! The engine keeps network definitions and address allocations in the store; this crate gives
//! it the parts that do not touch the database:
//!
//! - [`config::NetworkConfig`]: the per-data-root settings (exec root, default bridge, pools);
//! - [`ipam`]: subnets and next free addresses; [`ports`]: `-p`/`--expose` parsing and the
//!   host-port [`ports::reserve`]ation that makes a taken port a clear error at start;
//! - [`sandbox::Sandbox`]: a container's network namespace ([`netns`]) and its endpoints, set up
//!   through a [`backend::NetworkBackend`] and torn down from a state file by whoever sees the
//!   container stop;
//! - [`etc`]: `/etc/hosts` and `/etc/resolv.conf` as Docker writes them; [`links`]: legacy links.
//!
//! Two backends: [`native::Native`] (the default) does the per-container work with a few netlink
//! requests and, for published ports only, one `iptables-restore` batch, and keeps each
//! network's bridge and firewall chains while the network exists; [`netavark::Netavark`]
//! (Podman's, selectable) does everything per container, with one process per firewall rule —
//! too slow for a daemonless engine whose every `run --rm` is a network's first and last
//! container (docs/network.md has the measurements). Both use `aardvark-dns` for names.
#![warn(missing_docs)]

/// The data-plane trait and the types it is given.
pub mod backend;
/// Per-data-root network settings.
pub mod config;
mod error;
/// `/etc/hosts` and `/etc/resolv.conf` contents.
pub mod etc;
/// Subnets and address allocation.
pub mod ipam;
/// Legacy links: environment and hosts entries.
pub mod links;
/// The native backend (netlink and iptables-restore).
pub mod native;
/// The netavark backend.
pub mod netavark;
/// Network namespace files.
pub mod netns;
/// `-p`, `--expose` and host-port reservation.
pub mod ports;
/// A container's namespace and endpoints, set up and torn down.
pub mod sandbox;

pub use error::NetworkError;
