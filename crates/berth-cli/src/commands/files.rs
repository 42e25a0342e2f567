//! Commands about a container's files: `diff`, `commit`, `export` and `cp` (with docker's rules
//! for where a copied file or directory lands, and `-` for tar streams on stdin/stdout).

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use berth_engine::container::CommitRequest;
use berth_engine::Engine;
use berth_store::archive::{self, ApplyOptions, WhiteoutMode};

use crate::cli::{CommitArgs, CpArgs, ExportArgs, NameArg};
use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::units;
use crate::output;

/// `berth diff`.
pub fn diff(engine: &mut Engine, args: &NameArg) -> CliResult {
    let changes = engine.container_changes(&args.name)?;
    let mut out = io::stdout().lock();
    for c in changes {
        writeln!(out, "{c}")?;
    }
    Ok(Exit::Ok)
}

/// `berth commit`.
pub fn commit(engine: &mut Engine, args: &CommitArgs) -> CliResult {
    let id = engine.commit_container(
        &args.name,
        &CommitRequest {
            reference: args.reference.clone(),
            author: args.author.clone(),
            message: args.message.clone(),
            changes: args.change.clone(),
            pause: args.pause,
        },
    )?;
    println!("{id}");
    Ok(Exit::Ok)
}

/// `berth export`.
pub fn export(engine: &mut Engine, args: &ExportArgs) -> CliResult {
    output::write_archive(args.output.as_deref(), "failed to export container", |w| {
        Ok(engine.export_container(&args.name, w)?)
    })?;
    Ok(Exit::Ok)
}

/// A `cp` operand: a container path or a local one.
enum Operand<'a> {
    Container { name: &'a str, path: &'a str },
    Local(&'a str),
}

/// docker's split: `NAME:PATH` is a container path unless the text is clearly local (starts with
/// `/` or `.`, or has no `:`).
fn operand(s: &str) -> Operand<'_> {
    if s.starts_with('/') || s.starts_with('.') {
        return Operand::Local(s);
    }
    match s.split_once(':') {
        Some((name, path)) if !name.is_empty() => Operand::Container { name, path },
        _ => Operand::Local(s),
    }
}

/// Parent directory and base name of a slash path.
fn split(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((p, name)) => (p.into(), name.into()),
        None => (".".into(), trimmed.into()),
    }
}

/// Copies in-process: `produce` writes a tar into a pipe while `consume` reads it.
fn pipe_through(
    produce: impl FnOnce(&mut dyn Write) -> Result<(), CliError> + Send,
    consume: impl FnOnce(&mut dyn io::Read) -> Result<(), CliError>,
) -> Result<(), CliError> {
    // The pipe is ours: a consumer that stops early must not kill the process with SIGPIPE;
    // its own error is the one to report.
    // SAFETY: changing the SIGPIPE disposition; restored below before returning.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let (mut reader, writer) = io::pipe()?;
    let result = std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut w = io::BufWriter::with_capacity(1 << 20, writer);
            let r = produce(&mut w);
            let _ = w.flush();
            r
        });
        let consumed = consume(&mut reader);
        drop(reader);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(CliError::usage("copy failed")));
        consumed.and(produced)
    });
    // SAFETY: restores the disposition saved above.
    unsafe {
        libc::signal(libc::SIGPIPE, previous);
    }
    result
}

/// `berth cp`.
pub fn cp(engine: &mut Engine, args: &CpArgs) -> CliResult {
    match (operand(&args.src), operand(&args.dst)) {
        (Operand::Container { .. }, Operand::Container { .. }) => Err(CliError::usage(
            "copying between containers is not supported",
        )),
        (Operand::Local(_), Operand::Local(_)) => Err(CliError::usage(
            "must specify at least one container source",
        )),
        (Operand::Container { name, path }, Operand::Local(dst)) => {
            copy_out(engine, args, name, path, dst)
        }
        (Operand::Local(src), Operand::Container { name, path }) => {
            copy_in(engine, args, src, name, path)
        }
    }
}

