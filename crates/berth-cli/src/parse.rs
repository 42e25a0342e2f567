//! Docker's command-line rules on top of clap's grammar: this module owns how `argv` becomes a
//! [`Cli`] and every text the docker CLI prints when it cannot (cobra and pflag's words, usage
//! lines and exit codes).
//!
//! The command line is walked once, with the clap [`Command`] tree telling which flags take a
//! value, before clap sees it. The walk
//! * resolves the command path (`volume create`) and refuses an unknown command as docker does;
//! * stops flag parsing at the first positional argument of the commands that run a command line
//!   (`run`, `create`, `exec`, `top`: pflag's interspersed mode is off for them), so
//!   `run busybox ls -l` gives `-l` to `ls`;
//! * rewrites every flag to `--long=value`, so a value may start with `-` (`-e -x`, `--name -n`)
//!   and pflag's `-e=A`, `-eA`, `-it` and `--rm=false` forms mean what they mean in docker;
//! * lets a repeated flag override the earlier one (`--rm --rm`, `--name a --name b`);
//! * checks the number of positional arguments against the command's rule (docker's
//!   `requires at least 1 argument` family), from the clap positionals.
//!
//! Handwritten because clap has no switch for pflag's non-interspersed mode, its errors cannot be
//! reworded, and docker's usage lines differ from clap's; the grammar itself stays in `cli.rs`.

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;
use crate::error::CliError;
use crate::exit::Exit;

/// The program name in messages (docker prints `docker`).
const BIN: &str = "berth";

/// Commands whose flags end at the first positional argument (the rest is the container's
/// command line or `ps` options).
const NON_INTERSPERSED: &[&str] = &["run", "create", "exec", "top"];

