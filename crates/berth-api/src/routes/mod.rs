//! The route table: method and path (after the version prefix) to a handler. Handlers are
//! plain synchronous functions over a [`Ctx`]; the server runs them in tokio's blocking pool.

mod containers;
mod events;
mod files;
mod images;
mod logs;
mod networks;
mod plugins;
mod storage;
mod system;
mod volumes;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use berth_engine::{Engine, EngineError, EngineOptions};
use serde::Serialize;

use crate::request::{json, ApiError, ApiResult, Request};
use crate::server::Shared;

/// What a handler works with: the request, its path parameter, and the engine, opened on
/// first use (`/_ping` never opens it).
pub struct Ctx {
    shared: Arc<Shared>,
    engine: Option<Engine>,
    /// The request.
    pub req: Request,
    /// The `{name}` or `{id}` of the path, if the route has one.
    pub param: String,
}

impl Ctx {
    /// A context for `req` on the server's data root.
    pub fn new(shared: Arc<Shared>, req: Request, param: String) -> Ctx {
        Ctx {
            shared,
            engine: None,
            req,
            param,
        }
    }

    /// How to open another engine on the same data root (for work that outlives the handler,
    /// such as a followed log).
    pub fn engine_options(&self) -> EngineOptions {
        self.shared.opts.clone()
    }

    /// The server's exec instances.
    pub fn terminals(&self) -> &crate::exec::Terminals {
        &self.shared.terminals
    }

    /// The engine over the data root.
    pub fn engine(&mut self) -> Result<&mut Engine, ApiError> {
        if self.engine.is_none() {
            self.engine = Some(Engine::open(self.shared.opts.clone())?);
        }
        Ok(self.engine.as_mut().expect("opened above"))
    }

    /// Runs `verb` with the path parameter; its result is a 200 JSON answer.
    pub fn answer<T: Serialize>(
        &mut self,
        verb: impl FnOnce(&mut Engine, &str) -> Result<T, EngineError>,
    ) -> ApiResult {
        let param = self.param.clone();
        let value = verb(self.engine()?, &param)?;
        Ok(json(StatusCode::OK, &value))
    }
}

/// A handler.
pub type Handler = fn(&mut Ctx) -> ApiResult;

