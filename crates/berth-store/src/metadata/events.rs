//! [`EventRow`]: one row of the `events` table, the bounded log of what every berth process did
//! (Docker's `docker events`). No daemon sees every action, so whichever process acts — a CLI, a
//! container's shim, `berth serve` — appends its event here ([`append`]) and readers page
//! through the log by sequence number ([`after`]), which also orders the events of different
//! processes. The log keeps the newest [`LIMIT`] events: each append drops what falls out.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, Row};

use super::MetaError;

/// How many events the log keeps (Docker's daemon keeps 256 in memory; a log that outlives
/// every process keeps more).
pub const LIMIT: i64 = 10_000;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Its place in the log: increasing, never reused (0 before it is appended).
    pub seq: i64,
    /// When it happened, in nanoseconds since the Unix epoch.
    pub time_nano: i64,
    /// Docker's `Type`: `container`, `image`, `volume`, `network`, `plugin`, `daemon`.
    pub kind: String,
    /// Docker's `Action` (`start`, `die`, `exec_start: sh -c …`, `health_status: healthy`).
    pub action: String,
    /// `Actor.ID`: the object's ID (or name, for volumes).
    pub actor_id: String,
    /// `Actor.Attributes`.
    pub attributes: BTreeMap<String, String>,
    /// `scope`: `local` (or `swarm`).
    pub scope: String,
}

const COLUMNS: &str = "seq, time_nano, type, action, actor_id, attributes, scope";

fn row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    let attributes: String = r.get(5)?;
    let attributes = serde_json::from_str(&attributes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(EventRow {
        seq: r.get(0)?,
        time_nano: r.get(1)?,
        kind: r.get(2)?,
        action: r.get(3)?,
        actor_id: r.get(4)?,
        attributes,
        scope: r.get(6)?,
    })
}

/// Appends `event` (its `seq` is ignored), drops events older than the newest [`LIMIT`], and
/// returns its sequence number.
pub fn append(conn: &Connection, event: &EventRow) -> Result<i64, MetaError> {
    let what = || format!("event {}", event.action);
    let attributes = serde_json::to_string(&event.attributes).expect("string maps serialize");
    conn.prepare_cached(
        "INSERT INTO events (time_nano, type, action, actor_id, attributes, scope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            event.time_nano,
            event.kind,
            event.action,
            event.actor_id,
            attributes,
            event.scope
        ])
    })
    .map_err(|e| MetaError::from_sqlite(what(), e))?;
    let seq = conn.last_insert_rowid();
    conn.prepare_cached("DELETE FROM events WHERE seq <= ?1")
        .and_then(|mut stmt| stmt.execute([seq - LIMIT]))
        .map_err(|e| MetaError::from_sqlite(what(), e))?;
    Ok(seq)
}

/// Up to `limit` events after sequence number `seq`, oldest first.
pub fn after(conn: &Connection, seq: i64, limit: usize) -> Result<Vec<EventRow>, MetaError> {
    let what = || "events".to_string();
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))
        .map_err(|e| MetaError::from_sqlite(what(), e))?;
    let rows = stmt
        .query_map(params![seq, limit as i64], row)
        .map_err(|e| MetaError::from_sqlite(what(), e))?;
    rows.collect::<Result<_, _>>()
        .map_err(|e| MetaError::from_sqlite(what(), e))
}

/// The sequence number of the newest event (0 when the log is empty).
pub fn last_seq(conn: &Connection) -> Result<i64, MetaError> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
        .map_err(|e| MetaError::from_sqlite("events", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn event(action: &str, t: i64) -> EventRow {
        EventRow {
            seq: 0,
            time_nano: t,
            kind: "container".into(),
            action: action.into(),
            actor_id: "abc".into(),
            attributes: BTreeMap::from([("name".to_string(), "web".to_string())]),
            scope: "local".into(),
        }
    }

    #[test]
    fn appends_in_order_and_pages_by_sequence() {
        let t = tempfile::tempdir().unwrap();
        let db = Db::open(&t.path().join("berth.db")).unwrap();
        let c = db.conn();
        assert_eq!(last_seq(c).unwrap(), 0);
        let a = append(c, &event("create", 5)).unwrap();
        let b = append(c, &event("start", 3)).unwrap();
        assert!(b > a);
        let all = after(c, 0, 100).unwrap();
        let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "start"]);
        assert_eq!(all[1].attributes["name"], "web");
        assert_eq!(all[1].time_nano, 3);
        assert_eq!(after(c, a, 100).unwrap().len(), 1);
        assert_eq!(after(c, 0, 1).unwrap().len(), 1);
        assert_eq!(last_seq(c).unwrap(), b);
    }

    #[test]
    fn keeps_the_newest_events_only() {
        let t = tempfile::tempdir().unwrap();
        let mut db = Db::open(&t.path().join("berth.db")).unwrap();
        let n = LIMIT + 5;
        let last = db
            .write(|tx| -> Result<i64, MetaError> {
                let mut last = 0;
                for i in 0..n {
                    last = append(tx, &event(&format!("e{i}"), i))?;
                }
                Ok(last)
            })
            .unwrap();
        let kept = after(db.conn(), 0, usize::MAX / 2).unwrap();
        assert_eq!(kept.len() as i64, LIMIT);
        assert_eq!(kept[0].action, "e5");
        assert_eq!(kept.last().unwrap().seq, last);
        // Sequence numbers are never reused after a trim.
        let next = append(db.conn(), &event("next", 0)).unwrap();
        assert_eq!(next, last + 1);
    }
}
