//! [`parse`] turns Dockerfile text into [`Node`]s, one per instruction, the way Docker's parser
//! does: a leading byte-order mark is dropped; parser directives (`# syntax=`, `# escape=`) are
//! read from the top; comment lines are dropped, also inside continued lines; the escape token at
//! the end of a line continues it; heredocs (`RUN <<EOF`, `COPY <<EOF /dst`) take the lines up
//! to their terminator; each instruction's arguments are split by the line parser Docker uses for
//! it (JSON array or shell form, `key=value` pairs, whitespace-delimited words).
//!
//! Written by hand because the grammar is Docker's own (no crate implements it exactly); the
//! tests pin its corner cases.

use crate::shell::{Env, Lex};

/// Longest line Docker's scanner accepts (bufio.MaxScanTokenSize - 1).
pub const MAX_LINE: usize = 64 * 1024 - 1;

/// A Dockerfile that cannot be parsed. Texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// An error at a line.
    #[error("{message}")]
    At {
        /// 1-based first line of the instruction (0 when not known).
        line: usize,
        /// Docker's text.
        message: String,
    },
}

impl ParseError {
    fn at(line: usize, message: impl Into<String>) -> ParseError {
        ParseError::At {
            line,
            message: message.into(),
        }
    }

    /// The message without location.
    pub fn message(&self) -> &str {
        match self {
            ParseError::At { message, .. } => message,
        }
    }

    /// The 1-based line, 0 if unknown.
    pub fn line(&self) -> usize {
        match self {
            ParseError::At { line, .. } => *line,
        }
    }
}

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminator word (quotes removed).
    pub name: String,
    /// The file descriptor before `<<` (0 when none).
    pub fd: u32,
    /// Whether variables in the content are expanded (the word was not quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are removed from each content line.
    pub chomp: bool,
    /// The lines between the instruction and the terminator, each with its newline.
    pub content: String,
}

/// One instruction as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction, lower-cased (`run`, `copy`...).
    pub cmd: String,
    /// The instruction's text with continuations joined (what `Step n/m :` prints).
    pub original: String,
    /// `--flag=value` words given before the arguments.
    pub flags: Vec<String>,
    /// The arguments as the line parser split them (for ONBUILD: the trigger's instruction
    /// followed by its arguments; for HEALTHCHECK: the type then the command).
    pub args: Vec<String>,
    /// The arguments were a JSON array.
    pub json: bool,
    /// ONBUILD's trigger.
    pub sub: Option<Box<Node>>,
    /// Heredocs, in order.
    pub heredocs: Vec<Heredoc>,
    /// 1-based first line.
    pub start_line: usize,
    /// 1-based last line.
    pub end_line: usize,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The instructions.
    pub nodes: Vec<Node>,
    /// The escape token (`\` unless `# escape=` says `` ` ``).
    pub escape: char,
    /// The `# syntax=` directive, if any.
    pub syntax: Option<String>,
    /// Docker's warnings (empty continuation lines), each a full line to print.
    pub warnings: Vec<String>,
}

struct Directives {
    escape: char,
    done: bool,
    seen_escape: bool,
    seen_syntax: bool,
    syntax: Option<String>,
}

impl Directives {
    /// Reads a possible directive line (`# key=value`). Returns whether it was one.
    fn possible(&mut self, line: &str) -> Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        let Some((key, value)) = directive(line) else {
            self.done = true;
            return Ok(false);
        };
        match key.to_ascii_lowercase().as_str() {
            "escape" => {
                if self.seen_escape {
                    return Err("only one escape parser directive can be used".into());
                }
                self.seen_escape = true;
                if value != "`" && value != "\\" {
                    return Err(format!(
                        "invalid escape token '{value}' does not match ` or \\"
                    ));
                }
                self.escape = value.chars().next().expect("checked");
                Ok(true)
            }
            "syntax" => {
                if self.seen_syntax {
                    return Err("only one syntax parser directive can be used".into());
                }
                self.seen_syntax = true;
                self.syntax = Some(value);
                Ok(true)
            }
            _ => {
                self.done = true;
                Ok(false)
            }
        }
    }

    /// Strips a continuation token at the end of `line`; returns whether the line continues.
    fn trim_continuation<'a>(&self, line: &'a str) -> (&'a str, bool) {
        let t = line.trim_end_matches([' ', '\t']);
        let Some(before) = t.strip_suffix(self.escape) else {
            return (line, false);
        };
        // An escaped escape token (`\\`) at the end does not continue, unless alone on a line.
        if before.is_empty() {
            return ("", true);
        }
        if before.ends_with(self.escape) {
            return (line, false);
        }
        (before, true)
    }
}

