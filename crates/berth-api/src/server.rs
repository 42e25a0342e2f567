//! The listener: a unix socket, mode 0660 from the moment it appears (bound under a temporary
//! name, restricted, then renamed into place), served by axum until SIGINT or SIGTERM, then
//! removed. Every request goes through [`handle`]: version prefix, route, handler in the
//! blocking pool, Docker's headers on the answer.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use berth_engine::info::VERSION;
use berth_engine::EngineOptions;

use crate::request::{ApiError, Request};
use crate::routes::{self, Ctx, Hijack};
use crate::version;

/// How long requests under way may finish after SIGTERM or SIGINT (streams such as a followed
/// log, events or stats never finish: the server exits within about this long regardless).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

/// Where `berth serve` listens without `--host`.
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Not a `unix://` address.
    #[error("unsupported host {0:?}: berth serves on unix sockets only (unix:///path/to/sock)")]
    Host(String),
    /// `fd://` without sockets from systemd.
    #[error(
        "no sockets found via socket activation: make sure the service was started by systemd"
    )]
    NoActivation,
    /// `--group` names a group this machine does not have.
    #[error("group {0:?} not found")]
    NoGroup(String),
    /// Another server answers on the socket already.
    #[error("{0}: another server is listening on this socket")]
    InUse(PathBuf),
    /// A file operation on the socket failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ServeError + '_ {
    move |source| ServeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Serves the engine of `opts` on `host` until SIGINT or SIGTERM: `unix:///path` (a socket
/// of mode 0660, given to `group`, or without one to the `berth` group when the machine has
/// it), or `fd://` for the socket systemd passes (`berth.socket` sets its owner and mode).
pub fn serve(opts: EngineOptions, host: &str, group: Option<&str>) -> Result<(), ServeError> {
    if host == "fd://" {
        let listener = crate::activation::systemd_listener()?;
        return serve_on(opts, Listen::Passed(listener));
    }
    let path = PathBuf::from(
        host.strip_prefix("unix://")
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| ServeError::Host(host.to_string()))?,
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    if std::os::unix::net::UnixStream::connect(&path).is_ok() {
        return Err(ServeError::InUse(path));
    }
    let gid = crate::activation::group_id(group)?;
    serve_on(opts, Listen::Bind(path, gid))
}

/// Where the server's connections come from.
enum Listen {
    /// A socket berth binds at this path (and removes when it stops), given to this group.
    Bind(PathBuf, Option<u32>),
    /// A socket already listening, passed by systemd.
    Passed(std::os::unix::net::UnixListener),
}

fn serve_on(opts: EngineOptions, listen: Listen) -> Result<(), ServeError> {
    let path = match &listen {
        Listen::Bind(path, _) => path.clone(),
        Listen::Passed(l) => l
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("fd://")),
    };
    // A client that goes away mid-stream must end its stream, not the server: writes to its
    // pipes and sockets fail with EPIPE instead of raising SIGPIPE (which the berth CLI
    // restores to its default for `| head`).
    // SAFETY: setting SIGPIPE's disposition to "ignore" installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_err(&path))?;
    let owned = matches!(listen, Listen::Bind(..));
    let result = runtime.block_on(async {
        let listener = match listen {
            Listen::Bind(path, gid) => bind_private(&path, gid)?,
            Listen::Passed(l) => {
                l.set_nonblocking(true).map_err(io_err(&path))?;
                tokio::net::UnixListener::from_std(l).map_err(io_err(&path))?
            }
        };
        log::info!("berth serve: listening on unix://{}", path.display());
        let shared = Arc::new(Shared {
            opts,
            terminals: Default::default(),
        });
        let app = Router::new().fallback(handle).with_state(shared);
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let server = serve_connections(listener, app, stopping);
        // On SIGTERM or SIGINT: no new connections, and requests under way get a grace
        // period (a `wait` or an attach may never end on its own).
        tokio::select! {
            served = server => served.map_err(io_err(&path)),
            () = async {
                shutdown().await;
                let _ = stop.send(true);
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => Ok(()),
        }
    });
    // Attached clients and execs leave blocking threads (an attach to a shim, a wait for an
    // exec's process) that never end on their own; the runtime is not waited on for them. The
    // containers and their shims run on without the server.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    // A passed socket belongs to systemd, which keeps it for the next activation.
    if owned {
        let _ = std::fs::remove_file(&path);
    }
    result
}

/// How long a connection may take to send a request's headers, counted from when the server
/// waits for them: a half-open connection, and an idle one between requests, is closed after
/// it (hyper's header-read timeout, which also runs while a keep-alive connection waits).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The most connections served at once; one more is closed as soon as it is accepted, so idle
/// clients cannot take every file descriptor of the server.
pub const MAX_CONNECTIONS: usize = 512;

/// Accepts connections on `listener` and serves `app` on each (HTTP/1.1 with upgrades, for
/// attach and exec) until `stopping` turns true; then each connection finishes the request
/// under way and closes, and this returns once all have.
async fn serve_connections(
    listener: tokio::net::UnixListener,
    app: Router,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and friends: wait a little instead of spinning.
                    log::warn!("berth serve: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(stopping.clone()) => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            log::warn!("berth serve: {MAX_CONNECTIONS} connections open; closing a new one");
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = builder
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .with_upgrades();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        log::debug!("berth serve: connection: {e}");
                    }
                }
                () = stopped(stopping) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(slot);
        });
    }
    // Every connection has ended once all slots are back.
    let _ = slots.acquire_many(MAX_CONNECTIONS as u32).await;
    Ok(())
}

