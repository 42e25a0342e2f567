//! `images`: summaries of stored images, with Docker's filters (`dangling`, `reference`, `label`,
//! `before`, `since`) and its rule that untagged parents of other images are hidden without `-a`.

use berth_image::reference::Reference;
use berth_image::store::{ImageRecord, ImageStore, RefKind};

use crate::filters::Filters;
use crate::types::ImageSummary;
use crate::{Engine, EngineError};

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

impl Engine {
    /// Image summaries, newest first, as `GET /images/json` returns them.
    pub fn list_images(
        &mut self,
        all: bool,
        filters: &Filters,
    ) -> Result<Vec<ImageSummary>, EngineError> {
        filters.validate(&["dangling", "label", "before", "since", "reference"])?;
        let dangling_filter = filters.bool_value("dangling", false)?;
        let bound = |engine: &mut Engine, key: &str| -> Result<Option<i64>, EngineError> {
            match filters.first(key) {
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
            if dangling_filter.is_some_and(|want| want != dangling) {
                continue;
            }
            let labels = image.config.config.as_ref().and_then(|c| c.labels.clone());
            if !filters.match_kv_list("label", &labels.clone().unwrap_or_default()) {
                continue;
            }
            let created = image.config.created_time();
            let created_ns = created.timestamp_nanos_opt().unwrap_or(0);
            if before.is_some_and(|b| created_ns >= b) || since.is_some_and(|s| created_ns <= s) {
                continue;
            }
            let mut repo_tags = tags;
            if filters.contains("reference") {
                repo_tags.retain(|t| {
                    let name = t.rsplit_once(':').map(|(n, _)| n).unwrap_or(t);
                    filters
                        .get("reference")
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
