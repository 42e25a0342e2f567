//! [`IgnoreMatcher`] reads `.dockerignore` and decides which context paths a build leaves out,
//! with Docker's rules: one pattern a line, `#` lines are comments, patterns are cleaned like
//! Go's `filepath.Clean` and made relative (a leading `/` is dropped), `*` and `?` never cross a
//! `/`, `**` matches any number of directories, `!` re-includes what an earlier pattern
//! excluded, the last matching pattern wins, and a pattern that matches a parent directory
//! matches everything below it.
//!
//! Written by hand: Docker's matcher compiles each pattern to a regular expression in its own way
//! (only `.` and `$` are escaped, `[...]` classes are kept), and no crate reproduces that; the
//! tests use the cases of Docker's documentation.

/// A pattern Docker refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    /// `!` alone.
    #[error("illegal exclusion pattern: \"!\"")]
    IllegalExclusion,
    /// Go's `filepath.ErrBadPattern`.
    #[error("syntax error in pattern")]
    BadPattern,
}

#[derive(Debug, Clone)]
struct Pattern {
    exclusion: bool,
    dirs: usize,
    re: regex::Regex,
}

/// Compiled `.dockerignore` patterns.
#[derive(Debug, Clone, Default)]
pub struct IgnoreMatcher {
    patterns: Vec<Pattern>,
    /// Whether some pattern starts with `!`.
    pub has_exclusions: bool,
}

/// The patterns of a `.dockerignore` file, as Docker's `dockerignore.ReadAll` returns them.
pub fn read_patterns(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let invert = p.starts_with('!');
        if invert {
            p = p[1..].trim();
        }
        let mut pattern = String::new();
        if !p.is_empty() {
            pattern = berth_go::clean(p);
            if pattern.len() > 1 && pattern.starts_with('/') {
                pattern.remove(0);
            }
        }
        if invert {
            pattern.insert(0, '!');
        }
        out.push(pattern);
    }
    out
}

impl IgnoreMatcher {
    /// Compiles patterns (as [`read_patterns`] returns them).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<IgnoreMatcher, IgnoreError> {
        let mut m = IgnoreMatcher::default();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let mut p = berth_go::clean(p);
            let exclusion = p.starts_with('!');
            if exclusion {
                if p.len() == 1 {
                    return Err(IgnoreError::IllegalExclusion);
                }
                p.remove(0);
                m.has_exclusions = true;
            }
            if !glob_is_valid(&p) {
                return Err(IgnoreError::BadPattern);
            }
            let re = regex::Regex::new(&to_regex(&p)).map_err(|_| IgnoreError::BadPattern)?;
            m.patterns.push(Pattern {
                exclusion,
                dirs: p.split('/').count(),
                re,
            });
        }
        Ok(m)
    }

    /// Whether `path` (relative, `/`-separated) is excluded.
    pub fn matches(&self, path: &str) -> bool {
        let parent = match path.rfind('/') {
            Some(i) => &path[..i],
            None => ".",
        };
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            let mut m = p.re.is_match(path);
            if !m && parent != "." && p.dirs <= parent_dirs.len() {
                m = p.re.is_match(&parent_dirs[..p.dirs].join("/"));
            }
            if m {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// True when there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Docker's pattern → regular expression.
fn to_regex(p: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    re.push_str(".*");
                } else {
                    re.push_str("(.*/)?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '.' | '$' => {
                re.push('\\');
                re.push(c);
            }
            '\\' => {
                re.push('\\');
                if i < chars.len() {
                    re.push(chars[i]);
                    i += 1;
                }
            }
            c => re.push(c),
        }
    }
    re.push('$');
    re
}

/// Whether Go's `filepath.Match` accepts `pattern` (brackets balanced, escapes complete).
pub fn glob_is_valid(pattern: &str) -> bool {
    glob_match(pattern, "").is_ok()
}

/// Go's `filepath.Match`: `*` (no `/`), `?`, `[class]`, `[^class]`, `\` escapes. `Err` for a
/// malformed pattern.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, IgnoreError> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Validate the whole pattern first, as Go reports bad patterns even when a match ends early.
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(IgnoreError::BadPattern);
                }
                i += 2;
            }
            '[' => {
                let (_, next) = class(&p, i, None)?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(match_from(&p, 0, &n, 0))
}

