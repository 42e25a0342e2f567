//! `berth serve`: the Docker Engine API on a unix socket, so the `docker` CLI and Docker's client
//! libraries can drive berth. It is the same [`Engine`](berth_engine::Engine) the CLI uses — one
//! opened per request, inside tokio's blocking pool, so SQLite transactions decide races
//! between the API and concurrent CLI processes exactly as between two CLIs — and it never runs
//! containers itself: `start` goes through the shim path, so containers outlive the server.
//!
//! Served: the Docker Engine API of Docker 20.10 (versions 1.12 to 1.43, see [`version`])
//! except swarm — containers (with attach over a hijacked connection or a WebSocket, exec,
//! archive, stats, events), images (with pull, push, load, save, import, commit, search),
//! volumes, networks, `/build`, `/info`, `/version`, `/system/df`, `/events` and `/plugins`;
//! anything else answers 404 with Docker's `page not found` message.

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
mod ws;

pub use server::{serve, ServeError, DEFAULT_HOST, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
