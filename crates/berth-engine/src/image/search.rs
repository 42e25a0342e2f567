//! `docker search`: asks the index a term names (through the registry client's
//! [`Registry::search`](berth_registry::Registry::search)) and keeps the results the filters
//! allow, with dockerd's limit and filter checks and words.

use berth_registry::search::SearchResult;

use super::RegistryAuth;
use crate::filters::Filters;
use crate::{Engine, EngineError};

/// How many results an index is asked for when the request names no limit.
pub const DEFAULT_SEARCH_LIMIT: i64 = 25;

/// The filters `search` takes.
const ACCEPTED: &[&str] = &["is-automated", "is-official", "stars"];

/// A `search` refused before the index is asked (dockerd's words, HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum SearchRequestError {
    /// A `stars` filter that is not a number.
    #[error("Invalid filter 'stars={0}'")]
    Stars(String),
    /// A limit outside 1 to 100.
    #[error("Limit {0} is outside the range of [1, 100]")]
    Limit(i64),
}

impl Engine {
    /// `docker search TERM`: at most `limit` results (1 to 100) of the index `term` names,
    /// filtered by `is-official`, `is-automated` (`true`/`false`) and `stars` (at least).
    pub fn search_images(
        &self,
        term: &str,
        limit: i64,
        filters: &Filters,
        auth: &RegistryAuth,
    ) -> Result<Vec<SearchResult>, EngineError> {
        filters.validate(ACCEPTED)?;
        let official = filters.bool_value("is-official", false)?;
        let automated = filters.bool_value("is-automated", false)?;
        let mut min_stars = None;
        for v in filters.get("stars") {
            let n: i64 = v
                .parse()
                .map_err(|_| SearchRequestError::Stars(v.to_string()))?;
            min_stars = Some(min_stars.map_or(n, |m: i64| m.max(n)));
        }
        if !(1..=100).contains(&limit) {
            return Err(SearchRequestError::Limit(limit).into());
        }
        let found = self.registry(auth).search(term, limit as u32)?;
        Ok(found
            .into_iter()
            .filter(|r| official.is_none_or(|o| r.is_official == o))
            .filter(|r| automated.is_none_or(|a| r.is_automated == a))
            .filter(|r| min_stars.is_none_or(|m| r.star_count >= m))
            .collect())
    }
}
