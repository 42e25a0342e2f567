//! `POST /containers/{id}/attach`: takes the connection over ([`crate::hijack`]): it then
//! carries the container's output one way and its stdin the other; `GET
//! /containers/{id}/attach/ws` does the same over a WebSocket ([`crate::ws`]).
//!
//! The engine's attach speaks to the shim over file descriptors, so the bridge is three pipes:
//! a blocking thread runs [`Engine::attach_container_io`] on their far ends while two tasks copy
//! between the near ends and the upgraded connection. A container that has not started gets
//! its shim first, holding the created process until the client's `start` (so nothing it
//! prints is lost, which is why the docker CLI attaches before it starts). If that launch fails
//! (a volume plugin refuses a mount, a network is gone), the attach still succeeds, as dockerd's
//! does, and the failure is kept for the client's `start` to answer with ([`take_failed_launch`]),
//! so the CLI shows it as dockerd's start error instead of a failed upgrade.

use std::collections::BTreeMap;
use std::os::fd::AsFd;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_engine::container::{AttachRequest, Attached, LogsRequest};
use berth_engine::io::ApiVersion;
use berth_engine::io::LogOptions;
use berth_engine::io::{AttachIo, DetachKeys};
use berth_engine::{Engine, EngineOptions};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

use crate::hijack;
use crate::request::ApiError;

/// What the client asked for.
#[derive(Debug, Clone)]
struct Wanted {
    stdin: bool,
    stdout: bool,
    stderr: bool,
    /// The log so far first (`logs=1`).
    logs: bool,
    /// The live streams (`stream=1`); without them the answer is the log and ends.
    stream: bool,
    detach_keys: DetachKeys,
}

/// Launch failures of attaches, by container ID, waiting for the `start` that reports them.
static FAILED_LAUNCHES: std::sync::Mutex<BTreeMap<String, ApiError>> =
    std::sync::Mutex::new(BTreeMap::new());

/// At most this many failures wait for a `start` (a client that attaches and never starts
/// must not grow the server without bound).
const MAX_FAILED_LAUNCHES: usize = 64;

/// The failure of the launch an attach made for container `id` (its full ID), if any: the
/// `start` that follows answers with it instead of launching again.
pub fn take_failed_launch(id: &str) -> Option<ApiError> {
    FAILED_LAUNCHES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id)
}

impl Wanted {
    /// The engine's attach request for the live streams.
    fn request(&self) -> AttachRequest {
        AttachRequest {
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
            detach_keys: self.detach_keys.clone(),
            start: false,
        }
    }

    fn from_query(query: &BTreeMap<String, String>) -> Result<Wanted, ApiError> {
        let flag = |k: &str| {
            query
                .get(k)
                .is_some_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
        };
        let detach_keys = DetachKeys::parse(query.get("detachKeys").map_or("", String::as_str))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Wanted {
            stdin: flag("stdin"),
            stdout: flag("stdout"),
            stderr: flag("stderr"),
            logs: flag("logs"),
            stream: flag("stream"),
            detach_keys,
        })
    }
}

/// Answers the attach request `req` for container `id`.
pub async fn attach(
    opts: EngineOptions,
    mut req: Request,
    id: String,
    query: BTreeMap<String, String>,
) -> Response {
    let wanted = match Wanted::from_query(&query) {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let (tty, attached) = match prepare(&opts, &id, &wanted).await {
        Ok(prepared) => prepared,
        Err(r) => return r,
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let conn = TokioIo::new(upgraded);
                bridge(conn, opts, id, tty, !tty, wanted, attached).await
            }
            Err(e) => log::debug!("attach to {id}: no upgrade: {e}"),
        }
    });
    hijack::upgraded(tty)
}

/// `GET /containers/{id}/attach/ws`: the attach over a WebSocket, as dockerd serves it. The
/// output is never multiplexed (stdout and stderr both go as they come, one message per
/// chunk, binary from API 1.28 and text before); the client's messages are the container's
/// stdin. Before API 1.42 the `stdin`, `stdout` and `stderr` parameters are ignored and all
/// three streams attached; `logs`, `stream` and `detachKeys` mean what they mean for
/// `POST /attach`.
pub async fn attach_ws(
    opts: EngineOptions,
    req: Request,
    id: String,
    query: BTreeMap<String, String>,
    version: ApiVersion,
) -> Response {
    let mut wanted = match Wanted::from_query(&query) {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    if version < ApiVersion::new(1, 42) {
        (wanted.stdin, wanted.stdout, wanted.stderr) = (true, true, true);
    }
    let (mut parts, _) = req.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(rejected) => {
            // The container's absence is the answer dockerd gives first.
            if let Err(r) = exists(&opts, &id).await {
                return r;
            }
            return rejected.into_response();
        }
    };
    let (tty, attached) = match prepare(&opts, &id, &wanted).await {
        Ok(prepared) => prepared,
        Err(r) => return r,
    };
    let binary = version >= ApiVersion::new(1, 28);
    upgrade.on_upgrade(move |socket| async move {
        let conn = crate::ws::byte_stream(socket, binary);
        bridge(conn, opts, id, tty, false, wanted, attached).await;
    })
}

