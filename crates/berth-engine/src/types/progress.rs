//! [`ProgressMessage`] is one line of a pull's or push's progress, shaped like Docker's JSON
//! message stream (`{"status":"Downloading","progressDetail":{"current":1,"total":2},
//! "progress":"[=>   ] 1B/2B","id":"405525f39c6b"}`): the API streams them as they are, the CLI
//! draws them. [`ProgressSink`] receives them from any thread.

use serde::{Deserialize, Serialize};

/// `progressDetail`: bytes done and total (`{}` when there is nothing to count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetail {
    /// Bytes done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<u64>,
    /// Bytes in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// One progress message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProgressMessage {
    /// `Pulling fs layer`, `Downloading`, `Digest: sha256:...`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Counts, for lines that show a bar.
    #[serde(
        rename = "progressDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_detail: Option<ProgressDetail>,
    /// The bar as Docker's daemon renders it (`[==>   ] 12.3MB/40MB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// What the line is about: a layer's short digest, a tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Extra data (a push's `{"Tag","Digest","Size"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

impl ProgressMessage {
    /// A status line without counts (`Digest: sha256:...`).
    pub fn status(id: Option<&str>, status: impl Into<String>) -> ProgressMessage {
        ProgressMessage {
            status: status.into(),
            id: id.map(str::to_string),
            ..Default::default()
        }
    }

    /// A layer's status line with an empty `progressDetail` (`Pulling fs layer`, `Waiting`).
    pub fn layer(id: &str, status: impl Into<String>) -> ProgressMessage {
        ProgressMessage {
            status: status.into(),
            id: Some(id.to_string()),
            progress_detail: Some(ProgressDetail::default()),
            ..Default::default()
        }
    }

    /// A layer's counting line (`Downloading`, `Pushing`) with the bar.
    pub fn counting(id: &str, status: &str, current: u64, total: u64) -> ProgressMessage {
        ProgressMessage {
            status: status.to_string(),
            id: Some(id.to_string()),
            progress_detail: Some(ProgressDetail {
                current: Some(current),
                total: Some(total),
            }),
            progress: Some(progress_bar(current, total)),
            aux: None,
        }
    }

    /// The line the docker CLI draws for it: `id: status`, and the bar when `with_bar`.
    pub fn text(&self, with_bar: bool) -> String {
        let mut s = String::new();
        if let Some(id) = &self.id {
            s.push_str(id);
            s.push_str(": ");
        }
        s.push_str(&self.status);
        if with_bar {
            if let Some(p) = self.progress.as_deref().filter(|p| !p.is_empty()) {
                s.push(' ');
                s.push_str(p);
            }
        }
        s
    }

    /// True for lines with counts (which plain, non-terminal output leaves out, as Docker's
    /// CLI does).
    pub fn has_counts(&self) -> bool {
        self.progress.as_deref().is_some_and(|p| !p.is_empty())
    }
}

/// Docker's progress bar: 50 cells, then `current/total` in go-units sizes.
pub fn progress_bar(current: u64, total: u64) -> String {
    use berth_go::units::human_size;
    if total == 0 {
        return format!("{:>8}", human_size(current as f64));
    }
    let pct = ((current as f64 / total as f64 * 100.0) as usize / 2).min(50);
    let bar = format!("[{}>{}] ", "=".repeat(pct), " ".repeat(50 - pct));
    let numbers = if current > total {
        format!("{:>8}", human_size(current as f64))
    } else {
        format!(
            "{:>8}/{}",
            human_size(current as f64),
            human_size(total as f64)
        )
    };
    bar + &numbers
}

/// Receives progress messages, from any thread.
pub trait ProgressSink: Sync {
    /// One message.
    fn send(&self, message: ProgressMessage);
}

/// Drops every message.
pub struct NoProgressSink;

impl ProgressSink for NoProgressSink {
    fn send(&self, _message: ProgressMessage) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_json_match_dockers() {
        assert_eq!(
            progress_bar(12_300_000, 40_000_000),
            format!("[{}>{}]   12.3MB/40MB", "=".repeat(15), " ".repeat(35))
        );
        let m = ProgressMessage::layer("405525f39c6b", "Pulling fs layer");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"405525f39c6b"}"#
        );
        let s = ProgressMessage::status(None, "Digest: sha256:aa");
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"status":"Digest: sha256:aa"}"#
        );
    }
}
