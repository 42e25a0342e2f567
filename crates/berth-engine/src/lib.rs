//! The berth [`Engine`]: the one API the CLI and the Docker API server call. It owns the data
//! root (`berth_store::Store`) and implements every verb on top of the image, volume and runtime
//! crates; output formatting stays in the callers.
#![warn(missing_docs)]

/// `build`: images from a Dockerfile, with a layer cache.
pub mod build;
/// The settings file (`daemon.json`).
pub mod config;
/// Container verbs: create, start, stop, kill, rm, wait, logs, attach, exec, inspect, ps.
pub mod container;
mod engine;
/// `EngineError`, with Docker's texts and an `ErrorKind` for exit codes and HTTP statuses.
pub mod error;
/// Events: the log every process appends its actions to, read back as `docker events`.
pub mod events;
/// `Filters`: Docker's `filters` argument, parsed and matched for every list and prune verb.
pub mod filters;
/// Image verbs: import, load, save, list, inspect, tag, remove, history, prune.
pub mod image;
/// `info` and `version`.
pub mod info;
/// Network verbs and containers' networking: create, ls, inspect, rm, prune, connect,
/// disconnect; set-up at start and teardown at exit; `NetworkSettings`; `port`.
pub mod network;
/// `plugin ls` and `plugin inspect`: the legacy volume plugins berth can use.
pub mod plugin;
/// `system df`: disk usage of images, containers and volumes.
pub mod system;
/// Docker-shaped JSON types shared by the CLI and the API (`inspect`, listings).
pub mod types;
/// The engine's user-namespace remapping (`userns-remap`).
pub mod userns;

/// Volume verbs: create, ls, inspect, rm, prune, usage.
pub mod volume;

/// The types of the layers below that the engine's verbs take and give, re-exported so that
/// the front ends (CLI, API) call the engine alone and data flows CLI/API → engine → image,
/// volume, runtime → store.
pub mod io {
    /// A process's standard streams, the detach keys and their scanner (attach, exec).
    pub use berth_runtime::attach::{AttachIo, DetachKeys, EscapeScanner, Scan};
    /// What `logs` asks for.
    pub use berth_runtime::logs::LogOptions;
    /// Terminals: pty pairs and window sizes (exec, attach).
    pub use berth_runtime::term::{self, PtyPair, WinSize};
    /// A filesystem change's kind (`diff`).
    pub use berth_store::archive::ChangeKind;
    /// The API version a request speaks (mount parsing follows it).
    pub use berth_volume::mount_spec::ApiVersion;
    /// A `volume create` request.
    pub use berth_volume::store::CreateVolume;
}

pub use engine::{Engine, EngineOptions};
pub use error::EngineError;

/// The current time as berth records it (RFC 3339, nanoseconds, UTC).
pub(crate) fn now() -> String {
    berth_store::db::now_rfc3339()
}
