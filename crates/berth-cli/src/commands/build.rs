//! `berth build` and `berth builder prune`: the context from a directory or STDIN (a tar, plain
//! or compressed, or a lone Dockerfile), the Dockerfile from the context, a file or STDIN, and the
//! classic builder's plain progress on stdout, or the compact view on a terminal
//! ([`BuildView`]; `-q`: only the image ID).

use std::collections::BTreeMap;
use std::io::{self, BufRead, IsTerminal, Read, Write};

use berth_build::builder::{BuildOptions, Output};
use berth_engine::build::{BuildRequest, ContextSource, DockerfileSource, PlainOutput};
use berth_engine::{Engine, EngineError};

use crate::build_view::BuildView;
use crate::cli::{BuildArgs, BuildProgress, BuilderPruneArgs};
use crate::error::{CliError, CliResult};
use crate::exit::Exit;

/// Counts what was written, so an error after the first step prints like the docker CLI's
/// (the message alone) and one before it like a daemon refusal.
struct Counting<O: Output> {
    inner: O,
    written: bool,
}

impl<O: Output> Output for Counting<O> {
    fn stdout(&mut self, text: &str) {
        self.written = true;
        self.inner.stdout(text);
    }

    fn stderr(&mut self, text: &str) {
        self.written = true;
        self.inner.stderr(text);
    }

    fn step(&mut self, n: usize, total: usize, code: &str) {
        self.written = true;
        self.inner.step(n, total, code);
    }

    fn using_cache(&mut self) {
        self.inner.using_cache();
    }

    fn running_in(&mut self, cid: &str) {
        self.inner.running_in(cid);
    }

    fn removing(&mut self, cid: &str) {
        self.inner.removing(cid);
    }

    fn step_image(&mut self, short_id: &str) {
        self.inner.step_image(short_id);
    }

    fn pull_progress(&mut self, message: &serde_json::Value, plain: Option<&str>) {
        self.written = true;
        self.inner.pull_progress(message, plain);
    }
}

struct Quiet;

impl Output for Quiet {
    fn stdout(&mut self, _: &str) {}
}

fn parse_kv(list: &[String]) -> BTreeMap<String, Option<String>> {
    list.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            // `--build-arg NAME` takes the value from the environment, or none.
            None => (a.clone(), std::env::var(a).ok()),
        })
        .collect()
}