/// `# key = value` → (key, value): a letter then alphanumerics, value trimmed.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?;
    let rest = rest.trim_start();
    let key_len = rest
        .char_indices()
        .take_while(|(i, c)| {
            if *i == 0 {
                c.is_ascii_alphabetic()
            } else {
                c.is_ascii_alphanumeric()
            }
        })
        .count();
    if key_len == 0 {
        return None;
    }
    let key = &rest[..key_len];
    let rest = rest[key_len..].trim_start().strip_prefix('=')?;
    let value = rest.trim();
    if value.is_empty() {
        return None;
    }
    Some((key.to_string(), value.to_string()))
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = split_lines(text);
    let mut d = Directives {
        escape: '\\',
        done: false,
        seen_escape: false,
        seen_syntax: false,
        syntax: None,
    };
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        if raw.len() > MAX_LINE {
            return Err(ParseError::at(
                i + 1,
                format!("dockerfile line greater than max allowed size of {MAX_LINE}"),
            ));
        }
        let trimmed = raw.trim_start();
        let is_directive = d.possible(trimmed).map_err(|e| ParseError::at(i + 1, e))?;
        i += 1;
        if is_directive || is_comment(trimmed) {
            continue;
        }
        let start = i;
        let (first, mut cont) = d.trim_continuation(trimmed);
        if !cont && first.is_empty() {
            continue;
        }
        let mut line = first.to_string();
        let mut empty_continuation = false;
        while cont && i < lines.len() {
            let next = lines[i];
            i += 1;
            if next.len() > MAX_LINE {
                return Err(ParseError::at(
                    i,
                    format!("dockerfile line greater than max allowed size of {MAX_LINE}"),
                ));
            }
            if is_comment(next) {
                continue;
            }
            if next.trim_start().is_empty() {
                empty_continuation = true;
                continue;
            }
            let (part, c) = d.trim_continuation(next);
            line.push_str(part);
            cont = c;
        }
        if empty_continuation {
            warnings.push(format!(
                "[WARNING]: Empty continuation line found in:\n    {line}"
            ));
        }
        let mut node = node_from_line(&line, &d).map_err(|e| ParseError::at(start, e))?;
        if node.can_contain_heredoc() && line.contains("<<") {
            let docs = heredocs_from_line(&line).map_err(|e| ParseError::at(start, e))?;
            for mut doc in docs {
                let mut content = String::new();
                let mut terminated = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let candidate = if doc.chomp {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if candidate == doc.name {
                        terminated = true;
                        break;
                    }
                    content.push_str(l);
                    content.push('\n');
                }
                if !terminated {
                    return Err(ParseError::at(start, "unterminated heredoc"));
                }
                doc.content = content;
                node.heredocs.push(doc);
            }
        }
        node.start_line = start;
        node.end_line = i;
        nodes.push(node);
    }
    if !warnings.is_empty() {
        warnings.push(
            "[WARNING]: Empty continuation lines will become errors in a future release.".into(),
        );
    }
    if nodes.is_empty() {
        return Err(ParseError::at(0, "file with no instructions"));
    }
    Ok(Dockerfile {
        nodes,
        escape: d.escape,
        syntax: d.syntax,
        warnings,
    })
}

/// Lines without their `\n` and a trailing `\r` (Go's bufio.ScanLines).
fn split_lines(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if text.ends_with('\n') || text.is_empty() {
        out.pop();
    }
    out
}

impl Node {
    fn can_contain_heredoc(&self) -> bool {
        let n = match (&self.cmd[..], &self.sub) {
            ("onbuild", Some(sub)) => sub,
            _ => self,
        };
        matches!(n.cmd.as_str(), "run" | "copy" | "add") && !n.json
    }
}

fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, String> {
    let mut lex = Lex::new('\\');
    lex.raw_quotes = true;
    lex.raw_escapes = true;
    lex.skip_unset_env = true;
    let words = lex.process_words(line, &Env::default()).unwrap_or_default();
    let mut docs = Vec::new();
    for w in words {
        if let Some(doc) = parse_heredoc(&w)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// A word like `<<EOF`, `<<-"EOF"` or `3<<EOF`, or `None`.
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(rest) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let fd = if digits == 0 {
        0
    } else {
        word[..digits].parse().unwrap_or(0)
    };
    let mut lex = Lex::new('\\');
    lex.skip_unset_env = true;
    let words = lex
        .process_words(rest, &Env::default())
        .map_err(|e| e.to_string())?;
    if words.len() != 1 {
        return Ok(None);
    }
    lex.raw_quotes = true;
    let raw = lex
        .process_words(rest, &Env::default())
        .map_err(|e| e.to_string())?;
    if raw.len() != 1 {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |s: &str| s.matches(['\'', '"']).count();
    Ok(Some(Heredoc {
        name: words[0].clone(),
        fd,
        expand: quotes(&words[0]) == quotes(&raw[0]),
        chomp,
        content: String::new(),
    }))
}

/// Splits an instruction line and dispatches to the line parser of its instruction.
fn node_from_line(line: &str, d: &Directives) -> Result<Node, String> {
    let trimmed = line.trim();
    let (cmd, rest) = match trimmed.split_once([' ', '\t', '\u{b}', '\u{c}', '\r']) {
        Some((c, r)) => (c, r),
        None => (trimmed, ""),
    };
    let cmd = cmd.to_ascii_lowercase();
    let (args, flags) = extract_flags(rest, d.escape);
    let args = args.trim();
    let mut node = Node {
        cmd: cmd.clone(),
        original: line.to_string(),
        flags,
        args: Vec::new(),
        json: false,
        sub: None,
        heredocs: Vec::new(),
        start_line: 0,
        end_line: 0,
    };
    match cmd.as_str() {
        "add" | "copy" | "volume" => match parse_json(args) {
            Json::Array(v) => {
                node.args = v;
                node.json = true;
            }
            Json::NotStrings => return Err(NOT_STRINGS.into()),
            Json::Not => node.args = whitespace_words(args),
        },
        "cmd" | "entrypoint" | "run" | "shell" if !args.is_empty() => match parse_json(args) {
            Json::Array(v) => {
                node.args = v;
                node.json = true;
            }
            Json::NotStrings => return Err(NOT_STRINGS.into()),
            Json::Not => node.args = vec![args.to_string()],
        },
        "arg" => node.args = parse_words(args, d.escape),
        "env" => node.args = parse_name_val(args, "ENV", d.escape)?,
        "label" => node.args = parse_name_val(args, "LABEL", d.escape)?,
        "expose" | "from" => node.args = whitespace_words(args),
        "maintainer" | "stopsignal" | "user" | "workdir" if !args.is_empty() => {
            node.args = vec![args.to_string()];
        }
        "healthcheck" => {
            let sep = args.find(|c: char| c.is_whitespace()).unwrap_or(args.len());
            if sep > 0 {
                node.args.push(args[..sep].to_string());
                let cmdline = args[sep..].trim_start();
                if !cmdline.is_empty() {
                    match parse_json(cmdline) {
                        Json::Array(v) => {
                            node.args.extend(v);
                            node.json = true;
                        }
                        Json::NotStrings => return Err(NOT_STRINGS.into()),
                        Json::Not => node.args.push(cmdline.to_string()),
                    }
                }
            }
        }
        "onbuild" if !args.is_empty() => {
            let sub = node_from_line(args, d)?;
            node.args.push(sub.cmd.clone());
            node.args.extend(sub.args.iter().cloned());
            node.json = sub.json;
            node.sub = Some(Box::new(sub));
        }
        _ => {}
    }
    Ok(node)
}

const NOT_STRINGS: &str = "when using JSON array syntax, arrays must be comprised of strings only";

enum Json {
    Array(Vec<String>),
    NotStrings,
    Not,
}

/// Docker's JSON form: the arguments start with `[` and a JSON array of strings comes first
/// (what follows it is ignored, as Go's json.Decoder does).
fn parse_json(rest: &str) -> Json {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Json::Not;
    }
    let mut de = serde_json::Deserializer::from_str(rest).into_iter::<Vec<serde_json::Value>>();
    match de.next() {
        Some(Ok(values)) => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    serde_json::Value::String(s) => out.push(s),
                    _ => return Json::NotStrings,
                }
            }
            Json::Array(out)
        }
        _ => Json::Not,
    }
}

