//! `berth serve`: the Docker Engine API on a unix socket, so the `docker` CLI and Docker's client
//! libraries can drive berth. It is the same [`Engine`](berth_engine::Engine) the CLI uses — one
//! opened per request, inside tokio's blocking pool, so SQLite transactions decide races
//! between the API and concurrent CLI processes exactly as between two CLIs — and it never runs
//! containers itself: `start` goes through the shim path, so containers outlive the server.
//!
//! Served so far: `/_ping`, `/version`, `/system/df`, the prune endpoints of containers,
//! images and volumes, the volume endpoints (create, list, inspect, remove,
//! prune), the container endpoints (list, create, inspect, attach, start, stop, restart, kill,
//! wait, logs, resize, remove), `/info` and the image endpoints without transfers (list,
//! inspect, history, tag, remove) — enough for `docker run` (attached or not), `ps`, `logs -f`,
//! `stop`, `rm`, `images` and every `docker volume` command; each under an optional `/vX.Y`
//! prefix that selects the API version (see [`version`]), and exec instances (create, start,
//! inspect, resize), and `POST /build` (Docker's classic builder, see [`build`]) with
//! `/build/prune`. Load/save, events and networks are not served yet: anything else
//! answers 404 with Docker's `page not found` message.

mod activation;
mod attach;
mod body;
mod build;
mod compat;
mod exec;
mod hijack;
mod mux;
mod progress;
mod request;
mod routes;
mod server;
mod upload;
pub mod version;

pub use server::{serve, ServeError, DEFAULT_HOST, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
