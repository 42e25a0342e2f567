//! A container's files: `GET/HEAD/PUT /containers/{id}/archive` (what `docker cp` uses, with
//! the path's stat in `X-Docker-Container-Path-Stat`), `GET /containers/{id}/export` and
//! `GET /containers/{id}/changes`. Tars are streamed both ways, never held whole.

use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use berth_engine::container::PathStat;
use serde_json::json;

use super::Ctx;
use crate::body;
use crate::request::{empty, json, ApiError, ApiResult};

/// The header `docker cp` reads: base64 of Docker's `ContainerPathStat` JSON, its mode in Go's
/// `os.FileMode` encoding.
fn stat_header(stat: &PathStat) -> HeaderValue {
    let mtime = chrono::DateTime::parse_from_rfc3339(&stat.mtime)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        })
        .unwrap_or_else(|_| stat.mtime.clone());
    let value = json!({
        "name": stat.name,
        "size": stat.size,
        "mode": berth_go::fs::file_mode(stat.mode),
        "mtime": mtime,
        "linkTarget": stat.link_target,
    });
    let encoded = base64::engine::general_purpose::STANDARD.encode(value.to_string());
    HeaderValue::from_str(&encoded).expect("base64 is a header value")
}

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

fn path_param(ctx: &Ctx) -> Result<String, ApiError> {
    ctx.req
        .nonempty("path")
        .ok_or_else(|| ApiError::bad_request("path is required"))
}

/// `HEAD /containers/{id}/archive?path=`: what is at `path`, in the stat header.
pub fn head(ctx: &mut Ctx) -> ApiResult {
    let path = path_param(ctx)?;
    let name = ctx.param.clone();
    let stat = ctx.engine()?.stat_container_path(&name, &path)?;
    let mut r = empty(StatusCode::OK);
    r.headers_mut().insert(STAT_HEADER, stat_header(&stat));
    Ok(r)
}

/// `GET /containers/{id}/archive?path=`: a tar of `path` (its last component not followed),
/// with its stat in the header.
pub fn get(ctx: &mut Ctx) -> ApiResult {
    let path = path_param(ctx)?;
    let name = ctx.param.clone();
    let stat = ctx.engine()?.stat_container_path(&name, &path)?;
    let mut r = body::streamed(
        ctx.engine_options(),
        "application/x-tar",
        move |engine, mut w| {
            if let Err(e) = engine.copy_from_container(&name, &path, None, false, &mut w) {
                log::debug!("archive of {name}:{path}: {e}");
            }
        },
    );
    r.headers_mut().insert(STAT_HEADER, stat_header(&stat));
    Ok(r)
}

/// `PUT /containers/{id}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=`: unpacks the body (a
/// tar) into the directory `path`; `copyUIDGID` gives the entries the container user's IDs.
pub fn put(ctx: &mut Ctx) -> ApiResult {
    let path = path_param(ctx)?;
    let name = ctx.param.clone();
    let copy_uid_gid = ctx.req.flag("copyUIDGID");
    let no_overwrite = ctx.req.flag("noOverwriteDirNonDir");
    let mut tar = ctx.req.take_upload()?;
    ctx.engine()?
        .copy_to_container(&name, &path, &mut tar, copy_uid_gid, no_overwrite)?;
    Ok(empty(StatusCode::OK))
}

/// `GET /containers/{id}/export`: the container's filesystem as a tar.
pub fn export(ctx: &mut Ctx) -> ApiResult {
    let name = ctx.param.clone();
    // Unknown containers are a 404 before the stream starts.
    ctx.engine()?.inspect_container(&name, false)?;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/x-tar",
        move |engine, mut w| {
            if let Err(e) = engine.export_container(&name, &mut w) {
                log::debug!("export of {name}: {e}");
            }
        },
    ))
}

/// `GET /containers/{id}/changes`: Docker's `[{"Path":…,"Kind":0|1|2}]` (modified, added,
/// deleted), `null` when nothing changed.
pub fn changes(ctx: &mut Ctx) -> ApiResult {
    use berth_engine::io::ChangeKind;
    let name = ctx.param.clone();
    let changes = ctx.engine()?.container_changes(&name)?;
    let list: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ChangeKind::Modified => 0,
                ChangeKind::Added => 1,
                ChangeKind::Deleted => 2,
            };
            json!({"Path": c.path, "Kind": kind})
        })
        .collect();
    if list.is_empty() {
        return Ok((
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "null\n",
        )
            .into_response());
    }
    Ok(json(StatusCode::OK, &list))
}