/// Matches a class at `p[i] == '['` against `c`; returns (matched, index after the class).
fn class(p: &[char], i: usize, c: Option<char>) -> Result<(bool, usize), IgnoreError> {
    let mut j = i + 1;
    let negated = p.get(j) == Some(&'^');
    if negated {
        j += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&ch) = p.get(j) else {
            return Err(IgnoreError::BadPattern);
        };
        if ch == ']' && !first {
            j += 1;
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            j += 1;
            *p.get(j).ok_or(IgnoreError::BadPattern)?
        } else {
            if ch == '-' || ch == ']' {
                return Err(IgnoreError::BadPattern);
            }
            ch
        };
        j += 1;
        let mut hi = lo;
        if p.get(j) == Some(&'-') && p.get(j + 1) != Some(&']') {
            j += 1;
            let h = *p.get(j).ok_or(IgnoreError::BadPattern)?;
            hi = if h == '\\' {
                j += 1;
                *p.get(j).ok_or(IgnoreError::BadPattern)?
            } else {
                h
            };
            j += 1;
            if hi < lo {
                return Err(IgnoreError::BadPattern);
            }
        }
        if let Some(c) = c {
            if lo <= c && c <= hi {
                matched = true;
            }
        }
    }
    Ok((matched != negated, j))
}

fn match_from(p: &[char], pi: usize, n: &[char], ni: usize) -> bool {
    if pi == p.len() {
        return ni == n.len();
    }
    match p[pi] {
        '*' => {
            let mut k = ni;
            loop {
                if match_from(p, pi + 1, n, k) {
                    return true;
                }
                if k == n.len() || n[k] == '/' {
                    return false;
                }
                k += 1;
            }
        }
        '?' => ni < n.len() && n[ni] != '/' && match_from(p, pi + 1, n, ni + 1),
        '[' => {
            if ni >= n.len() || n[ni] == '/' {
                return false;
            }
            match class(p, pi, Some(n[ni])) {
                Ok((true, next)) => match_from(p, next, n, ni + 1),
                _ => false,
            }
        }
        '\\' => {
            pi + 1 < p.len()
                && ni < n.len()
                && p[pi + 1] == n[ni]
                && match_from(p, pi + 2, n, ni + 1)
        }
        c => ni < n.len() && n[ni] == c && match_from(p, pi + 1, n, ni + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &str) -> IgnoreMatcher {
        IgnoreMatcher::new(&read_patterns(patterns)).unwrap()
    }

    #[test]
    fn documented_examples() {
        // From Docker's .dockerignore documentation.
        let ig = m("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
        assert!(ig.matches("somedir/temporary.txt"));
        assert!(ig.matches("somedir/temp"));
        assert!(ig.matches("somedir/subdir/temporary.txt"));
        assert!(ig.matches("tempa"));
        assert!(!ig.matches("tempab"));
        let ig = m("**/*.go\n");
        assert!(ig.matches("a.go"));
        assert!(ig.matches("x/y/z.go"));
        assert!(!ig.matches("x/y/z.rs"));
        let ig = m("*.md\n!README*.md\nREADME-secret.md\n");
        assert!(ig.matches("CHANGES.md"));
        assert!(!ig.matches("README.md"));
        assert!(ig.matches("README-secret.md"));
        let ig = m("*.md\nREADME-secret.md\n!README*.md\n");
        assert!(!ig.matches("README-secret.md"));
    }

    #[test]
    fn parents_and_cleaning() {
        let ig = m("/build/\n./node_modules\n");
        assert!(ig.matches("build"));
        assert!(ig.matches("build/out/a.o"));
        assert!(ig.matches("node_modules/x/index.js"));
        assert!(!ig.matches("src/build"));
        let ig = m("dir\n!dir/keep\n");
        assert!(ig.matches("dir/drop"));
        assert!(!ig.matches("dir/keep"));
        assert!(ig.has_exclusions);
        assert_eq!(read_patterns("  a/../b  \n! c\n#x\n\n"), ["b", "!c"]);
        assert_eq!(
            IgnoreMatcher::new(&["!"]).unwrap_err().to_string(),
            "illegal exclusion pattern: \"!\""
        );
        assert!(IgnoreMatcher::new(&["a["]).is_err());
    }

    #[test]
    fn go_filepath_match() {
        assert!(glob_match("*.txt", "a.txt").unwrap());
        assert!(!glob_match("*.txt", "d/a.txt").unwrap());
        assert!(glob_match("d/*", "d/a.txt").unwrap());
        assert!(glob_match("a?c", "abc").unwrap());
        assert!(glob_match("[a-c]x", "bx").unwrap());
        assert!(!glob_match("[^a-c]x", "bx").unwrap());
        assert!(glob_match("\\*", "*").unwrap());
        assert!(glob_match("[", "x").is_err());
        assert!(glob_match("a\\", "a").is_err());
    }
}
