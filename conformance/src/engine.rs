//! An [`Engine`] is Docker or berth behind the same `docker` command: a wrapper script in
//! `<work>/<engine>/bin`, first on `PATH` while a scenario runs.
//!
//! * berth: `exec <berth> --root <work>/berth/roots/<scenario> "$@"`: every scenario gets a fresh
//!   data root with `busybox:latest` imported and its fixture images loaded, and the root is
//!   unmounted and deleted afterwards.
//! * Docker: `exec docker -H <host> "$@"`: `busybox:latest` is imported once per run; before each
//!   scenario every container, volume and other image is removed and the fixture images loaded.
//!
//! Scenarios also see `$SCRATCH` (an empty per-scenario directory for bind sources and saved
//! archives), `$FIXTURES` (the fixture archives and the test volume plugin), `$HARNESS` (this
//! program, for `layer-ls`) and `$PLUGIN` (a volume plugin name unique on the machine).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::fixtures;
use crate::scenario::{Scenario, Section};

/// The engine configuration file every berth command of a run uses, in `<work>/berth`.
const BERTH_CONFIG: &str = "daemon.json";

/// Which engine, and how to reach it.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A dockerd reached with the docker CLI.
    Docker {
        /// `unix:///run/….sock`
        host: String,
    },
    /// The berth binary.
    Berth {
        /// Path of the binary.
        bin: PathBuf,
    },
}

/// What one shell command printed (raw) and how it exited.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// stdout, lossily decoded.
    pub stdout: String,
    /// stderr, lossily decoded.
    pub stderr: String,
    /// Exit code (-1 when killed by a signal, 124 on timeout).
    pub code: i32,
}

/// Per-scenario state: environment, data root, scratch dir.
#[derive(Debug)]
pub struct Session {
    /// Environment of every command.
    pub env: Vec<(String, String)>,
    /// The engine's data root as it appears in output.
    pub root: String,
    /// `$SCRATCH`.
    pub scratch: PathBuf,
    /// `$PLUGIN`: a volume plugin name no other process on the machine uses (plugin sockets
    /// live in the global `/run/docker/plugins`), shown as `<plugin>`.
    pub plugin: String,
    /// berth: the `berth serve` of a `requires: api` scenario (its socket is `$API_SOCK`).
    server: Option<std::process::Child>,
}

impl Session {
    /// Literal `(text, placeholder)` pairs for the normalizer.
    pub fn literals(&self, fixtures: &Path) -> Vec<(String, &'static str)> {
        vec![
            (self.root.clone(), "<root>"),
            (self.scratch.display().to_string(), "<scratch>"),
            (fixtures.display().to_string(), "<fixtures>"),
            (self.plugin.clone(), "<plugin>"),
        ]
    }
}

/// Docker or berth, ready to run scenarios.
#[derive(Debug)]
pub struct Engine {
    /// Which engine.
    pub kind: Kind,
    dir: PathBuf,
    /// The fixture archives.
    pub fixtures: PathBuf,
    harness: PathBuf,
    docker_root: String,
    keep_image: String,
    probes: RefCell<HashMap<String, Option<String>>>,
    /// Accept `berth` where Docker prints `docker` in messages (see `normalize`).
    pub allow_berth_name: bool,
}

const MANAGEMENT: &[&str] = &[
    "builder",
    "container",
    "image",
    "network",
    "system",
    "volume",
];

/// A layer's or container's directories under the data root, whatever the engine's layout
/// (Docker: `overlay2/<id>/diff`, berth: `layers/<id>/diff`, `containers/<id>/upper`).
const LAYER_PATHS: &[(&str, &str)] = &[
    (r"<root>(/[\w.-]+)*/[0-9a-f]{64}(-init)?/merged", "<merged>"),
    (
        r"<root>(/[\w.-]+)*/[0-9a-f]{64}(-init)?/(diff|upper)",
        "<upper>",
    ),
    (r"<root>(/[\w.-]+)*/[0-9a-f]{64}(-init)?/work", "<work>"),
];

