//! Exec instances: `POST /containers/{id}/exec` records one, `POST /exec/{id}/start` runs it
//! (taking the connection over unless detached), `GET /exec/{id}/json` tells its exit code,
//! `POST /exec/{id}/resize` sizes its terminal. Instances live in memory until the server stops.
//!
//! The process is run by a `berth exec` child of the server — the CLI's own, tested path —
//! with its stdio on pipes or, for `Tty`, on a pty whose master the server pumps. A terminal
//! exec makes its runner a child subreaper to collect the process's status; that must not be
//! the server, whose shims would then be reparented to it.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_runtime::term::{self, PtyPair, WinSize};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

use crate::hijack;
use crate::request::{empty, json, ApiError, ApiResult};
use crate::routes::Ctx;
use crate::server::Shared;

/// What `POST /containers/{id}/exec` asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Config {
    attach_stdin: bool,
    attach_stdout: bool,
    attach_stderr: bool,
    tty: bool,
    cmd: Vec<String>,
    env: Vec<String>,
    working_dir: String,
    user: String,
}

/// One exec instance.
#[derive(Debug)]
struct Entry {
    container: String,
    config: Config,
    running: bool,
    exit_code: Option<i32>,
    pid: u32,
    /// The pty master of a running terminal exec (for resize).
    master: Option<Arc<OwnedFd>>,
}

/// The server's exec instances, by ID.
#[derive(Debug, Default)]
pub struct Registry(Mutex<HashMap<String, Entry>>);

impl Registry {
    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Entry) -> T) -> Result<T, ApiError> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get_mut(id)
            .map(f)
            .ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
    }
}

/// `POST /containers/{id}/exec`: 201 with the new instance's ID.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let config: Config = ctx.req.json()?;
    if config.cmd.is_empty() {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    let name = ctx.param.clone();
    let c = ctx.engine()?.container(&name)?;
    c.can_exec().map_err(berth_engine::EngineError::from)?;
    let id = berth_store::fsutil::random_hex(32);
    let entry = Entry {
        container: c.id,
        config,
        running: false,
        exit_code: None,
        pid: 0,
        master: None,
    };
    ctx.execs()
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id.clone(), entry);
    Ok(json(StatusCode::CREATED, &json!({ "Id": id })))
}

/// `GET /exec/{id}/json`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let value = ctx.execs().with(&id, |e| {
        json!({
            "ID": id,
            "Running": e.running,
            "ExitCode": e.exit_code,
            "ProcessConfig": {
                "tty": e.config.tty,
                "entrypoint": e.config.cmd[0],
                "arguments": &e.config.cmd[1..],
                "privileged": false,
                "user": e.config.user,
            },
            "OpenStdin": e.config.attach_stdin,
            "OpenStderr": e.config.attach_stderr,
            "OpenStdout": e.config.attach_stdout,
            "CanRemove": false,
            "ContainerID": e.container,
            "DetachKeys": "",
            "Pid": e.pid,
        })
    })?;
    Ok(json(StatusCode::OK, &value))
}

