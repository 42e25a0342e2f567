//! [`execute`] walks a parsed template over a [`TemplateData`] with Go's `text/template`
//! semantics: missing map keys print `<no value>`, `if` on empty values is false, variables are
//! scoped to their block, and errors read `template: :1:2: executing "" at <.X>: ...`.

use serde_json::{Number, Value};

use super::funcs::{self, FuncSet};
use super::parse::{Arg, Command, Node, Pipe, Tree};
use super::TemplateData;
use crate::format::gofmt::{go_kind_of_field, go_type_name, sprint_value, GoKind};
use crate::format::gotypes::{self, Ty, TyKind};

/// A value during execution.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// Go's invalid `reflect.Value`: a missing map key. Prints `<no value>`.
    Missing,
    /// The data the template runs over (it may have methods).
    Root,
    /// A JSON value and the Go kind it stands for.
    Data(Value, GoKind),
    /// A JSON value and the Go type of Docker's API it was decoded into (inspect templates).
    Typed(Value, &'static Ty),
}

impl Val {
    pub fn of(v: Value) -> Val {
        Val::Data(v, GoKind::Any)
    }

    pub fn str(s: impl Into<String>) -> Val {
        Val::of(Value::String(s.into()))
    }
}

const MAX_DEPTH: usize = 100_000;

/// What a field lookup does when a JSON object lacks the key (Go's `missingkey` option, and the
/// difference between a Go struct and a map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MissingKey {
    /// Every object is a Go map: `<no value>`.
    Map,
    /// The data is the Go struct named here. For Docker's inspect types
    /// ([`gotypes::root`]) every nested struct, map and pointer is typed from the table; for
    /// others only the top-level object is a struct: an unknown field of it is an error.
    Typed(String),
    /// `missingkey=error` over plain maps: `map has no entry for key "X"`.
    Error,
}

/// Top-level struct fields Docker's JSON omits when they are nil pointers; a typed template
/// prints `<nil>` for them (`{{.SizeRw}}` without `--size`).
fn omitted_nil(name: &str) -> bool {
    matches!(name, "SizeRw" | "SizeRootFs" | "Node")
}

/// How a list walk ended.
enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    text: &'a str,
    tree: &'a Tree,
    name: String,
    data: &'a dyn TemplateData,
    root: Value,
    funcs: FuncSet,
    vars: Vec<(String, Val)>,
    out: String,
    depth: usize,
    missing: MissingKey,
    /// The Go type of the data, when it is one of Docker's inspect types.
    root_ty: Option<&'static Ty>,
}

/// Runs `tree` over `data`. Returns what was written, and the error that stopped it if any.
pub(crate) fn execute(
    text: &str,
    tree: &Tree,
    data: &dyn TemplateData,
    funcs: FuncSet,
    missing: MissingKey,
) -> (String, Result<(), String>) {
    let mut s = State {
        text,
        tree,
        name: String::new(),
        data,
        root: data.to_value(),
        funcs,
        vars: vec![("$".into(), Val::Root)],
        out: String::new(),
        depth: 0,
        root_ty: match &missing {
            MissingKey::Typed(name) => gotypes::root(name),
            _ => None,
        },
        missing,
    };
    let r = s.walk_list(&Val::Root, &tree.root).map(|_| ());
    (s.out, r)
}

type EResult<T> = Result<T, String>;