impl Engine {
    /// Prepares `<work>/docker`, checks the daemon answers and imports `busybox:latest`.
    pub fn docker(host: &str, work: &Path, fixtures: &Path) -> Result<Engine, String> {
        let cli = find_on_path("docker").ok_or("no docker CLI on PATH")?;
        let mut e = Engine::new(
            Kind::Docker {
                host: host.to_string(),
            },
            work,
            fixtures,
        )?;
        let config = e.dir.join("config");
        std::fs::create_dir_all(&config).map_err(|err| err.to_string())?;
        e.write_wrapper(&format!(
            "export DOCKER_CONFIG='{}'\nexec '{}' -H '{host}' \"$@\"\n",
            config.display(),
            cli.display()
        ))?;
        let sess = e.bare_session();
        let root = e.must(&sess, "docker info --format '{{.DockerRootDir}}'")?;
        e.docker_root = root.trim().to_string();
        e.run(
            &sess,
            "docker rmi -f busybox:latest",
            &[],
            Duration::from_secs(60),
        );
        e.must(
            &sess,
            "docker import \"$FIXTURES/busybox.tar\" busybox:latest",
        )?;
        e.keep_image = e
            .must(
                &sess,
                "docker image inspect --format '{{.Id}}' busybox:latest",
            )?
            .trim()
            .to_string();
        Ok(e)
    }

    /// Prepares `<work>/berth` for the binary `bin`.
    pub fn berth(bin: &Path, work: &Path, fixtures: &Path) -> Result<Engine, String> {
        let bin = std::fs::canonicalize(bin)
            .map_err(|e| format!("berth binary {}: {e}", bin.display()))?;
        let e = Engine::new(Kind::Berth { bin: bin.clone() }, work, fixtures)?;
        // The scenarios were recorded from a dockerd without a default bridge
        // (`--bridge=none`); berth's engine file says the same.
        let config = e.dir.join(BERTH_CONFIG);
        std::fs::write(&config, "{\"bridge\": \"none\"}\n")
            .map_err(|err| format!("{}: {err}", config.display()))?;
        e.write_wrapper(&format!(
            "exec '{}' --root \"$CONFORMANCE_BERTH_ROOT\" --config-file '{}' \"$@\"\n",
            bin.display(),
            config.display()
        ))?;
        Ok(e)
    }

