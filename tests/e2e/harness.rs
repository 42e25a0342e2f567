//! [`Berth`] is one isolated berth installation for a test: a temp data root, the built binary,
//! helpers to run commands (each with a timeout, so a hang fails the test instead of blocking CI)
//! and read their output, and a `Drop` that kills what the test left running under the root (its
//! shims and berth processes, then the runtime's containers), unmounts everything under the root
//! (deepest first) and removes it, so a failing test leaves no running containers or mounts
//! behind. It also fails a test that left networking under the root's fallback settings (a
//! config file written over the harness's, see `net_harness::clean_fallback_network`). [`Pty`] is a terminal the test owns, for interactive sessions. Fixture builders make
//! busybox root filesystems and multi-layer image archives without any network.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::{Read as _, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// The berth binary cargo built for these tests.
pub fn berth_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth")
}

/// A temp data root plus the command runner.
pub struct Berth {
    dir: tempfile::TempDir,
    pub driver: Option<&'static str>,
    /// The addresses and bridge name this root's networks use.
    pub net: crate::net_harness::NetClaim,
}

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        }
    }

    /// Panics with the whole output unless the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "command failed: {self:#?}");
        self
    }

    /// Panics unless the command failed with `code`.
    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit: {self:#?}");
        self
    }

    /// stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// The runtime the e2e tests run containers on: `BERTH_E2E_RUNTIME` (e.g. `runc`), written as
/// the roots' `default-runtime`; unset or empty, the engine's default (`berth`, the in-process
/// runtime). CI runs the whole suite on the default, then the runtime-sensitive modules again
/// with `BERTH_E2E_RUNTIME=runc` (`.ci/run`).
pub fn e2e_runtime() -> Option<String> {
    std::env::var("BERTH_E2E_RUNTIME")
        .ok()
        .filter(|r| !r.is_empty())
}

impl Berth {
    /// A fresh data root with the default driver.
    pub fn new() -> Berth {
        Berth::with_driver(None)
    }

    /// A fresh data root with `--storage-driver driver`.
    pub fn with_driver(driver: Option<&'static str>) -> Berth {
        let dir = tempfile::Builder::new()
            .prefix("berth-e2e-")
            .tempdir_in(scratch_dir())
            .expect("temp dir");
        let net = crate::net_harness::NetClaim::acquire();
        let mut config: serde_json::Value =
            serde_json::from_str(&net.config(&dir.path().join("exec"))).expect("engine config");
        if let Some(runtime) = e2e_runtime() {
            config["default-runtime"] = runtime.into();
        }
        std::fs::write(dir.path().join("daemon.json"), config.to_string()).expect("engine config");
        Berth { dir, driver, net }
    }