/// The handler for `method` on `path` (without the version prefix) and its path parameter.
pub fn route(method: &Method, path: &str) -> Result<(Handler, String), ApiError> {
    let m = method.as_str();
    if let Some(found) = image_route(m, path) {
        return Ok(found);
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // `DELETE /containers/PARENT/ALIAS?link=1` names a legacy link (dockerd's `{name:.*}`).
    if let ("DELETE", ["containers", parent, alias]) = (m, segments.as_slice()) {
        return Ok((
            containers::remove,
            format!("{}/{}", decode(parent), decode(alias)),
        ));
    }
    let found: Option<(Handler, &str)> = match (m, segments.as_slice()) {
        ("GET" | "HEAD", ["_ping"]) => Some((system::ping, "")),
        ("GET", ["version"]) => Some((system::version, "")),
        ("GET", ["info"]) => Some((system::info, "")),
        ("GET", ["events"]) => Some((events::events, "")),
        ("GET", ["system", "df"]) => Some((system::disk_usage, "")),
        ("POST", ["build", "prune"]) => Some((crate::build::prune, "")),
        ("POST", ["swarm", "leave"]) => Some((system::swarm_leave, "")),
        ("POST", ["containers", "prune"]) => Some((containers::prune, "")),
        ("POST", ["auth"]) => Some((images::auth, "")),
        ("GET", ["volumes"]) => Some((volumes::list, "")),
        ("POST", ["volumes", "create"]) => Some((volumes::create, "")),
        ("POST", ["volumes", "prune"]) => Some((volumes::prune, "")),
        ("GET", ["volumes", name]) => Some((volumes::inspect, name)),
        ("DELETE", ["volumes", name]) => Some((volumes::remove, name)),
        ("GET", ["plugins"]) => Some((plugins::list, "")),
        ("GET", ["plugins", name, "json"]) => Some((plugins::inspect, name)),
        ("GET", ["networks"]) => Some((networks::list, "")),
        ("POST", ["networks", "create"]) => Some((networks::create, "")),
        ("POST", ["networks", "prune"]) => Some((networks::prune, "")),
        ("GET", ["networks", id]) => Some((networks::inspect, id)),
        ("DELETE", ["networks", id]) => Some((networks::remove, id)),
        ("POST", ["networks", id, "connect"]) => Some((networks::connect, id)),
        ("POST", ["networks", id, "disconnect"]) => Some((networks::disconnect, id)),
        ("GET", ["containers", "json"]) => Some((containers::list, "")),
        ("POST", ["containers", "create"]) => Some((containers::create, "")),
        ("GET", ["containers", id, "json"]) => Some((containers::inspect, id)),
        ("POST", ["containers", id, "start"]) => Some((containers::start, id)),
        ("POST", ["containers", id, "stop"]) => Some((containers::stop, id)),
        ("POST", ["containers", id, "restart"]) => Some((containers::restart, id)),
        ("POST", ["containers", id, "kill"]) => Some((containers::kill, id)),
        ("POST", ["containers", id, "wait"]) => Some((containers::wait, id)),
        ("GET", ["containers", id, "logs"]) => Some((logs::logs, id)),
        ("GET", ["containers", id, "storage"]) => Some((storage::storage, id)),
        ("POST", ["containers", id, "resize"]) => Some((containers::resize, id)),
        ("POST", ["containers", id, "update"]) => Some((containers::update, id)),
        ("POST", ["containers", id, "pause"]) => Some((containers::pause, id)),
        ("POST", ["containers", id, "unpause"]) => Some((containers::unpause, id)),
        ("POST", ["containers", id, "rename"]) => Some((containers::rename, id)),
        ("GET", ["containers", id, "top"]) => Some((containers::top, id)),
        ("GET", ["containers", id, "stats"]) => Some((containers::stats, id)),
        ("GET", ["containers", id, "changes"]) => Some((files::changes, id)),
        ("GET", ["containers", id, "export"]) => Some((files::export, id)),
        ("GET", ["containers", id, "archive"]) => Some((files::get, id)),
        ("HEAD", ["containers", id, "archive"]) => Some((files::head, id)),
        ("PUT", ["containers", id, "archive"]) => Some((files::put, id)),
        ("POST", ["commit"]) => Some((images::commit, "")),
        ("POST", ["containers", id, "exec"]) => Some((crate::exec::create, id)),
        ("GET", ["exec", id, "json"]) => Some((crate::exec::inspect, id)),
        ("POST", ["exec", id, "resize"]) => Some((crate::exec::resize, id)),
        ("DELETE", ["containers", id]) => Some((containers::remove, id)),
        _ => None,
    };
    // Clients percent-encode names in paths (`/networks/test%2001`).
    found
        .map(|(h, p)| (h, decode(p)))
        .ok_or_else(ApiError::page_not_found)
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// A request that takes the connection over, and so is not a [`Handler`].
pub enum Hijack {
    /// `POST /containers/{id}/attach`.
    Attach(String),
    /// `GET /containers/{id}/attach/ws`.
    AttachWs(String),
    /// `POST /exec/{id}/start`.
    ExecStart(String),
}

/// The [`Hijack`] `method` and `path` ask for, if any.
pub fn hijack_target(method: &Method, path: &str) -> Option<Hijack> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["containers", id, "attach"]) => Some(Hijack::Attach(id.to_string())),
        ("GET", ["containers", id, "attach", "ws"]) => Some(Hijack::AttachWs(id.to_string())),
        ("POST", ["exec", id, "start"]) => Some(Hijack::ExecStart(id.to_string())),
        _ => None,
    }
}

/// `/images/...`, where the name runs up to the last segment (`/images/a/b:1/json`).
fn image_route(method: &str, path: &str) -> Option<(Handler, String)> {
    if let Some(rest) = path.strip_prefix("/distribution/") {
        let name = rest.strip_suffix("/json")?;
        return (method == "GET" && !name.is_empty())
            .then(|| (images::distribution as Handler, name.to_string()));
    }
    let rest = path.strip_prefix("/images/")?;
    match (method, rest) {
        ("GET", "json") => return Some((images::list, String::new())),
        ("GET", "get") => return Some((images::get_many, String::new())),
        ("GET", "search") => return Some((images::search, String::new())),
        ("POST", "load") => return Some((images::load, String::new())),
        ("POST", "create") => return Some((images::create, String::new())),
        ("POST", "prune") => return Some((images::prune, String::new())),
        _ => {}
    }
    let (handler, name): (Handler, &str) = match method {
        "GET" => match rest.rsplit_once('/')? {
            (name, "json") => (images::inspect, name),
            (name, "history") => (images::history, name),
            (name, "get") => (images::get, name),
            _ => return None,
        },
        "POST" => match rest.rsplit_once('/')? {
            (name, "tag") => (images::tag, name),
            (name, "push") => (images::push, name),
            _ => return None,
        },
        "DELETE" => (images::remove, rest),
        _ => return None,
    };
    (!name.is_empty()).then(|| (handler, name.to_string()))
}