    fn new(kind: Kind, work: &Path, fixtures: &Path) -> Result<Engine, String> {
        let name = match kind {
            Kind::Docker { .. } => "docker",
            Kind::Berth { .. } => "berth",
        };
        let dir = work.join(name);
        std::fs::create_dir_all(dir.join("bin")).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Paths are compared literally in output (normalization), so no `..` or symlinks.
        let dir = std::fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Engine {
            kind,
            dir,
            fixtures: std::fs::canonicalize(fixtures).unwrap_or_else(|_| fixtures.to_path_buf()),
            harness: std::env::current_exe().map_err(|e| e.to_string())?,
            docker_root: String::new(),
            keep_image: String::new(),
            probes: RefCell::new(HashMap::new()),
            allow_berth_name: true,
        })
    }

    /// The program scenarios reach as `$HARNESS` (default: the running executable, which must be
    /// the `berth-conformance` binary; tests pass the binary cargo built for them).
    pub fn set_harness(&mut self, path: &Path) {
        self.harness = path.to_path_buf();
    }

    /// `docker` or `berth`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Docker { .. } => "docker",
            Kind::Berth { .. } => "berth",
        }
    }

    /// Path rules for the normalizer.
    pub fn path_rules(&self) -> &'static [(&'static str, &'static str)] {
        LAYER_PATHS
    }

    fn write_wrapper(&self, body: &str) -> Result<(), String> {
        let path = self.dir.join("bin/docker");
        std::fs::write(&path, format!("#!/bin/sh\n{body}"))
            .and_then(|_| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn bare_session(&self) -> Session {
        let scratch = self.dir.join("scratch");
        let mut env = vec![
            (
                "PATH".to_string(),
                format!(
                    "{}:{}",
                    self.dir.join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            ),
            ("FIXTURES".to_string(), self.fixtures.display().to_string()),
            ("HARNESS".to_string(), self.harness.display().to_string()),
            ("SCRATCH".to_string(), scratch.display().to_string()),
            ("LC_ALL".to_string(), "C".to_string()),
        ];
        if let Kind::Docker { host } = &self.kind {
            env.push((
                "API_SOCK".to_string(),
                host.trim_start_matches("unix://").to_string(),
            ));
        }
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let plugin = format!(
            "conformance-tp-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        env.push(("PLUGIN".to_string(), plugin.clone()));
        Session {
            env,
            root: self.docker_root.clone(),
            scratch,
            plugin,
            server: None,
        }
    }

    /// The berth features a scenario needs that the binary lacks (always empty for Docker):
    /// every `docker <command> [--flag]` in its setup and test steps is probed with
    /// `berth <command> --help` (unless the scenario says `probe: no`); `requires: api` needs a
    /// Docker API socket.
    pub fn missing_features(&self, sc: &Scenario) -> Vec<String> {
        let Kind::Berth { bin } = &self.kind else {
            return Vec::new();
        };
        let mut missing: Vec<String> = Vec::new();
        if sc.requires.iter().any(|r| r == "api") && probe(bin, &["serve".to_string()]).is_none() {
            missing.push("serve (the Docker API socket)".into());
        }
        for step in sc
            .steps
            .iter()
            .filter(|s| sc.probe && s.section != Section::Cleanup)
        {
            for (path, flags) in docker_invocations(&step.command) {
                let key = path.join(" ");
                let help = self
                    .probes
                    .borrow_mut()
                    .entry(key.clone())
                    .or_insert_with(|| probe(bin, &path))
                    .clone();
                let item = match help {
                    None => Some(key),
                    Some(help) => {
                        let absent: Vec<&String> =
                            flags.iter().filter(|f| !help_mentions(&help, f)).collect();
                        (!absent.is_empty()).then(|| {
                            format!(
                                "{key} {}",
                                absent
                                    .iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            )
                        })
                    }
                };
                if let Some(item) = item {
                    if !missing.contains(&item) {
                        missing.push(item);
                    }
                }
            }
        }
        missing
    }

    /// Fresh state for `sc`: clean data root (berth) or swept daemon (Docker), fixtures loaded.
    pub fn begin(&self, sc: &Scenario) -> Result<Session, String> {
        let mut sess = self.bare_session();
        sess.scratch = self.dir.join("scratch").join(&sc.name);
        remove_tree(&sess.scratch);
        std::fs::create_dir_all(&sess.scratch)
            .map_err(|e| format!("{}: {e}", sess.scratch.display()))?;
        set_env(
            &mut sess.env,
            "SCRATCH",
            &sess.scratch.display().to_string(),
        );
        match &self.kind {
            Kind::Berth { .. } => {
                let root = self.dir.join("roots").join(&sc.name);
                remove_tree(&root);
                sess.root = root.display().to_string();
                sess.env
                    .push(("CONFORMANCE_BERTH_ROOT".to_string(), sess.root.clone()));
                self.must(
                    &sess,
                    "docker import \"$FIXTURES/busybox.tar\" busybox:latest",
                )?;
            }
            Kind::Docker { .. } => self.sweep(&sess),
        }
        for image in &sc.images {
            if !fixtures::IMAGES.iter().any(|(name, _)| name == image) {
                return Err(format!("unknown fixture image {image:?}"));
            }
            self.must(&sess, &format!("docker load -i \"$FIXTURES/{image}.tar\""))?;
        }
        if sc.requires.iter().any(|r| r == "api") {
            self.start_server(&mut sess)?;
        }
        Ok(sess)
    }

    /// berth: starts `berth serve` on the session's data root, on a short socket path (a unix
    /// socket path must fit in 108 bytes), and waits until it answers.
    fn start_server(&self, sess: &mut Session) -> Result<(), String> {
        let Kind::Berth { bin } = &self.kind else {
            return Ok(());
        };
        let sock =
            std::env::temp_dir().join(format!("berth-conformance-{}.sock", std::process::id()));
        let mut child = Command::new(bin)
            .args(["--root", &sess.root, "--config-file"])
            .arg(self.dir.join(BERTH_CONFIG))
            .args(["serve", "-H"])
            .arg(format!("unix://{}", sock.display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("berth serve: {e}"))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&sock).is_err() {
            if std::time::Instant::now() > deadline || !matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("berth serve did not listen on {}", sock.display()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        sess.server = Some(child);
        sess.env
            .push(("API_SOCK".to_string(), sock.display().to_string()));
        Ok(())
    }

    /// Removes what the scenario left: containers, networks, mounts, the berth data root and its
    /// exec root, the scratch dir.
    pub fn end(&self, sess: &mut Session) {
        if let Some(mut server) = sess.server.take() {
            // SAFETY: kill(2) on our own child's pid; no memory involved.
            unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
            let _ = server.wait();
        }
        match &self.kind {
            Kind::Berth { bin } => {
                if probe(bin, &["ps".to_string()]).is_some() {
                    // The networks a failed scenario left go with berth's own teardown (their
                    // bridges and firewall rules are on the host, not under the root).
                    self.run(
                        sess,
                        "docker ps -aq | xargs -r docker rm -f -v; docker network prune -f",
                        &[],
                        Duration::from_secs(120),
                    );
                }
                kill_processes_mentioning(&sess.root);
                remove_tree(Path::new(&sess.root));
                // The root's exec root (network state, namespace files) is berth's default for
                // it, under /run/berth: it goes too.
                let exec_root =
                    berth_network::config::NetworkConfig::for_root(Path::new(&sess.root)).exec_root;
                remove_tree(&exec_root);
            }
            Kind::Docker { .. } => self.sweep(sess),
        }
        remove_tree(&sess.scratch);
    }

    /// Docker: removes every container, volume and image except `busybox:latest`.
    fn sweep(&self, sess: &Session) {
        let t = Duration::from_secs(300);
        self.run(sess, "docker ps -aq | xargs -r docker rm -f -v", &[], t);
        self.run(
            sess,
            "docker volume ls -q | xargs -r docker volume rm -f",
            &[],
            t,
        );
        let images = self
            .run(sess, "docker images -aq --no-trunc", &[], t)
            .stdout;
        let mut doomed: Vec<&str> = images.lines().filter(|id| *id != self.keep_image).collect();
        doomed.dedup();
        if !doomed.is_empty() {
            self.run(
                sess,
                &format!("docker rmi -f {} >/dev/null", doomed.join(" ")),
                &[],
                t,
            );
        }
    }

    fn must(&self, sess: &Session, cmd: &str) -> Result<String, String> {
        let out = self.run(sess, cmd, &[], Duration::from_secs(300));
        if out.code != 0 {
            return Err(format!(
                "`{cmd}` exited {}: {}",
                out.code,
                out.stderr.trim()
            ));
        }
        Ok(out.stdout)
    }

    /// Runs `cmd` with `sh -c` in the scenario's environment plus `vars`.
    pub fn run(
        &self,
        sess: &Session,
        cmd: &str,
        vars: &[(String, String)],
        timeout: Duration,
    ) -> Output {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(cmd);
        if sess.scratch.is_dir() {
            c.current_dir(&sess.scratch);
        }
        c.env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("BERTH_ROOT");
        c.envs(sess.env.iter().map(|(k, v)| (k, v)))
            .envs(vars.iter().map(|(k, v)| (k, v)));
        exec(c, timeout)
    }
}

fn set_env(env: &mut [(String, String)], key: &str, value: &str) {
    if let Some(e) = env.iter_mut().find(|(k, _)| k == key) {
        e.1 = value.to_string();
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            p.is_file()
                && !p.starts_with("/var/tmp")
                && !p.to_string_lossy().contains("conformance")
        })
}

/// `berth <path…> --help`: the help text, or None when the command does not exist.
fn probe(bin: &Path, path: &[String]) -> Option<String> {
    let out = Command::new(bin)
        .args(path)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| {
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.push_str(&String::from_utf8_lossy(&out.stderr));
        s
    })
}

fn help_mentions(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(i, _)| {
        let before = help[..i].chars().next_back();
        let after = help[i + flag.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
    })
}

/// Every `docker …` invocation in a shell command: the command words (`volume create`) and the
/// long flags given before the image argument.
pub fn docker_invocations(cmd: &str) -> Vec<(Vec<String>, Vec<String>)> {
    // Single-quoted text is data (often a container's `sh -c` script), never a docker command.
    let mut text = String::new();
    let mut in_single = false;
    let mut chars = cmd.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => in_single = !in_single,
            _ if in_single => {}
            '"' | '\\' => text.push(' '),
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                text.push_str(" \u{1} ");
            }
            '|' | ';' | '&' | '(' | ')' | '`' | '\n' => text.push_str(" \u{1} "),
            c => text.push(c),
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] != "docker" {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut path = Vec::new();
        if let Some(w) = words.get(j).filter(|w| is_word(w)) {
            path.push(w.to_string());
            j += 1;
            if MANAGEMENT.contains(w) {
                if let Some(w2) = words.get(j).filter(|w| is_word(w)) {
                    path.push(w2.to_string());
                    j += 1;
                }
            }
        }
        let mut flags = Vec::new();
        while let Some(w) = words.get(j).filter(|w| **w != "\u{1}") {
            if is_image(w) {
                break;
            }
            if let Some(f) = w.strip_prefix("--").filter(|f| !f.is_empty()) {
                let f = format!("--{}", f.split('=').next().unwrap_or(f));
                if !flags.contains(&f) {
                    flags.push(f);
                }
            }
            j += 1;
        }
        if !path.is_empty() {
            found.push((path, flags));
        }
        i = j;
    }
    found
}

fn is_word(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
}

fn is_image(w: &str) -> bool {
    w == "busybox" || w.starts_with("busybox:") || fixtures::IMAGES.iter().any(|(_, tag)| w == *tag)
}

/// Runs a command with a timeout, collecting both streams even if a daemonized grandchild keeps
/// the pipes open (then whatever was written before the command exited, plus 2 s, is kept).
fn exec(mut c: Command, timeout: Duration) -> Output {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match c.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Output {
                stderr: format!("conformance: cannot run /bin/sh: {e}"),
                code: 127,
                ..Output::default()
            }
        }
    };
    let collect = |mut r: Box<dyn Read + Send>| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let b = buf.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                b.lock().expect("buffer").extend_from_slice(&chunk[..n]);
            }
            let _ = tx.send(());
        });
        (buf, rx)
    };
    let (out, out_done) = collect(Box::new(child.stdout.take().expect("piped")));
    let (err, err_done) = collect(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                // SAFETY: kill(2) on the process group we created for this child; no memory involved.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let _ = out_done.recv_timeout(Duration::from_secs(2));
    let _ = err_done.recv_timeout(Duration::from_secs(2));
    let text =
        |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().expect("buffer")).into_owned();
    let mut o = Output {
        stdout: text(&out),
        stderr: text(&err),
        code: status.and_then(|s| s.code()).unwrap_or(-1),
    };
    if timed_out {
        o.stderr.push_str(&format!(
            "[conformance: killed after {} s]\n",
            timeout.as_secs()
        ));
        o.code = 124;
    }
    o
}

