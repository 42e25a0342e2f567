//! `ps`: container summaries with Docker's filters and its `Status` wording (`Up 5 seconds`,
//! `Exited (0) 3 minutes ago`, `Created`).

use chrono::{DateTime, Utc};

use super::{Container, Status};
use crate::filters::{FilterError, Filters};
use crate::types::ContainerSummary;
use crate::{Engine, EngineError};
use berth_go::human_duration;

/// `ps` options.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `-a`: include stopped containers.
    pub all: bool,
    /// `-n N` (implies all).
    pub limit: Option<usize>,
    /// `-l` (the latest, implies all).
    pub latest: bool,
    /// `-s`: compute sizes.
    pub size: bool,
    /// `--filter key=value`.
    pub filters: Filters,
}

const FILTERS: &[&str] = &[
    "id",
    "name",
    "label",
    "status",
    "exited",
    "ancestor",
    "before",
    "since",
    "volume",
    "isolation",
    "network",
    "health",
    "publish",
    "expose",
    "is-task",
];

pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Docker's `Status` column; `health` is the container's health status, if it has a check.
pub(crate) fn status_text(c: &Container, health: Option<&str>, now: DateTime<Utc>) -> String {
    let since = |t: &str| {
        parse_time(t)
            .map(|t| human_duration(now - t))
            .unwrap_or_default()
    };
    match c.state.status {
        Status::Created => "Created".into(),
        Status::Running => match health {
            Some(super::health::STARTING) => {
                format!("Up {} (health: starting)", since(&c.state.started_at))
            }
            Some(h) => format!("Up {} ({h})", since(&c.state.started_at)),
            None => format!("Up {}", since(&c.state.started_at)),
        },
        Status::Paused => format!("Up {} (Paused)", since(&c.state.started_at)),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            c.state.exit_code,
            since(&c.state.finished_at)
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Exited => {
            if c.state.finished_at.starts_with("0001") {
                format!("Exited ({})", c.state.exit_code)
            } else {
                format!(
                    "Exited ({}) {} ago",
                    c.state.exit_code,
                    since(&c.state.finished_at)
                )
            }
        }
        Status::Dead => "Dead".into(),
    }
}

