//! [`Normalizer`] rewrites one engine's output into engine-neutral text, so Docker's and berth's
//! transcripts of the same scenario are equal when the behaviour is.
//!
//! Rules, in order:
//!
//! 1. literal paths: the engine's data root → `<root>`, the scenario scratch dir → `<scratch>`,
//!    the fixtures dir → `<fixtures>`;
//! 2. path rules: a layer or container directory (`<root>/overlay2/<hex>/merged` for
//!    Docker, `<root>/containers/<hex>/merged` for berth) → `<merged>`, `<upper>`, `<work>`;
//! 3. times: the date and clock of RFC 3339 (`2026-11-24T10:36:55.486129894Z` →
//!    `<time>.<frac>Z`) and Go's `2026-11-24 10:36:55 +0000 UTC` (→ `<time> +0000 UTC`), keeping
//!    whether there is a fraction and the zone as printed; human durations (`Less than a second`,
//!    `3 minutes`, `About an hour`) → `<duration>`; a registry that cannot be reached
//!    (`Get "https://registry-1.docker.io/v2/": dial tcp: lookup …`) → `<network error>`;
//! 4. IDs: every 64-hex and 12-hex word → `<id:N>` / `<id12:N>`, N numbering distinct IDs in
//!    order of first appearance in the scenario (a short ID gets the number of its long form), so
//!    "the same ID printed twice" is still checked;
//! 5. sizes (unless the scenario says `keep: sizes`): `1.98MB`, `102.4kB`, `0B` → `<size>`;
//! 6. generated container names (`eager_turing`, only with `normalize: names`) → `<name>`;
//! 7. unless `--docker-name` is given: berth's own name where Docker prints `docker`
//!    (`berth: Error response…`, `Run 'berth run --help'`, `Usage:  berth …`) → `docker`;
//! 8. runs of two or more spaces inside a line → two spaces (table column widths depend on the
//!    normalized values); trailing blanks dropped.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

fn date_time() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?")
}

fn registry_error() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r#"(Get "https://[^"]+": )(dial tcp|net/http)[^\n]*"#)
}

fn duration() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"\b(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?|years?))\b",
    )
}

fn hex_id() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\b([0-9a-f]{64}|[0-9a-f]{12})\b")
}

fn size() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|TB|KiB|MiB|GiB)\b")
}

fn random_name() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\b[a-z]+_[a-z]+[0-9]?\b")
}

fn program_name() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?m)(^|Run '|See '|Usage:  |\t|: '|unknown command: )berth([: ])",
    )
}

fn spaces() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"(\S) {2,}")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ids {
    Register,
    Lookup,
    Mask,
}

