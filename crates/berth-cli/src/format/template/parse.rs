//! [`parse`] builds the tree of a Go template ([`Node`]s, [`Pipe`]s, [`Arg`]s) from the lexer's
//! items, with Go's `text/template/parse` rules and error texts (`template: :1: unexpected "}" in
//! operand`, `function "x" not defined`, `undefined variable "$x"`...).

use std::collections::BTreeMap;
use std::fmt;

use berth_go::unquote;

use super::lex::{lex, Item, Kind};

/// A number literal, with the Go kinds it can stand for.
#[derive(Debug, Clone)]
pub(crate) struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub float: Option<f64>,
    /// A rune literal such as `'a'`.
    pub is_char: bool,
}

/// An operand of a command.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `.A.B`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.A` (`idents[0]` is the variable with its `$`).
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipeline).A` or `func.A`
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    /// A function name.
    Identifier {
        pos: usize,
        name: String,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        val: bool,
    },
    Number {
        pos: usize,
        num: Number,
    },
    String {
        pos: usize,
        quoted: String,
        val: String,
    },
    /// A parenthesized pipeline.
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                match node.as_ref() {
                    Arg::Pipe(p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

/// One command of a pipeline: a function/field/value and its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub args: Vec<Arg>,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match a {
                Arg::Pipe(p) => write!(f, "({p})")?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

/// A pipeline, with its variable declarations (`$x :=`) or assignments (`$x =`).
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A node of the template body.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action {
        pipe: Pipe,
    },
    If {
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    Range {
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    With {
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break,
    Continue,
}

/// What ended an item list.
enum Stop {
    End,
    Else,
}

/// A parsed template: the main body and the `define`d ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    pub root: Vec<Node>,
    pub defines: BTreeMap<String, Vec<Node>>,
}

struct Parser<'f> {
    items: Vec<Item>,
    next: usize,
    /// Line of the token read last, for error messages.
    line: usize,
    action_line: usize,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'f dyn Fn(&str) -> bool,
    defines: BTreeMap<String, Vec<Node>>,
}

/// Parses `text`; `has_func` says which function names exist.
pub(crate) fn parse(text: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Tree, String> {
    let mut p = Parser {
        items: lex(text),
        next: 0,
        line: 1,
        action_line: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        has_func,
        defines: BTreeMap::new(),
    };
    let root = p.parse_top()?;
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn errorf(&self, msg: impl fmt::Display) -> String {
        format!("template: :{}: {msg}", self.line)
    }

    fn next_item(&mut self) -> Item {
        let item = self.items[self.next.min(self.items.len() - 1)].clone();
        if self.next < self.items.len() {
            self.next += 1;
        }
        self.line = item.line;
        item
    }

    fn backup(&mut self) {
        self.next -= 1;
    }

    fn peek(&self) -> &Item {
        &self.items[self.next.min(self.items.len() - 1)]
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next_item();
            if item.kind != Kind::Space {
                return item;
            }
        }
    }

    /// Skips spaces and returns (without consuming) the next token, which becomes the one error
    /// lines refer to.
    fn peek_non_space(&mut self) -> Item {
        while self.peek().kind == Kind::Space {
            self.next_item();
        }
        let item = self.peek().clone();
        self.line = item.line;
        item
    }

    fn unexpected(&self, item: &Item, context: &str) -> String {
        if item.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != item.line {
                extra = format!(" in action started at :{}", self.action_line);
                if item.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{item}{extra}"));
        }
        self.errorf(format!("unexpected {item} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Item> {
        let item = self.next_non_space();
        if item.kind != kind {
            return Err(self.unexpected(&item, context));
        }
        Ok(item)
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.next;
                self.next_item();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.next = save;
            }
            match self.text_or_action()? {
                Ok(node) => root.push(node),
                Err(Stop::End) => return Err(self.errorf("unexpected {{end}}")),
                Err(Stop::Else) => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        self.expect(Kind::RightDelim, context)?;
        // A definition is its own template: it sees only `$`.
        let outer_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let listed = self.item_list();
        self.vars = outer_vars;
        let (list, stop) = listed?;
        if !matches!(stop, Stop::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.defines.insert(name, list);
        Ok(())
    }

    fn template_name(&self, token: &Item, context: &str) -> PResult<String> {
        match token.kind {
            Kind::String | Kind::RawString => unquote(&token.val).map_err(|e| self.errorf(e)),
            _ => Err(self.unexpected(token, context)),
        }
    }

    /// Parses until `{{end}}` or `{{else}}`, which is returned.
    fn item_list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Ok(node) => list.push(node),
                Err(stop) => return Ok((list, stop)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    /// A node, or the `{{end}}`/`{{else}}` that closes the current list.
    fn text_or_action(&mut self) -> PResult<Result<Node, Stop>> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Text => Ok(Ok(Node::Text(token.val))),
            Kind::LeftDelim => {
                self.action_line = token.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> PResult<Result<Node, Stop>> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Block => return self.block_control().map(Ok),
            Kind::Break | Kind::Continue => {
                let word = if token.kind == Kind::Break {
                    "break"
                } else {
                    "continue"
                };
                let t = self.next_non_space();
                if t.kind != Kind::RightDelim {
                    return Err(self.unexpected(&t, &format!("{{{{{word}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                return Ok(Ok(if token.kind == Kind::Break {
                    Node::Break
                } else {
                    Node::Continue
                }));
            }
            Kind::Else => {
                let peek = self.peek_non_space();
                if peek.kind != Kind::If && peek.kind != Kind::With {
                    self.expect(Kind::RightDelim, "else")?;
                }
                return Ok(Err(Stop::Else));
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Err(Stop::End));
            }
            Kind::If => return self.control("if").map(Ok),
            Kind::Range => return self.control("range").map(Ok),
            Kind::With => return self.control("with").map(Ok),
            Kind::Template => return self.template_control().map(Ok),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Ok(Node::Action { pipe }))
    }

    fn control(&mut self, context: &str) -> PResult<Node> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, stop) = listed?;
        let mut else_list = None;
        if let Stop::Else = stop {
            if context == "if" && self.peek().kind == Kind::If {
                self.next_item();
                else_list = Some(vec![self.control("if")?]);
            } else if context == "with" && self.peek().kind == Kind::With {
                self.next_item();
                else_list = Some(vec![self.control("with")?]);
            } else {
                let (l, stop) = self.item_list()?;
                if !matches!(stop, Stop::End) {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(nvars);
        Ok(match context {
            "if" => Node::If {
                pipe,
                list,
                else_list,
            },
            "range" => Node::Range {
                pipe,
                list,
                else_list,
            },
            _ => Node::With {
                pipe,
                list,
                else_list,
            },
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        let mut pipe = None;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, Kind::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let (list, stop) = self.item_list()?;
        if !matches!(stop, Stop::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.defines.insert(name.clone(), list);
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let token = self.peek_non_space();
        let mut pipe = Pipe {
            pos: token.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations or assignments.
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.next;
            self.next_item();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    break;
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    self.next = save;
                    break;
                }
            }
        }
        loop {
            let token = self.next_non_space();
            if token.kind == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match token.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number { .. }
                    | Arg::String { .. }
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        self.peek_non_space();
        let mut cmd = Command { args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let token = self.next_item();
            match token.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let f = self.next_item();
            fields.push(f.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable {
                    pos: chain_pos,
                    idents,
                }
            }
            n @ (Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. }) => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    berth_go::quote(&n.to_string())
                )))
            }
            other => Arg::Chain {
                pos: chain_pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.kind {
            Kind::Identifier => {
                if !(self.has_func)(&token.val) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        berth_go::quote(&token.val)
                    )));
                }
                Arg::Identifier {
                    pos,
                    name: token.val,
                }
            }
            Kind::Dot => Arg::Dot { pos },
            Kind::Nil => Arg::Nil { pos },
            Kind::Variable => {
                let idents: Vec<String> = token.val.split('.').map(str::to_string).collect();
                if !self.vars.contains(&idents[0]) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        berth_go::quote(&idents[0])
                    )));
                }
                Arg::Variable { pos, idents }
            }
            Kind::Field => Arg::Field {
                pos,
                idents: vec![token.val[1..].to_string()],
            },
            Kind::Bool => Arg::Bool {
                pos,
                val: token.val == "true",
            },
            Kind::CharConstant | Kind::Number => {
                let num = parse_number(&token.val, token.kind == Kind::CharConstant)
                    .map_err(|e| self.errorf(e))?;
                Arg::Number { pos, num }
            }
            Kind::LeftParen => Arg::Pipe(Box::new(
                self.pipeline("parenthesized pipeline", Kind::RightParen)?,
            )),
            Kind::String | Kind::RawString => {
                let val = unquote(&token.val).map_err(|e| self.errorf(e))?;
                Arg::String {
                    pos,
                    quoted: token.val,
                    val,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn parse_number(text: &str, is_char: bool) -> Result<Number, String> {
    if is_char {
        let c = unquote(text)
            .map_err(|e| e.to_string())?
            .chars()
            .next()
            .ok_or_else(|| format!("malformed character constant: {text}"))?;
        return Ok(Number {
            text: text.into(),
            int: Some(c as i64),
            float: Some(c as u32 as f64),
            is_char: true,
        });
    }
    if text.ends_with('i') {
        return Err(format!("complex numbers are not supported: {text}"));
    }
    let clean = text.replace('_', "");
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    }
    .map(|i| if neg { -i } else { i });
    let float = if lower.starts_with("0x") || lower.starts_with("0o") || lower.starts_with("0b") {
        int.map(|i| i as f64)
    } else {
        clean.parse::<f64>().ok()
    };
    let int = int.or_else(|| {
        float
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    });
    if int.is_none() && float.is_none() {
        return Err(format!("illegal number syntax: {}", berth_go::quote(text)));
    }
    Ok(Number {
        text: text.into(),
        int,
        float,
        is_char: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funcs(name: &str) -> bool {
        matches!(name, "printf" | "len" | "json" | "eq" | "lower")
    }

    #[test]
    fn parse_errors_like_go() {
        let cases = [
            ("{{.Name}", "template: :1: bad character U+007D '}'"),
            ("{{.Name }", "template: :1: unexpected \"}\" in operand"),
            ("{{.Name | }", "template: :1: unexpected \"}\" in command"),
            (
                "{{InvalidFunction}}",
                "template: :1: function \"InvalidFunction\" not defined",
            ),
            ("{{$x}}", "template: :1: undefined variable \"$x\""),
            ("{{if .A}}x", "template: :1: unexpected EOF"),
            ("{{end}}", "template: :1: unexpected {{end}}"),
            ("{{else}}", "template: :1: unexpected {{else}}"),
            ("{{if}}{{end}}", "template: :1: missing value for if"),
            ("{{}}", "template: :1: missing value for command"),
            (
                "{{.A | 3}}",
                "template: :1: non executable command in pipeline stage 2",
            ),
            ("{{break}}", "template: :1: {{break}} outside {{range}}"),
            (
                "{{\"a\".B}}",
                "template: :1: unexpected . after term \"\\\"a\\\"\"",
            ),
            ("a\n{{.A", "template: :2: unclosed action"),
            ("{{.A)}}", "template: :1: unexpected \")\" in command"),
            ("{{(.A}}", "template: :1: unclosed left paren"),
            (
                "{{range $i, $e, $f := .}}{{end}}",
                "template: :1: too many declarations in range",
            ),
            ("{{3x}}", "template: :1: bad number syntax: \"3x\""),
            (
                "{{$x := 1}}{{define \"d\"}}{{$x}}{{end}}",
                "template: :1: undefined variable \"$x\"",
            ),
            (
                "{{define \"d\"}}{{$y := 1}}{{end}}{{$y}}",
                "template: :1: undefined variable \"$y\"",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(parse(src, &funcs).unwrap_err(), want, "{src}");
        }
    }

    #[test]
    fn node_strings() {
        let t = parse(
            r#"{{$x := .A.B | printf "%s" (len .C) | lower}}{{$x.Y}}{{(.A).B}}"#,
            &funcs,
        )
        .unwrap();
        let pipes: Vec<String> = t
            .root
            .iter()
            .map(|n| match n {
                Node::Action { pipe } => pipe.to_string(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            pipes,
            vec![
                r#"$x := .A.B | printf "%s" (len .C) | lower"#.to_string(),
                "$x.Y".into(),
                "(.A).B".into()
            ]
        );
    }

    #[test]
    fn else_chains_and_defines() {
        let t = parse(
            r#"{{define "a"}}A{{end}}{{if .X}}1{{else if .Y}}2{{else}}3{{end}}{{template "a" .}}"#,
            &funcs,
        )
        .unwrap();
        assert!(t.defines.contains_key("a"));
        assert_eq!(t.root.len(), 2);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""a\tb\"c\u00e9""#).unwrap(), "a\tb\"cé");
        assert_eq!(unquote("`raw\\n`").unwrap(), "raw\\n");
        assert_eq!(unquote("'x'").unwrap(), "x");
        assert!(unquote(r#""\q""#).is_err());
    }

    #[test]
    fn numbers() {
        let n = parse_number("0x1F", false).unwrap();
        assert_eq!(n.int, Some(31));
        let n = parse_number("1e3", false).unwrap();
        assert_eq!(n.int, Some(1000));
        assert_eq!(n.float, Some(1000.0));
        let n = parse_number("-2.5", false).unwrap();
        assert_eq!(n.int, None);
        assert_eq!(n.float, Some(-2.5));
        let n = parse_number("'a'", true).unwrap();
        assert_eq!(n.int, Some(97));
    }
}
