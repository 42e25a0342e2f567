//! `GET /containers/{id}/storage`, a berth-only extension of the Engine API: the container's
//! storage view ([`berth_engine::types::ContainerStorage`]), the same JSON that `berth container
//! storage --format json` prints. Docker has no such endpoint (it answers 404 there).

use super::Ctx;
use crate::request::ApiResult;

/// `GET /containers/{id}/storage`.
pub fn storage(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|engine, id| engine.container_storage(id))
}