/// Per-scenario normalization state for one engine.
#[derive(Debug)]
pub struct Normalizer {
    literals: Vec<(String, &'static str)>,
    paths: Vec<(Regex, &'static str)>,
    keep_sizes: bool,
    names: bool,
    program_name: bool,
    /// Words that appear in the scenario's own commands: never treated as generated names.
    known_words: Vec<String>,
    ids: HashMap<String, usize>,
}

impl Normalizer {
    /// `literals` are `(path, placeholder)` pairs; `paths` are engine path rules applied after
    /// them (written against the placeholders, e.g. `<root>/overlay2/[0-9a-f]{64}/merged`).
    pub fn new(
        literals: Vec<(String, &'static str)>,
        paths: &[(&str, &'static str)],
    ) -> Normalizer {
        let mut literals: Vec<_> = literals
            .into_iter()
            .filter(|(p, _)| !p.is_empty())
            .collect();
        literals.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Normalizer {
            literals,
            paths: paths
                .iter()
                .map(|(p, r)| (Regex::new(p).expect("valid path rule"), *r))
                .collect(),
            keep_sizes: false,
            names: false,
            program_name: false,
            known_words: Vec::new(),
            ids: HashMap::new(),
        }
    }

    /// Keep human-readable sizes as they are.
    pub fn keep_sizes(mut self, keep: bool) -> Normalizer {
        self.keep_sizes = keep;
        self
    }

    /// Read berth's own program name in messages as `docker`.
    pub fn program_name_as_docker(mut self, on: bool) -> Normalizer {
        self.program_name = on;
        self
    }

    /// Replace generated container names, except words that occur in `commands`.
    pub fn names(mut self, on: bool, commands: &str) -> Normalizer {
        self.names = on;
        self.known_words = random_name()
            .find_iter(commands)
            .map(|m| m.as_str().to_string())
            .collect();
        self
    }

    /// Remembers the IDs in `text` (a captured variable) without producing output.
    pub fn register(&mut self, text: &str) {
        let _ = self.text(text, true);
    }

    /// Normalizes a command's output into lines. With `register` false, IDs not seen before
    /// become `<id:?>` instead of taking a number (for setup output, which may differ freely).
    pub fn text(&mut self, text: &str, register: bool) -> Vec<String> {
        self.apply(text, if register { Ids::Register } else { Ids::Lookup })
    }

    /// Normalizes output whose line order is not defined (`@sort`), returning sorted lines. The
    /// raw lines are first ordered by their normalized form with IDs masked, so IDs first seen
    /// here get the same numbers on every engine and every run.
    pub fn text_sorted(&mut self, text: &str) -> Vec<String> {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut raw: Vec<&str> = if body.is_empty() && text.len() <= 1 {
            Vec::new()
        } else {
            body.split('\n').collect()
        };
        raw.sort_by_cached_key(|l| self.apply(l, Ids::Mask));
        let mut out = self.text(&format!("{}\n", raw.join("\n")), true);
        out.sort();
        out
    }

    fn apply(&mut self, text: &str, ids: Ids) -> Vec<String> {
        let mut s = text.to_string();
        if self.program_name {
            // Twice: matches share their delimiters (`berth: 'berth ps'`).
            for _ in 0..2 {
                s = program_name()
                    .replace_all(&s, "${1}docker${2}")
                    .into_owned();
            }
        }
        for (lit, ph) in &self.literals {
            s = s.replace(lit.as_str(), ph);
        }
        for (rule, ph) in &self.paths {
            s = rule.replace_all(&s, *ph).into_owned();
        }
        s = date_time()
            .replace_all(&s, |c: &regex::Captures| {
                if c.get(1).is_some() {
                    "<time>.<frac>"
                } else {
                    "<time>"
                }
            })
            .into_owned();
        s = registry_error()
            .replace_all(&s, "${1}<network error>")
            .into_owned();
        s = duration().replace_all(&s, "<duration>").into_owned();
        s = hex_id()
            .replace_all(&s, |c: &regex::Captures| {
                let id = &c[1];
                let key = id[..12].to_string();
                let next = self.ids.len() + 1;
                let n = match self.ids.get(&key) {
                    _ if ids == Ids::Mask => String::new(),
                    Some(n) => n.to_string(),
                    None if ids == Ids::Register => {
                        self.ids.insert(key, next);
                        next.to_string()
                    }
                    None => "?".to_string(),
                };
                if id.len() == 64 {
                    format!("<id:{n}>")
                } else {
                    format!("<id12:{n}>")
                }
            })
            .into_owned();
        if !self.keep_sizes {
            s = size().replace_all(&s, "<size>").into_owned();
        }
        if self.names {
            let known = &self.known_words;
            s = random_name()
                .replace_all(&s, |c: &regex::Captures| {
                    if known.iter().any(|w| w == &c[0]) {
                        c[0].to_string()
                    } else {
                        "<name>".to_string()
                    }
                })
                .into_owned();
        }
        let s = s.strip_suffix('\n').unwrap_or(&s);
        if s.is_empty() {
            return Vec::new();
        }
        s.split('\n')
            .map(|l| spaces().replace_all(l.trim_end(), "$1  ").into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> Normalizer {
        Normalizer::new(
            vec![
                ("/var/lib/hdock/root".into(), "<root>"),
                ("/var/tmp/x/scratch".into(), "<scratch>"),
            ],
            &[(r"<root>/overlay2/[0-9a-f]{64}/merged", "<merged>")],
        )
    }

    #[test]
    fn ids_are_numbered_by_first_appearance_and_short_forms_share_the_number() {
        let a = "a".repeat(64);
        let b = format!("b{}", "0".repeat(63));
        let mut n = n();
        let out = n.text(
            &format!("{a}\nsha256:{b}\n{} {}\n", &b[..12], &a[..12]),
            true,
        );
        assert_eq!(out, vec!["<id:1>", "sha256:<id:2>", "<id12:2> <id12:1>"]);
        assert_eq!(n.text(&"c".repeat(64), false), vec!["<id:?>"]);
    }

    #[test]
    fn times_durations_sizes_paths() {
        let mut n = n();
        let t = "2026-11-24T10:36:55.486129894Z 2026-11-24 10:36:55 +0000 UTC";
        assert_eq!(n.text(t, true), vec!["<time>.<frac>Z <time> +0000 UTC"]);
        assert_eq!(
            n.text("Less than a second ago  |  3 minutes ago", true),
            vec!["<duration> ago  |  <duration> ago"]
        );
        assert_eq!(
            n.text("1.98MB (virtual 3.96MB) 0B 102.4kB", true),
            vec!["<size> (virtual <size>) <size> <size>"]
        );
        let p = format!(
            "/var/lib/hdock/root/overlay2/{}/merged/etc /var/tmp/x/scratch/b",
            "d".repeat(64)
        );
        assert_eq!(n.text(&p, true), vec!["<merged>/etc <scratch>/b"]);
    }

    #[test]
    fn column_padding_and_trailing_blanks() {
        let mut n = n();
        assert_eq!(
            n.text("DRIVER    VOLUME NAME   \n  x     y\n\n", true),
            vec!["DRIVER  VOLUME NAME", "  x  y", ""]
        );
        assert!(n.text("", true).is_empty());
    }

    #[test]
    fn unordered_output_gets_stable_numbers() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let one = n().text_sorted(&format!("{a} /y\n{b} /x\n"));
        let two = n().text_sorted(&format!("{b} /x\n{a} /y\n"));
        assert_eq!(one, two);
        assert_eq!(one, vec!["<id:1> /x", "<id:2> /y"]);
        assert_eq!(n().text_sorted("x\n\n"), vec!["", "x"]);
        assert!(n().text_sorted("").is_empty());
    }

    #[test]
    fn berth_program_name_only_on_request() {
        let text = "berth: Error response from daemon: x\n\nRun 'berth run --help' for more information\nberth-x\nberth: 'berth ps' accepts no arguments\nSee 'berth ps --help'\n\tberth cp [OPTIONS]\nberth: unknown command: berth bogus";
        assert_eq!(
            n().text(text, true)[0],
            "berth: Error response from daemon: x"
        );
        let out = n().program_name_as_docker(true).text(text, true);
        assert_eq!(
            out,
            vec![
                "docker: Error response from daemon: x",
                "",
                "Run 'docker run --help' for more information",
                "berth-x",
                "docker: 'docker ps' accepts no arguments",
                "See 'docker ps --help'",
                "\tdocker cp [OPTIONS]",
                "docker: unknown command: docker bogus"
            ]
        );
    }

    #[test]
    fn generated_names_only_on_request() {
        let mut n = n().names(true, "docker run --name spec_keep busybox");
        assert_eq!(
            n.text("eager_turing spec_keep", true),
            vec!["<name> spec_keep"]
        );
    }
}
