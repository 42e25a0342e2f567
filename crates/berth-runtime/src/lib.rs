//! berth's runtime layer: the process half of a container. [`spec::ContainerSpec`] becomes the
//! OCI bundle Docker would write, the [`runtime::Runtime`] trait (backend [`runtime::Runc`])
//! drives the OCI runtime, and one [`shim`] process per running container owns its stdio, log
//! and exit; CLIs talk to the shim through [`attach`], read [`logs`] and run [`exec`]s.
//!
//! The engine drives a container like this:
//!
//! 1. resolve the user ([`user::resolve_user`]), build the [`spec::ContainerSpec`], write the
//!    bundle ([`spec::write_bundle`]) and a [`shim::ShimConfig`] in the container directory;
//! 2. [`shim::spawn_shim`] with its own binary (`berth shim <id>`, whose `main` loads the config
//!    and calls [`shim::run_shim`] with the engine's [`shim::ShimHooks`]); it returns once the
//!    container is created (start on attach) or started;
//! 3. attach with [`attach::AttachClient`] (which can send the start request first), or start
//!    without attaching ([`attach::AttachClient::start`]);
//! 4. the shim calls [`shim::ShimHooks::exited`] when the container's process is gone, then
//!    sends the exit code to attached clients and deletes the runtime state;
//! 5. stop = [`runtime::Runtime::kill`] SIGTERM, wait ([`attach::AttachClient::wait`] or
//!    [`shim::ProcessStamp::wait_exit`]), then SIGKILL; a container whose shim died is cleaned
//!    up with [`shim::recover`].
#![warn(missing_docs)]

/// The attach socket's protocol and client, detach keys.
pub mod attach;
/// The kernel's grace period at a container's first cgroup move, run ahead of the runtime.
pub mod cgroup_lock;
/// `ProcessError`, every module's error under one type.
pub mod error;
/// Running extra processes in a running container.
pub mod exec;
mod fdio;
/// The in-process OCI runtime (youki's `libcontainer`), `--runtime berth`.
#[cfg(feature = "inproc")]
pub mod inproc;
/// Docker's json-file log: the shim's writer and `berth logs`' reader.
pub mod logs;
/// The pid, ipc, uts and cgroup namespaces of a container, and its `/dev/shm`.
pub mod namespaces;
/// Start-up phase marks for the benchmark (`BERTH_PHASES`).
pub mod phases;
/// The OCI runtime trait, its runc backend and Docker's start-failure exit codes.
pub mod runtime;
/// Seccomp profiles in Docker's format, resolved for one container.
pub mod seccomp;
/// Capabilities, masked paths, devices: how a container is confined.
pub mod security;
/// The per-container shim process: spawning, running, detecting a dead one, recovering.
pub mod shim;
/// OCI bundles with Docker's defaults.
pub mod spec;
/// Terminal helpers: raw mode, window sizes, pty pairs, console sockets, SIGWINCH.
pub mod term;
/// `--user` resolution against the image's passwd and group files.
pub mod user;

#[cfg(test)]
mod testutil;

pub use error::ProcessError;
pub use runtime::{AnyRuntime, Runc, Runtime, RuntimeError, StartFailure};
pub use spec::ContainerSpec;