    /// The engine configuration file of this root (exec root, bridge, subnets).
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("daemon.json")
    }

    /// Sets `key` to `value` in this root's engine configuration file.
    pub fn set_setting(&self, key: &str, value: serde_json::Value) {
        let path = self.config_file();
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("engine config"))
                .expect("engine config");
        config[key] = value;
        std::fs::write(&path, config.to_string()).expect("engine config");
    }

    /// The exec root: namespace files, netavark's and aardvark-dns's state.
    pub fn exec_root(&self) -> PathBuf {
        self.dir.path().join("exec")
    }

    /// The data root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The layer directories under `<root>/layers` (not the `l/` link dir), sorted.
    pub fn layer_dirs(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root().join("layers"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                    .filter(|n| n != "l")
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// `sqlite3 OPTS <root>/berth.db SQL` (OPTS such as `-readonly`): what it prints, without
    /// the last newline. Tests read (and, to stage what a crash leaves, write) the metadata as an
    /// outside tool would.
    #[track_caller]
    pub fn sqlite(&self, opts: &[&str], sql: &str) -> String {
        let out = Command::new("sqlite3")
            .args(opts)
            .arg(self.root().join("berth.db"))
            .arg(sql)
            .output()
            .expect("sqlite3 is installed (CI installs it)");
        assert!(
            out.status.success(),
            "sqlite3 {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        text.strip_suffix('\n').unwrap_or(&text).to_string()
    }

    /// A scratch path next to the root (outside it) for test files.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join("scratch");
        std::fs::create_dir_all(&p).unwrap();
        p.join(name)
    }

    /// `berth ARGS` with this root, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(berth_bin());
        c.env("BERTH_ROOT", self.root());
        c.env("BERTH_CONFIG_FILE", self.config_file());
        c.env_remove("BERTH_STORAGE_DRIVER");
        if let Some(d) = self.driver {
            c.args(["--storage-driver", d]);
        }
        c.args(args);
        c.stdin(Stdio::null());
        c
    }

    /// `berth run --rm OPTS busybox sh -c SCRIPT`, run (not checked).
    #[track_caller]
    pub fn run_rm_sh(&self, opts: &[&str], script: &str) -> Run {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(opts);
        args.extend(["busybox", "sh", "-c", script]);
        self.run(&args)
    }

    /// Runs `berth ARGS`; panics if it takes longer than [`CMD_TIMEOUT`].
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_timeout(args, CMD_TIMEOUT)
    }

    /// Runs `berth ARGS`; panics (after killing it) if it takes longer than `timeout`.
    #[track_caller]
    pub fn run_timeout(&self, args: &[&str], timeout: Duration) -> Run {
        output_timeout(self.command(args), None, timeout)
    }

    /// Runs `berth ARGS` with `input` on stdin.
    #[track_caller]
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        output_timeout(self.command(args), Some(input), CMD_TIMEOUT)
    }

    /// `berth run -d ARGS...`: checks it succeeded and returns the printed container ID.
    #[track_caller]
    pub fn run_d(&self, args: &[&str]) -> String {
        let mut all = vec!["run", "-d"];
        all.extend_from_slice(args);
        let out = self.run(&all).ok();
        let id = out.stdout.trim().to_string();
        assert!(is_full_id(&id), "run -d printed {out:?}");
        id
    }

    /// `berth container inspect NAME`, parsed; panics if it fails.
    #[track_caller]
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.run(&["container", "inspect", name]).ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("inspect output is not JSON ({e}): {out:?}"));
        v[0].clone()
    }

    /// The host directory of container `name`'s writable layer (`GraphDriver.Data.UpperDir`).
    #[track_caller]
    pub fn upper_dir(&self, name: &str) -> PathBuf {
        let v = self.inspect(name);
        PathBuf::from(
            v["GraphDriver"]["Data"]["UpperDir"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no UpperDir: {v}")),
        )
    }

    /// The full ID of container `name`.
    #[track_caller]
    pub fn id_of(&self, name: &str) -> String {
        self.inspect(name)["Id"].as_str().unwrap().to_string()
    }

    /// `State.Status` of container `name`.
    #[track_caller]
    pub fn status_of(&self, name: &str) -> String {
        self.inspect(name)["State"]["Status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `ps -a` as (name, Status) pairs, newest first.
    #[track_caller]
    pub fn ps_all(&self) -> Vec<(String, String)> {
        self.run(&["ps", "-a", "--format", "{{.Names}}|{{.Status}}"])
            .ok()
            .stdout
            .lines()
            .map(|l| {
                let (n, s) = l.split_once('|').unwrap_or((l, ""));
                (n.to_string(), s.to_string())
            })
            .collect()
    }

    /// The `ps -a` Status of container `name`, if it is listed.
    #[track_caller]
    pub fn ps_status(&self, name: &str) -> Option<String> {
        self.ps_all()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// Starts `berth ARGS` in the background with stdout and stderr going to files next to the
    /// root (read them with [`Background::stdout`]).
    pub fn spawn(&self, args: &[&str]) -> Background {
        let n = SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = self.scratch(&format!("bg-{n}.out"));
        let err = self.scratch(&format!("bg-{n}.err"));
        let child = self
            .command(args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("berth runs");
        Background {
            child,
            out,
            err,
            args: args.join(" "),
        }
    }

    /// Starts `berth ARGS` on the slave side of a new pty, as from a terminal.
    pub fn spawn_pty(&self, args: &[&str]) -> Pty {
        Pty::spawn(self.command(args), args.join(" "))
    }

    /// Mount points below the data root whose path mentions `id`.
    pub fn mounts_of(&self, id: &str) -> Vec<String> {
        mounts_under(&self.root())
            .into_iter()
            .filter(|m| m.contains(id))
            .collect()
    }

    /// The busybox rootfs tarball, written next to the root on first use.
    pub fn busybox_tar_path(&self) -> PathBuf {
        let tar = self.scratch("busybox.tar");
        if !tar.exists() {
            std::fs::write(&tar, busybox_tar()).unwrap();
        }
        tar
    }

    /// Imports the busybox rootfs as `name` and returns the image ID.
    pub fn busybox(&self, name: &str) -> String {
        let tar = self.busybox_tar_path();
        self.run(&["import", tar.to_str().unwrap(), name])
            .ok()
            .stdout
            .trim()
            .to_string()
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        let root = self.root();
        kill_processes_of(&root);
        kill_processes_of(&self.exec_root());
        delete_runtime_containers(&self.exec_root());
        unmount_under(self.dir.path());
        if self.exec_root().exists() {
            crate::net_harness::cleanup(self.net.block, &self.net.bridge(), &self.exec_root());
        }
        let leaked = crate::net_harness::clean_fallback_network(&root);
        if !leaked.is_empty() && !std::thread::panicking() {
            panic!(
                "the test left berth's fallback networking of its root on the host ({}): its \
                 engine config lost the harness's bridge and exec root (change settings with \
                 Berth::set_setting instead of writing the file)",
                leaked.join(", ")
            );
        }
    }
}

/// How long one berth command may take before the test fails.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(180);

/// A generous bound for things that should happen "soon" (a container stopping, a state
/// change becoming visible) on a loaded CI machine.
pub const SOON: Duration = Duration::from_secs(60);

static SPAWNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether `s` is a full 64-hex container/image ID.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Runs `cmd` with `input` on stdin (or /dev/null), collecting its output; kills it and panics
/// if it runs longer than `timeout`. Also panics if something it started keeps its stdout or
/// stderr open long after it exited (a leaked descriptor would hang callers like `$(berth ...)`).
#[track_caller]
pub fn output_timeout(mut cmd: Command, input: Option<&[u8]>, timeout: Duration) -> Run {
    let what = format!("{cmd:?}");
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let writer = child.stdin.take().map(|mut stdin| {
        let data = input.unwrap_or_default().to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        })
    });
    let (tx, rx) = std::sync::mpsc::channel();
    for (i, pipe) in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .enumerate()
    {
        let tx = tx.clone();
        let mut pipe = pipe.unwrap();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send((i, buf));
        });
    }
    drop(tx);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let mut partial = [Vec::new(), Vec::new()];
            while let Ok((i, b)) = rx.recv_timeout(Duration::from_secs(5)) {
                partial[i] = b;
            }
            panic!(
                "timed out after {timeout:?}: {what}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&partial[0]),
                String::from_utf8_lossy(&partial[1])
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut bufs = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok((i, b)) => bufs[i] = b,
            Err(_) => panic!("{what} exited but a process it started keeps its stdout/stderr open"),
        }
    }
    if let Some(w) = writer {
        let _ = w.join();
    }
    let [stdout, stderr] = bufs;
    Run::from(Output {
        status,
        stdout,
        stderr,
    })
}