/// Mount points at or below `dir`, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.display().to_string();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts: Vec<String> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mount)
        .filter(|m| m == &prefix || m.starts_with(&format!("{prefix}/")))
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    mounts.dedup();
    mounts
}

fn unescape_mount(s: &str) -> String {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v as char);
                i += 4;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

/// Unmounts everything below `dir` (lazily, deepest first) and deletes it.
pub fn remove_tree(dir: &Path) {
    for _ in 0..5 {
        let mounts = mounts_under(dir);
        if mounts.is_empty() {
            break;
        }
        for m in mounts {
            if let Ok(c) = std::ffi::CString::new(m) {
                // SAFETY: umount2(2) with a valid NUL-terminated path; failure is ignored.
                unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// SIGKILLs processes (berth shims) whose command line names `root`, a per-scenario data root.
fn kill_processes_mentioning(root: &str) {
    if root.is_empty() {
        return;
    }
    let me = std::process::id();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(root) {
            // SAFETY: kill(2) on a pid we just read; no memory involved.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_docker_invocations_and_their_flags() {
        let inv = docker_invocations(
            "docker volume create --label a=b spec-v && stat \"$(docker inspect -f '{{.X}}' c)/x\" | docker run --rm -v a:/b busybox ls --color",
        );
        let flat: Vec<String> = inv
            .iter()
            .map(|(p, f)| format!("{} {}", p.join(" "), f.join(" ")))
            .collect();
        assert_eq!(flat, vec!["volume create --label", "inspect ", "run --rm"]);
    }

    #[test]
    fn help_mentions_whole_flags_only() {
        assert!(help_mentions(
            "  -v, --volume list   Bind mount",
            "--volume"
        ));
        assert!(!help_mentions("  --volumes-from list", "--volume"));
    }
}
