//! `GET /events?since=&until=&filters=`: the engine's event log as Docker streams it — one JSON
//! message per line, the recorded events between `since` and `until` first, then (unless
//! `until` has passed) every new event any berth process records, until `until` or until the
//! client goes away.

use std::io::Write;

use berth_engine::events::EventsQuery;

use super::Ctx;
use crate::body;
use crate::request::{ApiError, ApiResult};

/// A time parameter as Docker's `ParseTimestamps` reads it (`SECONDS[.NANOS]`), in
/// nanoseconds since the epoch; empty means none.
fn event_time(ctx: &Ctx, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = ctx.req.query.get(key).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let (secs, nanos) = berth_go::parse_unix(v).ok_or_else(|| {
        let first = v.split('.').next().unwrap_or("");
        ApiError::bad_request(format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            berth_go::quote(first)
        ))
    })?;
    Ok(Some(
        secs.saturating_mul(1_000_000_000)
            .saturating_add(i64::from(nanos)),
    ))
}

/// `GET /events`.
pub fn events(ctx: &mut Ctx) -> ApiResult {
    let since = event_time(ctx, "since")?;
    let until = event_time(ctx, "until")?;
    let given = |key: &str| ctx.req.query.get(key).map_or("", String::as_str);
    berth_engine::events::check_window((given("since"), since), (given("until"), until))
        .map_err(berth_engine::EngineError::from)?;
    let query = EventsQuery {
        since,
        until,
        filters: ctx.req.filters()?,
    };
    query.check()?;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/json",
        move |engine, mut w| {
            let gone = {
                let w = w.clone();
                move || w.client_gone()
            };
            let mut sink = |ev: &berth_engine::types::EventMessage| {
                let mut line = serde_json::to_vec(ev).expect("events serialize");
                line.push(b'\n');
                w.write_all(&line)
            };
            if let Err(e) = engine.events(&query, &gone, &mut sink) {
                log::debug!("events: {e}");
            }
        },
    ))
}
