//! Events, daemonless: every berth process that acts (a CLI, a container's shim, `berth
//! serve`) appends what it did to the store's bounded event log
//! ([`berth_store::metadata::events`]) through [`Engine::emit`] and its helpers for containers,
//! images and volumes, which fill the attributes Docker's daemon fills. [`Engine::events`]
//! reads the log back — what happened between `since` and `until`, then, when following, what
//! any process appends from then on, in the log's order — filtered as Docker filters events
//! and shaped as Docker's JSON ([`EventMessage`]).
//!
//! An event that cannot be recorded never fails the action it reports: it is logged and
//! dropped.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_image::reference::Reference;
use berth_store::metadata::events::{self, EventRow};

use crate::container::Container;
use crate::filters::Filters;
use crate::types::{EventActor, EventMessage};
use crate::{Engine, EngineError};

/// `Type` of container events.
pub const CONTAINER: &str = "container";
/// `Type` of image events.
pub const IMAGE: &str = "image";
/// `Type` of volume events.
pub const VOLUME: &str = "volume";
/// `Type` of network events.
pub const NETWORK: &str = "network";

/// The filter keys Docker's `/events` accepts (swarm's among them: they match nothing here).
const FILTER_KEYS: [&str; 14] = [
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "type",
    "volume",
    "config",
    "secret",
    "service",
];

/// How often a follower looks for new events.
const POLL: Duration = Duration::from_millis(50);
/// How many events one read takes from the log.
const PAGE: usize = 512;

/// `since` after `until` (400), in dockerd's words with the times as the user gave them.
#[derive(Debug, thiserror::Error)]
#[error("`since` time ({since}) cannot be after `until` time ({until})")]
pub struct EventWindowError {
    /// `since` as given.
    pub since: String,
    /// `until` as given.
    pub until: String,
}

/// dockerd's check of an events window: `since` (as given, and as parsed) not after `until`.
pub fn check_window(
    since: (&str, Option<i64>),
    until: (&str, Option<i64>),
) -> Result<(), EventWindowError> {
    match (since.1, until.1) {
        (Some(s), Some(u)) if u < s => Err(EventWindowError {
            since: since.0.to_string(),
            until: until.0.to_string(),
        }),
        _ => Ok(()),
    }
}

/// What `GET /events` and `berth events` ask for.
#[derive(Debug, Clone, Default)]
pub struct EventsQuery {
    /// Events from this time on (nanoseconds since the epoch); `None`: only new ones.
    pub since: Option<i64>,
    /// Events up to this time; `None`: no end (when following).
    pub until: Option<i64>,
    /// Docker's event filters (`type`, `event`, `container`, `image`, `label`...).
    pub filters: Filters,
}

impl EventsQuery {
    /// Refuses filter keys Docker does not know for events (before an answer starts).
    pub fn check(&self) -> Result<(), EngineError> {
        Ok(self.filters.validate(&FILTER_KEYS)?)
    }
}

/// The current time in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// A row of the log as Docker's message.
fn message(row: EventRow) -> EventMessage {
    let legacy = row.kind == CONTAINER || row.kind == IMAGE;
    EventMessage {
        status: if legacy {
            row.action.clone()
        } else {
            String::new()
        },
        id: if legacy {
            row.actor_id.clone()
        } else {
            String::new()
        },
        from: if row.kind == CONTAINER {
            row.attributes.get("image").cloned().unwrap_or_default()
        } else {
            String::new()
        },
        kind: row.kind,
        action: row.action,
        actor: EventActor {
            id: row.actor_id,
            attributes: row.attributes,
        },
        scope: row.scope,
        time: row.time_nano.div_euclid(1_000_000_000),
        time_nano: row.time_nano,
    }
}

/// Docker's `FuzzyMatch`: `key` not given, or one of its values is `source` or a prefix of it.
fn fuzzy(filters: &Filters, key: &str, source: &str) -> bool {
    !filters.contains(key) || filters.get(key).any(|v| source.starts_with(v))
}

/// An image name without its tag or digest, in its familiar form (`busybox`).
fn strip_tag(image: &str) -> String {
    Reference::parse(image)
        .map(|r| r.familiar_name())
        .unwrap_or_else(|_| image.to_string())
}

/// Whether `ev` passes `filters`, by Docker's rules (`daemon/events/filter.go`): each key
/// given must match; `health_status`, `exec_create` and `exec_start` match actions by prefix.
pub fn include(filters: &Filters, ev: &EventMessage) -> bool {
    let name = ev
        .actor
        .attributes
        .get("name")
        .map(String::as_str)
        .unwrap_or("");
    // Docker's `fuzzyMatchName` does not look at the event's type: `container=web` also
    // passes an event of another type whose actor is named `web…`.
    let by_name = |kind: &str| fuzzy(filters, kind, &ev.actor.id) || fuzzy(filters, kind, name);
    let fuzzy_actions = ["health_status", "exec_create", "exec_start"];
    let event = if filters.get("event").any(|v| fuzzy_actions.contains(&v)) {
        fuzzy(filters, "event", &ev.action)
    } else {
        filters.exact_match("event", &ev.action)
    };
    let image = {
        let attr = if ev.kind == IMAGE { "name" } else { "image" };
        let image_name = ev
            .actor
            .attributes
            .get(attr)
            .map(String::as_str)
            .unwrap_or("");
        filters.exact_match("image", &ev.actor.id)
            || filters.exact_match("image", image_name)
            || filters.exact_match("image", &strip_tag(&ev.actor.id))
            || filters.exact_match("image", &strip_tag(image_name))
    };
    event
        && filters.exact_match("type", &ev.kind)
        && filters.exact_match("scope", &ev.scope)
        && ["daemon", CONTAINER, "plugin", VOLUME, NETWORK]
            .iter()
            .all(|k| by_name(k))
        && image
        && filters.match_kv_list("label", &ev.actor.attributes)
}

