//! [`Lex`] expands Dockerfile words the way Docker's builder does (its `shell.Lex`): quotes and
//! the escape token are processed, `$VAR` and `${VAR}` are replaced, and the modifiers of the
//! current Dockerfile reference are applied: `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`,
//! `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`,
//! `${VAR%%pat}`, `${VAR/pat/repl}` and `${VAR//pat/repl}`. [`Lex::process_words`] also splits the
//! result into words on unquoted white space (after expansion, as Docker does).
//!
//! Written by hand: no crate reproduces Docker's dialect (which is not POSIX sh), and every
//! instruction's arguments go through it, so its corner cases are pinned by the tests below.

use std::collections::{BTreeMap, BTreeSet};

/// A word that cannot be expanded; the text is Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {}: {message}", berth_go::quote(source_word))]
pub struct ShellError {
    /// The word as written.
    pub source_word: String,
    /// What is wrong with it.
    pub message: String,
}

/// The variables a word is expanded with: name → value, later definitions winning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// From `K=V` strings (a `K` without `=` is the empty string), the last one winning.
    pub fn from_list<S: AsRef<str>>(list: &[S]) -> Env {
        let mut m = BTreeMap::new();
        for e in list {
            let e = e.as_ref();
            match e.split_once('=') {
                Some((k, v)) => m.insert(k.to_string(), v.to_string()),
                None => m.insert(e.to_string(), String::new()),
            };
        }
        Env(m)
    }

    /// Sets a variable.
    pub fn set(&mut self, k: &str, v: &str) {
        self.0.insert(k.to_string(), v.to_string());
    }

    /// A variable's value.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
}

/// What an expansion produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The word, quotes removed and variables replaced.
    pub word: String,
    /// The same split on unquoted white space.
    pub words: Vec<String>,
    /// Variables the word referred to that were set.
    pub matched: BTreeSet<String>,
    /// Variables the word referred to that were not set.
    pub unmatched: BTreeSet<String>,
}

/// Docker's word expander.
#[derive(Debug, Clone, Copy)]
pub struct Lex {
    escape: char,
    /// Keep quote characters in the result.
    pub raw_quotes: bool,
    /// Keep escape characters in the result.
    pub raw_escapes: bool,
    /// Leave references to unset variables as written.
    pub skip_unset_env: bool,
    /// Treat quotes as ordinary characters.
    pub skip_process_quotes: bool,
}

impl Lex {
    /// A lexer with `escape` (`\` or `` ` ``) as escape token.
    pub fn new(escape: char) -> Lex {
        Lex {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
            skip_process_quotes: false,
        }
    }

    /// Expands `word` as one word (spaces kept).
    pub fn process_word(&self, word: &str, env: &Env) -> Result<String, ShellError> {
        Ok(self.process(word, env)?.word)
    }

    /// Expands `word` and splits it into words.
    pub fn process_words(&self, word: &str, env: &Env) -> Result<Vec<String>, ShellError> {
        Ok(self.process(word, env)?.words)
    }

    /// Expands `word`, reporting which variables it used.
    pub fn process(&self, word: &str, env: &Env) -> Result<Expansion, ShellError> {
        let mut sw = Scanner {
            lex: self,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: self.raw_escapes,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        };
        let raw = self.raw_escapes;
        match sw.stop_on(None, raw) {
            Ok((w, words)) => Ok(Expansion {
                word: w,
                words,
                matched: sw.matched,
                unmatched: sw.unmatched,
            }),
            Err(message) => Err(ShellError {
                source_word: word.to_string(),
                message,
            }),
        }
    }
}

/// Words being collected: spaces produced by expansion split words, quoted text does not.
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() && self.in_word {
            if !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else if !c.is_whitespace() {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        for c in s.chars() {
            self.add_char(c);
        }
    }

    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
        self.words
    }
}