/// A berth command running in the background, its output going to files.
pub struct Background {
    pub child: Child,
    out: PathBuf,
    err: PathBuf,
    args: String,
}

impl Background {
    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.err).unwrap_or_default()).into_owned()
    }

    /// Waits until stdout contains `needle`; panics with the output so far after `timeout`.
    #[track_caller]
    pub fn wait_stdout(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stdout().contains(needle) {
                return;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                if self.stdout().contains(needle) {
                    return;
                }
                panic!(
                    "`berth {}` exited ({st}) without printing {needle:?}: stdout {:?} stderr {:?}",
                    self.args,
                    self.stdout(),
                    self.stderr()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "`berth {}` did not print {needle:?} within {timeout:?}: stdout {:?} stderr {:?}",
                    self.args,
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for it to exit and returns its output; panics (after killing it) on timeout.
    #[track_caller]
    pub fn wait(&mut self, timeout: Duration) -> Run {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Run {
                    stdout: self.stdout(),
                    stderr: self.stderr(),
                    code: st.code().unwrap_or(-1),
                };
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`berth {}` did not exit within {timeout:?}: stdout {:?} stderr {:?}",
                    self.args,
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `f` until it returns true; panics naming `what` after `timeout`.
#[track_caller]
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    wait_until(what, timeout, || f().then_some(()))
}

/// Polls `f` until it returns `Some`; panics naming `what` after `timeout`.
#[track_caller]
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// The pids of processes (other than this one) whose command line mentions `root` as a whole
/// path (`<root>` or `<root>/...`: shims run as `berth --root <root> shim <id>`, runc as
/// `runc --root <root>/runtime ...`) or whose environment has `BERTH_ROOT=<root>` (berth
/// commands started by the harness).
pub fn processes_of(root: &Path) -> Vec<i32> {
    let root = root.as_os_str().as_bytes();
    let mut env = b"BERTH_ROOT=".to_vec();
    env.extend_from_slice(root);
    let me = std::process::id() as i32;
    let mut pids = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let in_cmdline = cmdline.split(|b| *b == 0).any(|arg| {
            arg.windows(root.len())
                .enumerate()
                .any(|(i, w)| w == root && matches!(arg.get(i + root.len()), None | Some(b'/')))
        });
        let in_env = || {
            std::fs::read(format!("/proc/{pid}/environ"))
                .unwrap_or_default()
                .split(|b| *b == 0)
                .any(|v| v == env.as_slice())
        };
        if in_cmdline || in_env() {
            pids.push(pid);
        }
    }
    pids
}

/// SIGKILLs every process of [`processes_of`] `root`, a few rounds (a dying shim may have
/// been about to start a runc).
pub fn kill_processes_of(root: &Path) {
    for _ in 0..3 {
        let pids = processes_of(root);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: kill(2) with a pid read from /proc; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ends every container a test left behind: SIGKILL to each in-process runtime container's
/// init (its state is `<exec root>/runtime-berth/<id>/state.json`) and `berth oci-runtime
/// delete -f` of it (which removes its cgroup directories, outside the root: they were left on
/// the host before), then `runc --root <exec root>/runtime delete -f` of every container runc
/// still knows there.
pub fn delete_runtime_containers(root: &Path) {
    let in_process = root.join("runtime-berth");
    let mut in_process_ids = Vec::new();
    for e in std::fs::read_dir(&in_process)
        .into_iter()
        .flatten()
        .flatten()
    {
        let state = std::fs::read(e.path().join("state.json")).unwrap_or_default();
        let pid = serde_json::from_slice::<serde_json::Value>(&state)
            .ok()
            .and_then(|s| s["pid"].as_i64())
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0);
        let id = e.file_name().to_string_lossy().into_owned();
        if !id.starts_with('.') {
            in_process_ids.push(id.clone());
        }
        if let Some(pid) = pid {
            // Still this container's process (not a reused pid): its cgroup names the ID.
            let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
            if cgroup.contains(&id) {
                // SAFETY: kill(2) with a pid read from the runtime's state; no memory is involved.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
    let run = |mut c: Command| -> Option<Output> {
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().ok()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().ok()?.is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait_with_output().ok()
    };
    for id in &in_process_ids {
        let mut c = Command::new(berth_bin());
        c.args(["oci-runtime", "--", "--root"])
            .arg(&in_process)
            .args(["delete", "-f", id]);
        run(c);
    }
    let state = root.join("runtime");
    if !state.is_dir() {
        return;
    }
    let runc = |args: &[&str]| -> Option<Output> {
        let mut c = Command::new("runc");
        c.arg("--root").arg(&state).args(args);
        run(c)
    };
    let Some(list) = runc(&["list", "-q"]) else {
        return;
    };
    for id in String::from_utf8_lossy(&list.stdout).lines() {
        let id = id.trim();
        if !id.is_empty() {
            runc(&["delete", "-f", id]);
        }
    }
}

/// Whether process `pid` has exited (gone, or a zombie nobody reaped yet).
pub fn process_gone(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// Pids whose command line is exactly `... shim <id>` (berth's shim of container `id`).
pub fn shim_pids(id: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .collect();
        if args
            .windows(2)
            .any(|w| w[0] == b"shim" && w[1] == id.as_bytes())
        {
            out.push(pid);
        }
    }
    out
}

/// SIGKILLs `pid` and waits until it is gone or a zombie.
#[track_caller]
pub fn kill9(pid: i64) {
    // SAFETY: kill(2) with a plain pid; no memory is involved.
    let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    assert_eq!(r, 0, "kill -9 {pid}: {}", std::io::Error::last_os_error());
    wait_for(&format!("process {pid} to die"), SOON, || process_gone(pid));
}

// ---------------------------------------------------------------------------------------------
// A terminal for interactive sessions

/// A pty whose slave side is the controlling terminal, stdin, stdout and stderr of a berth
/// command: the test plays the terminal on the master side. Every read has a timeout.
pub struct Pty {
    master: OwnedFd,
    child: Child,
    out: Vec<u8>,
    /// How far [`Pty::expect`] has consumed `out`.
    cursor: usize,
    eof: bool,
    args: String,
}

impl Pty {
    pub fn spawn(mut cmd: Command, args: String) -> Pty {
        // SAFETY: plain libc calls on descriptors this function owns; the returned name is
        // copied out of the buffer before use. O_CLOEXEC everywhere so that no child spawned
        // concurrently by another test inherits either side.
        let (master, slave) = unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            let master = OwnedFd::from_raw_fd(m);
            assert_eq!(libc::grantpt(m), 0, "grantpt");
            assert_eq!(libc::unlockpt(m), 0, "unlockpt");
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
            let s = libc::open(
                name.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            );
            assert!(
                s >= 0,
                "open pty slave: {}",
                std::io::Error::last_os_error()
            );
            let ws = libc::winsize {
                ws_row: 24,
                ws_col: 80,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            libc::ioctl(m, libc::TIOCSWINSZ, &ws);
            (master, OwnedFd::from_raw_fd(s))
        };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe; the child makes the pty (its stdin,
        // already dup'ed to fd 0) its controlling terminal, as a login shell's terminal is.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("berth runs");
        drop(cmd); // closes this process's copies of the slave
        Pty {
            master,
            child,
            out: Vec::new(),
            cursor: 0,
            eof: false,
            args,
        }
    }

    /// Reads what is available within `wait` (at most); false at end of output.
    fn read_some(&mut self, wait: Duration) -> bool {
        if self.eof {
            return false;
        }
        let mut pfd = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n <= 0 {
            return true;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: reads into a local buffer of the given length.
        let r = unsafe { libc::read(self.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if r > 0 {
            self.out.extend_from_slice(&buf[..r as usize]);
            true
        } else {
            // EIO: every slave descriptor is closed.
            self.eof = true;
            false
        }
    }

    /// Everything the terminal received so far, lossily decoded.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// Waits until the output after the previous match contains `needle`, and consumes it.
    #[track_caller]
    pub fn expect(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = find(&self.out[self.cursor..], needle.as_bytes()) {
                self.cursor += i + needle.len();
                return;
            }
            let now = Instant::now();
            if now >= deadline || !self.read_some(deadline - now) {
                panic!(
                    "`berth {}`: {needle:?} did not appear within {timeout:?} (eof: {}); terminal so far: {:?}",
                    self.args,
                    self.eof,
                    self.output()
                );
            }
        }
    }

    /// Types `bytes` on the terminal.
    #[track_caller]
    pub fn send(&mut self, bytes: &[u8]) {
        let mut f = std::fs::File::from(self.master.try_clone().unwrap());
        f.write_all(bytes).expect("write to the pty");
    }

    /// Waits until the program has put the terminal in raw mode (no echo, no line editing),
    /// so that what is typed next goes to it byte by byte.
    #[track_caller]
    pub fn wait_raw(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            // SAFETY: tcgetattr fills a zeroed termios owned by this frame.
            let raw = unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                libc::tcgetattr(self.master.as_raw_fd(), &mut t) == 0
                    && t.c_lflag & (libc::ICANON | libc::ECHO) == 0
            };
            if raw {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "`berth {}` did not put the terminal in raw mode within {timeout:?}; terminal: {:?}",
                    self.args,
                    self.output()
                );
            }
            self.read_some(Duration::from_millis(20));
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!(
                    "`berth {}` exited ({st}) before putting the terminal in raw mode; terminal: {:?}",
                    self.args,
                    self.output()
                );
            }
        }
    }

    /// Waits for the command to exit (reading its output meanwhile) and returns its code.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Drain what is left: until end of output or a quiet moment.
                loop {
                    let before = self.out.len();
                    if !self.read_some(Duration::from_millis(200)) || self.out.len() == before {
                        break;
                    }
                }
                return st.code().unwrap_or(-1);
            }
            if Instant::now() >= deadline {
                panic!(
                    "`berth {}` did not exit within {timeout:?}; terminal: {:?}",
                    self.args,
                    self.output()
                );
            }
            self.read_some(Duration::from_millis(50));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Directory snapshots

/// Every entry below `dir` (itself included, as ".") → its type, mode, owner, size, mtime,
/// extended attributes and content hash (files), target (symlinks) or device number. Equal
/// snapshots mean byte-identical trees.
pub fn tree_snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    snapshot_into(dir, dir, &mut out);
    out
}

fn snapshot_into(base: &Path, p: &Path, out: &mut BTreeMap<String, String>) {
    let md = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let rel = p.strip_prefix(base).unwrap().to_string_lossy().to_string();
    let rel = if rel.is_empty() { ".".to_string() } else { rel };
    let ft = md.file_type();
    let what = if ft.is_file() {
        format!("file {}", sha256_hex(&std::fs::read(p).unwrap()))
    } else if ft.is_symlink() {
        format!("symlink {}", std::fs::read_link(p).unwrap().display())
    } else if ft.is_dir() {
        "dir".to_string()
    } else {
        format!("special rdev={}", md.rdev())
    };
    out.insert(
        rel,
        format!(
            "{what} mode={:o} uid={} gid={} size={} mtime={}.{} xattrs={:?}",
            md.mode(),
            md.uid(),
            md.gid(),
            if ft.is_dir() { 0 } else { md.size() },
            md.mtime(),
            md.mtime_nsec(),
            xattrs(p)
        ),
    );
    if ft.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for n in names {
            snapshot_into(base, &n, out);
        }
    }
}

/// The extended attributes of `p` (not following symlinks), name → value.
pub fn xattrs(p: &Path) -> BTreeMap<String, Vec<u8>> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let mut out = BTreeMap::new();
    let mut names = vec![0u8; 64 * 1024];
    // SAFETY: the buffers outlive the calls and their lengths are passed along.
    let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return out;
    }
    for name in names[..n as usize]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
    {
        let cname = CString::new(name).unwrap();
        let mut val = vec![0u8; 64 * 1024];
        // SAFETY: as above.
        let m = unsafe {
            libc::lgetxattr(
                c.as_ptr(),
                cname.as_ptr(),
                val.as_mut_ptr().cast(),
                val.len(),
            )
        };
        val.truncate(m.max(0) as usize);
        out.insert(String::from_utf8_lossy(name).into_owned(), val);
    }
    out
}

/// Unmounts every mount point at or below `dir`, deepest first (lazily if busy).
pub fn unmount_under(dir: &Path) {
    let prefix = dir.to_string_lossy().to_string();
    for _ in 0..3 {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|p| p.replace("\\040", " "))
            .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
            .collect();
        if points.is_empty() {
            return;
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let c = std::ffi::CString::new(p).unwrap();
            // SAFETY: a valid NUL-terminated path; umount2 does not retain it.
            unsafe {
                if libc::umount2(c.as_ptr(), 0) != 0 {
                    libc::umount2(c.as_ptr(), libc::MNT_DETACH);
                }
            }
        }
    }
}

