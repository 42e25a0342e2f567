//! [`Overrides`] holds the places where berth deliberately differs from Docker 20.10 (the spec's
//! §11 fixes), read from `expected-differences.txt`:
//!
//! ```text
//! [§11 #8: a --tmpfs and a --mount at one target]
//! scenario: 23-mount-spec-errors
//! command: docker run --rm --tmpfs /t --mount type=volume,dst=/t busybox true
//! reason: 20.10 mounts the tmpfs and silently ignores the volume; berth rejects the request.
//! ! docker: Error response from daemon: Duplicate mount point: /t
//! ? 125
//! ```
//!
//! When berth runs that step, the block replaces Docker's recorded expectation; the scenario file
//! keeps what Docker does. An entry that matches no step is an error, so the list cannot rot.

use crate::scenario::Expect;

/// One expected difference.
#[derive(Clone, Debug)]
pub struct Override {
    /// The `[...]` title.
    pub title: String,
    /// Scenario file stem.
    pub scenario: String,
    /// The step's command, whitespace-collapsed.
    pub command: String,
    /// Why berth differs.
    pub reason: String,
    /// What berth must print instead.
    pub expect: Expect,
}

/// All expected differences.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Entries in file order.
    pub entries: Vec<Override>,
}

impl Overrides {
    /// Parses `expected-differences.txt`.
    pub fn parse(text: &str) -> Result<Overrides, String> {
        let mut entries: Vec<Override> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            let err = |m: &str| format!("expected-differences.txt line {}: {m}", i + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(title) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                entries.push(Override {
                    title: title.to_string(),
                    scenario: String::new(),
                    command: String::new(),
                    reason: String::new(),
                    expect: Expect::default(),
                });
                continue;
            }
            let e = entries
                .last_mut()
                .ok_or_else(|| err("text before the first [title]"))?;
            if let Some(v) = line.strip_prefix("scenario:") {
                e.scenario = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("command:") {
                e.command = v.split_whitespace().collect::<Vec<_>>().join(" ");
            } else if let Some(v) = line.strip_prefix("reason:") {
                if !e.reason.is_empty() {
                    e.reason.push(' ');
                }
                e.reason.push_str(v.trim());
            } else if !e.expect.take_line(line).map_err(|m| err(&m))? {
                return Err(err(&format!("unexpected line {line:?}")));
            }
        }
        for e in &entries {
            if e.scenario.is_empty() || e.command.is_empty() || e.reason.is_empty() {
                return Err(format!(
                    "expected difference [{}] needs scenario:, command: and reason:",
                    e.title
                ));
            }
        }
        Ok(entries.into_iter().collect::<Vec<_>>().into())
    }

    /// The override for `command` (as [`crate::scenario::Step::one_line`]) in `scenario`.
    pub fn find(&self, scenario: &str, command: &str) -> Option<&Override> {
        self.entries
            .iter()
            .find(|e| e.scenario == scenario && e.command == command)
    }
}

impl From<Vec<Override>> for Overrides {
    fn from(entries: Vec<Override>) -> Overrides {
        Overrides { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let o = Overrides::parse(
            "# x\n[§11 #8]\nscenario: s\ncommand: docker  run   x\nreason: a\nreason: b\n! err\n? 125\n",
        )
        .unwrap();
        let e = o.find("s", "docker run x").unwrap();
        assert_eq!(e.reason, "a b");
        assert_eq!(e.expect.stderr, vec!["err"]);
        assert_eq!(e.expect.code, 125);
        assert!(Overrides::parse("[t]\nscenario: s\n").is_err());
    }
}
