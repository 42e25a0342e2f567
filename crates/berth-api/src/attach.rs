//! `POST /containers/{id}/attach`: the one endpoint that takes the connection over. The server
//! answers `101 UPGRADED` and the socket then carries the container's output (raw with a
//! terminal, otherwise Docker's multiplexed frames) one way and its stdin the other.
//!
//! The engine's attach speaks to the shim over file descriptors, so the bridge is three pipes:
//! a blocking thread runs [`Engine::attach_container_io`] on their far ends while two tasks copy
//! between the near ends and the upgraded connection. A container that has not started gets
//! its shim first, holding the created process until the client's `start` (so nothing it
//! prints is lost, which is why the docker CLI attaches before it starts).

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_engine::container::AttachRequest;
use berth_engine::{Engine, EngineOptions};
use berth_runtime::attach::{AttachIo, DetachKeys};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::unix::pipe;

use crate::mux;
use crate::request::ApiError;

/// Which streams the client wants.
#[derive(Debug, Clone, Copy)]
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
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
            engine.prepare_attach(&id)?;
            Ok(engine.inspect_container(&id, false)?.config.tty)
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
    let mut r = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = r.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if tty {
            "application/vnd.docker.raw-stream"
        } else {
            "application/vnd.docker.multiplexed-stream"
        }),
    );
    r
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
    let (mut from_client, mut to_client) = tokio::io::split(conn);
    let stdin = tokio::spawn(async move {
        let Ok(mut sink) = pipe::Sender::from_owned_fd(in_w) else {
            return;
        };
        let _ = tokio::io::copy(&mut from_client, &mut sink).await;
        // The client closed its side: the container's stdin ends (dropping `sink`).
    });
    let _ = copy_output(out_r, err_r, tty, &mut to_client).await;
    let _ = to_client.shutdown().await;
    stdin.abort();
    let _ = attach.await;
}

/// Writes what the container prints to the client: stdout and stderr in Docker's frames
/// (stream number, three zero bytes, big-endian length), or raw with a terminal.
async fn copy_output<W: AsyncWrite + Unpin>(
    out: OwnedFd,
    err: OwnedFd,
    tty: bool,
    to: &mut W,
) -> std::io::Result<()> {
    let mut out = pipe::Receiver::from_owned_fd(out)?;
    let mut err = pipe::Receiver::from_owned_fd(err)?;
    let (mut out_open, mut err_open) = (true, true);
    let (mut a, mut b) = (vec![0u8; 32 * 1024], vec![0u8; 32 * 1024]);
    while out_open || err_open {
        let (stream, n) = tokio::select! {
            n = out.read(&mut a), if out_open => (mux::STDOUT, n?),
            n = err.read(&mut b), if err_open => (mux::STDERR, n?),
        };
        let data = if stream == mux::STDOUT {
            &a[..n]
        } else {
            &b[..n]
        };
        if n == 0 {
            if stream == mux::STDOUT {
                out_open = false;
            } else {
                err_open = false;
            }
            continue;
        }
        if !tty {
            to.write_all(&mux::header(stream, n)).await?;
        }
        to.write_all(data).await?;
        to.flush().await?;
    }
    Ok(())
}