/// Where test roots live: a directory on the machine's disk (not tmpfs), so overlay works.
pub fn scratch_dir() -> PathBuf {
    let p = std::env::var_os("BERTH_TEST_SCRATCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Mount points currently below `dir`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|p| p.starts_with(&prefix))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A tar entry for fixture building.
pub enum Entry<'a> {
    Dir(&'a str, u32),
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    /// A file owned by uid:gid.
    Owned(&'a str, &'a [u8], u32, u64, u64),
    /// A directory owned by uid:gid.
    OwnedDir(&'a str, u32, u64, u64),
}

/// Builds an uncompressed tar from entries, with fixed mtimes.
pub fn tar_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            Entry::Dir(p, mode) | Entry::OwnedDir(p, mode, _, _) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                if let Entry::OwnedDir(_, _, u, g) = e {
                    h.set_uid(*u);
                    h.set_gid(*g);
                }
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            Entry::File(p, data, mode) | Entry::Owned(p, data, mode, _, _) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                if let Entry::Owned(_, _, _, u, g) = e {
                    h.set_uid(*u);
                    h.set_gid(*g);
                }
                b.append_data(&mut h, p, *data).unwrap();
            }
            Entry::Symlink(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A busybox root filesystem tar: `/bin/busybox` from the host plus one symlink per applet and
/// the usual top-level directories. Built once per test process.
pub fn busybox_tar() -> Vec<u8> {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let busybox = std::fs::read("/bin/busybox")
            .expect("/bin/busybox (Debian package busybox-static) is installed");
        let list = Command::new("/bin/busybox")
            .arg("--list")
            .output()
            .expect("busybox --list");
        let applets: Vec<String> = String::from_utf8_lossy(&list.stdout)
            .lines()
            .filter(|a| !a.is_empty() && *a != "busybox")
            .map(|a| format!("bin/{a}"))
            .collect();
        let mut entries = vec![
            Entry::Dir("bin", 0o755),
            Entry::File("bin/busybox", &busybox, 0o755),
        ];
        for a in &applets {
            entries.push(Entry::Symlink(a, "busybox"));
        }
        for d in ["dev", "etc", "proc", "sys", "tmp", "root", "var", "home"] {
            entries.push(Entry::Dir(d, if d == "tmp" { 0o1777 } else { 0o755 }));
        }
        entries.push(Entry::File(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
            0o644,
        ));
        entries.push(Entry::File(
            "etc/group",
            b"root:x:0:\nnogroup:x:65534:\n",
            0o644,
        ));
        tar_of(&entries)
    })
    .clone()
}

/// sha256 hex of bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A `docker save`-style archive holding one image made of `layers` (uncompressed tars),
/// tagged `tag`, with a Docker-shaped config. Returns the archive and the diff IDs.
pub fn image_archive(
    layers: &[Vec<u8>],
    tag: &str,
    config: serde_json::Value,
) -> (Vec<u8>, Vec<String>) {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let history: Vec<serde_json::Value> = diff_ids
        .iter()
        .enumerate()
        .map(|(i, _)| serde_json::json!({"created": "2026-01-01T00:00:00Z", "created_by": format!("layer {i}")}))
        .collect();
    let cfg = serde_json::json!({
        "architecture": "amd64",
        "config": config,
        "created": "2026-01-01T00:00:00Z",
        "history": history,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let cfg_bytes = serde_json::to_vec(&cfg).unwrap();
    let cfg_name = format!("{}.json", sha256_hex(&cfg_bytes));
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, name, data).unwrap();
    };
    add(&cfg_name, &cfg_bytes);
    let mut paths = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let p = format!("layer{i}/layer.tar");
        add(&p, l);
        paths.push(p);
    }
    let manifest = serde_json::json!([{"Config": cfg_name, "RepoTags": [tag], "Layers": paths}]);
    add("manifest.json", manifest.to_string().as_bytes());
    (b.into_inner().unwrap(), diff_ids)
}