/// Resolves once `stopping` turns true.
async fn stopped(mut stopping: tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

/// Binds `path` so that it is never reachable with wider permissions than 0660: the socket is
/// made under a temporary name in the same directory, restricted (and given to group `gid`),
/// then renamed over `path`.
fn bind_private(path: &Path, gid: Option<u32>) -> Result<tokio::net::UnixListener, ServeError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let listener = tokio::net::UnixListener::bind(&tmp).map_err(io_err(&tmp))?;
    let restricted = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o660))
        .and_then(|()| std::os::unix::fs::chown(&tmp, None, gid))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = restricted {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    Ok(listener)
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The largest request body read (image uploads are not served; JSON bodies are small).
const BODY_LIMIT: usize = 16 << 20;

/// What every request sees: the data root, and the exec instances created so far.
pub struct Shared {
    /// How to open the engine.
    pub opts: EngineOptions,
    /// `POST /containers/{id}/exec` instances, until the server stops.
    pub terminals: crate::exec::Terminals,
}

async fn handle(State(shared): State<Arc<Shared>>, req: axum::extract::Request) -> Response {
    let (method, uri) = (req.method().clone(), req.uri().clone());
    log::debug!("{method} {uri} …");
    let query = Query::<BTreeMap<String, String>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let mut response = match dispatch(&shared, req, query).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    log::debug!("{method} {uri} → {}", response.status());
    let h = response.headers_mut();
    h.insert(
        "Api-Version",
        HeaderValue::from_str(&version::MAX.to_string()).expect("a version is a header value"),
    );
    h.insert(
        "Server",
        HeaderValue::from_str(&format!("berth/{VERSION} (linux)")).expect("ASCII"),
    );
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    response
}

/// Reads and drops what is left of a request that is answered without it (at most
/// [`BODY_LIMIT`]): a client still sending its body when the answer comes and the connection
/// closes sees "broken pipe" instead of the answer.
async fn drain(req: axum::extract::Request) {
    let _ = axum::body::to_bytes(req.into_body(), BODY_LIMIT).await;
}

async fn dispatch(
    shared: &Arc<Shared>,
    req: axum::extract::Request,
    query: BTreeMap<String, String>,
) -> Result<Response, ApiError> {
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let (version, rest) = match version::split(&path) {
        Ok(split) => split,
        Err(e) => {
            drain(req).await;
            return Err(ApiError::bad_request(e));
        }
    };
    match routes::hijack_target(req.method(), rest) {
        Some(Hijack::Attach(id)) => {
            return Ok(crate::attach::attach(shared.opts.clone(), req, id, query).await)
        }
        Some(Hijack::AttachWs(id)) => {
            let opts = shared.opts.clone();
            return Ok(crate::attach::attach_ws(opts, req, id, query, version).await);
        }
        Some(Hijack::ExecStart(id)) => return Ok(crate::exec::start(shared.clone(), req, id).await),
        None => {}
    }
    if req.method() == axum::http::Method::POST && rest.trim_end_matches('/') == "/build" {
        let opts = shared.opts.clone();
        let raw = req.uri().query().unwrap_or("").to_string();
        let registry_config = req
            .headers()
            .get("x-registry-config")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = req.into_body();
        return tokio::task::spawn_blocking(move || {
            crate::build::build(opts, &raw, query, registry_config.as_deref(), body)
        })
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(format!("handler failed: {e}"))));
    }
    let (handler, param) = match routes::route(req.method(), rest) {
        Ok(found) => found,
        Err(e) => {
            drain(req).await;
            return Err(e);
        }
    };
    let registry_auth = req
        .headers()
        .get("x-registry-auth")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (body, upload) = if crate::upload::streams_body(req.method(), rest) {
        let reader = crate::upload::BodyReader::spawn(req.into_body());
        (Bytes::new(), Some(reader))
    } else {
        let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        (body, None)
    };
    let req = Request {
        version,
        query,
        body,
        upload,
        raw_query,
        registry_auth,
    };
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || handler(&mut Ctx::new(shared, req, param)))
        .await
        .unwrap_or_else(|e| {
            Ok((
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("handler failed: {e}"),
            )
                .into_response())
        })
}
