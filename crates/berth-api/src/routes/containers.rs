//! `/containers`: list, create, inspect, start, stop, restart, kill, pause, unpause, rename,
//! top, stats, wait, resize, update and remove (attach, logs and the container's files have modules of
//! their own).

use std::io::Write;

use axum::http::StatusCode;
use berth_engine::container::{ListOptions, Started, Stopped};
use berth_engine::types::{CreateRequest, HostConfig, NetworkingConfig, UpdateRequest};
use berth_image::config::ContainerConfig;
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::request::{empty, json, ApiError, ApiResult};
use crate::{body, compat};

/// The body of `POST /containers/create`: Docker's `Config` with the `HostConfig` inside it.
#[derive(Debug, Default, Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    config: ContainerConfig,
    #[serde(rename = "HostConfig", default)]
    host_config: Option<HostConfig>,
    #[serde(rename = "NetworkingConfig", default)]
    networking_config: Option<NetworkingConfig>,
}

/// `POST /containers/create?name=`: 201 with the new ID.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let body: CreateBody = ctx.req.json()?;
    if body.config.image.is_empty() {
        return Err(ApiError::bad_request("No image was specified"));
    }
    let mut host_config = body.host_config.unwrap_or_default();
    let raw: serde_json::Value = serde_json::from_slice(&ctx.req.body).unwrap_or_default();
    compat::create_host_config(ctx.req.version, &raw["HostConfig"], &mut host_config);
    if raw["HostConfig"].get("LogConfig").is_none() {
        // No LogConfig at all (docker-py without log_config): the engine's default applies.
        host_config.log_config.kind.clear();
    }
    let req = CreateRequest {
        name: ctx.req.query.get("name").filter(|n| !n.is_empty()).cloned(),
        config: body.config,
        host_config,
        networking_config: body.networking_config,
        platform: ctx.req.query.get("platform").cloned(),
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
    let size = ctx.req.flag("size");
    let id = ctx.param.clone();
    let inspect = ctx.engine()?.inspect_container(&id, size)?;
    let value = serde_json::to_value(inspect).expect("inspect types serialize");
    Ok(json(
        StatusCode::OK,
        &compat::container_inspect(ctx.req.version, value),
    ))
}

/// `DELETE /containers/{id}?force=&v=`: 204.
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let (force, volumes) = (ctx.req.flag("force"), ctx.req.flag("v"));
    ctx.engine()?.remove_container(&id, force, volumes)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `GET /containers/json?all=&limit=&size=&filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let opts = ListOptions {
        all: ctx.req.flag("all"),
        limit: ctx
            .req
            .query
            .get("limit")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0),
        latest: false,
        size: ctx.req.flag("size"),
        filters: ctx.req.filters()?,
    };
    let list = ctx.engine()?.list_containers(&opts)?;
    Ok(json(StatusCode::OK, &list))
}

/// `POST /containers/{id}/start`: 204, or 304 when it already runs. The shim runs it: the
/// container outlives the server.
pub fn start(ctx: &mut Ctx) -> ApiResult {
    // Any JSON object longer than `{}` and a little whitespace is a HostConfig.
    if ctx.req.body.len() > 7 {
        return Err(ApiError::bad_request(compat::start_body_refusal(
            ctx.req.version,
        )));
    }
    let id = ctx.param.clone();
    let c = ctx.engine()?.inspect_container(&id, false)?;
    if let Some(failed) = crate::attach::take_failed_launch(&c.id) {
        // The attach's launch failed: this start reports it, and a --rm container goes now.
        if c.host_config.auto_remove {
            let _ = ctx.engine()?.remove_container(&c.id, true, true);
        }
        return Err(failed);
    }
    let (_, started) = ctx.engine()?.start_container(&id, false, None)?;
    Ok(empty(if started == Started::AlreadyRunning {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::NO_CONTENT
    }))
}

/// The `t` parameter of stop and restart: seconds, `None` for the container's own default.
fn timeout(ctx: &Ctx) -> Result<Option<i64>, ApiError> {
    match ctx.req.query.get("t").filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid value for t: {t:?}"))),
    }
}

/// `POST /containers/{id}/stop?t=`: 204, or 304 when it was not running.
pub fn stop(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let t = timeout(ctx)?;
    let (_, stopped) = ctx.engine()?.stop_container(&id, t)?;
    Ok(empty(if stopped == Stopped::NotRunning {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::NO_CONTENT
    }))
}

/// `POST /containers/{id}/restart?t=`: 204.
pub fn restart(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let t = timeout(ctx)?;
    ctx.engine()?.restart_container(&id, t)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/kill?signal=`: 204.
