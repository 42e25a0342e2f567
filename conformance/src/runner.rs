//! [`Suite`] runs scenarios on an [`Engine`] and compares transcripts; [`Report`] prints one line
//! per scenario, the differences of the failed ones, and `N passed, M failed, K skipped`.
//!
//! Modes:
//! * [`Mode::Check`]: one engine against the recorded expectations (for berth, with the expected
//!   differences applied). This is what CI runs, with berth alone.
//! * [`Mode::Record`]: Docker's transcript becomes the new expectation (the files are rewritten).
//! * [`Mode::Diff`]: Docker and berth live: berth is compared with Docker's fresh transcript, and a
//!   Docker transcript that no longer matches the recording is reported as stale.

use std::fmt::Write as _;
use std::time::Duration;

use crate::engine::{Engine, Session};
use crate::normalize::Normalizer;
use crate::overrides::Overrides;
use crate::scenario::{Expect, Scenario, Section};

/// What a run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Compare one engine with the recordings.
    Check,
    /// Rewrite the recordings from Docker.
    Record,
    /// Compare berth with a live Docker.
    Diff,
}

/// The scenarios, the expected differences and the run options.
#[derive(Debug)]
pub struct Suite {
    /// Scenarios to run, in order.
    pub scenarios: Vec<Scenario>,
    /// Deliberate differences (applied to berth only).
    pub overrides: Overrides,
    /// Treat missing berth features as failures instead of skips.
    pub strict: bool,
    /// Per-command time limit.
    pub timeout: Duration,
    /// berth's known failures: scenario name → reason (`known-failures.txt`).
    pub known_failures: Vec<(String, String)>,
}

/// An engine's normalized transcript of one scenario.
#[derive(Debug, Default)]
pub struct Transcript {
    /// Per step: the normalized result of test steps, `None` for setup/cleanup.
    pub steps: Vec<Option<Expect>>,
    /// A setup step (or fixture loading) that failed; the test steps were not run.
    pub setup_error: Option<String>,
}

/// One differing step.
#[derive(Debug)]
pub struct StepDiff {
    /// Line of the command in the scenario file.
    pub line: usize,
    /// The command, on one line.
    pub command: String,
    /// What was expected.
    pub expected: Expect,
    /// What the engine did.
    pub actual: Expect,
    /// The expected difference that replaced Docker's expectation, if any.
    pub override_title: Option<String>,
}

/// How a scenario ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every step matched.
    Pass,
    /// Setup failed, or some steps differ.
    Fail {
        /// A failed setup step or fixture load.
        setup_error: Option<String>,
        /// Differing test steps.
        diffs: Vec<StepDiff>,
    },
    /// Not run: the reason (missing berth features).
    Skip(String),
}

/// The result of one scenario.
#[derive(Debug)]
pub struct ScenarioResult {
    /// Scenario file stem.
    pub name: String,
    /// §12 behaviours it covers.
    pub covers: Vec<u32>,
    /// The outcome.
    pub outcome: Outcome,
    /// Expected differences applied (titles).
    pub overrides_applied: Vec<String>,
    /// Diff mode: Docker no longer matches the recording at these steps.
    pub stale: Vec<StepDiff>,
    /// Record mode: the file was rewritten.
    pub rewritten: bool,
    /// A berth failure listed in `known-failures.txt` (the reason given there).
    pub known_failure: Option<String>,
}

/// All results of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Engine name the outcomes are about.
    pub engine: String,
    /// What it was compared with: `recorded` (the scenario files) or `docker` (live, diff mode).
    pub reference: String,
    /// Per scenario, in order.
    pub results: Vec<ScenarioResult>,
}

