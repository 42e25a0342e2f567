//! [`Filters`] is Docker's `filters` argument, the one parser and matcher behind every list and
//! prune verb (`ps`, `images`, `volume ls`, `container/image/volume prune`), whether it came as
//! `--filter key=value` flags or as the API's `filters` JSON.
//!
//! Docker's rules (`api/types/filters`): a key holds a set of values; each verb accepts a fixed
//! set of keys and refuses any other with `Invalid filter 'KEY'`; how several values of one key
//! combine is the key's own rule — `label` values must *all* match (`MatchKVList`), `label!`
//! excludes what matches *all* of its values, `name`/`id` match when *any* value does, `until`
//! takes exactly one value. A verb checks its keys with [`Filters::validate`] before it looks
//! at anything, so a typo never widens what a prune deletes.

use std::collections::{BTreeMap, BTreeSet};

use berth_store::ErrorKind;
use chrono::{DateTime, Utc};

/// A filter argument Docker would refuse; `Display` is Docker's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A key the verb does not know.
    #[error("Invalid filter '{0}'")]
    UnknownKey(String),
    /// A value the key does not take (`dangling=maybe`), with every value given.
    #[error("Invalid filter '{key}=[{}]'", values.join(" "))]
    BadValue {
        /// The key.
        key: String,
        /// Its values, sorted.
        values: Vec<String>,
    },
    /// `until` given more than once.
    #[error("more than one until filter specified")]
    SeveralUntil,
    /// `until` is neither a time nor a duration.
    #[error(transparent)]
    BadTime(#[from] berth_go::time::TimestampError),
    /// A `--filter` flag without `=`.
    #[error("bad format of filter (expected name=value)")]
    BadFormat(String),
    /// The API's `filters` parameter is not JSON of the right shape (Go's decoder's words).
    #[error("{0}")]
    BadJson(String),
    /// A value that must be an integer (`exited=`), in Go's `strconv.Atoi` words.
    #[error("strconv.Atoi: parsing {0:?}: invalid syntax")]
    NotAnInteger(String),
    /// A `status=` that is no container state.
    #[error("Invalid filter 'status={0}'")]
    BadStatus(String),
    /// A `health=` that is no health state.
    #[error("Unrecognised filter value for health: {0}")]
    BadHealth(String),
    /// A `before=`/`since=` container that does not exist (404; dockerd's own words there).
    #[error("no such container {0}")]
    NoSuchContainer(String),
    /// A `name=` that is not a regular expression.
    #[error("Invalid filter 'name={value}': {error}")]
    BadPattern {
        /// The value.
        value: String,
        /// The regex crate's reason.
        error: String,
    },
    /// A key that takes one value, given several.
    #[error("invalid filter '{key}=[{}]': only one value is expected", .values.join(" "))]
    OneValueOnly {
        /// The key.
        key: String,
        /// Its values.
        values: Vec<String>,
    },
    /// A boolean key whose value is not one (Go's `strconv.ParseBool` set).
    #[error("invalid filter '{key}': invalid boolean value: {value:?}")]
    NotABoolean {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

impl FilterError {
    /// A filter error is the caller's (HTTP 400), or names a container that does not exist.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FilterError::NoSuchContainer(_) => ErrorKind::NotFound,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// Key → set of values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl Filters {
    /// No filters.
    pub fn new() -> Filters {
        Filters::default()
    }

    /// Adds `value` to `key`.
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Filters {
        self.fields
            .entry(key.into())
            .or_default()
            .insert(value.into());
        self
    }

    /// Filters from the docker CLI's `--filter` flags: `key=value`, the key trimmed and
    /// lower-cased, the value trimmed; an empty flag is ignored.
    pub fn from_flags<S: AsRef<str>>(flags: &[S]) -> Result<Filters, FilterError> {
        let mut out = Filters::new();
        for flag in flags {
            let flag = flag.as_ref();
            if flag.is_empty() {
                continue;
            }
            let (k, v) = flag
                .split_once('=')
                .ok_or_else(|| FilterError::BadFormat(flag.to_string()))?;
            out.add(k.trim().to_lowercase(), v.trim());
        }
        Ok(out)
    }

    /// Filters from the API's `filters` parameter: `{"key":{"value":true}}`, or the older
    /// `{"key":["value"]}`; empty means none. As in Docker, a value counts whatever its
    /// boolean says.
    pub fn from_json(raw: &str) -> Result<Filters, FilterError> {
        use serde_json::Value;
        let mut out = Filters::new();
        if raw.is_empty() {
            return Ok(out);
        }
        let value: Value =
            serde_json::from_str(raw).map_err(|e| FilterError::BadJson(e.to_string()))?;
        let kind = |v: &Value| match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let cannot = |v: &Value, ty: &str| {
            FilterError::BadJson(format!(
                "json: cannot unmarshal {} into Go value of type {ty}",
                kind(v)
            ))
        };
        let map = match &value {
            Value::Object(map) => map,
            Value::Null => return Ok(out),
            other => return Err(cannot(other, "map[string]map[string]bool")),
        };
        for (key, values) in map {
            match values {
                Value::Null => {}
                Value::Object(set) => {
                    for (v, on) in set {
                        if !matches!(on, Value::Bool(_) | Value::Null) {
                            return Err(cannot(on, "bool"));
                        }
                        out.add(key.clone(), v.clone());
                    }
                }
                Value::Array(list) => {
                    for v in list {
                        match v {
                            Value::String(s) => {
                                out.add(key.clone(), s.clone());
                            }
                            // Neither form fits: Go reports the first decoder's complaint.
                            _ => return Err(cannot(values, "map[string]bool")),
                        }
                    }
                }
                other => return Err(cannot(other, "map[string]bool")),
            }
        }
        Ok(out)
    }

    /// Refuses any key outside `accepted` (`Invalid filter 'KEY'`).
    pub fn validate(&self, accepted: &[&str]) -> Result<(), FilterError> {
        match self.fields.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(FilterError::UnknownKey(k.clone())),
            None => Ok(()),
        }
    }

    /// Whether `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// Whether no filter was given.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The values of `key`, sorted.
    pub fn get(&self, key: &str) -> impl Iterator<Item = &str> {
        self.fields
            .get(key)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The one value of a key that takes one (`before`, `since`): the smallest if several.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.get(key).next()
    }

    /// `key` was not given, or `value` is one of its values (Docker's `ExactMatch`).
    pub fn exact_match(&self, key: &str, value: &str) -> bool {
        self.fields
            .get(key)
            .is_none_or(|set| set.is_empty() || set.contains(value))
    }

    /// `key` was given and `value` is one of its values.
    pub fn has_value(&self, key: &str, value: &str) -> bool {
        self.fields.get(key).is_some_and(|set| set.contains(value))
    }

    /// `key` was not given, or one of its values equals `source` or, read as a regular
    /// expression, matches somewhere in it (Docker's `Match`; invalid expressions match
    /// nothing).
    pub fn matches(&self, key: &str, source: &str) -> bool {
        let Some(set) = self.fields.get(key).filter(|s| !s.is_empty()) else {
            return true;
        };
        set.contains(source)
            || set
                .iter()
                .any(|p| regex::Regex::new(p).is_ok_and(|r| r.is_match(source)))
    }

    /// `key` was not given, or *every* one of its `k` / `k=v` values is among `labels`
    /// (Docker's `MatchKVList`).
    pub fn match_kv_list(&self, key: &str, labels: &BTreeMap<String, String>) -> bool {
        let Some(set) = self.fields.get(key).filter(|s| !s.is_empty()) else {
            return true;
        };
        set.iter().all(|f| match f.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
            None => labels.contains_key(f.as_str()),
        })
    }

    /// The prune verbs' label rule: every `label` matches, and not every `label!` does.
    pub fn match_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_kv_list("label", labels)
            && !(self.contains("label!") && self.match_kv_list("label!", labels))
    }

    /// A boolean key's value: `None` when absent; `true`/`1` or `false`/`0` (only the words
    /// unless `digits`); several values decide as Docker's `ExactMatch` checks do, true first.
    pub fn bool_value(&self, key: &str, digits: bool) -> Result<Option<bool>, FilterError> {
        if !self.contains(key) {
            return Ok(None);
        }
        let is = |word: &str, digit: &str| {
            self.has_value(key, word) || (digits && self.has_value(key, digit))
        };
        if is("true", "1") {
            Ok(Some(true))
        } else if is("false", "0") {
            Ok(Some(false))
        } else {
            Err(self.bad_value(key))
        }
    }

    /// `Invalid filter 'KEY=[VALUES]'`.
    pub fn bad_value(&self, key: &str) -> FilterError {
        FilterError::BadValue {
            key: key.to_string(),
            values: self.get(key).map(str::to_string).collect(),
        }
    }

    /// The prune verbs' `until`: one timestamp or duration (counted back from `now`).
    pub fn until(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, FilterError> {
        let Some(set) = self.fields.get("until") else {
            return Ok(None);
        };
        if set.len() > 1 {
            return Err(FilterError::SeveralUntil);
        }
        let value = set.iter().next().map(String::as_str).unwrap_or("");
        Ok(Some(berth_go::time::parse_timestamp(value, now)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn flags_and_json_give_the_same_filters() {
        let flags = Filters::from_flags(&[" Label = a=1 ", "label=b", "until=10m"]).unwrap();
        let json =
            Filters::from_json(r#"{"label":{"a=1":true,"b":true},"until":["10m"]}"#).unwrap();
        assert_eq!(flags, json);
        assert_eq!(flags.get("label").collect::<Vec<_>>(), ["a=1", "b"]);
        assert_eq!(
            Filters::from_flags(&["x"]).unwrap_err().to_string(),
            "bad format of filter (expected name=value)"
        );
        assert!(Filters::from_json("").unwrap().is_empty());
    }

    /// The texts a Docker 20.10 daemon answered for these `filters` parameters.
    #[test]
    fn json_errors_are_gos() {
        let e = |s: &str| Filters::from_json(s).unwrap_err().to_string();
        assert_eq!(
            e("[]"),
            "json: cannot unmarshal array into Go value of type map[string]map[string]bool"
        );
        assert_eq!(
            e(r#""x""#),
            "json: cannot unmarshal string into Go value of type map[string]map[string]bool"
        );
        assert_eq!(
            e(r#"{"label":"x"}"#),
            "json: cannot unmarshal string into Go value of type map[string]bool"
        );
        assert_eq!(
            e(r#"{"label":[1]}"#),
            "json: cannot unmarshal array into Go value of type map[string]bool"
        );
        assert_eq!(
            e(r#"{"label":{"x":1}}"#),
            "json: cannot unmarshal number into Go value of type bool"
        );
        assert!(Filters::from_json("{bad").is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let f = Filters::from_flags(&["label=a", "bogus=1"]).unwrap();
        assert_eq!(
            f.validate(&["label", "until"]).unwrap_err().to_string(),
            "Invalid filter 'bogus'"
        );
        assert!(f.validate(&["label", "bogus"]).is_ok());
    }

    #[test]
    fn label_values_must_all_match_and_label_not_must_all_match_to_exclude() {
        let c1 = labels(&[("a", "1")]);
        let c4 = labels(&[("a", "1"), ("b", "1")]);
        let none = labels(&[]);
        let f = Filters::from_flags(&["label=a=1", "label=a=2"]).unwrap();
        assert!(!f.match_labels(&c1));
        let f = Filters::from_flags(&["label=a"]).unwrap();
        assert!(f.match_labels(&c1) && !f.match_labels(&none));
        // docker container prune --filter label!=a=1 --filter label!=b=1 removed c1 and the
        // unlabelled one, and kept c4.
        let f = Filters::from_flags(&["label!=a=1", "label!=b=1"]).unwrap();
        assert!(f.match_labels(&c1) && f.match_labels(&none) && !f.match_labels(&c4));
        let f = Filters::from_flags(&["label="]).unwrap();
        assert!(!f.match_labels(&c1));
    }

    #[test]
    fn booleans_and_until() {
        let f = Filters::from_flags(&["dangling=maybe"]).unwrap();
        assert_eq!(
            f.bool_value("dangling", true).unwrap_err().to_string(),
            "Invalid filter 'dangling=[maybe]'"
        );
        let f = Filters::from_flags(&["dangling=1"]).unwrap();
        assert_eq!(f.bool_value("dangling", true).unwrap(), Some(true));
        assert!(f.bool_value("dangling", false).is_err());
        let f = Filters::from_flags(&["dangling=false", "dangling=true"]).unwrap();
        assert_eq!(f.bool_value("dangling", false).unwrap(), Some(true));
        assert_eq!(Filters::new().bool_value("dangling", true).unwrap(), None);

        let now = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let f = Filters::from_flags(&["until=1h"]).unwrap();
        assert_eq!(
            f.until(now).unwrap().unwrap().to_rfc3339(),
            "2026-11-24T09:00:00+00:00"
        );
        let f = Filters::from_flags(&["until=1h", "until=2h"]).unwrap();
        assert_eq!(
            f.until(now).unwrap_err().to_string(),
            "more than one until filter specified"
        );
        let f = Filters::from_flags(&["until=abc"]).unwrap();
        assert_eq!(
            f.until(now).unwrap_err().to_string(),
            "failed to parse value as time or duration: \"abc\""
        );
    }

    #[test]
    fn match_is_exact_or_regex() {
        let f = Filters::from_flags(&["name=^web", "name=[bad"]).unwrap();
        assert!(f.matches("name", "web1"));
        assert!(!f.matches("name", "db"));
        assert!(f.matches("name", "[bad"));
        assert!(f.matches("other", "anything"));
    }
}
