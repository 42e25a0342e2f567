//! Container names on user-defined networks through `aardvark-dns` (Podman's DNS server, the
//! Debian package `aardvark-dns`), driven the way netavark drives it: one configuration file per
//! network in [`Aardvark::dir`] — its first line the addresses to listen on (the gateway), then
//! one line per container: `ID IPv4 IPv6 NAME,ALIAS,... [DNS,SERVERS]` — one server process for
//! the whole directory, started with the first entry, told to re-read the files with `SIGHUP`,
//! and stopped with the last. Callers hold the exec root's lock.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::NetworkError;

/// The server's pid file in its directory (aardvark-dns writes it).
const PID_FILE: &str = "aardvark.pid";

/// One aardvark-dns configuration directory and the binary serving it.
pub(crate) struct Aardvark<'a> {
    /// The binary.
    pub binary: &'a Path,
    /// The configuration directory.
    pub dir: PathBuf,
    /// The port it listens on.
    pub port: u16,
}

/// A container's line of a network's file.
pub(crate) fn entry_line(id: &str, ip: Ipv4Addr, names: &[String], servers: &[IpAddr]) -> String {
    let mut uniq: Vec<&str> = Vec::new();
    for n in names {
        if !uniq.contains(&n.as_str()) {
            uniq.push(n);
        }
    }
    let mut line = format!("{id} {ip}  {}", uniq.join(","));
    if !servers.is_empty() {
        let s: Vec<String> = servers.iter().map(IpAddr::to_string).collect();
        line.push(' ');
        line.push_str(&s.join(","));
    }
    line
}

/// `text` without container `id`'s lines; `None` when no container is left.
fn without(text: &str, id: &str) -> Option<String> {
    let mut lines = text.lines();
    let head = lines.next()?;
    let rest: Vec<&str> = lines
        .filter(|l| !l.is_empty() && l.split(' ').next() != Some(id))
        .collect();
    (!rest.is_empty()).then(|| format!("{head}\n{}\n", rest.join("\n")))
}

impl Aardvark<'_> {
    fn file(&self, network_id: &str) -> PathBuf {
        self.dir.join(network_id)
    }

    fn pid(&self) -> Option<rustix::process::Pid> {
        let text = std::fs::read_to_string(self.dir.join(PID_FILE)).ok()?;
        let pid = rustix::process::Pid::from_raw(text.trim().parse().ok()?)?;
        rustix::process::test_kill_process(pid).ok()?;
        Some(pid)
    }

    /// Adds `line` to network `network_id`'s file (made with `gateway` first) and has the
    /// server serve it.
    pub fn add(&self, network_id: &str, gateway: Ipv4Addr, line: &str) -> Result<(), NetworkError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| NetworkError::io("create", &self.dir, e))?;
        let path = self.file(network_id);
        let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| format!("{gateway}\n"));
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(line);
        text.push('\n');
        write_atomic(&path, &text)?;
        self.reload()
    }

    /// Removes container `id` from network `network_id`'s file (the file with its last
    /// container) and has the server re-read, or stop when nothing is left to serve.
    pub fn remove(&self, network_id: &str, id: &str) -> Result<(), NetworkError> {
        let path = self.file(network_id);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        match without(&text, id) {
            Some(rest) => write_atomic(&path, &rest)?,
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(NetworkError::io("remove", &path, e)),
            },
        }
        self.reload()
    }

    /// Signals the running server to re-read its files, starts one if there is none and
    /// something to serve, stops it if there is nothing.
    fn reload(&self) -> Result<(), NetworkError> {
        let networks = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        let n = e.file_name();
                        let n = n.to_string_lossy();
                        n != PID_FILE && !n.starts_with('.') && !n.ends_with(".tmp")
                    })
                    .count()
            })
            .unwrap_or(0);
        let running = self.pid();
        match (running, networks) {
            (Some(pid), 0) => {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                let _ = std::fs::remove_file(self.dir.join(PID_FILE));
                Ok(())
            }
            (Some(pid), _) => rustix::process::kill_process(pid, rustix::process::Signal::HUP)
                .map_err(|e| NetworkError::io("signal aardvark-dns in", &self.dir, e.into())),
            (None, 0) => Ok(()),
            (None, _) => self.start(),
        }
    }

    /// Starts the server; it puts itself in the background once it listens.
    fn start(&self) -> Result<(), NetworkError> {
        let out = Command::new(self.binary)
            .arg("--config")
            .arg(&self.dir)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("run")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| NetworkError::io("run", self.binary, e))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let err: Vec<&str> = err
            .lines()
            .filter(|l| !l.contains("failed to connect to syslog"))
            .collect();
        Err(NetworkError::Backend {
            backend: "aardvark-dns",
            op: "start",
            message: if err.is_empty() {
                format!("exited with {}", out.status)
            } else {
                err.join("; ")
            },
        })
    }
}

fn write_atomic(path: &Path, text: &str) -> Result<(), NetworkError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| NetworkError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| NetworkError::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_aardvarks_format() {
        let names = ["web".to_string(), "alias".into(), "web".into()];
        assert_eq!(
            entry_line("c1", "10.0.0.2".parse().unwrap(), &names, &[]),
            "c1 10.0.0.2  web,alias"
        );
        let dns = ["9.9.9.9".parse().unwrap(), "1.1.1.1".parse().unwrap()];
        assert_eq!(
            entry_line("c1", "10.0.0.2".parse().unwrap(), &names[..1], &dns),
            "c1 10.0.0.2  web 9.9.9.9,1.1.1.1"
        );
        let text = "10.0.0.1\nc1 10.0.0.2  a\nc2 10.0.0.3  b\n";
        assert_eq!(without(text, "c1").unwrap(), "10.0.0.1\nc2 10.0.0.3  b\n");
        assert_eq!(without("10.0.0.1\nc1 10.0.0.2  a\n", "c1"), None);
    }
}