impl Suite {
    /// Checks that every expected difference names an existing step of a loaded scenario.
    pub fn validate_overrides(&self) -> Result<(), String> {
        for o in &self.overrides.entries {
            if let Some(sc) = self.scenarios.iter().find(|s| s.name == o.scenario) {
                let matching = sc
                    .steps
                    .iter()
                    .filter(|s| s.section == Section::Test && s.one_line() == o.command)
                    .count();
                if matching > 1 {
                    return Err(format!(
                        "expected difference [{}]: `{}` is {matching} steps of {}; make the commands distinct",
                        o.title, o.command, sc.name
                    ));
                }
                if matching == 0 {
                    return Err(format!(
                        "expected difference [{}]: no test step `{}` in {}",
                        o.title, o.command, sc.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Runs every scenario; `print` gets each result line as soon as it is known.
    pub fn run(
        &self,
        mode: Mode,
        primary: &Engine,
        berth: Option<&Engine>,
        mut print: impl FnMut(&str),
    ) -> Report {
        let subject = if mode == Mode::Diff {
            berth.unwrap_or(primary)
        } else {
            primary
        };
        let mut report = Report {
            engine: subject.name().to_string(),
            reference: if mode == Mode::Diff {
                "docker"
            } else {
                "recorded"
            }
            .to_string(),
            results: Vec::new(),
        };
        for sc in &self.scenarios {
            let r = self.run_one(mode, sc, primary, berth);
            print(&r.line());
            report.results.push(r);
        }
        report
    }

    fn run_one(
        &self,
        mode: Mode,
        sc: &Scenario,
        primary: &Engine,
        berth: Option<&Engine>,
    ) -> ScenarioResult {
        let mut result = ScenarioResult {
            name: sc.name.clone(),
            covers: sc.covers.clone(),
            outcome: Outcome::Pass,
            overrides_applied: Vec::new(),
            stale: Vec::new(),
            rewritten: false,
            known_failure: None,
        };
        let subject = if mode == Mode::Diff {
            berth.expect("diff mode has berth")
        } else {
            primary
        };
        let missing = subject.missing_features(sc);
        if !missing.is_empty() && !self.strict && mode != Mode::Record {
            result.outcome = Outcome::Skip(format!("berth lacks: {}", missing.join(", ")));
            return result;
        }
        match mode {
            Mode::Check => {
                let t = execute(primary, sc, self.timeout);
                let use_overrides = primary.name() == "berth";
                result.outcome =
                    self.compare(sc, &t, None, use_overrides, &mut result.overrides_applied);
            }
            Mode::Record => {
                let t = execute(primary, sc, self.timeout);
                if let Some(e) = t.setup_error {
                    result.outcome = Outcome::Fail {
                        setup_error: Some(e),
                        diffs: Vec::new(),
                    };
                    return result;
                }
                let text = sc.render(&t.steps);
                if std::fs::read_to_string(&sc.path).ok().as_deref() != Some(text.as_str()) {
                    if let Err(e) = std::fs::write(&sc.path, text) {
                        result.outcome = Outcome::Fail {
                            setup_error: Some(format!("{}: {e}", sc.path.display())),
                            diffs: Vec::new(),
                        };
                        return result;
                    }
                    result.rewritten = true;
                }
            }
            Mode::Diff => {
                let docker = execute(primary, sc, self.timeout);
                if let Outcome::Fail { diffs, setup_error } =
                    self.compare(sc, &docker, None, false, &mut Vec::new())
                {
                    result.stale = diffs;
                    if let Some(e) = setup_error {
                        result.outcome = Outcome::Fail {
                            setup_error: Some(format!("on Docker: {e}")),
                            diffs: Vec::new(),
                        };
                        return result;
                    }
                }
                let b = execute(subject, sc, self.timeout);
                result.outcome =
                    self.compare(sc, &b, Some(&docker), true, &mut result.overrides_applied);
            }
        }
        if subject.name() == "berth" && mode != Mode::Record {
            if let Some((_, why)) = self.known_failures.iter().find(|(n, _)| *n == sc.name) {
                match result.outcome {
                    Outcome::Pass => {
                        result.outcome = Outcome::Fail {
                            setup_error: Some(
                                "passes now: remove it from conformance/known-failures.txt".into(),
                            ),
                            diffs: Vec::new(),
                        }
                    }
                    Outcome::Fail { .. } => result.known_failure = Some(why.clone()),
                    Outcome::Skip(_) => {}
                }
            }
        }
        result
    }

    /// Compares a transcript with the recording (or with `reference`, a live Docker transcript).
    fn compare(
        &self,
        sc: &Scenario,
        t: &Transcript,
        reference: Option<&Transcript>,
        use_overrides: bool,
        applied: &mut Vec<String>,
    ) -> Outcome {
        if let Some(e) = &t.setup_error {
            return Outcome::Fail {
                setup_error: Some(e.clone()),
                diffs: Vec::new(),
            };
        }
        let mut diffs = Vec::new();
        for (i, step) in sc.steps.iter().enumerate() {
            if step.section != Section::Test {
                continue;
            }
            let command = step.one_line();
            let over = if use_overrides {
                self.overrides.find(&sc.name, &command)
            } else {
                None
            };
            let mut expected = match (over, reference) {
                (Some(o), _) => o.expect.clone(),
                (None, Some(r)) => r.steps.get(i).cloned().flatten().unwrap_or_default(),
                (None, None) => step.expect.clone(),
            };
            if let Some(o) = over {
                applied.push(o.title.clone());
            }
            if step.sort {
                expected.stdout.sort();
            }
            let actual = t.steps.get(i).cloned().flatten().unwrap_or_default();
            if actual != expected {
                diffs.push(StepDiff {
                    line: step.line,
                    command,
                    expected,
                    actual,
                    override_title: over.map(|o| o.title.clone()),
                });
            }
        }
        if diffs.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail {
                setup_error: None,
                diffs,
            }
        }
    }
}

/// Runs a scenario's steps on `engine` and normalizes what they print.
pub fn execute(engine: &Engine, sc: &Scenario, timeout: Duration) -> Transcript {
    let mut t = Transcript {
        steps: vec![None; sc.steps.len()],
        setup_error: None,
    };
    let mut sess: Session = match engine.begin(sc) {
        Ok(s) => s,
        Err(e) => {
            t.setup_error = Some(format!("preparing the scenario: {e}"));
            return t;
        }
    };
    let commands: String = sc
        .steps
        .iter()
        .map(|s| s.command.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut norm = Normalizer::new(sess.literals(&engine.fixtures), engine.path_rules())
        .keep_sizes(sc.keep_sizes)
        .program_name_as_docker(engine.allow_berth_name)
        .names(sc.normalize_names, &commands);
    let mut vars: Vec<(String, String)> = Vec::new();
    for (i, step) in sc.steps.iter().enumerate() {
        if step.section == Section::Cleanup || t.setup_error.is_some() {
            continue;
        }
        let (cmd, capture) = match step.capture() {
            Some((name, inner)) => (inner, Some(name)),
            None => (step.command.as_str(), None),
        };
        let out = engine.run(&sess, cmd, &vars, timeout);
        if let Some(name) = capture {
            let value = out
                .stdout
                .strip_suffix('\n')
                .unwrap_or(&out.stdout)
                .to_string();
            vars.retain(|(k, _)| k != name);
            vars.push((name.to_string(), value));
        }
        match step.section {
            Section::Setup => {
                if capture.is_some() {
                    norm.register(&out.stdout);
                }
                if out.code != 0 {
                    t.setup_error = Some(format!(
                        "setup step at line {} `{}` exited {}: {}",
                        step.line,
                        step.one_line(),
                        out.code,
                        out.stderr.trim()
                    ));
                }
            }
            Section::Test => {
                let stdout = if step.sort {
                    norm.text_sorted(&out.stdout)
                } else {
                    norm.text(&out.stdout, true)
                };
                let e = Expect {
                    stdout,
                    stderr: norm.text(&out.stderr, true),
                    code: out.code,
                };
                t.steps[i] = Some(e);
            }
            Section::Cleanup => {}
        }
    }
    for step in sc.steps.iter().filter(|s| s.section == Section::Cleanup) {
        engine.run(&sess, &step.command, &vars, timeout);
    }
    engine.end(&mut sess);
    t
}

impl ScenarioResult {
    /// `PASS  name  §12 #n` (or FAIL/SKIP with the reason), one line.
    pub fn line(&self) -> String {
        let covers = if self.covers.is_empty() {
            String::new()
        } else {
            format!(
                "§12 #{}",
                self.covers
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", #")
            )
        };
        let (tag, note) = match &self.outcome {
            Outcome::Pass if self.rewritten => ("REC ", "recording rewritten".to_string()),
            Outcome::Pass => ("PASS", String::new()),
            Outcome::Skip(why) => ("SKIP", why.clone()),
            Outcome::Fail {
                setup_error: Some(e),
                ..
            } => ("FAIL", first_line(e)),
            Outcome::Fail { diffs, .. } => {
                let d = &diffs[0];
                let more = if diffs.len() > 1 {
                    format!(" (+{} more steps)", diffs.len() - 1)
                } else {
                    String::new()
                };
                ("FAIL", format!("line {}: {}{more}", d.line, d.command))
            }
        };
        let (tag, note) = match &self.known_failure {
            Some(why) => ("XFAIL", format!("known failure: {why}")),
            None => (tag, note),
        };
        let mut s = format!("{tag:<5} {:<40} {covers:<14}", self.name);
        if !note.is_empty() {
            s.push_str(" — ");
            s.push_str(&note);
        }
        if !self.stale.is_empty() {
            let _ = write!(s, " [recording stale at {} steps]", self.stale.len());
        }
        s.trim_end().to_string()
    }
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.len() > 160 {
        format!(
            "{}…",
            &l[..l.char_indices().nth(157).map_or(l.len(), |(i, _)| i)]
        )
    } else {
        l.to_string()
    }
}

impl Report {
    /// Scenarios that passed.
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Pass))
            .count()
    }

    /// Scenarios that failed (known failures excluded).
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail { .. }) && r.known_failure.is_none())
            .count()
    }

    /// Scenarios that failed as `known-failures.txt` says they still do.
    pub fn known_failures(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.known_failure.is_some())
            .count()
    }

    /// Scenarios skipped.
    pub fn skipped(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skip(_)))
            .count()
    }

    /// Details of failures, expected differences applied, skips, and the count line.
    pub fn details(&self) -> String {
        let mut s = String::new();
        for r in &self.results {
            if let Outcome::Fail { setup_error, diffs } = &r.outcome {
                let what = match &r.known_failure {
                    Some(why) => format!("known failure ({why})"),
                    None => "FAIL".to_string(),
                };
                let _ = writeln!(s, "\n── {} ({}): {what}", r.name, self.engine);
                if let Some(e) = setup_error {
                    for l in e.lines() {
                        let _ = writeln!(s, "   {l}");
                    }
                }
                for d in diffs {
                    write_step_diff(&mut s, d, &self.reference, &self.engine);
                }
            }
            if !r.stale.is_empty() {
                let _ = writeln!(
                    s,
                    "\n── {}: Docker no longer matches the recording (re-record it)",
                    r.name
                );
                for d in &r.stale {
                    write_step_diff(&mut s, d, "recorded", "docker");
                }
            }
        }
        let mut applied: Vec<(&str, &str)> = Vec::new();
        for r in &self.results {
            for t in &r.overrides_applied {
                applied.push((&r.name, t));
            }
        }
        if !applied.is_empty() {
            let _ = writeln!(
                s,
                "\nexpected differences applied (conformance/expected-differences.txt):"
            );
            for (name, t) in applied {
                let _ = writeln!(s, "  {name}: {t}");
            }
        }
        let skipped: Vec<&ScenarioResult> = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skip(_)))
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(s, "\nskipped:");
            for r in skipped {
                if let Outcome::Skip(why) = &r.outcome {
                    let _ = writeln!(s, "  {}: {why}", r.name);
                }
            }
        }
        let _ = writeln!(s, "\n{}", self.summary());
        s
    }

    /// `N passed, M failed, K skipped`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed(), self.failed());
        if self.known_failures() > 0 {
            let _ = write!(s, ", {} known failures", self.known_failures());
        }
        if self.skipped() > 0 {
            let _ = write!(s, ", {} skipped", self.skipped());
        }
        s
    }
}

