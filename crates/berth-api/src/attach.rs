//! `POST /containers/{id}/attach`: takes the connection over ([`crate::hijack`]): it then
//! carries the container's output one way and its stdin the other.
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

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_engine::container::AttachRequest;
use berth_engine::{Engine, EngineOptions};
use berth_runtime::attach::{AttachIo, DetachKeys};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

use crate::hijack;
use crate::request::ApiError;

/// Which streams the client wants.
#[derive(Debug, Clone, Copy)]
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
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

/// Answers the attach request `req` for container `id`.
pub async fn attach(
    opts: EngineOptions,
    mut req: Request,
    id: String,
    query: BTreeMap<String, String>,
) -> Response {
    let flag = |k: &str| {
        query
            .get(k)
            .is_some_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
    };
    let streams = Streams {
        stdin: flag("stdin"),
        stdout: flag("stdout"),
        stderr: flag("stderr"),
    };
    let prepared = {
        let (opts, id) = (opts.clone(), id.clone());
        tokio::task::spawn_blocking(move || -> Result<bool, ApiError> {
            let mut engine = Engine::open(opts)?;
            let c = engine.inspect_container(&id, false)?;
            if let Err(e) = engine.prepare_attach(&c.id) {
                let mut failed = FAILED_LAUNCHES.lock().unwrap_or_else(|e| e.into_inner());
                if failed.len() >= MAX_FAILED_LAUNCHES {
                    failed.pop_first();
                }
                failed.insert(c.id.clone(), e.into());
            }
            Ok(c.config.tty)
        })
        .await
    };
    let tty = match prepared {
        Ok(Ok(tty)) => tty,
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => bridge(TokioIo::new(upgraded), opts, id, tty, streams).await,
            Err(e) => log::debug!("attach to {id}: no upgrade: {e}"),
        }
    });
    hijack::upgraded(tty)
}

/// Copies between the upgraded connection and the container until its output ends.
async fn bridge<T: AsyncRead + AsyncWrite + Send + 'static>(
    conn: T,
    opts: EngineOptions,
    id: String,
    tty: bool,
    streams: Streams,
) {
    let pipes = (|| -> std::io::Result<_> {
        let p = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC);
        Ok((p()?, p()?, p()?))
    })();
    let Ok(((in_r, in_w), (out_r, out_w), (err_r, err_w))) = pipes else {
        return;
    };
    let attach = {
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            let Ok(mut engine) = Engine::open(opts) else {
                return;
            };
            let req = AttachRequest {
                stdin: streams.stdin,
                stdout: streams.stdout,
                stderr: streams.stderr,
                detach_keys: DetachKeys::default(),
                start: false,
            };
            let io = AttachIo {
                stdin: in_r.as_fd(),
                stdout: out_w.as_fd(),
                stderr: err_w.as_fd(),
            };
            if let Err(e) = engine.attach_container_io(&id, &req, io) {
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
    // With a terminal the shim sends everything as stdout.
    let finish = async {
        let _ = attach.await;
    };
    hijack::pump(conn, Some(sink), out, (!tty).then_some(err), finish).await;
}
