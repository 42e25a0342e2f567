//! `/plugins`: the legacy volume plugins berth can use, in Docker's `types.Plugin` shape (the
//! engine decides what is listed; see `berth_engine::plugin`).

use axum::http::StatusCode;

use super::Ctx;
use crate::request::{json, ApiResult};

/// `GET /plugins?filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let plugins = ctx.engine()?.list_plugins(&filters)?;
    Ok(json(StatusCode::OK, &plugins))
}

/// `GET /plugins/{name}/json`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|e, name| e.inspect_plugin(name))
}
