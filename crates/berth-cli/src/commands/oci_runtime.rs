//! `berth oci-runtime -- ARGS`: runc's command line (`create`, `start`, `state`, `kill`,
//! `delete`, `pause`, `resume`) over the in-process runtime, so that tools written against an OCI
//! runtime CLI can drive it — the OCI runtime-tools validation suite (`RUNTIME=` a script that
//! runs `berth oci-runtime -- --root DIR "$@"`), which issue 16 asks the in-process runtime to
//! pass as well as runc does. Hidden: users select the in-process runtime with `--runtime
//! berth`, not through this. The `--` keeps berth's own flags (`--root` is berth's data root)
//! out of runc's.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use berth_runtime::inproc::InProcess;
use berth_runtime::runtime::{CreateOptions, ProcessIo, Runtime, RuntimeError};

/// Where the containers' state goes without `--root`.
const DEFAULT_ROOT: &str = "/run/berth-oci";

/// Runs one runtime command (`args` as they follow `berth oci-runtime`); the exit code.
pub fn run(args: &[String]) -> i32 {
    match command(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// The value after `flag` (`--flag v` or `--flag=v`), if `arg` is that flag.
fn value<'a>(
    arg: &'a str,
    flag: &str,
    rest: &mut impl Iterator<Item = &'a String>,
) -> Option<Result<String, String>> {
    if arg == flag {
        return Some(
            rest.next()
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: {flag}")),
        );
    }
    arg.strip_prefix(flag)
        .and_then(|v| v.strip_prefix('='))
        .map(|v| Ok(v.to_string()))
}

fn command(args: &[String]) -> Result<(), String> {
    let mut root = PathBuf::from(DEFAULT_ROOT);
    let mut it = args.iter();
    // Global flags, then the verb.
    let verb = loop {
        let Some(arg) = it.next() else {
            return Err(
                "usage: berth oci-runtime [--root DIR] create|start|state|kill|delete ...".into(),
            );
        };
        if let Some(v) = value(arg, "--root", &mut it) {
            root = PathBuf::from(v?);
        } else if let Some(v) = value(arg, "--log", &mut it)
            .or_else(|| value(arg, "--log-format", &mut it))
            .or_else(|| value(arg, "--criu", &mut it))
            .or_else(|| value(arg, "--rootless", &mut it))
        {
            v?;
        } else if arg == "--debug" || arg == "--systemd-cgroup" {
        } else if arg == "--version" || arg == "-v" {
            println!("berth oci-runtime {}", env!("CARGO_PKG_VERSION"));
            println!("spec: {}", berth_runtime::inproc::OCI_VERSION);
            return Ok(());
        } else if arg.starts_with('-') {
            return Err(format!("flag provided but not defined: {arg}"));
        } else {
            break arg.as_str();
        }
    };
    let rt = InProcess::new(root.clone());
    let mut positional = Vec::new();
    let text = |e: RuntimeError| e.to_string();
    match verb {
        "create" | "run" => {
            let (mut bundle, mut pid_file, mut console) = (PathBuf::from("."), None, None);
            while let Some(arg) = it.next() {
                if let Some(v) =
                    value(arg, "--bundle", &mut it).or_else(|| value(arg, "-b", &mut it))
                {
                    bundle = PathBuf::from(v?);
                } else if let Some(v) = value(arg, "--pid-file", &mut it) {
                    pid_file = Some(absolute(Path::new(&v?))?);
                } else if let Some(v) = value(arg, "--console-socket", &mut it) {
                    console = Some(absolute(Path::new(&v?))?);
                } else if let Some(v) = value(arg, "--preserve-fds", &mut it) {
                    if v? != "0" {
                        return Err("--preserve-fds is not supported".into());
                    }
                } else if arg == "--no-pivot" || arg == "--no-new-keyring" {
                    return Err(format!("{arg} is not supported"));
                } else if arg.starts_with('-') {
                    return Err(format!("flag provided but not defined: {arg}"));
                } else {
                    positional.push(arg.clone());
                }
            }
            let id = one_id(&positional)?;
            let bundle = std::fs::canonicalize(&bundle)
                .map_err(|e| format!("bundle {}: {e}", bundle.display()))?;
            let scratch_pid = root.join(format!("{id}.create.pid"));
            let dup = |fd: i32| -> Result<Option<OwnedFd>, String> {
                // SAFETY: fcntl(F_DUPFD_CLOEXEC) returns a new descriptor (or -1), owned here.
                let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
                if new < 0 {
                    return Ok(None);
                }
                // SAFETY: `new` was just created and is owned by nothing else.
                Ok(Some(unsafe { std::os::fd::FromRawFd::from_raw_fd(new) }))
            };
            let io = if console.is_some() {
                ProcessIo::default()
            } else {
                ProcessIo {
                    stdin: dup(0)?,
                    stdout: dup(1)?,
                    stderr: dup(2)?,
                }
            };
            std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
            let result = rt.create(
                id,
                &bundle,
                CreateOptions {
                    pid_file: pid_file.clone().unwrap_or_else(|| scratch_pid.clone()),
                    console_socket: console,
                    io,
                },
            );
            if pid_file.is_none() {
                let _ = std::fs::remove_file(&scratch_pid);
            }
            result.map_err(text)?;
            if verb == "run" {
                rt.start(id).map_err(text)?;
            }
            Ok(())
        }
        "start" | "state" | "delete" | "kill" | "pause" | "resume" => {
            let mut force = false;
            let mut all = false;
            for arg in it.by_ref() {
                match arg.as_str() {
                    "--force" | "-f" if verb == "delete" => force = true,
                    "--all" | "-a" if verb == "kill" => all = true,
                    a if a.starts_with('-') && a.len() > 1 && !is_signal(a) => {
                        return Err(format!("flag provided but not defined: {a}"))
                    }
                    _ => positional.push(arg.clone()),
                }
            }
            let id = positional
                .first()
                .ok_or_else(|| format!("{verb}: a container ID is required"))?;
            match verb {
                "start" => rt.start(id).map_err(text),
                "pause" => rt.pause(id).map_err(text),
                "resume" => rt.resume(id).map_err(text),
                "delete" => rt.delete(id, force).map_err(text),
                "kill" => {
                    let sig = positional.get(1).map(String::as_str).unwrap_or("TERM");
                    let sig = signal(sig).ok_or_else(|| format!("unknown signal {sig:?}"))?;
                    rt.kill(id, sig, all).map_err(text)
                }
                _ => {
                    let json = rt.oci_state(id).map_err(text)?;
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
                    );
                    Ok(())
                }
            }
        }
        other => Err(format!("No help topic for '{other}'")),
    }
}

