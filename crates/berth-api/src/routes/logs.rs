//! `GET /containers/{id}/logs`: the json-file log as Docker streams it — raw for a container
//! with a terminal, otherwise multiplexed (each entry framed with its stream number and length,
//! so stdout and stderr stay apart). A reader thread with its own engine feeds the body, so
//! `follow=1` streams until the container stops or the client goes away.

use std::convert::Infallible;
use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use berth_engine::container::LogsRequest;
use berth_engine::Engine;
use berth_runtime::logs::LogOptions;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::Ctx;
use crate::request::{ApiError, ApiResult};

/// Docker's stream numbers in a multiplexed frame header.
const STDOUT: u8 = 1;
const STDERR: u8 = 2;

/// Sends what it is given down the channel, framed as Docker's multiplexed stream when it has
/// a stream number. A client that went away makes writes fail, which ends the reader.
struct Sender {
    tx: mpsc::Sender<Bytes>,
    stream: Option<u8>,
}

impl Write for Sender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut frame = Vec::with_capacity(buf.len() + 8);
        if let Some(stream) = self.stream {
            frame.extend_from_slice(&[stream, 0, 0, 0]);
            frame.extend_from_slice(&(buf.len() as u32).to_be_bytes());
        }
        frame.extend_from_slice(buf);
        self.tx
            .blocking_send(Bytes::from(frame))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A Unix time as the docker CLI sends it (`1700000000.123456789`); 0 or nothing means none.
fn unix_time(ctx: &Ctx, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = ctx.req.query.get(key).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(format!("invalid value for {key}: {v:?}"));
    let (secs, nanos) = v.split_once('.').unwrap_or((v, "0"));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let nanos: u32 = format!("{nanos:0<9}")[..9].parse().map_err(|_| bad())?;
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
    };
    if !options.stdout && !options.stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let tty = ctx.engine()?.inspect_container(&id, false)?.config.tty;
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let opts = ctx.engine_options();
    std::thread::spawn(move || {
        let Ok(mut engine) = Engine::open(opts) else {
            return;
        };
        let framed = |stream| Sender {
            tx: tx.clone(),
            stream: (!tty).then_some(stream),
        };
        let (mut out, mut err) = (framed(STDOUT), framed(STDERR));
        let req = LogsRequest { options };
        if let Err(e) = engine.container_logs(&id, &req, &mut out, &mut err) {
            log::debug!("logs of {id}: {e}");
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if tty {
            "application/vnd.docker.raw-stream"
        } else {
            "application/vnd.docker.multiplexed-stream"
        }),
    );
    Ok(response)
}