struct Scanner<'a> {
    lex: &'a Lex,
    chars: Vec<char>,
    pos: usize,
    env: &'a Env,
    raw_escapes: bool,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        match self.env.get(name) {
            Some(v) => {
                self.matched.insert(name.to_string());
                Some(v.to_string())
            }
            None => {
                self.unmatched.insert(name.to_string());
                None
            }
        }
    }

    /// Processes up to `stop` (consumed) or the end; returns the word and its split.
    fn stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        r
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        let quotes = !self.lex.skip_process_quotes;
        while let Some(c) = self.peek() {
            if stop == Some(c) {
                self.next();
                return Ok((result, words.finish()));
            }
            if c == '$' {
                let v = self.dollar()?;
                result.push_str(&v);
                words.add_string(&v);
            } else if quotes && c == '\'' {
                let v = self.single_quote()?;
                result.push_str(&v);
                words.add_raw_string(&v);
            } else if quotes && c == '"' {
                let v = self.double_quote()?;
                result.push_str(&v);
                words.add_raw_string(&v);
            } else {
                let mut c = self.next().expect("peeked");
                if c == self.lex.escape {
                    if self.raw_escapes {
                        words.add_raw_char(c);
                        result.push(c);
                    }
                    match self.next() {
                        None => break,
                        Some(n) => c = n,
                    }
                    words.add_raw_char(c);
                } else {
                    words.add_char(c);
                }
                result.push(c);
            }
        }
        if let Some(s) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {s}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next().expect("peeked");
        if self.lex.raw_quotes {
            out.push(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lex.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next().expect("peeked");
        if self.lex.raw_quotes {
            out.push(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.lex.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let v = self.dollar()?;
                    out.push_str(&v);
                }
                Some(_) => {
                    let mut c = self.next().expect("peeked");
                    if c == self.lex.escape {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lex.escape => {
                                c = self.next().expect("peeked");
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            self.next();
            name.push(c);
        }
        name
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{') | Some('}') | Some(':') => {
                return Err("syntax error: bad substitution".into())
            }
            _ => {}
        }
        let name = self.name();
        let Some(mut ch) = self.next() else {
            return Err("syntax error: missing '}'".into());
        };
        let mut modifier = ch.to_string();
        match ch {
            '}' => Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            ':' | '+' | '-' | '?' | '#' | '%' => {
                let null_is_unset = ch == ':';
                if null_is_unset {
                    ch = self.next().unwrap_or('\0');
                    modifier.push(ch);
                }
                let raw = ch == '#' || ch == '%';
                let word = match self.stop_on(Some('}'), raw) {
                    Ok((w, _)) => w,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '}'".into());
                        }
                        return Err(e);
                    }
                };
                let value = self.get_env(&name);
                if self.lex.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}{modifier}{word}}}"));
                }
                let unset = value.is_none() || (null_is_unset && value.as_deref() == Some(""));
                match ch {
                    '-' => Ok(if unset {
                        word
                    } else {
                        value.unwrap_or_default()
                    }),
                    '+' => Ok(if unset { String::new() } else { word }),
                    '?' => {
                        if value.is_none() {
                            let m = if word.is_empty() {
                                "is not allowed to be unset".to_string()
                            } else {
                                word
                            };
                            return Err(format!("{name}: {m}"));
                        }
                        if unset {
                            let m = if word.is_empty() {
                                "is not allowed to be empty".to_string()
                            } else {
                                word
                            };
                            return Err(format!("{name}: {m}"));
                        }
                        Ok(value.unwrap_or_default())
                    }
                    '#' | '%' => {
                        let value = value.unwrap_or_default();
                        let (greedy, pat) = match word.strip_prefix(ch) {
                            Some(p) => (true, p.to_string()),
                            None => (false, word),
                        };
                        if ch == '#' {
                            trim_prefix(&pat, &value, greedy)
                        } else {
                            trim_suffix(&pat, &value, greedy)
                        }
                    }
                    _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
                }
            }
            '/' => {
                let all = self.peek() == Some('/');
                if all {
                    self.next();
                }
                let pattern = match self.stop_on(Some('/'), true) {
                    Ok((w, _)) => w,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '/' in ${}".into());
                        }
                        return Err(e);
                    }
                };
                let replacement = match self.stop_on(Some('}'), true) {
                    Ok((w, _)) => w,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '}'".into());
                        }
                        return Err(e);
                    }
                };
                let value = self.get_env(&name);
                let Some(value) = value else {
                    if self.lex.skip_unset_env {
                        return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
                    }
                    return Ok(String::new());
                };
                let re = pattern_regex(&pattern, true, false)
                    .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
                Ok(if all {
                    re.replace_all(&value, regex::NoExpand(&replacement))
                        .into_owned()
                } else {
                    re.replace(&value, regex::NoExpand(&replacement))
                        .into_owned()
                })
            }
            _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }
}