/// Whether container `id` exists (else its 404 answer).
async fn exists(opts: &EngineOptions, id: &str) -> Result<(), Response> {
    let (opts, id) = (opts.clone(), id.to_string());
    let found = tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        Engine::open(opts)?.inspect_container(&id, false)?;
        Ok(())
    })
    .await;
    match found {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.into_response()),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()),
    }
}

/// Container `id`'s `Tty`, once a live attach (`stream`) has its shim ready: a container that
/// has not started gets one holding its process until the `start` (a failed launch is kept for
/// that `start` to report). Without the log first, the session is also connected to the shim
/// here, its streams announced, before the client has its answer and sends `start`: output
/// the container writes at once is then not lost. Errors are the answer to send.
async fn prepare(
    opts: &EngineOptions,
    id: &str,
    wanted: &Wanted,
) -> Result<(bool, Option<Attached>), Response> {
    let (opts, id, wanted) = (opts.clone(), id.to_string(), wanted.clone());
    let prepared = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let mut engine = Engine::open(opts)?;
        let c = engine.inspect_container(&id, false)?;
        let mut attached = None;
        // Only a live attach needs the shim (a logs-only one must not start anything).
        if wanted.stream {
            if let Err(e) = engine.prepare_attach(&c.id) {
                let mut failed = FAILED_LAUNCHES.lock().unwrap_or_else(|e| e.into_inner());
                if failed.len() >= MAX_FAILED_LAUNCHES {
                    failed.pop_first();
                }
                failed.insert(c.id.clone(), e.into());
            } else if !wanted.logs || c.state.status == "created" {
                // With the log first, live output must not come before it: that session
                // connects once the log is sent ([`bridge`]). A container that never ran has
                // no log yet: connect now, before the client's `start`, or what it writes
                // between the (empty) log and a later connect would be lost.
                match engine.connect_attach(&c.id, &wanted.request()) {
                    Ok(a) => attached = Some(a),
                    Err(e) => log::debug!("attach to {id}: {e}"),
                }
            }
        }
        Ok((c.config.tty, attached))
    })
    .await;
    match prepared {
        Ok(Ok(prepared)) => Ok(prepared),
        Ok(Err(e)) => Err(e.into_response()),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()),
    }
}

/// Copies between the upgraded connection and the container until its output ends: the log
/// first when asked, then the live streams when asked; `multiplexed`: in Docker's frames
/// (never with a terminal, whose one stream is raw).
async fn bridge<T: AsyncRead + AsyncWrite + Send + 'static>(
    conn: T,
    opts: EngineOptions,
    id: String,
    tty: bool,
    multiplexed: bool,
    wanted: Wanted,
    attached: Option<Attached>,
) {
    let pipes = (|| -> std::io::Result<_> {
        let p = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC);
        Ok((p()?, p()?, p()?))
    })();
    let Ok(((in_r, in_w), (out_r, out_w), (err_r, err_w))) = pipes else {
        return;
    };
    let attach = {
        let (id, wanted) = (id.clone(), wanted.clone());
        tokio::task::spawn_blocking(move || {
            let Ok(mut engine) = Engine::open(opts) else {
                return;
            };
            // Connected before the answer (the container had not run): its whole output
            // comes live, and reading the log too would send it twice.
            if wanted.logs && (wanted.stdout || wanted.stderr) && attached.is_none() {
                let options = LogOptions {
                    stdout: wanted.stdout,
                    stderr: wanted.stderr,
                    ..LogOptions::default()
                };
                let (mut out, mut err) = (
                    std::fs::File::from(out_w.try_clone().expect("a pipe's fd")),
                    std::fs::File::from(err_w.try_clone().expect("a pipe's fd")),
                );
                let req = LogsRequest { options };
                if let Err(e) = engine.container_logs(&id, &req, &mut out, &mut err) {
                    log::debug!("attach to {id}: logs: {e}");
                }
            }
            if !wanted.stream {
                return;
            }
            let io = AttachIo {
                stdin: in_r.as_fd(),
                stdout: out_w.as_fd(),
                stderr: err_w.as_fd(),
            };
            // The shim watches stdin for the detach keys and ends the attach on them.
            let ran = match attached {
                Some(a) => a.run(io),
                None => engine.attach_container_io(&id, &wanted.request(), io),
            };
            if let Err(e) = ran {
                log::debug!("attach to {id}: {e}");
            }
            // Dropping the write ends here ends the output copy below.
        })
    };
    let (Ok(sink), Ok(out), Ok(err)) = (
        pipe::Sender::from_owned_fd(in_w),
        pipe::Receiver::from_owned_fd(out_r),
        pipe::Receiver::from_owned_fd(err_r),
    ) else {
        return;
    };
    // With a terminal the shim sends everything as stdout, raw.
    let output = hijack::Output {
        out,
        err: (!tty).then_some(err),
        framed: multiplexed && !tty,
    };
    let finish = async move {
        let _ = attach.await;
    };
    if wanted.logs {
        // The log is ready at once, unlike a process's output, and a client that reads the
        // 101 answer through a buffered reader before it takes the raw socket (docker-py) loses
        // whatever came in the same read; dockerd's slower start gives it that moment too.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    hijack::pump(conn, Some(sink), output, None, finish).await;
}
