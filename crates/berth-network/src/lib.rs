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
//!   through a [`backend::NetworkBackend`] ([`netavark::Netavark`]) and torn down from a state
//!   file by whoever sees the container stop;
//! - [`etc`]: `/etc/hosts` and `/etc/resolv.conf` as Docker writes them; [`links`]: legacy links.
//!
//! Why netavark: it is maintained (Podman's), packaged by Debian, written in Rust, does bridge,
//! veth, NAT, port forwarding and (with aardvark-dns) container names in one process per
//! endpoint, and takes static addresses from the caller — so berth's store stays the one place
//! that allocates. The CNI plugins need four processes (bridge, host-local, portmap, firewall)
//! per container, own their IP allocations on disk, and have no DNS server in Debian.
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