/// `POST /exec/{id}/resize?h=&w=`.
pub fn resize(ctx: &mut Ctx) -> ApiResult {
    let (rows, cols) = ctx.req.terminal_size()?;
    let id = ctx.param.clone();
    if let Some(master) = ctx.execs().with(&id, |e| e.master.clone())? {
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
}

/// `berth exec` for `config` in `container`, as a child of the server.
fn runner(
    opts: &berth_engine::EngineOptions,
    container: &str,
    config: &Config,
    detach: bool,
) -> Command {
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg("--root").arg(&opts.root).arg("exec");
    if detach {
        cmd.arg("-d");
    }
    if config.attach_stdin && !detach {
        cmd.arg("-i");
    }
    if config.tty {
        cmd.arg("-t");
    }
    // `--flag=value` and `--` keep values from the request (which may start with `-`) from
    // being read as flags.
    for e in &config.env {
        cmd.arg(format!("--env={e}"));
    }
    if !config.working_dir.is_empty() {
        cmd.arg(format!("--workdir={}", config.working_dir));
    }
    if !config.user.is_empty() {
        cmd.arg(format!("--user={}", config.user));
    }
    cmd.arg("--").arg(container).args(&config.cmd);
    cmd
}

/// `POST /exec/{id}/start`: runs the instance, detached (200) or on the taken-over connection.
pub async fn start(shared: Arc<Shared>, req: Request, id: String) -> Response {
    match start_inner(shared, req, id).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn start_inner(
    shared: Arc<Shared>,
    mut req: Request,
    id: String,
) -> Result<Response, ApiError> {
    let upgrade = hyper::upgrade::on(&mut req);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let start: StartBody = if body.iter().all(u8::is_ascii_whitespace) {
        StartBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let (container, config) = shared.execs.with(&id, |e| {
        if e.running || e.exit_code.is_some() {
            Err(ApiError::conflict(format!(
                "Exec command {id} has already run"
            )))
        } else {
            e.running = true;
            Ok((e.container.clone(), e.config.clone()))
        }
    })??;
    let mut cmd = runner(&shared.opts, &container, &config, start.detach);
    let io_err = |e: std::io::Error| ApiError::internal(format!("exec {id}: {e}"));

    if start.detach {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(io_err)?;
        shared
            .execs
            .with(&id, |e| e.running = out.status.success())?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(ApiError::internal(text));
        }
        return Ok(empty(StatusCode::OK));
    }

    // Attached: the runner's stdio on a pty or on pipes, pumped to the connection.
    let stdio = if config.tty {
        on_pty(&mut cmd, &shared, &id)
    } else {
        on_pipes(&mut cmd, config.attach_stdin)
    };
    let spawned = stdio.and_then(|io| Ok((io, cmd.spawn().map_err(io_err)?)));
    let ((stdin, out, err), mut child) = match spawned {
        Ok(x) => x,
        Err(e) => {
            let _ = shared.execs.with(&id, |e| e.running = false);
            return Err(e);
        }
    };
    // Our copies of the child's ends are gone with `cmd`: the output ends when the process does.
    drop(cmd);
    let pid = child.id();
    shared.execs.with(&id, |e| e.pid = pid)?;
    let finish = async move {
        let status = tokio::task::spawn_blocking(move || child.wait()).await;
        let code = match status {
            Ok(Ok(s)) => s.code().unwrap_or(137),
            _ => 255,
        };
        let _ = shared.execs.with(&id, |e| {
            e.running = false;
            e.exit_code = Some(code);
            e.master = None;
        });
    };
    tokio::spawn(async move {
        match upgrade.await {
            Ok(conn) => hijack::pump(TokioIo::new(conn), stdin, out, err, finish).await,
            Err(e) => {
                log::debug!("exec: no upgrade: {e}");
                finish.await;
            }
        }
    });
    Ok(hijack::upgraded(config.tty))
}

/// The process's input, and its output as one stream or as stdout and stderr.
type Stdio3 = (
    Option<Box<dyn AsyncWrite + Unpin + Send>>,
    Box<dyn AsyncRead + Unpin + Send>,
    Option<pipe::Receiver>,
);

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("exec: {e}"))
}

/// The runner on a new pty (raw, so the exec's own pty inside the container does the terminal
/// work and newlines are translated once); the master is kept for resizes.
fn on_pty(cmd: &mut Command, shared: &Shared, id: &str) -> Result<Stdio3, ApiError> {
    let pty = PtyPair::open().map_err(internal)?;
    let mut mode = rustix::termios::tcgetattr(&pty.slave).map_err(internal)?;
    mode.make_raw();
    rustix::termios::tcsetattr(&pty.slave, rustix::termios::OptionalActions::Now, &mode)
        .map_err(internal)?;
    cmd.stdin(Stdio::from(pty.slave.try_clone().map_err(internal)?))
        .stdout(Stdio::from(pty.slave.try_clone().map_err(internal)?))
        .stderr(Stdio::from(pty.slave));
    let master = Arc::new(pty.master);
    shared.execs.with(id, |e| e.master = Some(master.clone()))?;
    let file = || -> Result<tokio::fs::File, ApiError> {
        let fd = master.try_clone().map_err(internal)?;
        Ok(tokio::fs::File::from_std(std::fs::File::from(fd)))
    };
    Ok((Some(Box::new(file()?)), Box::new(file()?), None))
}

/// The runner on pipes: stdout and stderr apart, stdin only when the client attaches it.
fn on_pipes(cmd: &mut Command, attach_stdin: bool) -> Result<Stdio3, ApiError> {
    let p = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(internal);
    let (out_r, out_w) = p()?;
    let (err_r, err_w) = p()?;
    cmd.stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
    let stdin: Option<Box<dyn AsyncWrite + Unpin + Send>> = if attach_stdin {
        let (in_r, in_w) = p()?;
        cmd.stdin(Stdio::from(in_r));
        Some(Box::new(
            pipe::Sender::from_owned_fd(in_w).map_err(internal)?,
        ))
    } else {
        cmd.stdin(Stdio::null());
        None
    };
    let out = pipe::Receiver::from_owned_fd(out_r).map_err(internal)?;
    let err = pipe::Receiver::from_owned_fd(err_r).map_err(internal)?;
    Ok((stdin, Box::new(out), Some(err)))
}