/// The three-layer image of the storage spec's examples: busybox; then `/data` (1000:2000 0750)
/// with `a.txt`, `sub/b.txt`, `/etcx/c.conf`, `/empty/`; then a layer deleting `data/sub/b.txt`
/// (whiteout) and making `/etcx` opaque with a new `n.conf`.
pub fn three_layer_archive(tag: &str) -> (Vec<u8>, Vec<String>) {
    let l2 = tar_of(&[
        Entry::OwnedDir("data", 0o750, 1000, 2000),
        Entry::Owned("data/a.txt", b"hello\n", 0o644, 1000, 2000),
        Entry::Dir("data/sub", 0o755),
        Entry::File("data/sub/b.txt", b"bee\n", 0o644),
        Entry::Dir("etcx", 0o755),
        Entry::File("etcx/c.conf", b"c=1\n", 0o644),
        Entry::Dir("empty", 0o755),
    ]);
    let l3 = tar_of(&[
        Entry::Dir("data", 0o750),
        Entry::Dir("data/sub", 0o755),
        Entry::File("data/sub/.wh.b.txt", b"", 0o600),
        Entry::Dir("etcx", 0o755),
        Entry::File("etcx/.wh..wh..opq", b"", 0o755),
        Entry::File("etcx/n.conf", b"new\n", 0o644),
    ]);
    image_archive(
        &[busybox_tar(), l2, l3],
        tag,
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
    )
}

/// Entries of a tar: name → (size, bytes).
pub fn tar_entries(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut a = tar::Archive::new(data);
    let mut out = BTreeMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().to_string();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut buf).unwrap();
        out.insert(name, buf);
    }
    out
}
