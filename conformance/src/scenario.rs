//! A [`Scenario`] is one `.scn` file: a shell-session transcript.
//!
//! ```text
//! title: Volume names: the regex and both error messages
//! covers: 7
//! images: spec-base            # fixture images loaded first (busybox:latest always is)
//!
//! [setup]                      # must exit 0; output not compared
//! $ docker volume create spec-a
//!
//! [test]                       # compared against the recorded expectation
//! $ docker volume create a
//! ! Error response from daemon: create a: volume name is too short, ...
//! ? 1
//!
//! [cleanup]                    # always run, never compared
//! $ docker volume rm -f spec-a
//! ```
//!
//! `| text` is a stdout line (`|` alone: an empty line), `! text` a stderr line, `? N` the exit
//! code (absent: 0). `@sort` after a command compares its stdout as a sorted set of lines (for
//! outputs whose order Docker does not define). A command ending in `\` continues on the next
//! line. `NAME=$(command)` stores the command's stdout (last newline dropped) in `$NAME` for the
//! later steps; its expectation shows that captured stdout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where a step belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Must exit 0; output is not compared.
    Setup,
    /// Output and exit code are compared.
    Test,
    /// Always run at the end; nothing is checked.
    Cleanup,
}

impl Section {
    fn header(self) -> &'static str {
        match self {
            Section::Setup => "[setup]",
            Section::Test => "[test]",
            Section::Cleanup => "[cleanup]",
        }
    }
}

/// What a command printed (normalized) and how it exited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// stdout lines.
    pub stdout: Vec<String>,
    /// stderr lines.
    pub stderr: Vec<String>,
    /// Exit code.
    pub code: i32,
}

