//! `/images`: list, inspect, history and remove. An image name may contain `/` (`a/b:1`), so
//! these routes take the whole rest of the path as the name.

use axum::http::StatusCode;

use super::Ctx;
use crate::request::{json, ApiResult};

/// `GET /images/json?all=&filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let all = ctx.req.flag("all");
    let mut filters = ctx.req.filters()?;
    if let Some(name) = ctx.req.query.get("filter").filter(|n| !n.is_empty()) {
        if crate::compat::images_filter_param(ctx.req.version) {
            filters.add("reference", name.clone());
        }
    }
    let images = ctx.engine()?.list_images(all, &filters)?;
    Ok(json(StatusCode::OK, &images))
}

/// `GET /images/{name}/json`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|e, name| e.inspect_image(name))
}

/// `GET /images/{name}/history`.
pub fn history(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|e, name| e.image_history(name))
}

/// `DELETE /images/{name}?force=`: what was untagged and deleted.
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let force = ctx.req.flag("force");
    ctx.answer(|e, name| e.remove_image(name, force))
}

/// `POST /images/{name}/tag?repo=&tag=`: 201.
pub fn tag(ctx: &mut Ctx) -> ApiResult {
    let name = ctx.param.clone();
    let repo = ctx.req.query.get("repo").cloned().unwrap_or_default();
    let target = match ctx.req.query.get("tag").filter(|t| !t.is_empty()) {
        Some(tag) => format!("{repo}:{tag}"),
        None => repo,
    };
    ctx.engine()?.tag_image(&name, &target)?;
    Ok(crate::request::empty(StatusCode::CREATED))
}

/// `POST /images/prune?filters=`: dangling images, or with `dangling=false` every image no
/// container uses, that the other filters (`until`, `label`, `label!`) select.
pub fn prune(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let report = ctx.engine()?.prune_images(&filters)?;
    Ok(json(StatusCode::OK, &report))
}