/// A shell pattern (`*` any string, `?` one character, `\` escaping) as a regular expression.
fn pattern_regex(pattern: &str, greedy: bool, anchored: bool) -> Result<regex::Regex, String> {
    let mut out = String::new();
    if anchored {
        out.push('^');
    }
    let star = if greedy { ".*" } else { ".*?" };
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(star),
            '?' => out.push('.'),
            '\\' => {
                if matches!(chars.get(i), Some('}') | Some('/')) {
                    continue;
                }
                match chars.get(i) {
                    Some(n @ ('*' | '?' | '\\')) => {
                        out.push('\\');
                        out.push(*n);
                        i += 1;
                    }
                    Some(n) => return Err(format!("invalid escape '\\{n}'")),
                    None => return Err("invalid escape '\\'".into()),
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    regex::Regex::new(&out).map_err(|e| e.to_string())
}

fn trim_prefix(pat: &str, value: &str, greedy: bool) -> Result<String, String> {
    let re = pattern_regex(pat, greedy, true)
        .map_err(|e| format!("invalid pattern ({pat}) in substitution: {e}"))?;
    Ok(match re.find(value) {
        Some(m) => value[m.end()..].to_string(),
        None => value.to_string(),
    })
}

fn trim_suffix(pat: &str, value: &str, greedy: bool) -> Result<String, String> {
    // Match the reversed pattern against the reversed value, anchored at its start.
    let rev_pat = reverse_pattern(pat);
    let rev_value: String = value.chars().rev().collect();
    let re = pattern_regex(&rev_pat, greedy, true)
        .map_err(|e| format!("invalid pattern ({pat}) in substitution: {e}"))?;
    Ok(match re.find(&rev_value) {
        Some(m) => rev_value[m.end()..].chars().rev().collect(),
        None => value.to_string(),
    })
}

/// Reverses a pattern keeping escapes in front of what they escape (`a\*c` → `c\*a`).
fn reverse_pattern(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut units: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            units.push(format!("\\{}", chars[i + 1]));
            i += 2;
        } else {
            units.push(chars[i].to_string());
            i += 1;
        }
    }
    units.reverse();
    units.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_list(&[
            "PWD=/home",
            "SHELL=bash",
            "KOREAN=한국어",
            "EMPTY=",
            "FOO=foo.tar.gz",
        ])
    }

    fn word(s: &str) -> String {
        Lex::new('\\').process_word(s, &env()).unwrap()
    }

    fn err(s: &str) -> String {
        Lex::new('\\')
            .process_word(s, &env())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(word("hello"), "hello");
        assert_eq!(word("he'll'o"), "hello");
        assert_eq!(word(r#"he"l\"l"o"#), r#"hel"lo"#);
        assert_eq!(word(r"he\$PWD"), "he$PWD");
        assert_eq!(word("'$PWD'"), "$PWD");
        assert_eq!(word("\"$PWD\""), "/home");
        assert_eq!(word(r#""\a\$""#), r"\a$");
        assert_eq!(word("$PWD/x"), "/home/x");
        assert_eq!(word("${PWD}x"), "/homex");
        assert_eq!(word("$KOREAN"), "한국어");
        assert_eq!(word("$"), "$");
        assert_eq!(word("a$1b"), "ab");
        assert_eq!(word("trailing\\"), "trailing");
        let words = Lex::new('\\')
            .process_words("a 'b c' $SHELL\" d\"", &env())
            .unwrap();
        assert_eq!(words, ["a", "b c", "bash d"]);
        let env2 = Env::from_list(&["X=a b"]);
        let words = Lex::new('\\').process_words("$X \"$X\"", &env2).unwrap();
        assert_eq!(words, ["a", "b", "a b"]);
    }

    #[test]
    fn modifiers() {
        assert_eq!(word("${NOPE:-dflt}"), "dflt");
        assert_eq!(word("${EMPTY:-dflt}"), "dflt");
        assert_eq!(word("${EMPTY-dflt}"), "");
        assert_eq!(word("${NOPE-dflt}"), "dflt");
        assert_eq!(word("${SHELL:-dflt}"), "bash");
        assert_eq!(word("${SHELL:+alt}"), "alt");
        assert_eq!(word("${EMPTY:+alt}"), "");
        assert_eq!(word("${EMPTY+alt}"), "alt");
        assert_eq!(word("${NOPE:+alt}"), "");
        assert_eq!(word("${NOPE:-$SHELL}"), "bash");
        assert_eq!(word("${NOPE:-'a b'}"), "a b");
        assert_eq!(word("${FOO#*.}"), "tar.gz");
        assert_eq!(word("${FOO##*.}"), "gz");
        assert_eq!(word("${FOO%.*}"), "foo.tar");
        assert_eq!(word("${FOO%%.*}"), "foo");
        assert_eq!(word("${FOO/o/0}"), "f0o.tar.gz");
        assert_eq!(word("${FOO//o/0}"), "f00.tar.gz");
        assert_eq!(word("${SHELL:?}"), "bash");
    }

    #[test]
    fn errors_use_dockers_words() {
        assert_eq!(
            err("${NOPE:?}"),
            "failed to process \"${NOPE:?}\": NOPE: is not allowed to be unset"
        );
        assert_eq!(
            err("${EMPTY:?must be set}"),
            "failed to process \"${EMPTY:?must be set}\": EMPTY: must be set"
        );
        assert_eq!(
            err("${PWD"),
            "failed to process \"${PWD\": syntax error: missing '}'"
        );
        assert_eq!(
            err("${}"),
            "failed to process \"${}\": syntax error: bad substitution"
        );
        assert_eq!(
            err("${PWD:=x}"),
            "failed to process \"${PWD:=x}\": unsupported modifier (:=) in substitution"
        );
        assert_eq!(
            err("'abc"),
            "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote"
        );
        assert_eq!(
            err("\"abc"),
            "failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote"
        );
    }

    #[test]
    fn backtick_escape_and_unset_kept() {
        let lex = Lex::new('`');
        assert_eq!(lex.process_word(r"C:\dir`$x", &env()).unwrap(), r"C:\dir$x");
        let mut keep = Lex::new('\\');
        keep.skip_unset_env = true;
        assert_eq!(
            keep.process_word("$NOPE ${NOPE:-x}", &env()).unwrap(),
            "$NOPE ${NOPE:-x}"
        );
        let used = Lex::new('\\').process("$PWD $NOPE", &env()).unwrap();
        assert!(used.matched.contains("PWD") && used.unmatched.contains("NOPE"));
    }
}
