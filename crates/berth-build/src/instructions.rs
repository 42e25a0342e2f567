//! [`parse_stages`] turns parsed [`Node`]s into typed [`Instruction`]s grouped in [`Stage`]s
//! (`ARG`s before the first `FROM` are the meta args), checking each instruction's flags and
//! arguments with Docker's error texts (`dockerfile parse error line 3: ...`).

use crate::parser::{Dockerfile, Heredoc, Node};

/// An instruction that cannot be used as written. Texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InstructionError {
    /// The full text.
    pub message: String,
}

fn err(m: impl Into<String>) -> InstructionError {
    InstructionError { message: m.into() }
}

/// A command line that is a JSON array (exec form) or a string for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdLine {
    /// The array, or one string for the shell.
    pub args: Vec<String>,
    /// Shell form: the shell is prepended when it runs.
    pub prepend_shell: bool,
}

/// `COPY`/`ADD` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyArgs {
    /// Sources then destination.
    pub sources: Vec<String>,
    /// The destination.
    pub dest: String,
    /// `--from` (COPY only).
    pub from: String,
    /// `--chown`.
    pub chown: String,
    /// `--chmod`.
    pub chmod: String,
    /// Heredoc sources (`COPY <<EOF /dst`), by name.
    pub heredocs: Vec<Heredoc>,
}

/// `HEALTHCHECK` settings, Docker's `HealthConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`.
    pub test: Vec<String>,
    /// Nanoseconds.
    pub interval: i64,
    /// Nanoseconds.
    pub timeout: i64,
    /// Nanoseconds.
    pub start_period: i64,
    /// Retries.
    pub retries: i64,
}

impl HealthConfig {
    /// Docker's JSON (zero durations and retries omitted).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("Test".into(), serde_json::json!(self.test));
        for (k, v) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("Retries", self.retries),
        ] {
            if v != 0 {
                m.insert(k.into(), serde_json::json!(v));
            }
        }
        serde_json::Value::Object(m)
    }

    /// Go's `%q` of a `*HealthConfig` (what the history of a HEALTHCHECK step shows).
    pub fn go_quoted(&self) -> String {
        let test: Vec<&str> = self.test.iter().map(String::as_str).collect();
        format!(
            "&{{{} {} {} {} {}}}",
            berth_go::strconv::quote_slice(&test),
            berth_go::quote(&berth_go::format_go_duration(self.interval)),
            berth_go::quote(&berth_go::format_go_duration(self.timeout)),
            berth_go::quote(&berth_go::format_go_duration(self.start_period)),
            berth_go::strconv::quote_rune(self.retries),
        )
    }
}

/// One instruction with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `ENV k=v...`.
    Env(Vec<(String, String)>),
    /// `MAINTAINER name`.
    Maintainer(String),
    /// `LABEL k=v...`; `no_expand` for `--label` options.
    Label {
        /// Pairs in order.
        labels: Vec<(String, String)>,
        /// Not expanded (build-time `--label`).
        no_expand: bool,
    },
    /// `ADD`.
    Add(CopyArgs),
    /// `COPY`.
    Copy(CopyArgs),
    /// `ONBUILD trigger`.
    Onbuild(String),
    /// `WORKDIR path`.
    Workdir(String),
    /// `RUN`.
    Run {
        /// The command.
        cmd: CmdLine,
        /// Heredocs of the line.
        heredocs: Vec<Heredoc>,
    },
    /// `CMD`.
    Cmd(CmdLine),
    /// `ENTRYPOINT` (an empty array clears it).
    Entrypoint(Option<CmdLine>),
    /// `HEALTHCHECK`.
    Healthcheck(HealthConfig),
    /// `EXPOSE ports...` (sorted, as Docker sorts them).
    Expose(Vec<String>),
    /// `USER`.
    User(String),
    /// `VOLUME paths...`.
    Volume(Vec<String>),
    /// `STOPSIGNAL`.
    StopSignal(String),
    /// `ARG name[=default]...`.
    Arg(Vec<(String, Option<String>)>),
    /// `SHELL [...]`.
    Shell(Vec<String>),
}

/// An instruction and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// What to do.
    pub instruction: Instruction,
    /// The instruction's text (trimmed), as `Step n/m :` prints it.
    pub code: String,
    /// 1-based line.
    pub line: usize,
}

/// `FROM ... [AS name]` and the instructions after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Lower-cased stage name, empty when unnamed.
    pub name: String,
    /// The base image as written (expanded at build time with the meta args).
    pub base: String,
    /// `--platform`, as written.
    pub platform: String,
    /// The FROM line's text.
    pub code: String,
    /// The instructions.
    pub commands: Vec<Command>,
}

