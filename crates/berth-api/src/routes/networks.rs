//! `/networks`: list, inspect, create, remove, prune, connect, disconnect — the engine's network
//! verbs with the API's shapes (`docker network …`, docker-py and docker-compose drive them).

use axum::http::StatusCode;
use berth_engine::types::{NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest};
use serde_json::json;

use super::Ctx;
use crate::request::{empty, json, ApiError, ApiResult};

/// `GET /networks?filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let list = ctx.engine()?.list_networks(&filters)?;
    Ok(json(StatusCode::OK, &list))
}

/// `GET /networks/{id}?scope=`: berth's networks are all `local`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    if let Some(scope) = ctx.req.query.get("scope").filter(|s| !s.is_empty()) {
        if scope != "local" {
            return Err(berth_engine::EngineError::from(
                berth_engine::network::NetworkRequestError::NoSuchNetwork(ctx.param.to_string()),
            )
            .into());
        }
    }
    ctx.answer(|e, id| e.inspect_network(id))
}

/// `POST /networks/create`: 201 with the new ID.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let body: NetworkCreateRequest = ctx.req.json()?;
    if body.name.is_empty() {
        return Err(ApiError::bad_request("network name must not be empty"));
    }
    let id = ctx.engine()?.create_network(body)?;
    Ok(json(StatusCode::CREATED, &json!({"Id": id, "Warning": ""})))
}

/// `DELETE /networks/{id}`: 204.
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    ctx.engine()?.remove_network(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /networks/prune?filters=`.
pub fn prune(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let report = ctx.engine()?.prune_networks(&filters)?;
    Ok(json(StatusCode::OK, &report))
}

/// `POST /networks/{id}/connect`: 200.
pub fn connect(ctx: &mut Ctx) -> ApiResult {
    let body: NetworkConnectRequest = ctx.req.json()?;
    let id = ctx.param.clone();
    ctx.engine()?.connect_network(
        &id,
        &body.container,
        body.endpoint_config.unwrap_or_default(),
    )?;
    Ok(empty(StatusCode::OK))
}

/// `POST /networks/{id}/disconnect`: 200.
pub fn disconnect(ctx: &mut Ctx) -> ApiResult {
    let body: NetworkDisconnectRequest = ctx.req.json()?;
    let id = ctx.param.clone();
    ctx.engine()?
        .disconnect_network(&id, &body.container, body.force)?;
    Ok(empty(StatusCode::OK))
}