fn whitespace_words(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        return Vec::new();
    }
    rest.split(['\t', '\u{b}', '\u{c}', '\r', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `--flag=value` words before the arguments (a bare `--` ends them).
fn extract_flags(line: &str, escape: char) -> (String, Vec<String>) {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut pos = 0;
    loop {
        while pos < chars.len() && chars[pos].is_whitespace() {
            pos += 1;
        }
        if pos >= chars.len() {
            return (String::new(), words);
        }
        if !(chars[pos] == '-' && chars.get(pos + 1) == Some(&'-')) {
            return (chars[pos..].iter().collect(), words);
        }
        let mut word = String::new();
        let mut blank_ok = false;
        let mut quote: Option<char> = None;
        while pos < chars.len() {
            let c = chars[pos];
            match quote {
                None if c.is_whitespace() => break,
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    blank_ok = true;
                }
                None if c == escape => {
                    pos += 1;
                    if let Some(n) = chars.get(pos) {
                        word.push(*n);
                    }
                }
                None => word.push(c),
                Some(q) if c == q => quote = None,
                Some(_) if c == escape => {
                    pos += 1;
                    match chars.get(pos) {
                        Some(n) => word.push(*n),
                        None => quote = None,
                    }
                }
                Some(_) => word.push(c),
            }
            pos += 1;
        }
        if word == "--" {
            return (chars[pos..].iter().collect(), words);
        }
        if blank_ok || !word.is_empty() {
            words.push(word);
        }
    }
}

/// Words separated by white space, quotes and escapes kept (ENV, LABEL, ARG).
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !in_word {
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            in_word = true;
        }
        match quote {
            None => {
                if c.is_whitespace() {
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    blank_ok = false;
                    in_word = false;
                    i += 1;
                    continue;
                }
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    blank_ok = true;
                }
                if c == escape {
                    if i + 1 == chars.len() {
                        i += 1;
                        continue;
                    }
                    word.push(c);
                    i += 1;
                    word.push(chars[i]);
                    i += 1;
                    continue;
                }
                word.push(c);
            }
            Some(q) => {
                if c == q {
                    quote = None;
                }
                if c == escape && q != '\'' {
                    if i + 1 == chars.len() {
                        quote = None;
                        i += 1;
                        continue;
                    }
                    word.push(c);
                    i += 1;
                    word.push(chars[i]);
                    i += 1;
                    continue;
                }
                word.push(c);
            }
        }
        i += 1;
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// ENV and LABEL: `k=v k2=v2` or the old `k v with spaces` form → [k, v, k2, v2...].
fn parse_name_val(rest: &str, key: &str, escape: char) -> Result<Vec<String>, String> {
    let words = parse_words(rest, escape);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    if !words[0].contains('=') {
        let mut parts = rest.splitn(2, ['\t', '\u{b}', '\u{c}', '\r', ' ']);
        let k = parts.next().unwrap_or_default();
        let v = parts
            .next()
            .map(|v| v.trim_start_matches(['\t', '\u{b}', '\u{c}', '\r', ' ']))
            .unwrap_or_default();
        if v.is_empty() && !rest.contains(|c: char| c.is_whitespace()) {
            return Err(format!("{key} must have two arguments"));
        }
        return Ok(vec![k.to_string(), v.to_string()]);
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                berth_go::quote(&w)
            ));
        };
        out.push(k.to_string());
        out.push(v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(s: &str) -> Vec<Node> {
        parse(s).unwrap().nodes
    }

    #[test]
    fn continuation_comments_and_directives() {
        let df = parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  # comment\n  b\n").unwrap();
        assert_eq!(df.escape, '`');
        assert_eq!(df.syntax.as_deref(), Some("docker/dockerfile:1"));
        assert_eq!(df.nodes.len(), 2);
        assert_eq!(df.nodes[1].original, "RUN echo a   b");
        assert_eq!(df.nodes[1].args, ["echo a   b"]);
        assert_eq!((df.nodes[1].start_line, df.nodes[1].end_line), (4, 6));
        // A directive after an instruction is a comment.
        let df = parse("FROM x\n# escape=`\nRUN a \\\n b").unwrap();
        assert_eq!(df.escape, '\\');
        assert_eq!(df.nodes[1].args, ["a  b"]);
        assert_eq!(
            parse("# escape=x\nFROM a").unwrap_err().message(),
            "invalid escape token 'x' does not match ` or \\"
        );
        assert_eq!(
            parse("# escape=\\\n# escape=`\nFROM a")
                .unwrap_err()
                .message(),
            "only one escape parser directive can be used"
        );
        assert_eq!(
            parse("# only a comment\n").unwrap_err().message(),
            "file with no instructions"
        );
    }

    #[test]
    fn empty_continuation_warns() {
        let df = parse("FROM a\nRUN echo \\\n\n  hi\n").unwrap();
        assert_eq!(df.nodes[1].args, ["echo   hi"]);
        assert_eq!(df.warnings.len(), 2);
        assert!(df.warnings[0].starts_with("[WARNING]: Empty continuation line found in:"));
    }

    #[test]
    fn forms() {
        let n = nodes("FROM a AS b\nCMD [\"sh\", \"-c\"]\nCMD echo [x]\nCOPY --chown=1:1 --from=b a b /c/\nENV A=1 B=\"x y\"\nENV C d e\nLABEL x=y\nHEALTHCHECK --interval=5s CMD [\"true\"]\nONBUILD RUN echo hi\nEXPOSE 80  443/udp\nARG X Y=1");
        assert_eq!(n[0].args, ["a", "AS", "b"]);
        assert!(n[1].json && n[1].args == ["sh", "-c"]);
        assert!(!n[2].json && n[2].args == ["echo [x]"]);
        assert_eq!(n[3].flags, ["--chown=1:1", "--from=b"]);
        assert_eq!(n[3].args, ["a", "b", "/c/"]);
        assert_eq!(n[4].args, ["A", "1", "B", "\"x y\""]);
        assert_eq!(n[5].args, ["C", "d e"]);
        assert_eq!(n[6].args, ["x", "y"]);
        assert_eq!(n[7].flags, ["--interval=5s"]);
        assert!(n[7].json && n[7].args == ["CMD", "true"]);
        assert_eq!(n[8].args, ["run", "echo hi"]);
        assert_eq!(n[9].args, ["80", "443/udp"]);
        assert_eq!(n[10].args, ["X", "Y=1"]);
        assert_eq!(
            parse("FROM a\nCMD [1]").unwrap_err().message(),
            "when using JSON array syntax, arrays must be comprised of strings only"
        );
        assert_eq!(
            parse("FROM a\nENV A=1 B").unwrap_err().message(),
            "Syntax error - can't find = in \"B\". Must be of the form: name=value"
        );
        assert_eq!(
            parse("FROM a\nENV A").unwrap_err().message(),
            "ENV must have two arguments"
        );
        assert_eq!(parse("from a\nrun x").unwrap().nodes[1].cmd, "run");
    }

    #[test]
    fn heredocs() {
        let df = parse("FROM a\nRUN <<EOF\necho $HOME\necho two\nEOF\nCOPY <<-'X' /f\n\thello\n\tX\nRUN cat <<A <<B\na\nA\nb\nB\nRUN [\"<<EOF\"]\n").unwrap();
        let n = &df.nodes;
        assert_eq!(n[1].heredocs.len(), 1);
        assert_eq!(n[1].heredocs[0].name, "EOF");
        assert!(n[1].heredocs[0].expand);
        assert_eq!(n[1].heredocs[0].content, "echo $HOME\necho two\n");
        assert!(n[2].heredocs[0].chomp && !n[2].heredocs[0].expand);
        assert_eq!(n[2].heredocs[0].content, "\thello\n");
        assert_eq!(n[3].heredocs.len(), 2);
        assert_eq!(n[3].heredocs[1].content, "b\n");
        assert!(n[4].heredocs.is_empty());
        assert_eq!(n.len(), 5);
        assert_eq!(
            parse("FROM a\nRUN <<EOF\nno end\n").unwrap_err().message(),
            "unterminated heredoc"
        );
    }
}
