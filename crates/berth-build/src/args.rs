//! [`BuildArgs`] decides which `--build-arg`s a step sees, with Docker's rules: an `ARG` makes a
//! name visible in its stage from there on (its default used when no `--build-arg` gives a
//! value), meta `ARG`s (before the first `FROM`) give defaults to stages that redeclare them, the
//! proxy variables are always allowed, and names given but never declared are reported at the
//! end (`[Warning] One or more build-args [X] were not consumed`).

use std::collections::{BTreeMap, BTreeSet};

/// Build arguments that need no `ARG` (Docker's `builtinAllowedBuildArgs`).
pub const BUILTIN: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The arguments of a build and of one stage in it.
#[derive(Debug, Clone, Default)]
pub struct BuildArgs {
    /// Declared in the current stage: name → default.
    allowed: BTreeMap<String, Option<String>>,
    /// Declared before the first FROM: name → default.
    meta: BTreeMap<String, Option<String>>,
    /// Every name some ARG declared (for the unused warning).
    referenced: BTreeSet<String>,
    /// `--build-arg` values (`None`: given without a value and not in the environment).
    options: BTreeMap<String, Option<String>>,
}

impl BuildArgs {
    /// The `--build-arg`s of a build.
    pub fn new(options: BTreeMap<String, Option<String>>) -> BuildArgs {
        BuildArgs {
            options,
            ..Default::default()
        }
    }

    /// A copy for a new stage: declarations of the previous stage are forgotten.
    pub fn for_stage(&self) -> BuildArgs {
        BuildArgs {
            allowed: BTreeMap::new(),
            meta: self.meta.clone(),
            referenced: self.referenced.clone(),
            options: self.options.clone(),
        }
    }

    /// Records names a finished stage declared.
    pub fn merge_referenced(&mut self, other: &BuildArgs) {
        self.referenced.extend(other.referenced.iter().cloned());
    }

    /// `ARG name[=default]` in a stage.
    pub fn add_arg(&mut self, key: &str, default: Option<String>) {
        self.allowed.insert(key.to_string(), default);
        self.referenced.insert(key.to_string());
    }

    /// `ARG` before the first FROM.
    pub fn add_meta_arg(&mut self, key: &str, default: Option<String>) {
        self.meta.insert(key.to_string(), default);
    }

    /// True when `key` goes into the step's cache key and history (declared, or not a proxy).
    pub fn is_referenced_or_not_builtin(&self, key: &str) -> bool {
        self.allowed.contains_key(key) || !BUILTIN.contains(&key)
    }

    fn value(&self, key: &str, mapping: &BTreeMap<String, Option<String>>) -> Option<String> {
        if let Some(Some(v)) = self.options.get(key) {
            return Some(v.clone());
        }
        match mapping.get(key) {
            None => None,
            Some(None) => self.meta.get(key).cloned().flatten(),
            Some(Some(d)) => Some(d.clone()),
        }
    }

    fn all_from(&self, mapping: &BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for key in mapping.keys().map(String::as_str).chain(BUILTIN) {
            let v = if BUILTIN.contains(&key) && !mapping.contains_key(key) {
                self.options.get(key).cloned().flatten()
            } else {
                self.value(key, mapping)
            };
            if let Some(v) = v {
                out.insert(key.to_string(), v);
            }
        }
        out
    }

    /// Values of the arguments the current stage may use.
    pub fn all_allowed(&self) -> BTreeMap<String, String> {
        self.all_from(&self.allowed)
    }

    /// Values of the meta args (for FROM lines).
    pub fn all_meta(&self) -> BTreeMap<String, String> {
        self.all_from(&self.meta)
    }

    /// `K=V` of the allowed arguments not overridden by `env` (a RUN step's extra environment).
    pub fn filter_allowed(&self, env: &[String]) -> Vec<String> {
        let keys: BTreeSet<&str> = env
            .iter()
            .map(|e| e.split_once('=').map(|(k, _)| k).unwrap_or(e))
            .collect();
        self.all_allowed()
            .into_iter()
            .filter(|(k, _)| !keys.contains(k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// `--build-arg` names no ARG declared (proxies excepted), sorted.
    pub fn unused(&self) -> Vec<String> {
        self.options
            .keys()
            .filter(|k| !self.referenced.contains(*k) && !BUILTIN.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn scoping_follows_docker() {
        let mut base = BuildArgs::new(opts(&[
            ("A", Some("cli")),
            ("UNUSED", Some("x")),
            ("http_proxy", Some("p")),
        ]));
        base.add_meta_arg("V", Some("1.0".into()));
        let mut stage = base.for_stage();
        // Not declared in the stage yet: only the proxy is visible.
        assert_eq!(stage.filter_allowed(&[]), ["http_proxy=p"]);
        stage.add_arg("A", Some("dflt".into()));
        stage.add_arg("V", None);
        stage.add_arg("B", Some("b".into()));
        assert_eq!(
            stage.filter_allowed(&["B=env".into()]),
            ["A=cli", "V=1.0", "http_proxy=p"]
        );
        assert!(!stage.is_referenced_or_not_builtin("http_proxy"));
        assert!(stage.is_referenced_or_not_builtin("A"));
        base.merge_referenced(&stage);
        assert_eq!(base.unused(), ["UNUSED"]);
        // A new stage forgets the declarations.
        assert!(!base.for_stage().all_allowed().contains_key("A"));
    }
}
