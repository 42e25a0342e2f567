//! `/containers`: create, inspect and remove.

use axum::http::StatusCode;
use berth_engine::types::{CreateRequest, HostConfig};
use berth_image::config::ContainerConfig;
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::request::{empty, json, ApiError, ApiResult};

/// The body of `POST /containers/create`: Docker's `Config` with the `HostConfig` inside it.
#[derive(Debug, Default, Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    config: ContainerConfig,
    #[serde(rename = "HostConfig", default)]
    host_config: Option<HostConfig>,
}

/// `POST /containers/create?name=`: 201 with the new ID.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let body: CreateBody = ctx.req.json()?;
    if body.config.image.is_empty() {
        return Err(ApiError::bad_request("No image was specified"));
    }
    let req = CreateRequest {
        name: ctx.req.query.get("name").filter(|n| !n.is_empty()).cloned(),
        config: body.config,
        host_config: body.host_config.unwrap_or_default(),
        api_version: Some(ctx.req.version),
        ..Default::default()
    };
    let c = ctx.engine()?.create_container(req)?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"Id": c.id, "Warnings": []}),
    ))
}

/// `GET /containers/{id}/json?size=`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let size = ctx.req.flag("size");
    let info = ctx.engine()?.inspect_container(&id, size)?;
    Ok(json(StatusCode::OK, &info))
}

/// `DELETE /containers/{id}?force=&v=`: 204.
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let (force, volumes) = (ctx.req.flag("force"), ctx.req.flag("v"));
    ctx.engine()?.remove_container(&id, force, volumes)?;
    Ok(empty(StatusCode::NO_CONTENT))
}