/// Docker's `Command` column: arguments containing a space are single-quoted.
fn command_line(args: &[String]) -> String {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            if i > 0 && a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Engine {
    /// `GET /containers/json`: summaries, newest first.
    pub fn list_containers(
        &mut self,
        opts: &ListOptions,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        let f = &opts.filters;
        f.validate(FILTERS)?;
        for v in f.get("exited") {
            if v.parse::<i32>().is_err() {
                return Err(FilterError::NotAnInteger(v.to_string()).into());
            }
        }
        const STATUSES: &[&str] = &[
            "created",
            "restarting",
            "running",
            "removing",
            "paused",
            "exited",
            "dead",
        ];
        if let Some(v) = f.get("status").find(|v| !STATUSES.contains(v)) {
            return Err(FilterError::BadStatus(v.to_string()).into());
        }
        const HEALTH: &[&str] = &["starting", "healthy", "unhealthy", "none"];
        if let Some(v) = f.get("health").find(|v| !HEALTH.contains(v)) {
            return Err(FilterError::BadHealth(v.to_string()).into());
        }
        let mut all = Vec::new();
        // What each (name given at create, image ID) shows as `Image`, resolved once per listing:
        // the lookup parses the name and decodes the image's record, 113,000 instructions a
        // container of `ps -a`, where containers share a few images.
        let mut shown_images: std::collections::HashMap<(String, String), String> =
            Default::default();
        for c in self.all_containers()? {
            all.push(self.refresh(c)?);
        }
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let bound = |key: &str| -> Result<Option<String>, EngineError> {
            match opts.filters.first(key) {
                // dockerd's own words here, unlike its other lookups.
                Some(name) => match self.lookup_container(name) {
                    Ok(c) => Ok(Some(c.created_at)),
                    Err(EngineError::NoSuchContainer(_)) => {
                        Err(FilterError::NoSuchContainer(name.to_string()).into())
                    }
                    Err(e) => Err(e),
                },
                None => Ok(None),
            }
        };
        let before = bound("before")?;
        let since = bound("since")?;
        let show_all = opts.all
            || opts.limit.is_some()
            || opts.latest
            || opts.filters.contains("status")
            || opts.filters.contains("exited");
        let mut ancestors = Vec::new();
        for n in opts.filters.get("ancestor") {
            if let Ok((img, _)) = self.resolve_image(n) {
                ancestors.push(img.id.to_string());
            }
        }
        // A linked container is also listed under `/parent/alias` (Docker).
        let mut link_names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for parent in &all {
            for l in parent.host_config.links.iter().flatten() {
                if let Some((child, alias)) = l.split_once(':') {
                    link_names
                        .entry(child.trim_start_matches('/').to_string())
                        .or_default()
                        .push(alias.to_string());
                }
            }
        }
        let now = Utc::now();
        let mut out = Vec::new();
        for c in all {
            if !show_all && !c.state.status.is_running() {
                continue;
            }
            if f.contains("id") && !f.get("id").any(|p| c.id.starts_with(p)) {
                continue;
            }
            if !f.matches("name", &c.name) && !f.matches("name", &format!("/{}", c.name)) {
                continue;
            }
            let labels = c.config.labels.clone().unwrap_or_default();
            if !f.match_kv_list("label", &labels) {
                continue;
            }
            if !f.exact_match("status", c.state.status.as_str()) {
                continue;
            }
            if f.contains("exited")
                && (c.state.status != Status::Exited
                    || !f
                        .get("exited")
                        .any(|s| s.parse::<i32>().ok() == Some(c.state.exit_code)))
            {
                continue;
            }
            let health = self.health_of(&c.id)?.map(|h| h.status);
            if !f.exact_match("health", health.as_deref().unwrap_or("none")) {
                continue;
            }
            if f.contains("ancestor") && !ancestors.contains(&c.image_id) {
                continue;
            }
            if before.as_ref().is_some_and(|b| c.created_at >= *b) {
                continue;
            }
            if since.as_ref().is_some_and(|s| c.created_at <= *s) {
                continue;
            }
            if f.contains("volume") {
                let ok = c.mounts.iter().any(|m| {
                    f.get("volume")
                        .any(|want| m.source.as_deref() == Some(want) || m.destination == want)
                });
                if !ok {
                    continue;
                }
            }
            let (size_rw, size_root_fs) = if opts.size {
                let rw = self
                    .store
                    .driver()
                    .diff_size(&c.id, Some(c.init_layer()))
                    .unwrap_or(0) as i64;
                (Some(rw), Some(rw + self.image_size_of(&c)? as i64))
            } else {
                (None, None)
            };
            let (ports, network_settings) = self.summary_network(&c)?;
            let key = (c.image_ref.clone(), c.image_id.clone());
            let image = match shown_images.get(&key) {
                Some(shown) => shown.clone(),
                None => {
                    let shown = self.displayed_image(&c);
                    shown_images.insert(key, shown.clone());
                    shown
                }
            };
            let mut names = vec![format!("/{}", c.name)];
            names.extend(link_names.get(&c.name).cloned().unwrap_or_default());
            out.push(ContainerSummary {
                id: c.id.clone(),
                names,
                image,
                image_id: c.image_id.clone(),
                command: command_line(&c.command()),
                created: parse_time(&c.created_at)
                    .map(|t| t.timestamp())
                    .unwrap_or(0),
                ports,
                size_rw,
                size_root_fs,
                labels,
                state: c.state.status.as_str().to_string(),
                status: status_text(&c, health.as_deref(), now),
                host_config: crate::types::SummaryHostConfig {
                    network_mode: c.host_config.network_mode.clone(),
                },
                network_settings,
                mounts: c.mount_points(self),
            });
            if opts.latest && !out.is_empty() {
                break;
            }
            if opts.limit.is_some_and(|n| out.len() >= n) {
                break;
            }
        }
        Ok(out)
    }
}

impl Engine {
    /// The summary's `Image`: the name given at create while it still names the container's
    /// image, else the image ID (which the docker CLI shows as `6efb55e1e036`).
    fn displayed_image(&mut self, c: &Container) -> String {
        match self.resolve_image(&c.image_ref) {
            Ok((img, _)) if img.id.to_string() == c.image_id => c.image_ref.clone(),
            _ => c.image_id.clone(),
        }
    }

    /// Containers created from image `image_id`: (ID, running?), oldest first.
    pub(crate) fn containers_using_image(
        &mut self,
        image_id: &str,
    ) -> Result<Vec<(String, bool)>, EngineError> {
        let mut out = Vec::new();
        let mut users: Vec<Container> = self
            .all_containers()?
            .into_iter()
            .filter(|c| c.image_id == image_id)
            .collect();
        users.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        for c in users {
            let c = self.refresh(c)?;
            out.push((c.id.clone(), c.state.status.is_running()));
        }
        Ok(out)
    }
}
