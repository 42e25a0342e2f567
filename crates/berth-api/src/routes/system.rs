//! `/_ping` and `/version`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use berth_engine::info::VERSION;
use serde_json::json;

use super::Ctx;
use crate::request::{self, ApiResult};
use crate::version::{MAX, MIN};

/// `GET /_ping`: `OK`, with the headers clients negotiate the version from.
pub fn ping(_: &mut Ctx) -> ApiResult {
    let mut r = (StatusCode::OK, "OK").into_response();
    let h = r.headers_mut();
    h.insert(
        "Api-Version",
        HeaderValue::from_str(&MAX.to_string()).expect("a version is a header value"),
    );
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert(
        "Cache-Control",
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    Ok(r)
}

/// `GET /system/df`: what images, containers and volumes take on disk.
pub fn disk_usage(ctx: &mut Ctx) -> ApiResult {
    let du = ctx.engine()?.disk_usage()?;
    Ok(request::json(StatusCode::OK, &du))
}

/// `GET /info`.
pub fn info(ctx: &mut Ctx) -> ApiResult {
    let info = ctx.engine()?.info()?;
    let value = serde_json::to_value(info).expect("info serializes");
    Ok(request::json(
        StatusCode::OK,
        &crate::compat::info(ctx.req.version, value),
    ))
}

/// `POST /swarm/leave`: berth is never part of a swarm; Docker's answer for a node outside
/// one (503), which clients tearing down after swarm tests expect.
pub fn swarm_leave(_: &mut Ctx) -> ApiResult {
    Ok(request::json(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({"message": "This node is not part of a swarm"}),
    ))
}

/// `GET /version`.
pub fn version(_: &mut Ctx) -> ApiResult {
    let arch = berth_image::import::host_architecture();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    Ok(request::json(
        StatusCode::OK,
        &json!({
            "Platform": {"Name": "berth"},
            "Components": [{"Name": "Engine", "Version": VERSION,
                "Details": {"ApiVersion": MAX.to_string(), "MinAPIVersion": MIN.to_string(),
                    "Os": "linux", "Arch": arch, "KernelVersion": kernel}}],
            "Version": VERSION,
            "ApiVersion": MAX.to_string(),
            "Experimental": false,
            "MinAPIVersion": MIN.to_string(),
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": kernel,
        }),
    ))
}
