//! `images`: summaries of stored images, with Docker's filters (`dangling`, `reference`, `label`,
//! `before`, `since`) and its rule that untagged parents of other images are hidden without `-a`.

use std::collections::BTreeMap;

use berth_image::reference::Reference;
use berth_image::store::{ImageRecord, ImageStore, RefKind};

use crate::types::ImageSummary;
use crate::{Engine, EngineError};

/// Filters as `--filter key=value` gives them: key → values.
pub type ImageFilters = BTreeMap<String, Vec<String>>;

/// Names of an image split into tags and digests, in familiar form, sorted.
pub(crate) fn familiar_names(
    images: &ImageStore<'_>,
    image: &ImageRecord,
) -> Result<(Vec<String>, Vec<String>), EngineError> {
    let mut tags = Vec::new();
    let mut digests = Vec::new();
    for n in images.names(Some(&image.id))? {
        let familiar = Reference::parse(&n.name)
            .map(|r| r.familiar_string())
            .unwrap_or(n.name.clone());
        match n.kind {
            RefKind::Tag => tags.push(familiar),
            RefKind::Digest => digests.push(familiar),
        }
    }
    tags.sort();
    digests.sort();
    Ok((tags, digests))
}

/// Go's `path.Match` for the `*` and `?` wildcards (neither crosses a `/`).
pub(crate) fn glob_match(pattern: &str, s: &str) -> bool {
    fn rec(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| rec(rest, &s[i..])),
            Some((b'?', rest)) => {
                matches!(s.split_first(), Some((c, t)) if *c != b'/' && rec(rest, t))
            }
            Some((b'\\', rest)) if !rest.is_empty() => {
                matches!(s.split_first(), Some((c, t)) if *c == rest[0] && rec(&rest[1..], t))
            }
            Some((c, rest)) => matches!(s.split_first(), Some((d, t)) if d == c && rec(rest, t)),
        }
    }
    rec(pattern.as_bytes(), s.as_bytes())
}

fn label_matches(labels: Option<&BTreeMap<String, String>>, filter: &str) -> bool {
    let labels = labels.cloned().unwrap_or_default();
    match filter.split_once('=') {
        Some((k, v)) => labels.get(k).map(|x| x == v).unwrap_or(false),
        None => labels.contains_key(filter),
    }
}

impl Engine {
    /// Image summaries, newest first, as `GET /images/json` returns them.
    pub fn list_images(
        &mut self,
        all: bool,
        filters: &ImageFilters,
    ) -> Result<Vec<ImageSummary>, EngineError> {
        for (key, values) in filters {
            match key.as_str() {
                "dangling" => {
                    for v in values {
                        if !matches!(v.as_str(), "true" | "false" | "1" | "0") {
                            return Err(EngineError::InvalidArgument(format!(
                                "Invalid filter 'dangling=[{v}]'"
                            )));
                        }
                    }
                }
                "reference" | "label" | "before" | "since" => {}
                _ => {
                    return Err(EngineError::InvalidArgument(format!(
                        "Invalid filter '{key}'"
                    )))
                }
            }
        }
        let bound = |engine: &mut Engine, key: &str| -> Result<Option<i64>, EngineError> {
            match filters.get(key).and_then(|v| v.first()) {
                None => Ok(None),
                Some(name) => {
                    let (img, _) = engine.resolve_image(name)?;
                    Ok(Some(
                        img.config.created_time().timestamp_nanos_opt().unwrap_or(0),
                    ))
                }
            }
        };
        let before = bound(self, "before")?;
        let since = bound(self, "since")?;
        let images = ImageStore::new(&mut self.store);
        let mut out = Vec::new();
        for image in images.list()? {
            let (tags, digests) = familiar_names(&images, &image)?;
            let dangling = tags.is_empty() && digests.is_empty();
            if !all && dangling && images.has_children(&image.id)? {
                continue;
            }
            if let Some(values) = filters.get("dangling") {
                let want = values.iter().any(|v| v == "true" || v == "1");
                if want != dangling {
                    continue;
                }
            }
            let labels = image.config.config.as_ref().and_then(|c| c.labels.clone());
            if let Some(values) = filters.get("label") {
                if !values.iter().all(|f| label_matches(labels.as_ref(), f)) {
                    continue;
                }
            }
            let created = image.config.created_time();
            let created_ns = created.timestamp_nanos_opt().unwrap_or(0);
            if before.is_some_and(|b| created_ns >= b) || since.is_some_and(|s| created_ns <= s) {
                continue;
            }
            let mut repo_tags = tags;
            if let Some(patterns) = filters.get("reference") {
                repo_tags.retain(|t| {
                    let name = t.rsplit_once(':').map(|(n, _)| n).unwrap_or(t);
                    patterns
                        .iter()
                        .any(|p| glob_match(p, t) || glob_match(p, name))
                });
                if repo_tags.is_empty() {
                    continue;
                }
            }
            out.push(ImageSummary {
                containers: -1,
                created: created.timestamp(),
                id: image.id.to_string(),
                labels,
                parent_id: image
                    .parent
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                repo_digests: digests,
                repo_tags,
                shared_size: -1,
                size: image.size as i64,
                virtual_size: image.size as i64,
            });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn glob_like_go_path_match() {
        assert!(glob_match("busy*", "busybox"));
        assert!(glob_match("busybox", "busybox"));
        assert!(!glob_match("busy*", "library/busybox"));
        assert!(glob_match("*/x", "user/x"));
        assert!(glob_match("b?sybox:*", "busybox:latest"));
        assert!(!glob_match("*", "a/b"));
    }
}
