//! Exec endpoints: `POST /containers/{id}/exec` records an instance, `POST /exec/{id}/start`
//! runs it (taking the connection over unless detached), `GET /exec/{id}/json` reports it,
//! `POST /exec/{id}/resize` sizes its terminal. Instances are the engine's (rows of the store),
//! shared with the CLI and kept across restarts of the server.
//!
//! An attached start runs the engine's exec shim with its stdio on pipes or, for `Tty`, on a pty
//! whose master the server pumps; the shim records the process's pid and exit code, and the
//! stream closes after that, so a client that inspects right after the stream ends reads the
//! exit code.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_engine::io::DetachKeys;
use berth_engine::io::{term, PtyPair, WinSize};
use berth_engine::types::ExecConfig;
use berth_engine::Engine;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

use crate::hijack;
use crate::request::{empty, json, ApiError, ApiResult};
use crate::routes::Ctx;
use crate::server::Shared;

/// The pty masters of this server's running terminal execs, by exec ID (for resize).
#[derive(Debug, Default)]
pub struct Terminals(Mutex<HashMap<String, Arc<OwnedFd>>>);

impl Terminals {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OwnedFd>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `POST /containers/{id}/exec`: 201 with the new instance's ID.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let config: ExecConfig = ctx.req.json()?;
    let name = ctx.param.clone();
    let id = ctx.engine()?.create_exec(&name, config)?;
    Ok(json(StatusCode::CREATED, &json!({ "Id": id })))
}

/// `GET /exec/{id}/json`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let value = ctx.engine()?.inspect_exec(&id)?;
    Ok(json(StatusCode::OK, &value))
}

/// `POST /exec/{id}/resize?h=&w=`: sizes the terminal of an exec this server runs; an instance
/// run elsewhere (by the CLI) has no terminal here to size.
pub fn resize(ctx: &mut Ctx) -> ApiResult {
    let (rows, cols) = ctx.req.terminal_size()?;
    let id = ctx.param.clone();
    ctx.engine()?.inspect_exec(&id)?;
    if let Some(master) = ctx.terminals().lock().get(&id).cloned() {
        term::set_window_size(master.as_fd(), WinSize { rows, cols })
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    Ok(empty(StatusCode::OK))
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct StartBody {
    detach: bool,
    tty: bool,
}

/// `POST /exec/{id}/start`: runs the instance, detached (200) or on the taken-over connection.
pub async fn start(shared: Arc<Shared>, req: Request, id: String) -> Response {
    match start_inner(shared, req, id).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Runs `f` on an engine of its own in the blocking pool.
async fn blocking<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&mut Engine) -> Result<T, berth_engine::EngineError> + Send + 'static,
) -> Result<T, ApiError> {
    let opts = shared.opts.clone();
    tokio::task::spawn_blocking(move || {
        let mut engine = Engine::open(opts)?;
        f(&mut engine).map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
}

async fn start_inner(
    shared: Arc<Shared>,
    mut req: Request,
    id: String,
) -> Result<Response, ApiError> {
    let upgrading = req.headers().contains_key(axum::http::header::UPGRADE);
    let upgrade = hyper::upgrade::on(&mut req);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let start: StartBody = if body.iter().all(u8::is_ascii_whitespace) {
        StartBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let exec_id = id.clone();
    if start.detach {
        blocking(&shared, move |e| e.start_exec_detached(&exec_id)).await?;
        return Ok(empty(StatusCode::OK));
    }
    let config = blocking(&shared, move |e| e.claim_exec(&exec_id)).await?;
    // The process gets a terminal by the create's `Tty`; the stream is raw or multiplexed by
    // the start's, as dockerd frames it.
    let tty = config.tty;
    let detach =
        DetachKeys::parse(&config.detach_keys).map_err(|e| ApiError::bad_request(e.to_string()))?;

    // Attached: the shim's stdio on a pty or on pipes, pumped to the connection.
    let (stdio, streams) = if tty {
        on_pty(&shared, &id)?
    } else {
        on_pipes(config.attach_stdin)?
    };
    let exec_id = id.clone();
    let spawned = blocking(&shared, move |e| e.spawn_exec_shim(&exec_id, stdio, tty)).await;
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            shared.terminals.lock().remove(&id);
            return Err(e);
        }
    };
    let (stdin, out, err) = streams;
    let finish = async move {
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        shared.terminals.lock().remove(&id);
    };
    let output = hijack::Output {
        out,
        err,
        framed: !start.tty,
    };
    if !upgrading {
        // No `Upgrade` asked (curl, plain HTTP clients): dockerd answers 200 and sends the
        // output as the body; there is no way to send stdin, so it ends at once.
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        drop(stdin);
        let no_stdin: Option<Box<dyn AsyncWrite + Unpin + Send>> = None;
        tokio::spawn(hijack::pump(ours, no_stdin, output, None, finish));
        return Ok(hijack::streamed_output(theirs, start.tty));
    }
    tokio::spawn(async move {
        match upgrade.await {
            Ok(conn) => hijack::pump(TokioIo::new(conn), stdin, output, Some(detach), finish).await,
            Err(e) => {
                log::debug!("exec: no upgrade: {e}");
                finish.await;
            }
        }
    });
    Ok(hijack::upgraded(start.tty))
}

/// The process's input, and its output as one stream or as stdout and stderr.
type Streams = (
    Option<Box<dyn AsyncWrite + Unpin + Send>>,
    Box<dyn AsyncRead + Unpin + Send>,
    Option<pipe::Receiver>,
);

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("exec: {e}"))
}

