//! `GET /containers/{id}/logs`: the json-file log as Docker streams it — raw for a container
//! with a terminal, otherwise multiplexed (each entry framed with its stream number and length,
//! so stdout and stderr stay apart). A reader thread with its own engine feeds the body, so
//! `follow=1` streams until the container stops or the client goes away ([`crate::body`]).

use berth_engine::container::LogsRequest;
use berth_engine::io::LogOptions;
use chrono::{DateTime, Utc};

use super::Ctx;
use crate::request::{ApiError, ApiResult};
use crate::{body, mux};

/// A Unix time as the docker CLI sends it (`1700000000.123456789`); 0 or nothing means none.
fn unix_time(ctx: &Ctx, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = ctx.req.query.get(key).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(format!("invalid value for {key}: {v:?}"));
    let (secs, nanos) = berth_go::parse_unix(v).ok_or_else(bad)?;
    if secs <= 0 && nanos == 0 {
        return Ok(None);
    }
    DateTime::from_timestamp(secs, nanos)
        .map(Some)
        .ok_or_else(bad)
}

/// `GET /containers/{id}/logs?stdout=&stderr=&follow=&tail=&timestamps=&since=&until=`.
pub fn logs(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let options = LogOptions {
        stdout: ctx.req.flag("stdout"),
        stderr: ctx.req.flag("stderr"),
        tail: ctx.req.query.get("tail").and_then(|t| t.parse().ok()),
        since: unix_time(ctx, "since")?,
        until: unix_time(ctx, "until")?,
        timestamps: ctx.req.flag("timestamps"),
        follow: ctx.req.flag("follow"),
        details: ctx.req.flag("details"),
    };
    if !options.stdout && !options.stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    ctx.engine()?.check_logs_readable(&id)?;
    let tty = ctx.engine()?.inspect_container(&id, false)?.config.tty;
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Ok(body::streamed(
        ctx.engine_options(),
        content_type,
        move |engine, w| {
            let stream = |n| (!tty).then_some(n);
            let (mut out, mut err) = (w.framed(stream(mux::STDOUT)), w.framed(stream(mux::STDERR)));
            let req = LogsRequest { options };
            if let Err(e) = engine.container_logs(&id, &req, &mut out, &mut err) {
                log::debug!("logs of {id}: {e}");
            }
        },
    ))
}