/// Docker's attributes of a container event: the container's labels, its image as the user
/// named it, its name, then `extra`.
fn container_attributes(c: &Container, extra: &[(&str, String)]) -> BTreeMap<String, String> {
    let mut attributes: BTreeMap<String, String> = c
        .config
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    if !c.config.image.is_empty() {
        attributes.insert("image".into(), c.config.image.clone());
    }
    attributes.insert("name".into(), c.name.clone());
    for (k, v) in extra {
        attributes.insert(k.to_string(), v.clone());
    }
    attributes
}

/// The row of a container event ([`Engine::emit_container`]'s), for a caller that appends it in
/// a transaction of its own with [`events::append`].
pub(crate) fn container_event(c: &Container, action: &str, extra: &[(&str, String)]) -> EventRow {
    EventRow {
        seq: 0,
        time_nano: now_nanos(),
        kind: CONTAINER.to_string(),
        action: action.to_string(),
        actor_id: c.id.clone(),
        attributes: container_attributes(c, extra),
        scope: "local".into(),
    }
}

impl Engine {
    /// Appends an event to the log; a failure is logged, never returned (the action it reports
    /// happened).
    pub fn emit(
        &mut self,
        kind: &str,
        action: &str,
        actor_id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        self.emit_all(kind, action, [(actor_id, attributes)]);
    }