fn copy_out(engine: &mut Engine, args: &CpArgs, name: &str, path: &str, dst: &str) -> CliResult {
    let path = if path.is_empty() { "/" } else { path };
    if dst == "-" {
        let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
        let follow = args.follow_link || path.ends_with('/');
        engine.copy_from_container(name, path, None, follow, &mut out)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    // `link/` names what the link points to, as dockerd resolves a path with a trailing
    // separator (issue 15): the link is followed inside the container, as with -L.
    let follow = args.follow_link || path.ends_with('/');
    // `file/` or `file/.` names a directory: dockerd's lstat of it fails.
    let as_dir = path.strip_suffix("/.").or_else(|| path.strip_suffix('/'));
    if let Some(Ok(st)) = as_dir
        .filter(|b| !b.is_empty())
        .map(|b| engine.resolve_container_path(name, b).map(|(_, st)| st))
        .filter(|st| st.as_ref().is_ok_and(|st| !st.is_dir()))
    {
        let _ = st;
        let merged = engine
            .inspect_container(name, false)
            .ok()
            .and_then(|c| c.graph_driver.data)
            .and_then(|d| d.get("MergedDir").cloned())
            .unwrap_or_default();
        return Err(CliError::usage(format!(
            "Error response from daemon: lstat {merged}{path}: not a directory"
        )));
    }
    let stat = if follow {
        let (_, mut st) = engine.resolve_container_path(name, path)?;
        st.name = split(path.trim_end_matches('/')).1;
        st
    } else {
        engine.stat_container_path(name, path)?
    };
    let contents_only = path.ends_with("/.");
    let dst_path = Path::new(dst);
    let (dir, top): (PathBuf, String) = match std::fs::metadata(dst_path) {
        Ok(md) if md.is_dir() => (
            dst_path.to_path_buf(),
            if contents_only {
                ".".into()
            } else {
                stat.name.clone()
            },
        ),
        Ok(_) if stat.is_dir() => return Err(CliError::usage("cannot copy directory")),
        Ok(_) => {
            let (p, b) = split(dst);
            (PathBuf::from(p), b)
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(CliError::usage(format!(
                "stat {}: {}",
                absolute(dst),
                output::io_text(&e)
            )));
        }
        Err(_) => {
            if dst.ends_with('/') {
                return Err(CliError::usage("no such directory"));
            }
            let (p, b) = split(dst);
            if !Path::new(&p).is_dir() {
                return Err(CliError::usage(format!(
                    "invalid output path: directory {:?} does not exist",
                    absolute(&p)
                )));
            }
            (PathBuf::from(p), b)
        }
    };
    let mut copied = 0u64;
    pipe_through(
        |w| {
            engine
                .copy_from_container(name, path, Some(&top), follow, w)
                .map(|_| ())
                .map_err(CliError::from)
        },
        |r| {
            let mut counting = CountingReader {
                inner: r,
                count: &mut copied,
            };
            archive::apply_tar(
                &mut counting,
                &dir,
                &ApplyOptions {
                    no_overwrite_dir_non_dir: false,
                    skip_devices: false,
                    whiteouts: WhiteoutMode::Delete,
                    root_metadata: false,
                    // Like the docker CLI, the files belong to whoever runs `cp`, -a or not.
                    owner: Some((
                        rustix::process::geteuid().as_raw(),
                        rustix::process::getegid().as_raw(),
                    )),
                },
            )
            .map(|_| ())
            .map_err(|e| CliError::usage(e.to_string()))
        },
    )?;
    report_copied(args, copied, dst);
    Ok(Exit::Ok)
}

fn copy_in(engine: &mut Engine, args: &CpArgs, src: &str, name: &str, path: &str) -> CliResult {
    let path = if path.is_empty() { "/" } else { path };
    engine.container(name)?;

    if src == "-" {
        let stat = engine.stat_container_path(name, path)?;
        if !stat.is_dir() {
            return Err(CliError::usage(
                "Error response from daemon: extraction point is not a directory",
            ));
        }
        engine.copy_to_container(name, path, &mut io::stdin().lock(), args.archive, true)?;
        return Ok(Exit::Ok);
    }
    let src_md = std::fs::symlink_metadata(src)
        .map_err(|e| CliError::usage(format!("lstat {src}: {}", output::io_text(&e))))?;
    let contents_only = src.ends_with("/.");
    // A destination that is a symlink is followed inside the container (docker).
    let dest = engine.resolve_container_path(name, path);
    // A destination written as a directory (`file/`) must be one (the docker CLI's words).
    if path.ends_with('/') && !matches!(&dest, Ok((_, st)) if st.is_dir()) {
        return Err(CliError::usage("no such directory"));
    }
    let (dir, top) = match dest {
        Ok((resolved, st)) if st.is_dir() => (
            resolved,
            if contents_only {
                ".".to_string()
            } else {
                split(src).1
            },
        ),
        Ok(_) if src_md.is_dir() => return Err(CliError::usage("cannot copy directory")),
        Ok((resolved, _)) => split(&resolved),
        Err(_) => split(path),
    };
    let (host_parent, host_base) = if contents_only {
        (src.trim_end_matches("/.").to_string(), ".".to_string())
    } else {
        split(src)
    };
    let host_dir = File::open(&host_parent)
        .map_err(|e| CliError::usage(format!("open {host_parent}: {}", output::io_text(&e))))?;
    let mut copied = 0u64;
    pipe_through(
        |w| {
            archive::write_entry_tar(host_dir.as_fd(), host_base.as_bytes(), &top, w)
                .map(|_| ())
                .map_err(|e| CliError::usage(e.to_string()))
        },
        |r| {
            let mut counting = CountingReader {
                inner: r,
                count: &mut copied,
            };
            engine
                .copy_to_container(name, &dir, &mut counting, args.archive, true)
                .map_err(CliError::from)
        },
    )?;
    report_copied(args, copied, &format!("{name}:{path}"));
    Ok(Exit::Ok)
}

/// A local path as the docker CLI names it in errors: made absolute against the working
/// directory, as written otherwise (a trailing `/` kept).
fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        return p.to_string();
    }
    match std::env::current_dir() {
        Ok(cwd) => format!("{}/{p}", cwd.display()),
        Err(_) => p.to_string(),
    }
}

/// The docker CLI's closing line, on a terminal only (`-q` or a redirected stderr silence it).
fn report_copied(args: &CpArgs, copied: u64, dest: &str) {
    if !args.quiet && io::stderr().is_terminal() {
        eprintln!(
            "Successfully copied {} to {dest}",
            units::human_size(copied as f64)
        );
    }
}

struct CountingReader<'a, R: ?Sized> {
    inner: &'a mut R,
    count: &'a mut u64,
}

impl<R: io::Read + ?Sized> io::Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.count += n as u64;
        Ok(n)
    }
}