/// True when `head` starts a tar archive or a compressed stream.
fn looks_like_archive(head: &[u8]) -> bool {
    const MAGICS: [&[u8]; 4] = [b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ"];
    if MAGICS.iter().any(|m| head.starts_with(m)) {
        return true;
    }
    head.len() >= 512 && &head[257..262] == b"ustar"
}

/// `berth build`.
pub fn build(engine: &mut Engine, args: &BuildArgs) -> CliResult {
    if let Some(p) = &args.platform {
        let host = berth_image::import::host_architecture();
        if p != "linux" && p != &format!("linux/{host}") {
            return Err(CliError::usage(format!(
                "Error response from daemon: berth builds only for this machine's platform (linux/{host}), not {p}"
            )));
        }
    }
    // `auto`: the compact view on a terminal, the classic builder's text elsewhere.
    let compact = match args.progress {
        BuildProgress::Auto => io::stdout().is_terminal(),
        BuildProgress::Plain => false,
        BuildProgress::Tty if io::stdout().is_terminal() => true,
        BuildProgress::Tty => {
            return Err(CliError::usage(
                "--progress tty needs a terminal on stdout (use auto or plain)",
            ))
        }
    };
    if args.context.starts_with("http://")
        || args.context.starts_with("https://")
        || args.context.starts_with("git@")
        || args.context.starts_with("git://")
    {
        return Err(CliError::usage(format!(
            "unable to prepare context: {} needs the network, which berth's builder does not reach; clone or download it and build from the directory",
            args.context
        )));
    }
    let mut stdin_dockerfile: Option<String> = None;
    // With a context tar on STDIN, -f names a file in it (as the docker CLI sends it).
    let mut tar_dockerfile: Option<String> = None;
    let dockerfile_from_stdin = args.file.as_deref() == Some("-");
    let context = if args.context == "-" {
        if dockerfile_from_stdin {
            return Err(CliError::usage(
                "invalid argument: can't use stdin for both build context and dockerfile",
            ));
        }
        let mut r = io::BufReader::with_capacity(1 << 16, io::stdin());
        let head = r.fill_buf()?.to_vec();
        if looks_like_archive(&head) {
            tar_dockerfile = Some(args.file.clone().unwrap_or_else(|| "Dockerfile".into()));
            ContextSource::Tar(Box::new(r))
        } else {
            let mut text = String::new();
            r.read_to_string(&mut text)?;
            stdin_dockerfile = Some(text);
            let empty = tar_of_nothing();
            ContextSource::Tar(Box::new(io::Cursor::new(empty)))
        }
    } else {
        ContextSource::Dir(std::path::PathBuf::from(&args.context))
    };
    let dockerfile = if let Some(name) = tar_dockerfile {
        DockerfileSource::InContext(name)
    } else if let Some(text) = stdin_dockerfile {
        DockerfileSource::Text {
            name: "Dockerfile".into(),
            text,
        }
    } else {
        match args.file.as_deref() {
            None => DockerfileSource::InContext("Dockerfile".into()),
            Some("-") => {
                let mut text = String::new();
                io::stdin().read_to_string(&mut text)?;
                DockerfileSource::Text {
                    name: "Dockerfile".into(),
                    text,
                }
            }
            Some(f) => {
                // Relative to the working directory, not the context (as the docker CLI reads it).
                let abs = std::path::absolute(f)?;
                let text = std::fs::read_to_string(&abs).map_err(|e| {
                    let why = match e.kind() {
                        io::ErrorKind::NotFound => "no such file or directory".to_string(),
                        _ => e.to_string(),
                    };
                    CliError::usage(format!(
                        "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: {why}",
                        abs.display()
                    ))
                })?;
                DockerfileSource::Text {
                    name: f.to_string(),
                    text,
                }
            }
        }
    };
    let labels = args
        .labels
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect();
    let req = BuildRequest {
        context,
        dockerfile,
        tags: args.tags.clone(),
        options: BuildOptions {
            build_args: parse_kv(&args.build_args),
            target: args.target.clone(),
            no_cache: args.no_cache,
            labels,
            keep_containers: !args.rm,
        },
        network: args.network.clone(),
        pull: args.pull,
        auth: berth_engine::image::RegistryAuth::ConfigFile,
    };
    let result = if args.quiet {
        let mut out = Counting {
            inner: Quiet,
            written: false,
        };
        let r = engine.build(req, &mut out);
        (r, out.written)
    } else if compact {
        let mut out = Counting {
            inner: BuildView::stdout(),
            written: false,
        };
        let r = engine.build(req, &mut out);
        match &r {
            Ok(_) => out.inner.done(),
            Err(_) => out.inner.fail(),
        }
        (r, out.written)
    } else {
        let mut out = Counting {
            inner: PlainOutput(io::stdout().lock()),
            written: false,
        };
        let r = engine.build(req, &mut out);
        (r, out.written)
    };
    match result {
        (Ok(built), _) => {
            if args.quiet {
                println!("{}", built.id);
            }
            if let Some(f) = &args.iidfile {
                std::fs::write(f, built.id.to_string())?;
            }
            Ok(Exit::Ok)
        }
        (Err(EngineError::BuildFailed(msg, code)), _) => {
            let _ = io::stdout().flush();
            Err(CliError::usage(msg).with_exit(Exit::Container(if code == 0 { 1 } else { code })))
        }
        (Err(e), true) => {
            let _ = io::stdout().flush();
            Err(CliError::usage(e.to_string()))
        }
        (Err(e), false) => Err(e.into()),
    }
}

/// An empty tar (two zero blocks): the context of `build -` with a Dockerfile on STDIN.
fn tar_of_nothing() -> Vec<u8> {
    vec![0u8; 1024]
}

/// `berth builder prune`.
pub fn prune(engine: &mut Engine, args: &BuilderPruneArgs) -> CliResult {
    let mut until = None;
    for f in &args.filter {
        match f.split_once('=') {
            Some(("until", v)) => {
                let t = berth_go::parse_timestamp(v, chrono::Utc::now()).map_err(|e| {
                    CliError::usage(format!("Error response from daemon: {e}"))
                })?;
                until = Some(t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
            }
            _ => {
                return Err(CliError::usage(format!(
                    "Error response from daemon: invalid filter '{f}' (berth's builder prune takes until=)"
                )))
            }
        }
    }
    let _ = args.all; // every cache entry berth keeps is unused once its build ended
    if !args.force && !super::confirm("WARNING! This will remove all dangling build cache.") {
        return Ok(Exit::Ok);
    }
    let (deleted, freed) = engine.prune_build_cache(until.as_deref())?;
    if !deleted.is_empty() {
        println!("Deleted build cache objects:");
        for d in &deleted {
            println!("{}", d.strip_prefix("sha256:").unwrap_or(d));
        }
    }
    println!(
        "Total reclaimed space: {}",
        berth_go::units::human_size(freed as f64)
    );
    Ok(Exit::Ok)
}