pub fn kill(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let signal = ctx
        .req
        .query
        .get("signal")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| "KILL".into());
    ctx.engine()?.kill_container(&id, &signal)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/pause`: 204.
pub fn pause(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    ctx.engine()?.pause_container(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/unpause`: 204.
pub fn unpause(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    ctx.engine()?.unpause_container(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/rename?name=`: 204.
pub fn rename(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let name = ctx.req.query.get("name").cloned().unwrap_or_default();
    ctx.engine()?.rename_container(&id, &name)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `GET /containers/{id}/top?ps_args=`: `ps` of its processes (`-ef` by default).
pub fn top(ctx: &mut Ctx) -> ApiResult {
    let args: Vec<String> = ctx
        .req
        .query
        .get("ps_args")
        .map(|a| a.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    ctx.answer(|e, id| e.container_top(id, &args))
}

/// `GET /containers/{id}/stats?stream=&one-shot=`: the container's usage from its cgroups, a
/// sample a second while `stream` (the default), else one (with a previous sample unless
/// `one-shot`).
pub fn stats(ctx: &mut Ctx) -> ApiResult {
    let stream = match ctx.req.query.get("stream") {
        None => true,
        Some(_) => ctx.req.flag("stream"),
    };
    let query = berth_engine::container::StatsQuery {
        stream,
        one_shot: ctx.req.flag("one-shot"),
    };
    if query.one_shot && query.stream {
        return Err(ApiError::bad_request(
            "cannot have stream=true and one-shot=true",
        ));
    }
    let name = ctx.param.clone();
    // Unknown containers are a 404 before the answer starts.
    let id = ctx.engine()?.inspect_container(&name, false)?.id;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/json",
        move |e, mut w| {
            let gone = {
                let w = w.clone();
                move || w.client_gone()
            };
            let mut sink = |s: &berth_engine::container::StatsJson| {
                let mut line = serde_json::to_vec(s).expect("stats serialize");
                line.push(b'\n');
                w.write_all(&line)
            };
            if let Err(err) = e.container_stats(&id, query, &gone, &mut sink) {
                log::debug!("stats of {id}: {err}");
            }
        },
    ))
}

/// `POST /containers/{id}/wait?condition=`: waits until the container stops (`not-running`,
/// the default), exits next (`next-exit`, even if it has not started yet) or is removed
/// (`removed`), and answers its exit code. The headers go out at once, as Docker's do: the
/// docker CLI starts the container only once it has them.
pub fn wait(ctx: &mut Ctx) -> ApiResult {
    let condition = match compat::wait_has_condition(ctx.req.version) {
        true => ctx.req.query.get("condition").cloned().unwrap_or_default(),
        false => String::new(),
    };
    if !matches!(
        condition.as_str(),
        "" | "not-running" | "next-exit" | "removed"
    ) {
        return Err(ApiError::bad_request(format!(
            "invalid condition: {condition:?}"
        )));
    }
    let name = ctx.param.clone();
    let id = ctx.engine()?.inspect_container(&name, false)?.id;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/json",
        move |e, mut w| {
            let gone = {
                let w = w.clone();
                move || w.client_gone()
            };
            let code = match condition.as_str() {
                "next-exit" => e.wait_next_exit(&id, false, &gone),
                "removed" => e.wait_next_exit(&id, true, &gone),
                _ => e.wait_container(&id),
            };
            let answer = match code {
                Ok(code) => json!({"StatusCode": code, "Error": null}),
                Err(err) => json!({"StatusCode": -1, "Error": {"Message": err.to_string()}}),
            };
            let _ = writeln!(w, "{answer}");
        },
    ))
}

/// `POST /containers/{id}/resize?h=&w=`: the size of its terminal.
pub fn resize(ctx: &mut Ctx) -> ApiResult {
    let (rows, cols) = ctx.req.terminal_size()?;
    let id = ctx.param.clone();
    ctx.engine()?.resize_container(&id, rows, cols)?;
    Ok(empty(StatusCode::OK))
}

/// `POST /containers/{id}/update`: new resource limits and restart policy; 200 with warnings.
pub fn update(ctx: &mut Ctx) -> ApiResult {
    let req: UpdateRequest = ctx.req.json()?;
    let id = ctx.param.clone();
    let warnings = ctx.engine()?.update_container(&id, &req)?;
    Ok(json(StatusCode::OK, &json!({"Warnings": warnings})))
}

/// `POST /containers/prune?filters=`: removes the stopped containers the filters select.
pub fn prune(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let (deleted, space) = ctx.engine()?.prune_containers(&filters)?;
    // Docker sends `null` when nothing was deleted.
    let deleted = (!deleted.is_empty()).then_some(deleted);
    Ok(json(
        StatusCode::OK,
        &json!({"ContainersDeleted": deleted, "SpaceReclaimed": space}),
    ))
}

#[cfg(test)]
mod tests {
    use super::CreateBody;
    use crate::request::go_nulls::{assert_accepts_go_nulls, go_body};

    /// Issue 21: moby's Go client sends `"LogConfig":{"Type":"","Config":null}` and nulls for
    /// every unset slice, map and pointer.
    #[test]
    fn create_accepts_what_the_go_client_sends() {
        assert_accepts_go_nulls::<CreateBody>(&go_body("container_create_zero"));
        assert_accepts_go_nulls::<CreateBody>(&go_body("container_create_full"));
    }
}
