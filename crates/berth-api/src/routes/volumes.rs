//! `/volumes`: create, list, inspect, remove, prune — the engine's volume verbs with the API's
//! shapes and its one version rule: before API 1.42, prune takes every unused volume.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use berth_engine::io::ApiVersion;
use berth_engine::io::CreateVolume;
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::request::{empty, json, ApiResult};

/// The body of `POST /volumes/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    driver_opts: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

/// `POST /volumes/create`: 201 and the volume (an existing one is returned as it is).
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let body: CreateBody = ctx.req.json()?;
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let v = ctx.engine()?.create_volume(&CreateVolume {
        name: non_empty(body.name),
        driver: non_empty(body.driver),
        labels: body.labels,
        options: body.driver_opts,
    })?;
    Ok(json(StatusCode::CREATED, &v))
}

/// `GET /volumes?filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let volumes = ctx.engine()?.list_volumes(&filters)?;
    Ok(json(
        StatusCode::OK,
        &json!({"Volumes": volumes, "Warnings": serde_json::Value::Null}),
    ))
}

/// `GET /volumes/{name}`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|e, name| e.inspect_volume(name))
}

/// `DELETE /volumes/{name}?force=`: 204; in use is refused even with force.
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let name = ctx.param.clone();
    let force = ctx.req.flag("force");
    ctx.engine()?.remove_volume(&name, force)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /volumes/prune?filters=`.
pub fn prune(ctx: &mut Ctx) -> ApiResult {
    let mut filters = ctx.req.filters()?;
    if ctx.req.version < ApiVersion::V1_42 {
        // API ≤ 1.41 prunes named volumes too; `all` did not exist yet.
        filters.add("all", "true");
    }
    let report = ctx.engine()?.prune_volumes(&filters)?;
    Ok(json(StatusCode::OK, &report))
}

#[cfg(test)]
mod tests {
    use super::CreateBody;
    use crate::request::go_nulls::{assert_accepts_go_nulls, go_body};

    #[test]
    fn create_accepts_what_the_go_client_sends() {
        assert_accepts_go_nulls::<CreateBody>(&go_body("volume_create_zero"));
    }
}