/// A new pty for the shim (raw, so the exec's own pty inside the container does the terminal
/// work and newlines are translated once); the master is kept for resizes.
fn on_pty(shared: &Shared, id: &str) -> Result<([Stdio; 3], Streams), ApiError> {
    let pty = PtyPair::open().map_err(internal)?;
    let mut mode = rustix::termios::tcgetattr(&pty.slave).map_err(internal)?;
    mode.make_raw();
    rustix::termios::tcsetattr(&pty.slave, rustix::termios::OptionalActions::Now, &mode)
        .map_err(internal)?;
    let stdio = [
        Stdio::from(pty.slave.try_clone().map_err(internal)?),
        Stdio::from(pty.slave.try_clone().map_err(internal)?),
        Stdio::from(pty.slave),
    ];
    let master = Arc::new(pty.master);
    shared
        .terminals
        .lock()
        .insert(id.to_string(), master.clone());
    let file = || -> Result<tokio::fs::File, ApiError> {
        let fd = master.try_clone().map_err(internal)?;
        Ok(tokio::fs::File::from_std(std::fs::File::from(fd)))
    };
    Ok((stdio, (Some(Box::new(file()?)), Box::new(file()?), None)))
}

/// Pipes for the shim: stdout and stderr apart, stdin only when the client attaches it.
fn on_pipes(attach_stdin: bool) -> Result<([Stdio; 3], Streams), ApiError> {
    let p = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(internal);
    let (out_r, out_w) = p()?;
    let (err_r, err_w) = p()?;
    let (stdin_io, stdin): (Stdio, Option<Box<dyn AsyncWrite + Unpin + Send>>) = if attach_stdin {
        let (in_r, in_w) = p()?;
        (
            Stdio::from(in_r),
            Some(Box::new(
                pipe::Sender::from_owned_fd(in_w).map_err(internal)?,
            )),
        )
    } else {
        (Stdio::null(), None)
    };
    let out = pipe::Receiver::from_owned_fd(out_r).map_err(internal)?;
    let err = pipe::Receiver::from_owned_fd(err_r).map_err(internal)?;
    Ok((
        [stdin_io, Stdio::from(out_w), Stdio::from(err_w)],
        (stdin, Box::new(out), Some(err)),
    ))
}

#[cfg(test)]
mod tests {
    use crate::request::go_nulls::{assert_accepts_go_nulls, go_body};
    use berth_engine::types::ExecConfig as Config;

    #[test]
    fn create_accepts_what_the_go_client_sends() {
        assert_accepts_go_nulls::<Config>(&go_body("exec_create_zero"));
    }
}
