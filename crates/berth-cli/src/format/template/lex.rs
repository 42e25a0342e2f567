//! [`lex`] splits a Go template into [`Item`]s the way Go's `text/template/parse` lexer does:
//! text, `{{`/`}}` with `-` trim markers, comments, and the tokens inside actions.

/// What a lexed item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

/// One token: its kind, byte offset, text and line (1-based).
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub kind: Kind,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// Go's `item.String()`, used in "unexpected X in Y" messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", berth_go::quote(&head))
            }
            _ => f.write_str(&berth_go::quote(&self.val)),
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// `%#U` of a rune: `U+0024 '$'`.
fn rune_desc(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i32,
    items: Vec<Item>,
}

/// Lexes the whole template. The last item is `Eof` or `Error`.
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        items: Vec::new(),
    };
    l.run();
    l.items
}

enum State {
    Text,
    LeftDelim,
    InsideAction,
    Done,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
        if c == '\n' {
            self.line -= 1;
        }
    }

    fn emit(&mut self, kind: Kind) {
        let val = self.input[self.start..self.pos].to_string();
        self.items.push(Item {
            kind,
            pos: self.start,
            val,
            line: self.start_line,
        });
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, msg: String) -> State {
        self.items.push(Item {
            kind: Kind::Error,
            pos: self.start,
            val: msg,
            line: self.start_line,
        });
        State::Done
    }

    fn run(&mut self) {
        let mut state = State::Text;
        loop {
            state = match state {
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Done => return,
            };
        }
    }

    fn lex_text(&mut self) -> State {
        if let Some(x) = self.rest().find(LEFT) {
            if x > 0 {
                self.pos += x;
                let mut trimmed = 0;
                if has_left_trim_marker(&self.input[self.pos + LEFT.len()..]) {
                    let text = &self.input[self.start..self.pos];
                    trimmed = text.len() - text.trim_end_matches(is_space).len();
                }
                self.pos -= trimmed;
                // Lines inside the text itself.
                let newlines = self.input[self.start..self.pos].matches('\n').count();
                self.line += newlines;
                if self.pos > self.start {
                    self.emit(Kind::Text);
                }
                self.pos += trimmed;
                self.ignore();
            }
            return State::LeftDelim;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += self.input[self.start..self.pos].matches('\n').count();
            let val = self.input[self.start..self.pos].to_string();
            self.items.push(Item {
                kind: Kind::Text,
                pos: self.start,
                val,
                line: self.start_line,
            });
            self.start = self.pos;
        }
        self.items.push(Item {
            kind: Kind::Eof,
            pos: self.pos,
            val: String::new(),
            line: self.line,
        });
        State::Done
    }

    /// At a right delimiter, possibly preceded by a trim marker?
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim_marker(self.rest());
        let after_marker = if trim { 2 } else { 0 };
        if self.rest()[after_marker..].starts_with(LEFT_COMMENT) {
            self.pos += after_marker;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        State::InsideAction
    }

    fn lex_comment(&mut self) -> State {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
        }
        self.ignore();
        State::Text
    }

    fn lex_right_delim(&mut self, trim: bool) -> State {
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
            self.ignore();
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, trim) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim(trim);
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.backup(c);
                return self.lex_space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_field_or_variable(Kind::Variable),
            '\'' => return self.lex_char(),
            '.' if !self.peek().is_some_and(|n| n.is_ascii_digit()) => {
                return self.lex_field_or_variable(Kind::Field)
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup(c);
                return self.lex_number();
            }
            c if is_alphanumeric(c) => {
                self.backup(c);
                return self.lex_identifier();
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren".into());
                }
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    rune_desc(c)
                ))
            }
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let mut spaces = 0;
        while let Some(c) = self.peek().filter(|c| is_space(*c)) {
            self.next();
            let _ = c;
            spaces += 1;
        }
        // A space before "-}}" belongs to the trim marker.
        let before = &self.input[self.pos - 1..];
        if has_right_trim_marker(before) && before[2..].starts_with(RIGHT) {
            self.backup(self.input[..self.pos].chars().next_back().unwrap_or(' '));
            if spaces == 1 {
                return State::InsideAction;
            }
        }
        self.emit(Kind::Space);
        State::InsideAction
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn lex_identifier(&mut self) -> State {
        while let Some(c) = self.peek() {
            if !is_alphanumeric(c) {
                break;
            }
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return self.error(format!("bad character {}", rune_desc(c)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match word {
            "block" => Kind::Block,
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "range" => Kind::Range,
            "nil" => Kind::Nil,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit(kind);
        State::InsideAction
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return State::InsideAction;
        }
        while let Some(c) = self.peek() {
            if !is_alphanumeric(c) {
                break;
            }
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return self.error(format!("bad character {}", rune_desc(c)));
        }
        self.emit(kind);
        State::InsideAction
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => {
                    if self.next().is_some_and(|c| c != '\n') {
                        continue;
                    }
                    return self.error("unterminated character constant".into());
                }
                None | Some('\n') => {
                    return self.error("unterminated character constant".into());
                }
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::CharConstant);
        State::InsideAction
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => {
                    if self.next().is_some_and(|c| c != '\n') {
                        continue;
                    }
                    return self.error("unterminated quoted string".into());
                }
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        State::InsideAction
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", berth_go::quote(&text)));
        }
        self.emit(Kind::Number);
        State::InsideAction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex(src).into_iter().map(|i| (i.kind, i.val)).collect()
    }

    #[test]
    fn tokens() {
        use Kind::*;
        let cases: Vec<(&str, Vec<(Kind, &str)>)> = vec![
            ("hi", vec![(Text, "hi"), (Eof, "")]),
            (
                "a{{.Name}}b",
                vec![
                    (Text, "a"),
                    (LeftDelim, "{{"),
                    (Field, ".Name"),
                    (RightDelim, "}}"),
                    (Text, "b"),
                    (Eof, ""),
                ],
            ),
            (
                "{{.A.B}}",
                vec![
                    (LeftDelim, "{{"),
                    (Field, ".A"),
                    (Field, ".B"),
                    (RightDelim, "}}"),
                    (Eof, ""),
                ],
            ),
            (
                "x  {{- 3 -}}  y",
                vec![
                    (Text, "x"),
                    (LeftDelim, "{{"),
                    (Number, "3"),
                    (RightDelim, "}}"),
                    (Text, "y"),
                    (Eof, ""),
                ],
            ),
            (
                "{{-3}}",
                vec![
                    (LeftDelim, "{{"),
                    (Number, "-3"),
                    (RightDelim, "}}"),
                    (Eof, ""),
                ],
            ),
            (
                "a {{/* c */}} b",
                vec![(Text, "a "), (Text, " b"), (Eof, "")],
            ),
            (
                "a {{- /* c */ -}} b",
                vec![(Text, "a"), (Text, "b"), (Eof, "")],
            ),
            (
                r#"{{$x := "s" | printf `%s`}}"#,
                vec![
                    (LeftDelim, "{{"),
                    (Variable, "$x"),
                    (Space, " "),
                    (Declare, ":="),
                    (Space, " "),
                    (String, "\"s\""),
                    (Space, " "),
                    (Pipe, "|"),
                    (Space, " "),
                    (Identifier, "printf"),
                    (Space, " "),
                    (RawString, "`%s`"),
                    (RightDelim, "}}"),
                    (Eof, ""),
                ],
            ),
            (
                "{{if true}}{{else}}{{end}}",
                vec![
                    (LeftDelim, "{{"),
                    (If, "if"),
                    (Space, " "),
                    (Bool, "true"),
                    (RightDelim, "}}"),
                    (LeftDelim, "{{"),
                    (Else, "else"),
                    (RightDelim, "}}"),
                    (LeftDelim, "{{"),
                    (End, "end"),
                    (RightDelim, "}}"),
                    (Eof, ""),
                ],
            ),
            (
                "{{.Name}",
                vec![(LeftDelim, "{{"), (Error, "bad character U+007D '}'")],
            ),
            (
                "{{.Name }",
                vec![
                    (LeftDelim, "{{"),
                    (Field, ".Name"),
                    (Space, " "),
                    (Char, "}"),
                    (Error, "unclosed action"),
                ],
            ),
            ("{{/* x }}", vec![(Error, "unclosed comment")]),
            (
                "{{3x}}",
                vec![(LeftDelim, "{{"), (Error, "bad number syntax: \"3x\"")],
            ),
            (
                "{{(1}}",
                vec![
                    (LeftDelim, "{{"),
                    (LeftParen, "("),
                    (Number, "1"),
                    (Error, "unclosed left paren"),
                ],
            ),
        ];
        for (src, want) in cases {
            let want: Vec<(Kind, std::string::String)> =
                want.into_iter().map(|(k, v)| (k, v.to_string())).collect();
            assert_eq!(kinds(src), want, "{src}");
        }
    }

    #[test]
    fn lines() {
        let items = lex("a\nb{{.X}}\n{{.Y}}");
        let y = items.iter().find(|i| i.val == ".Y").unwrap();
        assert_eq!(y.line, 3);
        let x = items.iter().find(|i| i.val == ".X").unwrap();
        assert_eq!(x.line, 2);
    }
}