/// Docker's usage line of each command (`cmd.UseLine()` without the program name), by path.
/// Commands not listed show clap's positionals. (docker's groups say `docker image`, but
/// `docker volume COMMAND`.)
const USAGE: &[(&str, &str)] = &[
    ("", "[OPTIONS] COMMAND [ARG...]"),
    ("version", "[OPTIONS]"),
    ("info", "[OPTIONS]"),
    ("import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"),
    ("load", "[OPTIONS]"),
    ("save", "[OPTIONS] IMAGE [IMAGE...]"),
    ("images", "[OPTIONS] [REPOSITORY[:TAG]]"),
    ("rmi", "[OPTIONS] IMAGE [IMAGE...]"),
    ("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"),
    ("history", "[OPTIONS] IMAGE"),
    ("inspect", "[OPTIONS] NAME|ID [NAME|ID...]"),
    ("build", "[OPTIONS] PATH | URL | -"),
    ("builder", ""),
    ("builder build", "[OPTIONS] PATH | URL | -"),
    ("builder prune", ""),
    ("image", ""),
    ("image build", "[OPTIONS] PATH | URL | -"),
    ("image ls", "[OPTIONS] [REPOSITORY[:TAG]]"),
    ("image inspect", "[OPTIONS] IMAGE [IMAGE...]"),
    ("image rm", "[OPTIONS] IMAGE [IMAGE...]"),
    ("image prune", "[OPTIONS]"),
    ("image tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"),
    ("image history", "[OPTIONS] IMAGE"),
    ("image import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"),
    ("image load", "[OPTIONS]"),
    ("image save", "[OPTIONS] IMAGE [IMAGE...]"),
    ("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]"),
    ("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]"),
    ("start", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("stop", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("restart", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("kill", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("pause", "CONTAINER [CONTAINER...]"),
    ("unpause", "CONTAINER [CONTAINER...]"),
    ("rm", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("ps", "[OPTIONS]"),
    ("logs", "[OPTIONS] CONTAINER"),
    ("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]"),
    ("attach", "[OPTIONS] CONTAINER"),
    ("wait", "CONTAINER [CONTAINER...]"),
    ("diff", "CONTAINER"),
    ("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]"),
    ("export", "[OPTIONS] CONTAINER"),
    (
        "cp",
        "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t{bin} cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    ),
    ("top", "CONTAINER [ps OPTIONS]"),
    ("rename", "CONTAINER NEW_NAME"),
    ("update", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("port", "CONTAINER [PRIVATE_PORT[/PROTO]]"),
    ("container", ""),
    ("container ls", "[OPTIONS]"),
    ("container inspect", "[OPTIONS] CONTAINER [CONTAINER...]"),
    ("container prune", "[OPTIONS]"),
    ("volume", "COMMAND"),
    ("volume create", "[OPTIONS] [VOLUME]"),
    ("volume ls", "[OPTIONS]"),
    ("volume inspect", "[OPTIONS] VOLUME [VOLUME...]"),
    ("volume rm", "[OPTIONS] VOLUME [VOLUME...]"),
    ("volume prune", "[OPTIONS]"),
    ("volume export", "[OPTIONS] VOLUME"),
    ("volume import", "[OPTIONS] VOLUME FILE|-"),
    ("volume clone", "[OPTIONS] SOURCE TARGET"),
    ("volume rename", "VOLUME NEW_NAME"),
    ("network", ""),
    ("network create", "[OPTIONS] NETWORK"),
    ("network ls", "[OPTIONS]"),
    ("network inspect", "[OPTIONS] NETWORK [NETWORK...]"),
    ("network rm", "NETWORK [NETWORK...]"),
    ("network prune", "[OPTIONS]"),
    ("network connect", "[OPTIONS] NETWORK CONTAINER"),
    ("network disconnect", "[OPTIONS] NETWORK CONTAINER"),
    ("system", ""),
    ("system df", "[OPTIONS]"),
    ("system info", "[OPTIONS]"),
    ("system prune", "[OPTIONS]"),
    ("serve", "[OPTIONS]"),
];

/// How many positional arguments a command takes (docker's `cli.RequiresMinArgs` family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    None,
    Exact(usize),
    Min(usize),
    Max(usize),
    Range(usize, usize),
}

impl Arity {
    /// The rule clap's positionals describe.
    fn of(cmd: &Command) -> Arity {
        // `docker import` takes at least one argument and ignores a third.
        if cmd.get_name() == "import" {
            return Arity::Min(1);
        }
        let (mut required, mut max, mut unbounded) = (0, 0, false);
        for a in cmd.get_positionals() {
            let multiple = a.get_num_args().is_some_and(|r| r.max_values() > 1);
            if a.is_required_set() {
                required += 1;
            }
            if multiple {
                unbounded = true;
            } else {
                max += 1;
            }
        }
        match (required, max, unbounded) {
            (0, 0, false) => Arity::None,
            (r, _, true) => Arity::Min(r),
            (0, m, false) => Arity::Max(m),
            (r, m, false) if r == m => Arity::Exact(r),
            (r, m, false) => Arity::Range(r, m),
        }
    }

    fn accepts(self, n: usize) -> bool {
        match self {
            Arity::None => n == 0,
            Arity::Exact(e) => n == e,
            Arity::Min(m) => n >= m,
            Arity::Max(m) => n <= m,
            Arity::Range(a, b) => (a..=b).contains(&n),
        }
    }

    /// docker's complaint, and the verb of its help pointer (`See` or `Run`).
    fn complaint(self, path: &str) -> (String, &'static str) {
        let args = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self {
            Arity::None => (format!("'{path}' accepts no arguments"), "Run"),
            Arity::Exact(n) => (format!("'{path}' requires {n} {}", args(n)), "Run"),
            Arity::Min(n) => (format!("'{path}' requires at least {n} {}", args(n)), "See"),
            Arity::Max(n) => (format!("'{path}' requires at most {n} {}", args(n)), "Run"),
            Arity::Range(a, b) => (
                format!("'{path}' requires at least {a} and at most {b} arguments"),
                "Run",
            ),
        }
    }
}

/// Where the walk stopped: the command reached and its words.
struct Place<'c> {
    cmd: &'c Command,
    words: Vec<String>,
}

impl Place<'_> {
    /// `berth volume create`.
    fn path(&self) -> String {
        std::iter::once(BIN)
            .chain(self.words.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// docker's usage line.
    fn usage(&self) -> String {
        let key = self.words.join(" ");
        // `container run` and `run` share their usage.
        let short = self.words.last().map(String::as_str).unwrap_or("");
        let found = USAGE
            .iter()
            .find(|(k, _)| *k == key)
            .or_else(|| {
                (self.words.first().map(String::as_str) == Some("container"))
                    .then(|| USAGE.iter().find(|(k, _)| *k == short))
                    .flatten()
            })
            .map(|(_, u)| u.replace("{bin}", BIN));
        let tail = found.unwrap_or_else(|| clap_usage(self.cmd));
        if tail.is_empty() {
            self.path()
        } else {
            format!("{} {tail}", self.path())
        }
    }

    /// A flag error: exit 125, no program-name prefix (pflag's text, cobra's usage).
    fn flag_error(&self, text: impl std::fmt::Display) -> CliError {
        CliError::usage(format!(
            "{text}\n\nUsage:  {}\n\nRun '{} --help' for more information",
            self.usage(),
            self.path()
        ))
        .with_exit(Exit::Engine)
    }

    /// An argument-count error: exit 1, with the program name.
    fn arity_error(&self, arity: Arity) -> CliError {
        let (text, verb) = arity.complaint(&self.path());
        CliError::usage(format!(
            "{BIN}: {text}\n\nUsage:  {}\n\n{verb} '{} --help' for more information",
            self.usage(),
            self.path()
        ))
    }
}

/// clap's positionals as a usage tail, for commands docker does not have.
fn clap_usage(cmd: &Command) -> String {
    let mut parts = Vec::new();
    if cmd.get_arguments().any(|a| !a.is_positional()) {
        parts.push("[OPTIONS]".to_string());
    }
    for a in cmd.get_positionals() {
        let name = a
            .get_value_names()
            .and_then(|n| n.first())
            .map(|n| n.to_string())
            .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
        let multiple = a.get_num_args().is_some_and(|r| r.max_values() > 1);
        let one = if multiple {
            format!("{name} [{name}...]")
        } else {
            name
        };
        parts.push(if a.is_required_set() {
            one
        } else {
            format!("[{one}]")
        });
    }
    if cmd.has_subcommands() {
        parts.push("COMMAND".to_string());
    }
    parts.join(" ")
}

/// The command tree, unbuilt: its subcommands' flags are deferred (`cli.rs`), and
/// [`build_path`] builds the commands on the path a command line takes, one level at a time.
fn command() -> Command {
    Cli::command()
}

/// Builds one command in place, not its subcommands: its flags, `--help`, the global flags its
/// parent gave it and the ones it hands to its own subcommands, with docker's parsing
/// conventions (a repeated flag overrides the earlier one).
///
/// clap builds just the command before rendering its usage, the same step its parser takes on
/// reaching a command; it has no other public way to build one level (`Command::build` builds
/// the whole tree). A deferred command's flags come from its `Args` struct, whose doc comment
/// clap then sets as the command's about, over the variant's own: the about is kept.
fn build_one(cmd: &mut Command) {
    let (about, long_about) = (cmd.get_about().cloned(), cmd.get_long_about().cloned());
    *cmd = std::mem::take(cmd).args_override_self(true);
    let _ = cmd.render_usage();
    if cmd.get_about() != about.as_ref() || cmd.get_long_about() != long_about.as_ref() {
        let mut kept = std::mem::take(cmd)
            .about(None::<&'static str>)
            .long_about(None::<&'static str>);
        if let Some(a) = about {
            kept = kept.about(a);
        }
        if let Some(a) = long_about {
            kept = kept.long_about(a);
        }
        *cmd = kept;
    }
}

/// The whole grammar built, every command as [`build_one`] builds it (for completions and man
/// pages, which read every command).
pub fn grammar() -> Command {
    fn build_all(cmd: &mut Command) {
        build_one(cmd);
        for sub in cmd.get_subcommands_mut() {
            build_all(sub);
        }
    }
    let mut cmd = command();
    build_all(&mut cmd);
    cmd.build();
    cmd
}

/// Builds the commands along `words` (root first) that are not built yet.
fn build_path(root: &mut Command, words: &[String]) {
    build_one(root);
    let mut cmd = root;
    for w in words {
        if cmd.find_subcommand(w).is_none() {
            return;
        }
        cmd = cmd
            .find_subcommand_mut(w)
            .expect("found by the same name just above");
        build_one(cmd);
    }
}

/// The command `words` leads to from `root`, as far as they name commands.
fn place_at<'c>(root: &'c Command, words: &[String]) -> Place<'c> {
    let mut place = Place {
        cmd: root,
        words: Vec::new(),
    };
    for w in words {
        match place.cmd.find_subcommand(w) {
            Some(sub) => {
                place.cmd = sub;
                place.words.push(w.clone());
            }
            None => break,
        }
    }
    place
}

/// Parses the process's command line.
pub fn parse() -> Result<Cli, CliError> {
    parse_from(std::env::args_os())
}

/// The command path the last parse reached (`["volume", "ls"]`), for errors found later.
static COMMAND_PATH: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A bad flag value found after parsing (`--filter foo`), worded and exiting like pflag's own
/// errors: the text, the running command's usage line and its help pointer, exit 125.
pub fn flag_error(text: impl std::fmt::Display) -> CliError {
    let mut root = command();
    let words = COMMAND_PATH.lock().map(|w| w.clone()).unwrap_or_default();
    build_path(&mut root, &words);
    place_at(&root, &words).flag_error(text)
}

/// The running command as docker names it in help pointers: `berth container run`.
pub fn command_path() -> String {
    let words = COMMAND_PATH.lock().map(|w| w.clone()).unwrap_or_default();
    std::iter::once(BIN.to_string())
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a command line (the program name first).
pub fn parse_from(argv: impl IntoIterator<Item = OsString>) -> Result<Cli, CliError> {
    let mut cmd = command();
    let argv: Vec<OsString> = argv.into_iter().collect();
    let (rewritten, words) = rewrite(&mut cmd, &argv)?;
    if let Ok(mut path) = COMMAND_PATH.lock() {
        path.clone_from(&words);
    }
    let matches = cmd
        .try_get_matches_from_mut(rewritten)
        .map_err(|e| clap_error(&cmd, &words, e))?;
    Cli::from_arg_matches(&matches).map_err(|e| clap_error(&cmd, &words, e))
}

/// A flag of the current command, found by its long name or alias.
fn long_flag<'c>(cmd: &'c Command, name: &str) -> Option<&'c Arg> {
    cmd.get_arguments().find(|a| {
        !a.is_positional()
            && (a.get_long() == Some(name)
                || a.get_all_aliases().is_some_and(|al| al.contains(&name)))
    })
}

fn short_flag(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| {
        !a.is_positional()
            && (a.get_short() == Some(c)
                || a.get_all_short_aliases().is_some_and(|al| al.contains(&c)))
    })
}

/// How a flag reads its value.
#[derive(PartialEq, Eq)]
enum Takes {
    /// A switch: `--rm`, `--rm=false`.
    Bool,
    /// A value, inline or the next word.
    Value,
    /// An optional value, inline only (`--sig-proxy`, `--sig-proxy=false`).
    Optional,
    /// clap's own actions (help).
    Other,
}

fn takes(arg: &Arg) -> Takes {
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => Takes::Bool,
        a if a.takes_values() => {
            if arg.get_num_args().is_some_and(|r| r.min_values() == 0) {
                Takes::Optional
            } else {
                Takes::Value
            }
        }
        _ => Takes::Other,
    }
}

/// The flag as pflag names it in errors: `-d, --detach` or `--rm`.
fn flag_display(arg: &Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("-{s}, --{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, Some(l)) => format!("--{l}"),
        (None, None) => arg.get_id().to_string(),
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The canonical spelling clap receives for one flag and its value.
fn canonical(arg: &Arg, value: Option<&str>) -> OsString {
    let name = match arg.get_long() {
        Some(l) => format!("--{l}"),
        None => format!("-{}", arg.get_short().unwrap_or('?')),
    };
    match value {
        Some(v) => OsString::from(format!("{name}={v}")),
        None => OsString::from(name),
    }
}

/// One flag occurrence: pushes clap's spelling, or answers docker's error.
fn push_flag(
    place: &Place,
    out: &mut Vec<OsString>,
    arg: &Arg,
    inline: Option<&str>,
    next: &mut dyn FnMut() -> Option<String>,
    missing: impl Fn() -> String,
) -> Result<(), CliError> {
    match takes(arg) {
        Takes::Bool => match inline {
            None => out.push(canonical(arg, None)),
            Some(v) => match go_bool(v) {
                Some(true) => out.push(canonical(arg, None)),
                Some(false) => {}
                None => {
                    return Err(place.flag_error(format!(
                        "invalid argument \"{v}\" for \"{}\" flag: strconv.ParseBool: parsing \"{v}\": invalid syntax",
                        flag_display(arg)
                    )))
                }
            },
        },
        Takes::Value => {
            let value = match inline {
                Some(v) => v.to_string(),
                None => next().ok_or_else(|| {
                    place.flag_error(format!("flag needs an argument: {}", missing()))
                })?,
            };
            out.push(canonical(arg, Some(&value)));
        }
        Takes::Optional => out.push(canonical(arg, inline)),
        Takes::Other => out.push(match inline {
            Some(v) => OsString::from(format!("--{}={v}", arg.get_long().unwrap_or("help"))),
            None => canonical(arg, None),
        }),
    }
    Ok(())
}

/// The walk described in the module doc: returns the argv clap parses and the command path.
///
/// Only the commands the walk reaches are built (their flags made), as in clap's own parse.
fn rewrite(
    root: &mut Command,
    argv: &[OsString],
) -> Result<(Vec<OsString>, Vec<String>), CliError> {
    let mut out: Vec<OsString> = argv.iter().take(1).cloned().collect();
    build_one(root);
    let mut words: Vec<String> = Vec::new();
    let mut positionals = 0usize;
    let mut i = 1;
    // Non-UTF-8 words go to clap untouched (values of flags it reads as OsString).
    let text = |i: usize| argv.get(i).map(|a| a.to_string_lossy().into_owned());
    while i < argv.len() {
        let place = place_at(root, &words);
        let word = text(i).unwrap_or_default();
        i += 1;
        if word == "--" {
            // Everything after is positional.
            let rest = &argv[i..];
            out.push(OsString::from("--"));
            out.extend(rest.iter().cloned());
            positionals += rest.len();
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let Some(arg) = long_flag(place.cmd, name) else {
                return Err(place.flag_error(format!("unknown flag: --{name}")));
            };
            let mut next = || {
                let v = text(i);
                if v.is_some() {
                    i += 1;
                }
                v
            };
            push_flag(&place, &mut out, arg, inline, &mut next, || {
                format!("--{name}")
            })?;
            continue;
        }
        if word.len() > 1 && word.starts_with('-') {
            let cluster: Vec<char> = word[1..].chars().collect();
            let mut k = 0;
            while k < cluster.len() {
                let c = cluster[k];
                k += 1;
                let Some(arg) = short_flag(place.cmd, c) else {
                    return Err(place.flag_error(format!("unknown shorthand flag: '{c}' in -{c}")));
                };
                let rest: String = cluster[k..].iter().collect();
                let inline = match takes(arg) {
                    Takes::Bool | Takes::Optional | Takes::Other => {
                        rest.strip_prefix('=').map(str::to_string)
                    }
                    Takes::Value if !rest.is_empty() => {
                        Some(rest.strip_prefix('=').unwrap_or(&rest).to_string())
                    }
                    Takes::Value => None,
                };
                if inline.is_some() {
                    k = cluster.len();
                }
                let mut next = || {
                    let v = text(i);
                    if v.is_some() {
                        i += 1;
                    }
                    v
                };
                push_flag(&place, &mut out, arg, inline.as_deref(), &mut next, || {
                    format!("'{c}' in -{c}")
                })?;
            }
            continue;
        }
        // A positional word: a subcommand while there are some, else an argument.
        if place.cmd.has_subcommands() {
            match place.cmd.find_subcommand(&word) {
                Some(sub) => {
                    words.push(sub.get_name().to_string());
                    out.push(argv[i - 1].clone());
                    build_path(root, &words);
                    continue;
                }
                _ => return Err(unknown_command(&place, &word)),
            }
        }
        out.push(argv[i - 1].clone());
        positionals += 1;
        if NON_INTERSPERSED.contains(&place.cmd.get_name()) {
            let rest = &argv[i..];
            out.push(OsString::from("--"));
            out.extend(rest.iter().cloned());
            positionals += rest.len();
            break;
        }
    }
    let place = place_at(root, &words);
    if !place.cmd.has_subcommands() && !place.words.is_empty() {
        let arity = Arity::of(place.cmd);
        if !arity.accepts(positionals) && !asks_help(&out) {
            return Err(place.arity_error(arity));
        }
    }
    Ok((out, words))
}

/// `--help` given: clap prints the help whatever the arguments.
fn asks_help(out: &[OsString]) -> bool {
    out.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h")
}

fn unknown_command(place: &Place, word: &str) -> CliError {
    let path = place.path();
    if place.words.is_empty() {
        return CliError::usage(format!(
            "{BIN}: unknown command: {path} {word}\n\nRun '{path} --help' for more information"
        ));
    }
    CliError::usage(format!(
        "{BIN}: unknown command: {path} {word}\n\nUsage:  {}\n\nRun '{path} --help' for more information",
        place.usage()
    ))
}

/// What clap itself still refuses after the walk (a value its parser rejects), in pflag's words;
/// help and version requests print as clap renders them.
fn clap_error(root: &Command, words: &[String], e: clap::Error) -> CliError {
    use clap::error::{ContextKind, ContextValue, ErrorKind as K};
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand => {
            // docker prints a group's help on stdout when no subcommand is given, too.
            print!("{}", e.render());
            return CliError::usage("").with_exit(Exit::Ok);
        }
        _ => {}
    }
    let place = place_at(root, words);
    let ctx = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    if e.kind() == K::InvalidValue {
        // A value outside a fixed list (`completion powershell`): clap's
        // sentence names the value and what would have been accepted.
        let rendered = e.render().to_string();
        let mut lines = rendered
            .lines()
            .map(|l| l.trim_start_matches("error: ").trim());
        let first = lines.next().unwrap_or("invalid value").to_string();
        let text = match lines.find(|l| l.starts_with("[possible values:")) {
            Some(possible) => format!("{first}\n{possible}"),
            None => first,
        };
        return place.flag_error(text);
    }
    if e.kind() == K::ValueValidation {
        if let (Some(flag), Some(value)) =
            (ctx(ContextKind::InvalidArg), ctx(ContextKind::InvalidValue))
        {
            let flag = flag
                .split(' ')
                .next()
                .unwrap_or(&flag)
                .trim_end_matches('=');
            let shown = flag
                .strip_prefix("--")
                .and_then(|l| long_flag(place.cmd, l))
                .map(flag_display)
                .unwrap_or_else(|| flag.to_string());
            return place.flag_error(format!(
                "invalid argument \"{value}\" for \"{shown}\" flag: strconv.ParseInt: parsing \"{value}\": invalid syntax"
            ));
        }
    }
    let text = e
        .kind()
        .as_str()
        .unwrap_or("invalid command line")
        .to_string();
    place.flag_error(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command as C;

    fn parse(line: &str) -> Result<Cli, CliError> {
        parse_from(
            std::iter::once("berth")
                .chain(line.split(' '))
                .map(OsString::from),
        )
    }

    fn run(line: &str) -> crate::cli::RunArgs {
        match parse(line)
            .unwrap_or_else(|e| panic!("{line}: {}", e.message))
            .command
        {
            Some(C::Run(a)) | Some(C::Create(a)) => a,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn err(line: &str) -> (String, u8) {
        match parse(line) {
            Ok(c) => panic!("{line} parsed: {c:?}"),
            Err(e) => (e.message, e.exit.code()),
        }
    }

    #[test]
    fn flags_end_at_the_image() {
        let a = run("run --entrypoint ls busybox -ld /");
        assert_eq!(a.image, "busybox");
        assert_eq!(a.command, ["-ld", "/"]);
        assert!(a.label.is_empty());
        let a = run("create busybox -u -v /x -e A=1 -w /tmp --rm");
        assert_eq!(a.user, None);
        assert!(a.volume.is_empty() && a.env.is_empty() && !a.rm);
        assert_eq!(
            a.command,
            ["-u", "-v", "/x", "-e", "A=1", "-w", "/tmp", "--rm"]
        );
        let a = run("run busybox -- ls");
        assert_eq!(a.command, ["--", "ls"]);
        match parse("exec -u root c1 -u nobody id").unwrap().command {
            Some(C::Exec(x)) => {
                assert_eq!(x.user.as_deref(), Some("root"));
                assert_eq!(x.name, "c1");
                assert_eq!(x.command, ["-u", "nobody", "id"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pflag_value_forms() {
        let a = run("run -e -x -eB=2 -e=C=3 -itd --name=n1 --rm --rm -u0 busybox");
        assert_eq!(a.env, ["-x", "B=2", "C=3"]);
        assert!(a.interactive && a.tty && a.detach && a.rm);
        assert_eq!(a.name.as_deref(), Some("n1"));
        assert_eq!(a.user.as_deref(), Some("0"));
        let a = run("run --rm=false --name a --name b --sig-proxy=false busybox");
        assert!(!a.rm);
        assert_eq!(a.name.as_deref(), Some("b"));
        assert!(!a.sig_proxy);
    }

    #[test]
    fn docker_words_for_bad_command_lines() {
        let usage = "Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]";
        assert_eq!(
            err("run --bogus busybox"),
            (
                format!("unknown flag: --bogus\n\n{usage}\n\nRun 'berth run --help' for more information"),
                125
            )
        );
        assert_eq!(
            err("run -tx busybox").0.lines().next(),
            Some("unknown shorthand flag: 'x' in -x")
        );
        assert_eq!(
            err("run -e").0.lines().next(),
            Some("flag needs an argument: 'e' in -e")
        );
        assert_eq!(
            err("run --env").0.lines().next(),
            Some("flag needs an argument: --env")
        );
        assert_eq!(
            err("run --detach=maybe busybox").0.lines().next(),
            Some("invalid argument \"maybe\" for \"-d, --detach\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax")
        );
        assert_eq!(
            err("run"),
            (
                format!("berth: 'berth run' requires at least 1 argument\n\n{usage}\n\nSee 'berth run --help' for more information"),
                1
            )
        );
        assert_eq!(
            err("ps x").0.lines().next(),
            Some("berth: 'berth ps' accepts no arguments")
        );
        assert_eq!(
            err("rename a").0.lines().next(),
            Some("berth: 'berth rename' requires 2 arguments")
        );
        assert_eq!(
            err("port a b c").0.lines().next(),
            Some("berth: 'berth port' requires at least 1 and at most 2 arguments")
        );
        assert_eq!(
            err("volume create a b").0.lines().next(),
            Some("berth: 'berth volume create' requires at most 1 argument")
        );
        assert_eq!(
            err("container run").0,
            "berth: 'berth container run' requires at least 1 argument\n\nUsage:  berth container run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth container run --help' for more information"
        );
        assert_eq!(
            err("bogus"),
            (
                "berth: unknown command: berth bogus\n\nRun 'berth --help' for more information"
                    .into(),
                1
            )
        );
        assert_eq!(
            err("volume bogus"),
            (
                "berth: unknown command: berth volume bogus\n\nUsage:  berth volume COMMAND\n\nRun 'berth volume --help' for more information".into(),
                1
            )
        );
        assert_eq!(
            err("stop -t abc x").0.lines().next(),
            Some("invalid argument \"abc\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax")
        );
    }

    #[test]
    fn global_flags_before_the_command() {
        let cli = parse("--root /tmp/x -l debug ps -a").unwrap();
        assert_eq!(
            err("--root /tmp/x stop -t abc x").0.lines().nth(2),
            Some("Usage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]")
        );
        assert_eq!(cli.root, std::path::PathBuf::from("/tmp/x"));
        assert_eq!(cli.log_level, "debug");
    }

    /// Every command path of the grammar, group commands before their subcommands.
    fn paths(cmd: &Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            let mut p = prefix.to_vec();
            p.push(sub.get_name().to_string());
            out.push(p.clone());
            paths(sub, &p, out);
        }
    }

    /// What clap prints for `berth WORDS --help`.
    fn help(cmd: &mut Command, words: &[String]) -> String {
        let argv = std::iter::once("berth".to_string())
            .chain(words.iter().cloned())
            .chain(std::iter::once("--help".to_string()));
        match cmd.try_get_matches_from_mut(argv) {
            Ok(_) => panic!("{words:?} --help parsed"),
            Err(e) => e.render().to_string(),
        }
    }

    #[test]
    fn building_only_the_commands_reached_changes_no_help_or_usage() {
        let whole = grammar();
        let mut all = vec![Vec::new()];
        paths(&whole, &[], &mut all);
        assert!(all.len() > 80, "{} commands", all.len());
        for words in &all {
            let want = help(&mut whole.clone(), words);
            // As `parse_from` does: the walk builds the path, then clap parses.
            let mut lazy = command();
            build_path(&mut lazy, words);
            let got = help(&mut lazy, words);
            assert_eq!(got, want, "berth {} --help", words.join(" "));
            // A command's help starts with the line its group lists it with (a deferred
            // command's `Args` struct once replaced it with the struct's doc comment).
            if let Some((last, group)) = words.split_last() {
                let parent = place_at(&whole, group).cmd;
                let listed = parent.find_subcommand(last).unwrap().get_about().unwrap();
                let words_of = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
                let head = got.split("\n\nUsage:").next().unwrap_or_default();
                assert_eq!(
                    words_of(head),
                    words_of(&listed.to_string()),
                    "berth {} --help",
                    words.join(" ")
                );
            }
            // The walk builds the commands the usage lines and arity rules come from.
            let mut lazy = command();
            build_path(&mut lazy, words);
            let (a, b) = (place_at(&lazy, words), place_at(&whole, words));
            assert_eq!(a.usage(), b.usage(), "{words:?}");
            assert_eq!(a.words, b.words);
            if !a.cmd.has_subcommands() {
                assert_eq!(Arity::of(a.cmd), Arity::of(b.cmd), "{words:?}");
            }
        }
    }
}
