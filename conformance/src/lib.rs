//! [`Suite`] runs differential scenarios: transcripts of `docker …` command lines, each carrying the
//! normalized output recorded from a real Docker, replayed against berth (or against Docker again).
//!
//! The same command line reaches either engine through a `docker` wrapper script put first on
//! `PATH`: for berth it runs the berth binary with an isolated `--root`, for Docker it runs the docker
//! CLI with `-H unix://<socket>`. Output is normalized (IDs, times, sizes, data-root paths) before it
//! is compared, so two engines with different IDs and paths produce the same text.

#![warn(missing_docs)]

/// The `docker` wrapper, per-scenario data roots and scratch dirs, fixture loading, clean-up.
pub mod engine;
/// Fixture images built without network: the busybox rootfs and multi-layer `docker save` archives.
pub mod fixtures;
/// Small helpers for scenarios: list the entries of a layer inside a saved image archive.
pub mod layers;
/// Rewrites engine-specific text (IDs, times, sizes, paths) into engine-neutral placeholders.
pub mod normalize;
/// Deliberate differences from Docker (spec §11 fixes), applied as expectation overrides.
pub mod overrides;
/// Runs scenarios, compares transcripts and prints the report.
pub mod runner;
/// The `.scn` transcript format: parsing and (for `record`) writing.
pub mod scenario;

pub use runner::{Mode, Report, Suite};

use std::path::{Path, PathBuf};

/// The `conformance/` directory (scenarios, expected differences).
pub fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario file under `dir/scenarios`, sorted by name.
pub fn scenario_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("scenarios"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads the scenarios whose names start with or contain one of `filters` (all when empty) and
/// the expected differences, and checks that every expected difference still names a step.
pub fn load_suite(
    filters: &[String],
    strict: bool,
    timeout: std::time::Duration,
) -> Result<Suite, String> {
    let dir = conformance_dir();
    let mut scenarios = Vec::new();
    for path in scenario_files(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let sc = scenario::Scenario::load(&path)?;
        if filters.is_empty()
            || filters
                .iter()
                .any(|f| sc.name.starts_with(f.as_str()) || sc.name.contains(f.as_str()))
        {
            scenarios.push(sc);
        }
    }
    let path = dir.join("expected-differences.txt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let known = dir.join("known-failures.txt");
    let known_failures = std::fs::read_to_string(&known)
        .map(|t| parse_known_failures(&t))
        .unwrap_or_default();
    let all: Vec<String> = scenario_files(&dir)
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    if let Some((name, _)) = known_failures.iter().find(|(n, _)| !all.contains(n)) {
        return Err(format!(
            "known-failures.txt names {name:?}, which is not a scenario"
        ));
    }
    let suite = Suite {
        scenarios,
        overrides: overrides::Overrides::parse(&text)?,
        strict,
        timeout,
        known_failures,
    };
    suite.validate_overrides()?;
    Ok(suite)
}

/// `known-failures.txt`: one `scenario-name  # reason` per line; blank and `#` lines ignored.
pub fn parse_known_failures(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((name, why)) => (name.trim().to_string(), why.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}