    /// Appends one event per actor, all in one transaction (a `volume rm` of 500 names writes
    /// its 500 events at once). Like Docker's in-memory log, events do not wait for the disk
    /// ([`berth_store::db::Db::write_relaxed`]): other processes see them at once, and only a
    /// power loss can take the last ones back. A failure is logged, never returned.
    pub fn emit_all<'a>(
        &mut self,
        kind: &str,
        action: &str,
        actors: impl IntoIterator<Item = (&'a str, BTreeMap<String, String>)>,
    ) {
        let rows: Vec<EventRow> = actors
            .into_iter()
            .map(|(actor_id, attributes)| EventRow {
                seq: 0,
                time_nano: now_nanos(),
                kind: kind.to_string(),
                action: action.to_string(),
                actor_id: actor_id.to_string(),
                attributes,
                scope: "local".into(),
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        let written = self
            .store
            .db_mut()
            .write_relaxed(|tx| -> Result<(), EngineError> {
                for row in &rows {
                    events::append(tx, row)?;
                }
                Ok(())
            });
        if let Err(e) = written {
            let first = &rows[0].actor_id;
            log::warn!(
                "event {kind} {action} {first} (of {}): not recorded: {e}",
                rows.len()
            );
        }
    }

    /// A container event with Docker's attributes: the container's labels, its image as the
    /// user named it, its name, then `extra`.
    pub fn emit_container(&mut self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let attributes = container_attributes(c, extra);
        self.emit(CONTAINER, action, &c.id, attributes);
    }

    /// An image event: the image's labels (while it exists) and `name` (the reference acted
    /// on, when there is one).
    pub fn emit_image(&mut self, id: &str, name: &str, action: &str) {
        let labels = self.image_labels(id);
        self.emit_image_labeled(id, name, action, labels);
    }

    /// [`Engine::emit_image`] with the labels read beforehand (the image may be gone).
    pub(crate) fn emit_image_labeled(
        &mut self,
        id: &str,
        name: &str,
        action: &str,
        labels: Option<BTreeMap<String, String>>,
    ) {
        let mut attributes = labels.unwrap_or_default();
        if !name.is_empty() {
            attributes.insert("name".into(), name.to_string());
        }
        self.emit(IMAGE, action, id, attributes);
    }

    /// A volume event (`create`, `mount`, `unmount`, `destroy`) with `attributes`.
    pub fn emit_volume(&mut self, name: &str, action: &str, attributes: &[(&str, String)]) {
        self.emit_volumes(&[name], action, attributes);
    }

    /// The same volume event for each of `names`, in one transaction.
    pub fn emit_volumes<S: AsRef<str>>(
        &mut self,
        names: &[S],
        action: &str,
        attributes: &[(&str, String)],
    ) {
        let attributes: BTreeMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.emit_all(
            VOLUME,
            action,
            names.iter().map(|n| (n.as_ref(), attributes.clone())),
        );
    }

    /// A network event (`create`, `connect`, `disconnect`, `destroy`): Docker's attributes are
    /// the network's `name` and `type` (its driver) and, for connect/disconnect, `container`.
    pub fn emit_network(
        &mut self,
        id: &str,
        name: &str,
        driver: &str,
        action: &str,
        container: Option<&str>,
    ) {
        let mut attributes = BTreeMap::from([
            ("name".to_string(), name.to_string()),
            ("type".to_string(), driver.to_string()),
        ]);
        if let Some(c) = container {
            attributes.insert("container".into(), c.to_string());
        }
        self.emit(NETWORK, action, id, attributes);
    }

    /// Sends `sink` the events `query` selects, oldest first: those recorded between `since`
    /// and `until`, then, unless `until` has passed, every new one any process appends until
    /// `until` comes, `gone()` says the reader left, or `sink` fails. Without `since` and
    /// `until`, only new events.
    pub fn events(
        &mut self,
        query: &EventsQuery,
        gone: &dyn Fn() -> bool,
        sink: &mut dyn FnMut(&EventMessage) -> std::io::Result<()>,
    ) -> Result<(), EngineError> {
        query.check()?;
        let conn = self.store.db().conn();
        let mut seq = if query.since.is_none() && query.until.is_none() {
            events::last_seq(conn)?
        } else {
            0
        };
        let since = query.since.unwrap_or(i64::MIN);
        let until = query.until.unwrap_or(i64::MAX);
        // Events recorded so far: the past part of the answer.
        let past_only = query.until.is_some_and(|u| u <= now_nanos());
        loop {
            let page = events::after(self.store.db().conn(), seq, PAGE)?;
            let full = page.len() == PAGE;
            for row in page {
                seq = row.seq;
                if row.time_nano < since || row.time_nano > until {
                    continue;
                }
                let ev = message(row);
                if include(&query.filters, &ev) && sink(&ev).is_err() {
                    return Ok(());
                }
            }
            if full {
                continue;
            }
            if past_only || now_nanos() > until || gone() {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, action: &str, id: &str, attrs: &[(&str, &str)]) -> EventMessage {
        message(EventRow {
            seq: 1,
            time_nano: 1_700_000_000_123_456_789,
            kind: kind.into(),
            action: action.into(),
            actor_id: id.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            scope: "local".into(),
        })
    }

    fn f(pairs: &[&str]) -> Filters {
        Filters::from_flags(pairs).unwrap()
    }

    #[test]
    fn messages_have_dockers_json() {
        let c = ev(
            CONTAINER,
            "start",
            "abc",
            &[("image", "busybox"), ("name", "web")],
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"status":"start","id":"abc","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"image":"busybox","name":"web"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}"#
        );
        let v = ev(VOLUME, "create", "data", &[("driver", "local")]);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"Type":"volume","Action":"create","Actor":{"ID":"data","Attributes":{"driver":"local"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}"#
        );
        let i = ev(IMAGE, "tag", "sha256:1", &[("name", "a:1")]);
        let json = serde_json::to_string(&i).unwrap();
        assert!(json.starts_with(r#"{"status":"tag","id":"sha256:1","Type":"image""#));
    }

    #[test]
    fn filters_match_as_dockers() {
        let start = ev(
            CONTAINER,
            "start",
            "abcdef",
            &[("image", "busybox:latest"), ("name", "web"), ("tier", "db")],
        );
        let health = ev(
            CONTAINER,
            "health_status: healthy",
            "abcdef",
            &[("name", "web")],
        );
        let vol = ev(VOLUME, "create", "data", &[("driver", "local")]);
        let img = ev(IMAGE, "tag", "sha256:1", &[("name", "busybox:1")]);
        assert!(include(&f(&[]), &start));
        assert!(include(&f(&["type=container"]), &start));
        assert!(!include(&f(&["type=volume"]), &start));
        assert!(include(&f(&["event=start", "event=die"]), &start));
        assert!(!include(&f(&["event=die"]), &start));
        assert!(!include(&f(&["event=health"]), &health));
        assert!(include(&f(&["event=health_status"]), &health));
        assert!(include(&f(&["container=web"]), &start));
        assert!(include(&f(&["container=abc"]), &start));
        assert!(!include(&f(&["container=db"]), &start));
        assert!(!include(&f(&["container=web"]), &vol));
        // As in Docker, the name filters do not look at the type.
        assert!(include(&f(&["container=data"]), &vol));
        assert!(include(&f(&["volume=data"]), &vol));
        assert!(include(&f(&["image=busybox"]), &start));
        assert!(include(&f(&["image=busybox:latest"]), &start));
        assert!(include(&f(&["image=busybox"]), &img));
        assert!(!include(&f(&["image=alpine"]), &start));
        assert!(include(&f(&["label=tier=db"]), &start));
        assert!(include(&f(&["label=tier"]), &start));
        assert!(!include(&f(&["label=tier=web"]), &start));
        assert!(include(&f(&["scope=local"]), &start));
        assert!(!include(&f(&["scope=swarm"]), &start));
    }
}