/// Docker's flag parser for instructions (`--name=value`, `--bool`).
struct Flags<'a> {
    args: &'a [String],
    known: Vec<(&'static str, bool)>,
    values: Vec<(String, String)>,
}

impl<'a> Flags<'a> {
    fn new(args: &'a [String]) -> Flags<'a> {
        Flags {
            args,
            known: Vec::new(),
            values: Vec::new(),
        }
    }

    fn string(&mut self, name: &'static str) {
        self.known.push((name, false));
    }

    fn parse(&mut self) -> Result<(), InstructionError> {
        let mut seen: Vec<&str> = Vec::new();
        for arg in self.args {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(err(format!("Arg should start with -- : {arg}")));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some((_, is_bool)) = self.known.iter().find(|(k, _)| *k == name) else {
                return Err(err(format!("Unknown flag: {name}")));
            };
            if seen.contains(&name) {
                return Err(err(format!("Duplicate flag specified: {name}")));
            }
            seen.push(name);
            let value = match (value, is_bool) {
                (Some(v), false) => v.to_string(),
                (None, false) => return Err(err(format!("Missing a value on flag: {name}"))),
                (v, true) => v.unwrap_or("true").to_string(),
            };
            self.values.push((name.to_string(), value));
        }
        Ok(())
    }

    fn get(&self, name: &str) -> String {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn at_least_one(cmd: &str) -> InstructionError {
    err(format!("{cmd} requires at least one argument"))
}

fn exactly_one(cmd: &str) -> InstructionError {
    err(format!("{cmd} requires exactly one argument"))
}

fn kvps(args: &[String], cmd: &str) -> Result<Vec<(String, String)>, InstructionError> {
    if args.is_empty() {
        return Err(at_least_one(cmd));
    }
    if !args.len().is_multiple_of(2) {
        return Err(err(format!("Bad input to {cmd}, too many arguments")));
    }
    let mut out = Vec::new();
    for pair in args.chunks(2) {
        if pair[0].is_empty() {
            return Err(err(format!("{cmd} names can not be blank")));
        }
        out.push((pair[0].clone(), pair[1].clone()));
    }
    Ok(out)
}

fn cmdline(node: &Node, args: &[String]) -> CmdLine {
    CmdLine {
        args: args.to_vec(),
        prepend_shell: !node.json,
    }
}

fn duration_flag(flags: &Flags<'_>, name: &str) -> Result<i64, InstructionError> {
    let v = flags.get(name);
    if v.is_empty() {
        return Ok(0);
    }
    let d = berth_go::parse_go_duration(&v)
        .ok_or_else(|| err(format!("time: invalid duration {}", berth_go::quote(&v))))?;
    if d < 1_000_000 {
        return Err(err(format!(
            "Interval {} cannot be less than 1ms",
            berth_go::quote(name)
        )));
    }
    Ok(d)
}

/// Converts one node into an instruction (`FROM` excluded).
pub fn parse_instruction(node: &Node) -> Result<Instruction, InstructionError> {
    let args = &node.args;
    let mut flags = Flags::new(&node.flags);
    let cmd = node.cmd.as_str();
    let upper = cmd.to_ascii_uppercase();
    Ok(match cmd {
        "env" => {
            flags.parse()?;
            Instruction::Env(kvps(args, "ENV")?)
        }
        "maintainer" => {
            if args.len() != 1 {
                return Err(exactly_one("MAINTAINER"));
            }
            flags.parse()?;
            Instruction::Maintainer(args[0].clone())
        }
        "label" => {
            flags.parse()?;
            Instruction::Label {
                labels: kvps(args, "LABEL")?,
                no_expand: false,
            }
        }
        "add" | "copy" => {
            if args.len() < 2 {
                return Err(err(format!("{upper} requires at least two arguments, but only one was provided. Destination could not be determined")));
            }
            flags.string("chown");
            flags.string("chmod");
            if cmd == "copy" {
                flags.string("from");
            }
            flags.parse()?;
            let c = CopyArgs {
                sources: args[..args.len() - 1].to_vec(),
                dest: args[args.len() - 1].clone(),
                from: flags.get("from"),
                chown: flags.get("chown"),
                chmod: flags.get("chmod"),
                heredocs: node.heredocs.clone(),
            };
            if cmd == "add" {
                Instruction::Add(c)
            } else {
                Instruction::Copy(c)
            }
        }
        "onbuild" => {
            if args.is_empty() {
                return Err(at_least_one("ONBUILD"));
            }
            flags.parse()?;
            let trigger = args[0].trim().to_ascii_uppercase();
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err(err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"))
                }
                "MAINTAINER" | "FROM" => {
                    return Err(err(format!(
                        "{trigger} isn't allowed as an ONBUILD trigger"
                    )))
                }
                _ => {}
            }
            let original = node.original.trim_start();
            let rest = original
                .get(7..)
                .filter(|_| original[..7].eq_ignore_ascii_case("onbuild"))
                .unwrap_or(original)
                .trim_start();
            Instruction::Onbuild(rest.to_string())
        }
        "workdir" => {
            if args.len() != 1 {
                return Err(exactly_one("WORKDIR"));
            }
            flags.parse()?;
            Instruction::Workdir(args[0].clone())
        }
        "run" => {
            flags.parse()?;
            Instruction::Run {
                cmd: cmdline(node, args),
                heredocs: node.heredocs.clone(),
            }
        }
        "cmd" => {
            flags.parse()?;
            Instruction::Cmd(cmdline(node, args))
        }
        "entrypoint" => {
            flags.parse()?;
            if args.is_empty() {
                Instruction::Entrypoint(None)
            } else {
                Instruction::Entrypoint(Some(cmdline(node, args)))
            }
        }
        "healthcheck" => {
            if args.is_empty() {
                return Err(at_least_one("HEALTHCHECK"));
            }
            let typ = args[0].to_ascii_uppercase();
            let rest = &args[1..];
            if typ == "NONE" {
                if !rest.is_empty() {
                    return Err(err("HEALTHCHECK NONE takes no arguments"));
                }
                Instruction::Healthcheck(HealthConfig {
                    test: vec!["NONE".into()],
                    ..Default::default()
                })
            } else {
                for f in ["interval", "timeout", "start-period", "retries"] {
                    flags.string(f);
                }
                flags.parse()?;
                if typ != "CMD" {
                    return Err(err(format!(
                        "Unknown type {} in HEALTHCHECK (try CMD)",
                        berth_go::quote(&typ)
                    )));
                }
                if rest.is_empty() {
                    return Err(err("Missing command after HEALTHCHECK CMD"));
                }
                let mut test = vec![if node.json { "CMD" } else { "CMD-SHELL" }.to_string()];
                test.extend(rest.iter().cloned());
                let mut h = HealthConfig {
                    test,
                    interval: duration_flag(&flags, "interval")?,
                    timeout: duration_flag(&flags, "timeout")?,
                    start_period: duration_flag(&flags, "start-period")?,
                    retries: 0,
                };
                let r = flags.get("retries");
                if !r.is_empty() {
                    let n: i64 = r.parse().map_err(|_| {
                        err(format!(
                            "strconv.ParseInt: parsing {}: invalid syntax",
                            berth_go::quote(&r)
                        ))
                    })?;
                    if n < 1 {
                        return Err(err(format!("--retries must be at least 1 (not {n})")));
                    }
                    h.retries = n;
                }
                Instruction::Healthcheck(h)
            }
        }
        "expose" => {
            if args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            flags.parse()?;
            let mut ports = args.clone();
            ports.sort();
            Instruction::Expose(ports)
        }
        "user" => {
            if args.len() != 1 {
                return Err(exactly_one("USER"));
            }
            flags.parse()?;
            Instruction::User(args[0].clone())
        }
        "volume" => {
            if args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            flags.parse()?;
            let mut v = Vec::new();
            for a in args {
                let a = a.trim();
                if a.is_empty() {
                    return Err(err("VOLUME specified can not be an empty string"));
                }
                v.push(a.to_string());
            }
            Instruction::Volume(v)
        }
        "stopsignal" => {
            if args.len() != 1 {
                return Err(exactly_one("STOPSIGNAL"));
            }
            Instruction::StopSignal(args[0].clone())
        }
        "arg" => {
            if args.is_empty() {
                return Err(at_least_one("ARG"));
            }
            let mut out = Vec::new();
            for a in args {
                match a.split_once('=') {
                    Some(("", _)) => return Err(err("ARG names can not be blank")),
                    Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
                    None => out.push((a.clone(), None)),
                }
            }
            Instruction::Arg(out)
        }
        "shell" => {
            flags.parse()?;
            if args.is_empty() {
                return Err(at_least_one("SHELL"));
            }
            if !node.json {
                return Err(err(format!(
                    "{upper} requires the arguments to be in JSON form"
                )));
            }
            Instruction::Shell(args.clone())
        }
        _ => return Err(err(format!("unknown instruction: {upper}"))),
    })
}

/// Docker's `parseBuildStageName` + `parseFrom`.
fn parse_from(node: &Node) -> Result<Stage, InstructionError> {
    let args = &node.args;
    let name = match args.len() {
        3 if args[1].eq_ignore_ascii_case("as") => {
            let n = args[2].to_ascii_lowercase();
            let ok = n.starts_with(|c: char| c.is_ascii_lowercase())
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
            if !ok {
                return Err(err(format!("invalid name for build stage: {}, name can't start with a number or contain symbols", berth_go::quote(&args[2]))));
            }
            n
        }
        1 => String::new(),
        _ => return Err(err("FROM requires either one or three arguments")),
    };
    let mut flags = Flags::new(&node.flags);
    flags.string("platform");
    flags.parse()?;
    Ok(Stage {
        name,
        base: args[0].clone(),
        platform: flags.get("platform"),
        code: node.original.trim().to_string(),
        commands: Vec::new(),
    })
}

/// Groups a Dockerfile's instructions into stages; returns them with the meta args (`ARG`s
/// before the first `FROM`).
pub fn parse_stages(df: &Dockerfile) -> Result<(Vec<Stage>, Vec<Command>), InstructionError> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut meta = Vec::new();
    for node in &df.nodes {
        let wrap = |e: InstructionError| {
            err(format!(
                "dockerfile parse error line {}: {}",
                node.start_line, e.message
            ))
        };
        if node.cmd == "from" {
            stages.push(parse_from(node).map_err(wrap)?);
            continue;
        }
        let instruction = parse_instruction(node).map_err(wrap)?;
        let command = Command {
            instruction,
            code: node.original.trim().to_string(),
            line: node.start_line,
        };
        match stages.last_mut() {
            Some(s) => s.commands.push(command),
            None if matches!(command.instruction, Instruction::Arg(_)) => meta.push(command),
            None => return Err(err("no build stage in current context")),
        }
    }
    Ok((stages, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn stages(s: &str) -> Result<(Vec<Stage>, Vec<Command>), InstructionError> {
        parse_stages(&parse(s).unwrap())
    }

    fn error(s: &str) -> String {
        stages(s).unwrap_err().message
    }

    #[test]
    fn stages_and_meta_args() {
        let (st, meta) = stages(
            "ARG V=1\nFROM busybox:$V AS Build\nRUN true\nFROM build\nCOPY --from=build /a /b\n",
        )
        .unwrap();
        assert_eq!(meta.len(), 1);
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].name, "build");
        assert_eq!(st[0].base, "busybox:$V");
        assert_eq!(st[0].code, "FROM busybox:$V AS Build");
        assert_eq!(st[1].commands.len(), 1);
        match &st[1].commands[0].instruction {
            Instruction::Copy(c) => assert_eq!((c.from.as_str(), c.dest.as_str()), ("build", "/b")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_are_dockers() {
        assert_eq!(error("RUN x"), "no build stage in current context");
        assert_eq!(
            error("FROM a\nFOO bar"),
            "dockerfile parse error line 2: unknown instruction: FOO"
        );
        assert_eq!(
            error("FROM a b"),
            "dockerfile parse error line 1: FROM requires either one or three arguments"
        );
        assert_eq!(
            error("FROM a AS 1x"),
            "dockerfile parse error line 1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
        );
        assert_eq!(
            error("FROM a\nCOPY x"),
            "dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
        );
        assert_eq!(
            error("FROM a\nCOPY --foo=1 x y"),
            "dockerfile parse error line 2: Unknown flag: foo"
        );
        assert_eq!(
            error("FROM a\nRUN --mount=type=cache x"),
            "dockerfile parse error line 2: Unknown flag: mount"
        );
        assert_eq!(
            error("FROM a\nSHELL sh -c"),
            "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"
        );
        assert_eq!(
            error("FROM a\nONBUILD ONBUILD RUN x"),
            "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
        );
        assert_eq!(
            error("FROM a\nHEALTHCHECK --interval=0s CMD true"),
            "dockerfile parse error line 2: Interval \"interval\" cannot be less than 1ms"
        );
        assert_eq!(
            error("FROM a\nHEALTHCHECK --retries=0 CMD true"),
            "dockerfile parse error line 2: --retries must be at least 1 (not 0)"
        );
        assert_eq!(
            error("FROM a\nWORKDIR"),
            "dockerfile parse error line 2: WORKDIR requires exactly one argument"
        );
    }

    #[test]
    fn healthcheck_prints_like_go() {
        let (st, _) =
            stages("FROM a\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f x\n").unwrap();
        let Instruction::Healthcheck(h) = &st[0].commands[0].instruction else {
            panic!()
        };
        assert_eq!(
            h.go_quoted(),
            r#"&{["CMD-SHELL" "curl -f x"] "5s" "0s" "0s" '\x03'}"#
        );
        assert_eq!(
            h.to_json(),
            serde_json::json!({"Test": ["CMD-SHELL", "curl -f x"], "Interval": 5000000000i64, "Retries": 3})
        );
    }

    #[test]
    fn onbuild_keeps_the_trigger_text() {
        let (st, _) = stages("FROM a\nonbuild   RUN echo \"hi\"\n").unwrap();
        assert_eq!(
            st[0].commands[0].instruction,
            Instruction::Onbuild("RUN echo \"hi\"".into())
        );
    }
}