fn write_step_diff(s: &mut String, d: &StepDiff, expected_name: &str, actual_name: &str) {
    let _ = writeln!(s, "   line {}: $ {}", d.line, d.command);
    if let Some(t) = &d.override_title {
        let _ = writeln!(s, "   (expectation from expected difference [{t}])");
    }
    let _ = writeln!(s, "   (- {expected_name}, + {actual_name})");
    for (what, e, a) in [
        ("stdout", &d.expected.stdout, &d.actual.stdout),
        ("stderr", &d.expected.stderr, &d.actual.stderr),
    ] {
        if e != a {
            let _ = writeln!(s, "     {what}:");
            for l in line_diff(e, a) {
                let _ = writeln!(s, "       {l}");
            }
        }
    }
    if d.expected.code != d.actual.code {
        let _ = writeln!(
            s,
            "     exit code: expected {}, got {}",
            d.expected.code, d.actual.code
        );
    }
}

/// A minimal LCS line diff: `  same`, `- expected only`, `+ actual only`.
pub fn line_diff(a: &[String], b: &[String]) -> Vec<String> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_diff_marks_changes() {
        let a: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let b: Vec<String> = ["x", "q", "z"].map(String::from).to_vec();
        assert_eq!(line_diff(&a, &b), vec!["  x", "- y", "+ q", "  z"]);
    }
}