fn one_id(positional: &[String]) -> Result<&str, String> {
    match positional {
        [id] => Ok(id),
        [] => Err("a container ID is required".into()),
        _ => Err(format!("one container ID expected, got {positional:?}")),
    }
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .map_err(|e| e.to_string())
}

fn is_signal(a: &str) -> bool {
    a.strip_prefix('-').is_some_and(|s| signal(s).is_some())
}

/// A signal by number or name (`9`, `KILL`, `SIGKILL`).
fn signal(s: &str) -> Option<i32> {
    berth_engine::container::parse_signal(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_number_and_name() {
        assert_eq!(signal("9"), Some(9));
        assert_eq!(signal("KILL"), Some(libc::SIGKILL));
        assert_eq!(signal("SIGTERM"), Some(libc::SIGTERM));
        assert_eq!(signal("NOPE"), None);
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let root = "--root=/nonexistent/berth-oci-test";
        assert_eq!(run(&args(&[root])), 1);
        assert_eq!(run(&args(&[root, "frobnicate"])), 1);
        assert_eq!(run(&args(&[root, "state", "nosuch"])), 1);
        assert_eq!(run(&args(&[root, "create", "--bogus", "x"])), 1);
        assert_eq!(run(&args(&[root, "create"])), 1);
    }
}