impl Expect {
    /// Parses one `| …`, `! …` or `? N` line into `self`; false when the line is none of them.
    pub fn take_line(&mut self, line: &str) -> Result<bool, String> {
        if let Some(rest) = line.strip_prefix('|') {
            self.stdout
                .push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
        } else if let Some(rest) = line.strip_prefix('!') {
            self.stderr
                .push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
        } else if let Some(rest) = line.strip_prefix('?') {
            self.code = rest
                .trim()
                .parse()
                .map_err(|_| format!("bad exit code line {line:?}"))?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The lines `take_line` reads back.
    pub fn write(&self, out: &mut String) {
        for l in &self.stdout {
            out.push_str(&prefixed('|', l));
        }
        for l in &self.stderr {
            out.push_str(&prefixed('!', l));
        }
        if self.code != 0 {
            let _ = writeln!(out, "? {}", self.code);
        }
    }
}

fn prefixed(p: char, line: &str) -> String {
    if line.is_empty() {
        format!("{p}\n")
    } else {
        format!("{p} {line}\n")
    }
}

/// One command of a scenario.
#[derive(Clone, Debug)]
pub struct Step {
    /// Section the step is in.
    pub section: Section,
    /// Comment lines written just above the command (kept when re-recording).
    pub comments: Vec<String>,
    /// The shell command line (continuations joined with `\\\n`).
    pub command: String,
    /// Compare stdout as a sorted list of lines.
    pub sort: bool,
    /// The recorded expectation (test steps only).
    pub expect: Expect,
    /// Line number of the command in the file.
    pub line: usize,
}

impl Step {
    /// `(NAME, inner command)` for a `NAME=$(command)` capture step.
    pub fn capture(&self) -> Option<(&str, &str)> {
        let (name, rest) = self.command.split_once("=$(")?;
        let inner = rest.strip_suffix(')')?;
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        valid.then_some((name, inner))
    }

    /// The command as one line, for reports.
    pub fn one_line(&self) -> String {
        self.command
            .replace("\\\n", " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A parsed `.scn` file.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// File stem, e.g. `06-reference-normalization`.
    pub name: String,
    /// Path of the file.
    pub path: PathBuf,
    /// `title:` header.
    pub title: String,
    /// `covers:` header: §12 behaviour numbers.
    pub covers: Vec<u32>,
    /// `requires:` header: extra berth features beyond those found in the commands
    /// (`api` = needs a Docker API socket).
    pub requires: Vec<String>,
    /// `images:` header: fixture images to load before the scenario.
    pub images: Vec<String>,
    /// `keep: sizes` header: do not normalize human-readable sizes.
    pub keep_sizes: bool,
    /// `normalize: names` header: replace generated container names (`adjective_name`).
    pub normalize_names: bool,
    /// `probe: no` header: the scenario gives commands and flags that exist nowhere on purpose
    /// (parser errors), so berth's help is not probed for them.
    pub probe: bool,
    /// The header block as written (comments included), kept verbatim when re-recording.
    pub preamble: Vec<String>,
    /// Steps in file order.
    pub steps: Vec<Step>,
    /// Comments after the last step.
    pub trailer: Vec<String>,
}

impl Scenario {
    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        Scenario::parse(&name, path, &text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses scenario text.
    pub fn parse(name: &str, path: &Path, text: &str) -> Result<Scenario, String> {
        let mut sc = Scenario {
            name: name.to_string(),
            path: path.to_path_buf(),
            title: String::new(),
            covers: Vec::new(),
            requires: Vec::new(),
            images: Vec::new(),
            keep_sizes: false,
            normalize_names: false,
            probe: true,
            preamble: Vec::new(),
            steps: Vec::new(),
            trailer: Vec::new(),
        };
        let mut section: Option<Section> = None;
        let mut pending: Vec<String> = Vec::new();
        let mut lines = text.lines().enumerate().peekable();
        while let Some((i, raw)) = lines.next() {
            let line = raw.trim_end();
            let lineno = i + 1;
            if let Some(cmd) = line.strip_prefix("$ ") {
                let mut command = cmd.to_string();
                while command.ends_with('\\') {
                    let Some((_, next)) = lines.next() else { break };
                    command.push('\n');
                    command.push_str(next.trim_end());
                }
                let section = *section.get_or_insert(Section::Test);
                sc.steps.push(Step {
                    section,
                    comments: std::mem::take(&mut pending),
                    command,
                    sort: false,
                    expect: Expect::default(),
                    line: lineno,
                });
                continue;
            }
            if let Some(s) = match line {
                "[setup]" => Some(Section::Setup),
                "[test]" => Some(Section::Test),
                "[cleanup]" => Some(Section::Cleanup),
                _ => None,
            } {
                if section.is_none() {
                    sc.preamble.append(&mut pending);
                }
                section = Some(s);
                continue;
            }
            if section.is_none() {
                if line.is_empty() || line.starts_with('#') {
                    pending.push(line.to_string());
                    continue;
                }
                let (key, value) = line.split_once(':').ok_or_else(|| {
                    format!("line {lineno}: expected `key: value` header, got {line:?}")
                })?;
                let value = value.split(" #").next().unwrap_or("").trim();
                let list = || {
                    value
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                };
                match key.trim() {
                    "title" => sc.title = value.to_string(),
                    "covers" => {
                        for c in list() {
                            sc.covers.push(
                                c.parse()
                                    .map_err(|_| format!("line {lineno}: bad covers {c:?}"))?,
                            );
                        }
                    }
                    "requires" => sc.requires.extend(list()),
                    "images" => sc.images.extend(list()),
                    "keep" => sc.keep_sizes = list().any(|v| v == "sizes"),
                    "normalize" => sc.normalize_names = list().any(|v| v == "names"),
                    "probe" => sc.probe = value != "no",
                    other => return Err(format!("line {lineno}: unknown header {other:?}")),
                }
                pending.push(line.to_string());
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                if !line.is_empty() {
                    pending.push(line.to_string());
                }
                continue;
            }
            if !pending.is_empty() {
                return Err(format!(
                    "line {lineno}: {line:?} is separated from its command by a comment"
                ));
            }
            let Some(step) = sc.steps.last_mut() else {
                return Err(format!("line {lineno}: {line:?} does not follow a command"));
            };
            if line == "@sort" {
                step.sort = true;
            } else if line.starts_with('@') {
                return Err(format!("line {lineno}: unknown directive {line:?}"));
            } else if !step
                .expect
                .take_line(line)
                .map_err(|e| format!("line {lineno}: {e}"))?
            {
                return Err(format!("line {lineno}: unexpected line {line:?}"));
            }
        }
        if section.is_none() {
            sc.preamble.append(&mut pending);
        }
        sc.trailer = pending;
        if sc.title.is_empty() {
            return Err("missing `title:` header".into());
        }
        Ok(sc)
    }

    /// The file text, with each test step's expectation taken from `expects` (same length as
    /// `steps`; `None` keeps the step's current expectation).
    pub fn render(&self, expects: &[Option<Expect>]) -> String {
        let mut out = String::new();
        for l in &self.preamble {
            out.push_str(l);
            out.push('\n');
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        let mut section = None;
        for (i, step) in self.steps.iter().enumerate() {
            if section != Some(step.section) {
                out.push('\n');
                out.push_str(step.section.header());
                out.push('\n');
                section = Some(step.section);
            }
            out.push('\n');
            for c in &step.comments {
                out.push_str(c);
                out.push('\n');
            }
            out.push_str("$ ");
            out.push_str(&step.command);
            out.push('\n');
            if step.sort {
                out.push_str("@sort\n");
            }
            if step.section == Section::Test {
                expects
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| step.expect.clone())
                    .write(&mut out);
            }
        }
        if !self.trailer.is_empty() {
            out.push('\n');
            for c in &self.trailer {
                out.push_str(c);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "title: t\ncovers: 6, 7\nimages: spec-base\n# note\n\n[setup]\n\n$ docker volume create x\n\n[test]\n\n# why\n$ docker volume create a\n@sort\n| one\n|\n! err\n? 1\n\n$ CID=$(docker create \\\n  busybox)\n| <id:1>\n\n[cleanup]\n\n$ docker rm -f x\n";

    #[test]
    fn parses_and_renders_back_identically() {
        let sc = Scenario::parse("t", Path::new("t.scn"), TEXT).unwrap();
        assert_eq!(sc.covers, vec![6, 7]);
        assert_eq!(sc.images, vec!["spec-base"]);
        assert_eq!(sc.steps.len(), 4);
        let a = &sc.steps[1];
        assert_eq!(a.section, Section::Test);
        assert!(a.sort);
        assert_eq!(a.comments, vec!["# why"]);
        assert_eq!(a.expect.stdout, vec!["one", ""]);
        assert_eq!(a.expect.stderr, vec!["err"]);
        assert_eq!(a.expect.code, 1);
        assert_eq!(
            sc.steps[2].capture(),
            Some(("CID", "docker create \\\n  busybox"))
        );
        assert_eq!(sc.render(&[]), TEXT);
    }

    #[test]
    fn rejects_stray_lines() {
        assert!(Scenario::parse("t", Path::new("t"), "title: t\n[test]\n| x\n").is_err());
        assert!(Scenario::parse("t", Path::new("t"), "covers: 1\n").is_err());
    }
}
