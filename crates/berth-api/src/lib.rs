//! `berth serve`: the Docker Engine API on a unix socket, so the `docker` CLI and Docker's client
//! libraries can drive berth. It is the same [`Engine`](berth_engine::Engine) the CLI uses — one
//! opened per request, inside tokio's blocking pool, so SQLite transactions decide races
//! between the API and concurrent CLI processes exactly as between two CLIs — and it never runs
//! containers itself: `start` goes through the shim path, so containers outlive the server.
//!
//! Served so far: `/_ping`, `/version`, the volume endpoints (create, list, inspect, remove,
//! prune) and the container endpoints without streams (list, create, inspect, start, stop,
//! restart, kill, wait, remove) — enough for `docker run -d`, `ps`, `stop`, `rm` and every
//! `docker volume` command; each under an optional `/vX.Y` prefix that selects the API version
//! (see [`version`]). Attach, logs, exec and the image endpoints are not served yet: anything
//! else answers 404 with Docker's `page not found` message.

mod request;
mod routes;
mod server;
pub mod version;

pub use server::{serve, ServeError, DEFAULT_HOST};