impl State<'_> {
    /// Go's `state.errorf`: location and context of the node, then the message.
    fn err(
        &self,
        pos: usize,
        context: &dyn std::fmt::Display,
        msg: impl std::fmt::Display,
    ) -> String {
        let before = &self.text[..pos.min(self.text.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        format!(
            "template: :{line}:{col}: executing {} at <{context}>: {msg}",
            berth_go::quote(&self.name)
        )
    }

    fn resolve(&self, v: Val) -> Val {
        match v {
            Val::Root => match self.root_ty {
                Some(ty) => Val::Typed(self.root.clone(), ty),
                None => Val::Data(self.root.clone(), GoKind::Any),
            },
            other => other,
        }
    }

    /// A value for the functions, which see JSON with a printing hint.
    fn plain(&self, v: Val) -> Val {
        match self.resolve(v) {
            Val::Typed(d, ty) => Val::Data(d, gotypes::kind_hint(ty)),
            other => other,
        }
    }

    fn walk_list(&mut self, dot: &Val, list: &[Node]) -> EResult<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &Node) -> EResult<Flow> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action { pipe } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(v);
                }
            }
            Node::If {
                pipe,
                list,
                else_list,
            }
            | Node::With {
                pipe,
                list,
                else_list,
            } => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, pipe)?;
                let flow = if self.truth(&v) {
                    let new_dot = if matches!(node, Node::With { .. }) {
                        v
                    } else {
                        dot.clone()
                    };
                    self.walk_list(&new_dot, list)?
                } else if let Some(else_list) = else_list {
                    self.walk_list(dot, else_list)?
                } else {
                    Flow::Normal
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Range {
                pipe,
                list,
                else_list,
            } => {
                let mark = self.vars.len();
                let r = self.walk_range(dot, pipe, list, else_list.as_deref());
                self.vars.truncate(mark);
                r?;
            }
            Node::Template { pos, name, pipe } => {
                let Some(body) = self.tree.defines.get(name) else {
                    return Err(self.err(
                        *pos,
                        &format!("{{{{template {}}}}}", berth_go::quote(name)),
                        format!("template {} not defined", berth_go::quote(name)),
                    ));
                };
                if self.depth >= MAX_DEPTH {
                    return Err(self.err(
                        *pos,
                        &name,
                        format!("exceeded maximum template depth ({MAX_DEPTH})"),
                    ));
                }
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Val::Missing,
                };
                let saved_vars =
                    std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone())]);
                let saved_name = std::mem::replace(&mut self.name, name.clone());
                self.depth += 1;
                let r = self.walk_list(&new_dot, body);
                self.depth -= 1;
                self.name = saved_name;
                self.vars = saved_vars;
                r?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_range(
        &mut self,
        dot: &Val,
        pipe: &Pipe,
        list: &[Node],
        else_list: Option<&[Node]>,
    ) -> EResult<()> {
        let v = self.eval_pipeline(dot, pipe)?;
        let v = match self.resolve(v) {
            Val::Typed(Value::Array(a), ty) => match &ty.kind {
                TyKind::Slice(elem) => {
                    let items: Vec<(Val, Val)> = a
                        .into_iter()
                        .enumerate()
                        .map(|(i, e)| (Val::of(Value::from(i)), Val::Typed(e, elem)))
                        .collect();
                    return self.range_typed(dot, pipe, list, else_list, items);
                }
                _ => Val::Data(Value::Array(a), gotypes::kind_hint(ty)),
            },
            Val::Typed(Value::Object(m), ty) => match &ty.kind {
                TyKind::Map(elem) => {
                    let mut keys: Vec<String> = m.keys().cloned().collect();
                    keys.sort();
                    let items: Vec<(Val, Val)> = keys
                        .into_iter()
                        .map(|k| {
                            let e = m[k.as_str()].clone();
                            (Val::str(k), Val::Typed(e, elem))
                        })
                        .collect();
                    return self.range_typed(dot, pipe, list, else_list, items);
                }
                _ => Val::Data(Value::Object(m), gotypes::kind_hint(ty)),
            },
            Val::Typed(d, ty) => Val::Data(d, gotypes::kind_hint(ty)),
            other => other,
        };
        let items: Vec<(Val, Val)> = match &v {
            Val::Data(Value::Array(a), _) => a
                .iter()
                .enumerate()
                .map(|(i, e)| (Val::of(Value::from(i)), Val::of(e.clone())))
                .collect(),
            Val::Data(Value::Object(m), _) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| {
                        (
                            Val::str(k.clone()),
                            Val::Data(m[k.as_str()].clone(), go_kind_of_field(k)),
                        )
                    })
                    .collect()
            }
            Val::Data(Value::Number(n), _) if n.as_i64().is_some() => {
                let count = n.as_i64().unwrap_or(0);
                if count <= 0 {
                    if let Some(else_list) = else_list {
                        self.walk_list(dot, else_list)?;
                    }
                    return Ok(());
                }
                let items = (0..count).map(|i| (Val::of(Value::from(i)), Val::of(Value::from(i))));
                return self.range_items(pipe, list, items);
            }
            Val::Missing | Val::Data(Value::Null, _) => Vec::new(),
            Val::Data(other, kind) => {
                return Err(self.err(
                    pipe.pos,
                    &range_context(pipe),
                    format!("range can't iterate over {}", sprint_value(other, *kind)),
                ))
            }
            Val::Root | Val::Typed(..) => Vec::new(),
        };
        if items.is_empty() {
            if let Some(else_list) = else_list {
                self.walk_list(dot, else_list)?;
            }
            return Ok(());
        }
        self.range_items(pipe, list, items.into_iter())
    }

    /// A `range` over a typed slice or map's elements.
    fn range_typed(
        &mut self,
        dot: &Val,
        pipe: &Pipe,
        list: &[Node],
        else_list: Option<&[Node]>,
        items: Vec<(Val, Val)>,
    ) -> EResult<()> {
        if items.is_empty() {
            if let Some(else_list) = else_list {
                self.walk_list(dot, else_list)?;
            }
            return Ok(());
        }
        self.range_items(pipe, list, items.into_iter())
    }

    /// Runs the body of a `range` once per (index, element), binding the declared variables.
    fn range_items(
        &mut self,
        pipe: &Pipe,
        list: &[Node],
        items: impl Iterator<Item = (Val, Val)>,
    ) -> EResult<()> {
        let mark = self.vars.len();
        for (index, elem) in items {
            let n = self.vars.len();
            if !pipe.decl.is_empty() {
                if pipe.is_assign {
                    let first = if pipe.decl.len() > 1 {
                        index.clone()
                    } else {
                        elem.clone()
                    };
                    self.set_var(&pipe.decl[0], first);
                } else if n >= 1 {
                    self.vars[n - 1].1 = elem.clone();
                }
            }
            if pipe.decl.len() > 1 {
                if pipe.is_assign {
                    self.set_var(&pipe.decl[1], elem.clone());
                } else if n >= 2 {
                    self.vars[n - 2].1 = index.clone();
                }
            }
            let flow = self.walk_list(&elem, list);
            self.vars.truncate(mark);
            match flow? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        Ok(())
    }

    fn set_var(&mut self, name: &str, v: Val) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
    }

    fn truth(&self, v: &Val) -> bool {
        match v {
            Val::Missing => false,
            Val::Root => true,
            Val::Typed(d, ty) => gotypes::truth(d, ty),
            Val::Data(d, _) => match d {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
            },
        }
    }

    fn print_value(&mut self, v: Val) {
        match v {
            Val::Missing => self.out.push_str("<no value>"),
            Val::Root => {
                let s = match self.root_ty {
                    Some(ty) => gotypes::sprint(&self.root, ty),
                    None => sprint_value(&self.root, GoKind::Any),
                };
                self.out.push_str(&s);
            }
            Val::Data(d, kind) => self.out.push_str(&sprint_value(&d, kind)),
            Val::Typed(d, ty) => self.out.push_str(&gotypes::sprint(&d, ty)),
        }
    }

    fn eval_pipeline(&mut self, dot: &Val, pipe: &Pipe) -> EResult<Val> {
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Val::Missing);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var, value.clone());
            } else {
                self.vars.push((var.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn eval_command(&mut self, dot: &Val, cmd: &Command, fin: Option<Val>) -> EResult<Val> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { pos, idents } => {
                return self.eval_field_chain(dot, dot.clone(), idents, first, *pos, &cmd.args, fin)
            }
            Arg::Chain { pos, node, fields } => {
                if matches!(node.as_ref(), Arg::Nil { .. }) {
                    return Err(self.err(
                        *pos,
                        first,
                        format!("indirection through explicit nil in {first}"),
                    ));
                }
                let recv = self.eval_arg(dot, node)?;
                return self.eval_field_chain(dot, recv, fields, first, *pos, &cmd.args, fin);
            }
            Arg::Identifier { pos, name } => {
                return self.eval_function(dot, name, *pos, first, &cmd.args, fin)
            }
            Arg::Pipe(p) => {
                self.not_a_function(first, &cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { pos, idents } => {
                let v = self.var_value(&idents[0], *pos, first)?;
                if idents.len() == 1 {
                    self.not_a_function(first, &cmd.args, &fin)?;
                    return Ok(v);
                }
                return self.eval_field_chain(dot, v, &idents[1..], first, *pos, &cmd.args, fin);
            }
            _ => {}
        }
        self.not_a_function(first, &cmd.args, &fin)?;
        match first {
            Arg::Bool { val, .. } => Ok(Val::of(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { pos } => Err(self.err(*pos, first, "nil is not a command")),
            Arg::Number { pos, num } => self.ideal_number(*pos, first, num),
            Arg::String { val, .. } => Ok(Val::str(val.clone())),
            _ => Err(self.err(
                first.pos(),
                first,
                format!("can't evaluate command {first}"),
            )),
        }
    }

    fn ideal_number(&self, pos: usize, node: &Arg, num: &super::parse::Number) -> EResult<Val> {
        let floaty = !num.is_char
            && !num.text.to_ascii_lowercase().starts_with("0x")
            && num.text.contains(['.', 'e', 'E', 'p', 'P']);
        if floaty {
            if let Some(f) = num.float.and_then(Number::from_f64) {
                return Ok(Val::of(Value::Number(f)));
            }
        }
        match num.int {
            Some(i) => Ok(Val::of(Value::from(i))),
            None => Err(self.err(pos, node, format!("{} overflows int", num.text))),
        }
    }

    fn not_a_function(&self, first: &Arg, args: &[Arg], fin: &Option<Val>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.err(
                first.pos(),
                first,
                format!("can't give argument to non-function {first}"),
            ));
        }
        Ok(())
    }

    fn var_value(&self, name: &str, pos: usize, node: &Arg) -> EResult<Val> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.err(pos, node, format!("undefined variable: {name}")))
    }

    /// Evaluates the arguments of a call (everything after the first word), then the piped value.
    fn eval_args(&mut self, dot: &Val, args: &[Arg], fin: Option<Val>) -> EResult<Vec<Val>> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args.iter().skip(1) {
            vals.push(self.eval_arg(dot, a)?);
        }
        if let Some(f) = fin {
            vals.push(f);
        }
        Ok(vals)
    }

    fn eval_arg(&mut self, dot: &Val, arg: &Arg) -> EResult<Val> {
        match arg {
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Ok(Val::of(Value::Null)),
            Arg::Field { pos, idents } => {
                self.eval_field_chain(dot, dot.clone(), idents, arg, *pos, &[], None)
            }
            Arg::Variable { pos, idents } => {
                let v = self.var_value(&idents[0], *pos, arg)?;
                if idents.len() == 1 {
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, &idents[1..], arg, *pos, &[], None)
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Identifier { pos, name } => self.eval_function(dot, name, *pos, arg, &[], None),
            Arg::Chain { pos, node, fields } => {
                let recv = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv, fields, arg, *pos, &[], None)
            }
            Arg::Bool { val, .. } => Ok(Val::of(Value::Bool(*val))),
            Arg::Number { pos, num } => self.ideal_number(*pos, arg, num),
            Arg::String { val, .. } => Ok(Val::str(val.clone())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &Val,
        receiver: Val,
        idents: &[String],
        node: &Arg,
        pos: usize,
        args: &[Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        let n = idents.len();
        let mut recv = receiver;
        for ident in &idents[..n - 1] {
            recv = self.eval_field(dot, recv, ident, node, pos, &[], None)?;
        }
        self.eval_field(dot, recv, &idents[n - 1], node, pos, args, fin)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &Val,
        receiver: Val,
        name: &str,
        node: &Arg,
        pos: usize,
        args: &[Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        let has_args = args.len() > 1 || fin.is_some();
        if let Val::Root = receiver {
            let data = self.data;
            let mut probe_args = Vec::new();
            if has_args {
                let vals = self.eval_args(dot, args, fin.clone())?;
                probe_args = vals.into_iter().map(|v| self.to_json(v)).collect();
            }
            if let Some(r) = data.call(name, &probe_args) {
                return r
                    .map(|v| Val::Data(v, go_kind_of_field(name)))
                    .map_err(|m| self.err(pos, node, m));
            }
            if let Some(type_name) = data.struct_name() {
                let Some(v) = self.root.get(name).cloned() else {
                    return Err(self.err(
                        pos,
                        node,
                        format!("can't evaluate field {name} in type {type_name}"),
                    ));
                };
                if has_args {
                    return Err(self.err(
                        pos,
                        node,
                        format!(
                            "wrong number of args for {name}: want 0 got {}",
                            probe_args.len()
                        ),
                    ));
                }
                return Ok(Val::Data(v, go_kind_of_field(name)));
            }
            if let Some(ty) = self.root_ty {
                let root = Val::Typed(self.root.clone(), ty);
                return self.eval_field(dot, root, name, node, pos, args, fin);
            }
            // Typed without a table entry (`info`, `version`): the top-level object is the
            // CLI's struct, whose fields are known even when the JSON omits them.
            if let (MissingKey::Typed(type_name), Value::Object(map)) = (&self.missing, &self.root)
            {
                if !has_args && !map.contains_key(name) {
                    if omitted_nil(name) {
                        return Ok(Val::Data(Value::Null, GoKind::Any));
                    }
                    if omitted_zero(name).is_none() {
                        return Err(self.err(
                            pos,
                            node,
                            format!("can't evaluate field {name} in type {type_name}"),
                        ));
                    }
                }
            }
            let root = Val::Data(self.root.clone(), GoKind::Any);
            return self.eval_field(dot, root, name, node, pos, args, fin);
        }
        match receiver {
            Val::Missing => Ok(Val::Missing),
            Val::Typed(v, ty) => self.typed_field(dot, v, ty, name, node, pos, args, fin),
            // Over the raw JSON every value sits in an `interface {}`: a nil one cannot be
            // walked into.
            Val::Data(Value::Null, _) if self.missing == MissingKey::Error => Err(self.err(
                pos,
                node,
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Val::Data(Value::Null, _) => Ok(Val::Missing),
            Val::Data(Value::Object(map), kind) => {
                if has_args {
                    return Err(self.err(
                        pos,
                        node,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                if let Some(v) = map.get(name) {
                    return Ok(Val::Data(v.clone(), go_kind_of_field(name)));
                }
                let _ = kind;
                match &self.missing {
                    MissingKey::Error => Err(self.err(
                        pos,
                        node,
                        format!("map has no entry for key {}", berth_go::quote(name)),
                    )),
                    _ => Ok(match omitted_zero(name) {
                        Some(zero) => Val::Data(zero, go_kind_of_field(name)),
                        None => Val::Missing,
                    }),
                }
            }
            Val::Data(other, _) => {
                let type_name = match self.missing {
                    MissingKey::Error => "interface {}",
                    _ => go_type_name(&other),
                };
                Err(self.err(
                    pos,
                    node,
                    format!("can't evaluate field {name} in type {type_name}"),
                ))
            }
            Val::Root => unreachable!("handled above"),
        }
    }

    /// Go's `evalField` over a value of Docker's type `ty`: a struct's field (the JSON's value, or
    /// the zero value berth's JSON omitted), a map's key (`<no value>` when missing), through one
    /// pointer; an unknown field or a nil pointer is an error naming the type.
    #[allow(clippy::too_many_arguments)]
    fn typed_field(
        &mut self,
        dot: &Val,
        v: Value,
        ty: &'static Ty,
        name: &str,
        node: &Arg,
        pos: usize,
        args: &[Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        let has_args = args.len() > 1 || fin.is_some();
        let target = match &ty.kind {
            TyKind::Pointer(inner) => inner.as_ref(),
            _ => ty,
        };
        let cannot = || format!("can't evaluate field {name} in type {}", ty.name);
        match &target.kind {
            TyKind::Struct(struct_name) => {
                let Some(field) = gotypes::field(struct_name, name) else {
                    return Err(self.err(pos, node, cannot()));
                };
                let empty = serde_json::Map::new();
                let map = match &v {
                    Value::Object(map) => map,
                    Value::Null if !matches!(ty.kind, TyKind::Pointer(_)) => &empty,
                    Value::Null => {
                        return Err(self.err(
                            pos,
                            node,
                            format!("nil pointer evaluating {}.{name}", ty.name),
                        ))
                    }
                    _ => return Err(self.err(pos, node, cannot())),
                };
                if has_args {
                    return Err(self.err(
                        pos,
                        node,
                        format!("{name} has arguments but cannot be invoked as function"),
                    ));
                }
                Ok(Val::Typed(gotypes::field_value(map, field), &field.ty))
            }
            TyKind::Map(elem) => {
                if has_args {
                    return Err(self.err(
                        pos,
                        node,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                Ok(match v.get(name) {
                    Some(e) => Val::Typed(e.clone(), elem),
                    None => Val::Missing,
                })
            }
            TyKind::Interface => match v {
                Value::Null => Err(self.err(
                    pos,
                    node,
                    format!("nil pointer evaluating interface {{}}.{name}"),
                )),
                other => self.eval_field(dot, Val::of(other), name, node, pos, args, fin),
            },
            _ => Err(self.err(pos, node, cannot())),
        }
    }

    fn to_json(&self, v: Val) -> Value {
        match v {
            Val::Missing => Value::Null,
            Val::Root => self.root.clone(),
            Val::Data(d, _) | Val::Typed(d, _) => d,
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val,
        name: &str,
        pos: usize,
        node: &Arg,
        args: &[Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        if name == "and" || name == "or" {
            let nargs = args.len().saturating_sub(1) + usize::from(fin.is_some());
            if nargs == 0 {
                return Err(self.err(
                    pos,
                    node,
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                ));
            }
            let mut v = Val::Missing;
            for a in args.iter().skip(1) {
                v = self.eval_arg(dot, a)?;
                if self.truth(&v) == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let vals = self.eval_args(dot, args, fin)?;
        if name == "json" && self.funcs == FuncSet::Docker {
            if let [Val::Root] = vals.as_slice() {
                let html = self.data.json_escapes_html();
                return Ok(Val::str(crate::format::gofmt::go_json(&self.root, html)));
            }
        }
        let vals: Vec<Val> = vals.into_iter().map(|v| self.plain(v)).collect();
        funcs::call(self.funcs, name, vals).map_err(|m| self.err(pos, node, m))
    }
}

fn range_context(pipe: &Pipe) -> String {
    format!("{{{{range {pipe}}}}}")
}

/// Fields Docker's JSON omits when empty (`omitempty`) but whose typed struct field exists, so a
/// template reading them on such an object prints the zero value, not `<no value>` (a bind's
/// `Mounts[].Name` and `.Driver`).
fn omitted_zero(name: &str) -> Option<Value> {
    match name {
        "Name" | "Driver" => Some(Value::String(String::new())),
        _ => None,
    }
}
