//! [`EventMessage`]: one event as `GET /events` sends it and `docker events --format` sees it
//! (Docker's `events.Message`, with the legacy `status`/`id`/`from` fields it still fills for
//! container and image events).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The object an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventActor {
    /// Its ID (a volume's name).
    #[serde(rename = "ID")]
    pub id: String,
    /// Its attributes (a container's labels, image and name; an exit code...).
    pub attributes: BTreeMap<String, String>,
}

/// One event, in Docker's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    /// Deprecated: the action, for container and image events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Deprecated: the actor's ID, for container and image events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Deprecated: a container's image.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// `container`, `image`, `volume`, `network`, `plugin`, `daemon`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// What happened.
    #[serde(rename = "Action")]
    pub action: String,
    /// What it happened to.
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    /// `local`.
    pub scope: String,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub time: i64,
    /// Nanoseconds since the Unix epoch.
    #[serde(rename = "timeNano", default, skip_serializing_if = "is_zero")]
    pub time_nano: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}
