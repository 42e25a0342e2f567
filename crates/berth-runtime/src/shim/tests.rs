//! Shim tests: real runc, a busybox rootfs, the shim as a separate process (this test binary
//! re-executed with `shim_main` as its only test).

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;
use crate::attach::{AttachClient, AttachIo, AttachOptions, AttachOutcome, DetachKeys, Frame};
use crate::exec::{exec, ExecError, ExecMode, ExecOutcome, ExecSpec};
use crate::fdio;
use crate::logs::{read_logs, LogEntry, LogOptions, Stream};
use crate::spec::{ContainerSpec, User};
use crate::term::{self, PtyPair, WinSize};
use crate::testutil::TestEnv;

/// Set (to the path of a `shim.json`) when this test binary runs as a shim.
const SHIM_ENV: &str = "BERTH_TEST_SHIM_CONFIG";

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum HookEvent {
    Started { pid: i32, at: DateTime<Utc> },
    Exited { exit: ExitInfo },
}

/// Test hooks: every event as a JSON line in `<container dir>/hooks.log`.
struct FileHooks {
    path: PathBuf,
}

impl FileHooks {
    fn record(&self, e: &HookEvent) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .unwrap();
        let mut line = serde_json::to_vec(e).unwrap();
        line.push(b'\n');
        f.write_all(&line).unwrap();
    }
}

impl ShimHooks for FileHooks {
    fn started(&mut self, pid: i32, at: DateTime<Utc>) -> Result<(), Box<dyn std::error::Error>> {
        self.record(&HookEvent::Started { pid, at });
        Ok(())
    }

    fn exited(&mut self, exit: &ExitInfo) {
        self.record(&HookEvent::Exited { exit: exit.clone() });
    }
}

/// The shim's entry point when this binary is re-executed by [`shim_command`]; a no-op test
/// otherwise.
#[test]
fn shim_main() {
    let Ok(config) = std::env::var(SHIM_ENV) else {
        return;
    };
    let cfg = ShimConfig::load(Path::new(&config)).unwrap();
    let mut hooks = FileHooks {
        path: cfg.container_dir.join("hooks.log"),
    };
    run_shim(cfg, &mut hooks)
}

fn shim_command(config: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "shim::tests::shim_main",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env(SHIM_ENV, config);
    cmd
}

struct Ctr {
    cfg: ShimConfig,
    dir: PathBuf,
}

#[derive(Clone, Copy)]
struct Opts {
    tty: bool,
    open_stdin: bool,
    stdin_once: bool,
    start: StartMode,
}

const DETACHED: Opts = Opts {
    tty: false,
    open_stdin: false,
    stdin_once: false,
    start: StartMode::Immediate,
};

/// Which runtime a test's shim drives.
#[derive(Clone, Copy, Debug)]
enum Which {
    Runc,
    InProcess,
}

impl Which {
    fn runtime(self, env: &TestEnv) -> crate::runtime::AnyRuntime {
        match self {
            Which::Runc => crate::runtime::AnyRuntime::Cli(env.runc()),
            Which::InProcess => crate::runtime::AnyRuntime::InProcess(env.inproc()),
        }
    }

    /// The runtime's name in its error messages.
    fn name(self) -> &'static str {
        match self {
            Which::Runc => "runc",
            Which::InProcess => crate::inproc::NAME,
        }
    }
}

fn prepare(
    env: &TestEnv,
    name: &str,
    args: &[&str],
    o: Opts,
    customize: impl FnOnce(&mut ContainerSpec),
) -> Ctr {
    prepare_on(env, Which::Runc, name, args, o, customize)
}

fn prepare_on(
    env: &TestEnv,
    which: Which,
    name: &str,
    args: &[&str],
    o: Opts,
    customize: impl FnOnce(&mut ContainerSpec),
) -> Ctr {
    let id = env.id(name);
    let bundle = env.bundle(&id, args, |s| {
        s.tty = o.tty;
        customize(s)
    });
    let dir = env.container_dir(&id);
    let cfg = ShimConfig {
        id: id.clone(),
        bundle,
        container_dir: dir.clone(),
        runtime: which.runtime(env),
        log_path: Some(dir.join(format!("{id}-json.log"))),
        log_rotation: Default::default(),
        tty: o.tty,
        open_stdin: o.open_stdin,
        stdin_once: o.stdin_once,
        start: o.start,
        console_size: None,
        debug_log: Some(dir.join("shim-debug.log")),
    };
    cfg.save(&dir.join(SHIM_CONFIG)).unwrap();
    Ctr { cfg, dir }
}

fn spawn(env: &TestEnv, c: &Ctr) -> ShimHandle {
    let h = spawn_shim(shim_command(&c.dir.join(SHIM_CONFIG))).unwrap();
    env.track_shim(h.shim);
    h
}

fn events(dir: &Path) -> Vec<HookEvent> {
    std::fs::read_to_string(dir.join("hooks.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits for the exited hook (and the shim's own exit).
fn wait_exit(c: &Ctr, h: &ShimHandle) -> ExitInfo {
    assert!(
        h.shim.wait_exit(Duration::from_secs(30)),
        "shim still running; shim log: {}",
        debug_log(c)
    );
    events(&c.dir)
        .into_iter()
        .find_map(|e| match e {
            HookEvent::Exited { exit } => Some(exit),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no exit recorded; shim log: {}", debug_log(c)))
}

fn debug_log(c: &Ctr) -> String {
    std::fs::read_to_string(c.dir.join("shim-debug.log")).unwrap_or_default()
}

fn log_entries(c: &Ctr) -> Vec<LogEntry> {
    std::fs::read_to_string(c.cfg.log_path.as_ref().unwrap())
        .unwrap_or_default()
        .lines()
        .map(|l| LogEntry::parse(l.as_bytes()).unwrap())
        .collect()
}

fn logged(c: &Ctr, stream: Stream) -> String {
    log_entries(c)
        .into_iter()
        .filter(|e| e.stream == stream)
        .map(|e| e.log)
        .collect()
}

/// A pipe pair for a client's stdio: `(our end, its end)`.
fn pipe() -> (OwnedFd, OwnedFd) {
    fdio::pipe().unwrap()
}

/// Attaches an output-only client (stdin from /dev/null) to the container in `dir`, asking the
/// shim to start it when `start` is set, and returns how the session ended.
fn attach_output(dir: &Path, start: bool, stdout: BorrowedFd, stderr: BorrowedFd) -> AttachOutcome {
    let null = std::fs::File::open("/dev/null").unwrap();
    let io = AttachIo {
        stdin: null.as_fd(),
        stdout,
        stderr,
    };
    let opts = AttachOptions {
        start,
        ..Default::default()
    };
    AttachClient::connect(dir).unwrap().run(&opts, io).unwrap()
}

fn read_all(fd: OwnedFd) -> String {
    let mut f = std::fs::File::from(fd);
    let mut s = String::new();
    std::io::Read::read_to_string(&mut f, &mut s).unwrap();
    s
}

#[test]
#[ignore = "needs root"]
fn echo_is_logged_and_exit_codes_are_reported() {
    echo_is_logged_and_exit_codes_are_reported_on(Which::Runc);
}

#[test]
#[ignore = "needs root"]
fn echo_is_logged_and_exit_codes_are_reported_in_process() {
    echo_is_logged_and_exit_codes_are_reported_on(Which::InProcess);
}

fn echo_is_logged_and_exit_codes_are_reported_on(which: Which) {
    let env = TestEnv::new("shim");
    let c = prepare_on(
        &env,
        which,
        "echo",
        &["sh", "-c", "echo hi; echo err >&2; exit 3"],
        DETACHED,
        |_| {},
    );
    let h = spawn(&env, &c);
    let ShimStatus::Started { pid } = h.status else {
        panic!("{:?}", h.status)
    };
    assert!(pid > 0);
    // The shim is detached: not our child, not in our session. Read from
    // /proc rather than getsid(2): a test runner whose session leader lives
    // outside our pid namespace (CI machines do this) has session id 0.
    let me = std::process::id() as i32;
    assert_ne!(proc_stat(h.shim.pid, SESSION), proc_stat(me, SESSION));
    assert_ne!(proc_stat(h.shim.pid, PPID), me);

    let exit = wait_exit(&c, &h);
    assert_eq!(
        (exit.exit_code, exit.signal, exit.oom_killed),
        (3, None, false)
    );
    assert_eq!(logged(&c, Stream::Stdout), "hi\n");
    assert_eq!(logged(&c, Stream::Stderr), "err\n");
    let ev = events(&c.dir);
    assert!(matches!(ev[0], HookEvent::Started { pid: p, .. } if p == pid));
    // The shim cleaned up after itself and the runtime state is gone.
    assert!(!c.dir.join(SHIM_PID).exists());
    assert!(!c.dir.join(crate::attach::ATTACH_SOCKET).exists());
    assert!(which
        .runtime(&env)
        .state(&c.cfg.id)
        .unwrap_err()
        .is_not_found());

    // Exit 0 of `true`, timed from spawn to the recorded exit.
    let c = prepare_on(&env, which, "true", &["true"], DETACHED, |_| {});
    let t0 = Instant::now();
    let h = spawn(&env, &c);
    let started = t0.elapsed();
    let exit = wait_exit(&c, &h);
    eprintln!(
        "timing: spawn_shim → started {:?}, → exit recorded and shim gone {:?}",
        started,
        t0.elapsed()
    );
    assert_eq!(exit.exit_code, 0);
}

#[test]
#[ignore = "needs root"]
fn failed_starts_report_docker_exit_codes() {
    failed_starts_report_docker_exit_codes_on(Which::Runc);
}

#[test]
#[ignore = "needs root"]
fn failed_starts_report_docker_exit_codes_in_process() {
    failed_starts_report_docker_exit_codes_on(Which::InProcess);
}

fn failed_starts_report_docker_exit_codes_on(which: Which) {
    let env = TestEnv::new("shim");
    for (args, code, text) in [
        (&["nosuch"][..], 127, "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH: unknown"),
        (&["/etc/notexec"][..], 126, "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/etc/notexec\": permission denied: unknown"),
    ] {
        let c = prepare_on(&env, which, "bad", args, DETACHED, |_| {});
        let h = spawn(&env, &c);
        let ShimStatus::Failed { failure } = h.status else {
            panic!("{:?}", h.status)
        };
        assert_eq!(failure.exit_code, code);
        let text = text.replace("runc create", &format!("{} create", which.name()));
        assert_eq!(failure.message, text);
        assert!(h.shim.wait_exit(Duration::from_secs(10)));
        assert!(events(&c.dir).is_empty());
        assert!(!c.dir.join(SHIM_PID).exists());
        assert!(which.runtime(&env).state(&c.cfg.id).unwrap_err().is_not_found());
    }
}

#[test]
#[ignore = "needs root"]
fn sigkill_gives_137() {
    sigkill_gives_137_on(Which::Runc);
}

#[test]
#[ignore = "needs root"]
fn sigkill_gives_137_in_process() {
    sigkill_gives_137_on(Which::InProcess);
}

fn sigkill_gives_137_on(which: Which) {
    let env = TestEnv::new("shim");
    let c = prepare_on(&env, which, "kill", &["sleep", "100"], DETACHED, |_| {});
    let h = spawn(&env, &c);
    assert!(matches!(h.status, ShimStatus::Started { .. }));
    assert!(shim_alive(&c.dir));
    which
        .runtime(&env)
        .kill(&c.cfg.id, libc::SIGKILL, false)
        .unwrap();
    let exit = wait_exit(&c, &h);
    assert_eq!((exit.exit_code, exit.signal), (137, Some(9)));
}

#[test]
#[ignore = "needs root"]
fn attach_stdin_round_trip_and_eof_ends_cat() {
    let env = TestEnv::new("shim");
    let o = Opts {
        open_stdin: true,
        stdin_once: true,
        start: StartMode::OnAttach,
        ..DETACHED
    };
    let c = prepare(&env, "cat", &["cat"], o, |_| {});
    let h = spawn(&env, &c);
    assert!(
        matches!(h.status, ShimStatus::Created { .. }),
        "{:?}",
        h.status
    );
    let (stdin_r, stdin_w) = pipe();
    let (stdout_r, stdout_w) = pipe();
    let (stderr_r, stderr_w) = pipe();
    std::fs::File::from(stdin_w)
        .write_all(b"hello\nworld\n")
        .unwrap();
    let opts = AttachOptions {
        stdin: true,
        start: true,
        ..Default::default()
    };
    let io = AttachIo {
        stdin: stdin_r.as_fd(),
        stdout: stdout_w.as_fd(),
        stderr: stderr_w.as_fd(),
    };
    let outcome = AttachClient::connect(&c.dir)
        .unwrap()
        .run(&opts, io)
        .unwrap();
    assert_eq!(outcome, AttachOutcome::Exited(0));
    drop((stdout_w, stderr_w));
    assert_eq!(read_all(stdout_r), "hello\nworld\n");
    assert_eq!(read_all(stderr_r), "");
    assert_eq!(wait_exit(&c, &h).exit_code, 0);
    assert_eq!(logged(&c, Stream::Stdout), "hello\nworld\n");
}

#[test]
#[ignore = "needs root"]
fn start_after_attach_loses_no_output_and_several_clients_see_it() {
    let env = TestEnv::new("shim");
    let o = Opts {
        start: StartMode::OnAttach,
        ..DETACHED
    };
    let c = prepare(
        &env,
        "first",
        &["sh", "-c", "echo first; sleep 0.3; echo second >&2"],
        o,
        |_| {},
    );
    let h = spawn(&env, &c);
    assert!(matches!(h.status, ShimStatus::Created { .. }));
    // An output-only watcher attaches first; the second client starts the container.
    let dir = c.dir.clone();
    let watcher = std::thread::spawn(move || {
        let (out_r, out_w) = pipe();
        let (err_r, err_w) = pipe();
        let r = attach_output(&dir, false, out_w.as_fd(), err_w.as_fd());
        drop((out_w, err_w));
        (r, read_all(out_r), read_all(err_r))
    });
    std::thread::sleep(Duration::from_millis(200));
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    let r = attach_output(&c.dir, true, out_w.as_fd(), err_w.as_fd());
    drop((out_w, err_w));
    assert_eq!(
        (r, read_all(out_r), read_all(err_r)),
        (
            AttachOutcome::Exited(0),
            "first\n".into(),
            "second\n".into()
        )
    );
    assert_eq!(
        watcher.join().unwrap(),
        (
            AttachOutcome::Exited(0),
            "first\n".into(),
            "second\n".into()
        )
    );
    wait_exit(&c, &h);
}

#[test]
#[ignore = "needs root"]
fn detach_keys_leave_the_container_running() {
    let env = TestEnv::new("shim");
    let o = Opts {
        open_stdin: true,
        ..DETACHED
    };
    let c = prepare(&env, "detach", &["cat"], o, |_| {});
    let h = spawn(&env, &c);
    for (keys, input) in [
        (DetachKeys::default(), &b"abc\n\x10\x11ignored"[..]),
        (
            DetachKeys::parse("ctrl-x,y").unwrap(),
            &b"more\n\x18x\n\x18y"[..],
        ),
    ] {
        let (stdin_r, stdin_w) = pipe();
        let (out_r, out_w) = pipe();
        std::fs::File::from(stdin_w).write_all(input).unwrap();
        let io = AttachIo {
            stdin: stdin_r.as_fd(),
            stdout: out_w.as_fd(),
            stderr: out_w.as_fd(),
        };
        let opts = AttachOptions {
            stdin: true,
            detach_keys: keys,
            ..Default::default()
        };
        let r = AttachClient::connect(&c.dir)
            .unwrap()
            .run(&opts, io)
            .unwrap();
        assert_eq!(r, AttachOutcome::Detached);
        drop(out_w);
        let _ = read_all(out_r);
        assert!(shim_alive(&c.dir));
    }
    // Give cat a moment to echo the last line into the log.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !logged(&c, Stream::Stdout).contains("\x18x") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(logged(&c, Stream::Stdout), "abc\nmore\n\x18x\n");
    assert_eq!(env.runc().state(&c.cfg.id).unwrap().status, Status::Running);
    // A waiting client gets the exit code once the container is killed.
    let dir = c.dir.clone();
    let waiter =
        std::thread::spawn(move || AttachClient::wait(&dir, Some(Duration::from_secs(20))));
    assert_eq!(
        AttachClient::wait(&c.dir, Some(Duration::from_millis(100))).unwrap(),
        None
    );
    env.runc().kill(&c.cfg.id, libc::SIGKILL, true).unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), Some(137));
    assert_eq!(wait_exit(&c, &h).exit_code, 137);
}

/// Runs an attach client on the slave side of a new pty (as a CLI on a terminal would be),
/// types `input` on the master side and returns what the terminal showed and the outcome.
fn tty_session(c: &Ctr, input: &[u8]) -> (String, AttachOutcome) {
    let pty = PtyPair::open().unwrap();
    term::set_window_size(
        pty.master.as_fd(),
        WinSize {
            rows: 33,
            cols: 101,
        },
    )
    .unwrap();
    let slave = pty.slave;
    let dir = c.dir.clone();
    let client = std::thread::spawn(move || {
        let io = AttachIo {
            stdin: slave.as_fd(),
            stdout: slave.as_fd(),
            stderr: slave.as_fd(),
        };
        let opts = AttachOptions {
            stdin: true,
            tty: true,
            start: true,
            ..Default::default()
        };
        AttachClient::connect(&dir).unwrap().run(&opts, io)
    });
    let master = pty.master;
    fdio::set_nonblocking(master.as_fd(), true).unwrap();
    let mut shown = Vec::new();
    let mut typed = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while !client.is_finished() && Instant::now() < deadline {
        let mut pfd = [rustix::event::PollFd::new(
            &master,
            rustix::event::PollFlags::IN,
        )];
        fdio::poll(&mut pfd, Some(Duration::from_millis(50))).unwrap();
        while let Ok(fdio::Read::Data(n)) = fdio::read_some(master.as_fd(), &mut buf) {
            shown.extend_from_slice(&buf[..n]);
        }
        // Type once the shell shows its prompt.
        if !typed && String::from_utf8_lossy(&shown).contains("# ") {
            fdio::write_all(master.as_fd(), input).unwrap();
            typed = true;
        }
    }
    let outcome = client.join().unwrap().unwrap();
    while let Ok(fdio::Read::Data(n)) = fdio::read_some(master.as_fd(), &mut buf) {
        shown.extend_from_slice(&buf[..n]);
    }
    (String::from_utf8_lossy(&shown).into_owned(), outcome)
}

#[test]
#[ignore = "needs root"]
fn tty_session_through_a_pty() {
    tty_session_through_a_pty_on(Which::Runc);
}

#[test]
#[ignore = "needs root"]
fn tty_session_through_a_pty_in_process() {
    tty_session_through_a_pty_on(Which::InProcess);
}

fn tty_session_through_a_pty_on(which: Which) {
    let env = TestEnv::new("shim");
    let o = Opts {
        tty: true,
        open_stdin: true,
        stdin_once: true,
        start: StartMode::OnAttach,
    };
    let c = prepare_on(&env, which, "tty", &["sh"], o, |_| {});
    let h = spawn(&env, &c);
    assert!(
        matches!(h.status, ShimStatus::Created { .. }),
        "{:?}",
        h.status
    );
    let (shown, outcome) = tty_session(&c, b"stty size; echo $TERM; echo $((6*7)); exit 5\r");
    assert_eq!(outcome, AttachOutcome::Exited(5), "{shown}");
    assert!(shown.contains("33 101"), "{shown}");
    assert!(shown.contains("xterm"), "{shown}");
    assert!(shown.contains("42"), "{shown}");
    assert_eq!(wait_exit(&c, &h).exit_code, 5);
    // A tty's output is logged as stdout, with the terminal's line endings.
    assert!(logged(&c, Stream::Stdout).contains("42\r\n"));
    assert!(logged(&c, Stream::Stderr).is_empty());

    // Ctrl-D at the prompt ends the shell with status 0.
    let c = prepare_on(&env, which, "ttyd", &["sh"], o, |_| {});
    let h = spawn(&env, &c);
    let (shown, outcome) = tty_session(&c, b"\x04");
    assert_eq!(outcome, AttachOutcome::Exited(0), "{shown}");
    assert_eq!(wait_exit(&c, &h).exit_code, 0);
}

#[test]
#[ignore = "needs root"]
fn killed_shim_is_recovered() {
    let env = TestEnv::new("shim");
    let c = prepare(&env, "orphan", &["sleep", "1000"], DETACHED, |_| {});
    let h = spawn(&env, &c);
    let ShimStatus::Started { pid } = h.status else {
        panic!("{:?}", h.status)
    };
    let init = ProcessStamp::of(pid).unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(h.shim.pid).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    assert!(h.shim.wait_exit(Duration::from_secs(10)));
    assert!(!shim_alive(&c.dir));
    // The container outlived its shim...
    assert_eq!(env.runc().state(&c.cfg.id).unwrap().status, Status::Running);
    assert!(init.is_alive());
    // ...until recovery kills and deletes it.
    let exit = recover(&env.runc(), &c.cfg.id, &c.dir).unwrap();
    assert_eq!((exit.exit_code, exit.signal), (137, Some(9)));
    assert!(
        init.wait_exit(Duration::from_secs(10)),
        "container process still there"
    );
    assert!(env.runc().state(&c.cfg.id).unwrap_err().is_not_found());
    assert!(!c.dir.join(SHIM_PID).exists());
    assert!(!c.dir.join(crate::attach::ATTACH_SOCKET).exists());
    // Recovering again finds nothing to do.
    assert_eq!(
        recover(&env.runc(), &c.cfg.id, &c.dir).unwrap().exit_code,
        255
    );
}

#[test]
#[ignore = "needs root"]
fn start_request_and_logs_follow() {
    let env = TestEnv::new("shim");
    let o = Opts {
        start: StartMode::OnAttach,
        ..DETACHED
    };
    let c = prepare(
        &env,
        "follow",
        &[
            "sh",
            "-c",
            "for i in 1 2 3; do echo line$i; sleep 0.2; done; echo bye >&2",
        ],
        o,
        |_| {},
    );
    let h = spawn(&env, &c);
    AttachClient::start(&c.dir).unwrap();
    // Started twice is fine.
    AttachClient::start(&c.dir).unwrap();
    assert!(matches!(events(&c.dir)[0], HookEvent::Started { .. }));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let dir = c.dir.clone();
    let opts = LogOptions {
        follow: true,
        timestamps: true,
        ..Default::default()
    };
    read_logs(
        c.cfg.log_path.as_ref().unwrap(),
        &opts,
        &mut out,
        &mut err,
        &mut || shim_alive(&dir),
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (i, l) in lines.iter().enumerate() {
        let (ts, text) = l.split_once(' ').unwrap();
        assert_eq!(text, format!("line{}", i + 1));
        assert_eq!(ts.len(), "2026-11-24T10:00:00.123456789Z".len());
        assert!(DateTime::parse_from_rfc3339(ts).is_ok());
    }
    assert!(String::from_utf8(err).unwrap().ends_with(" bye\n"));
    wait_exit(&c, &h);

    // --tail and --since on the finished log.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let opts = LogOptions {
        tail: Some(2),
        ..Default::default()
    };
    read_logs(
        c.cfg.log_path.as_ref().unwrap(),
        &opts,
        &mut out,
        &mut err,
        &mut || false,
    )
    .unwrap();
    assert_eq!(
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap()
        ),
        ("line3\n".into(), "bye\n".into())
    );
    let entries = log_entries(&c);
    let opts = LogOptions {
        since: Some(entries[1].time),
        stderr: false,
        ..Default::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    read_logs(
        c.cfg.log_path.as_ref().unwrap(),
        &opts,
        &mut out,
        &mut err,
        &mut || false,
    )
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "line2\nline3\n");
}

#[test]
#[ignore = "needs root"]
fn read_only_rootfs_init_and_user() {
    let env = TestEnv::new("shim");
    assert!(
        Path::new(crate::spec::DEFAULT_INIT_BINARY).exists(),
        "needs {} (apt install tini)",
        crate::spec::DEFAULT_INIT_BINARY
    );
    let c = prepare(
        &env,
        "ro",
        &[
            "sh",
            "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '; echo; id; touch /x || exit 4",
        ],
        DETACHED,
        |s| {
            s.read_only_rootfs = true;
            s.init = true;
            s.user = crate::user::resolve_user(&s.rootfs, "alice").unwrap();
        },
    );
    let h = spawn(&env, &c);
    let exit = wait_exit(&c, &h);
    let out = logged(&c, Stream::Stdout);
    assert!(out.starts_with("/sbin/docker-init -- sh -c "), "{out}");
    assert!(
        out.contains("uid=1000(alice) gid=1000(alice) groups=10(wheel),1000(alice)"),
        "{out}"
    );
    assert!(logged(&c, Stream::Stderr).contains("Read-only file system"));
    assert_eq!(exit.exit_code, 4);
}

#[test]
#[ignore = "needs root"]
fn exec_in_a_running_container() {
    exec_in_a_running_container_on(Which::Runc);
}

#[test]
#[ignore = "needs root"]
fn exec_in_a_running_container_in_process() {
    exec_in_a_running_container_on(Which::InProcess);
}

fn exec_in_a_running_container_on(which: Which) {
    let env = TestEnv::new("shim");
    let c = prepare_on(&env, which, "exec", &["sleep", "1000"], DETACHED, |_| {});
    let h = spawn(&env, &c);
    let runc = which.runtime(&env);
    let id = &c.cfg.id;
    let spec = |args: &[&str], tty: bool| ExecSpec {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: vec!["FOO=bar".into()],
        cwd: "/tmp".into(),
        user: User::root(),
        tty,
        hostname: "testhost".into(),
        console_size: None,
        ..Default::default()
    };
    // Plain stdio, interactive.
    let (in_r, in_w) = pipe();
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    std::fs::File::from(in_w)
        .write_all(b"from stdin\n")
        .unwrap();
    let io = AttachIo {
        stdin: in_r.as_fd(),
        stdout: out_w.as_fd(),
        stderr: err_w.as_fd(),
    };
    let mode = ExecMode {
        interactive: true,
        detach: false,
    };
    let r = exec(
        &runc,
        id,
        &c.dir,
        &spec(
            &[
                "sh",
                "-c",
                "cat; pwd; echo $FOO $HOSTNAME; echo e >&2; exit 7",
            ],
            false,
        ),
        mode,
        io,
    )
    .unwrap();
    assert_eq!(r, ExecOutcome::Exited(7));
    drop((out_w, err_w));
    assert_eq!(read_all(out_r), "from stdin\n/tmp\nbar testhost\n");
    assert_eq!(read_all(err_r), "e\n");

    // A missing command: Docker's message, exit 126.
    let null = std::fs::File::open("/dev/null").unwrap();
    let io = AttachIo {
        stdin: null.as_fd(),
        stdout: null.as_fd(),
        stderr: null.as_fd(),
    };
    let err = exec(
        &runc,
        id,
        &c.dir,
        &spec(&["nosuch"], false),
        ExecMode::default(),
        io,
    )
    .unwrap_err();
    let ExecError::Start(f) = err else {
        panic!("{err:?}")
    };
    assert_eq!(f.exit_code, 126);
    assert_eq!(f.message, "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH: unknown");

    // Detached.
    let detached = |args: &[&str], tty: bool| {
        let mode = ExecMode {
            interactive: false,
            detach: true,
        };
        match exec(&runc, id, &c.dir, &spec(args, tty), mode, io).unwrap() {
            ExecOutcome::Detached { pid } => pid,
            other => panic!("{other:?}"),
        }
    };
    let pid = detached(&["sleep", "100"], false);
    assert!(runc.ps(id).unwrap().contains(&pid));
    let mut detached_pids = vec![pid];

    // Detached with a terminal: the process gets a pty, keeps running after exec returns (its
    // terminal is not hung up), and may write to it without blocking or dying of SIGHUP.
    let script = "tty > /tmp/dt; i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; sleep 0.3; echo done >> /tmp/dt; sleep 100";
    let pid = detached(&["sh", "-c", script], true);
    let rootfs_file = |p: &str| std::fs::read_to_string(format!("/proc/{pid}/root{p}"));
    let t0 = Instant::now();
    while !rootfs_file("/tmp/dt").unwrap_or_default().contains("done") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{:?}",
            rootfs_file("/tmp/dt")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(rootfs_file("/tmp/dt").unwrap().starts_with("/dev/pts/"));
    assert!(runc.ps(id).unwrap().contains(&pid));
    detached_pids.push(pid);

    // With a terminal, through a pty.
    let pty = PtyPair::open().unwrap();
    term::set_window_size(pty.master.as_fd(), WinSize { rows: 20, cols: 70 }).unwrap();
    let io = AttachIo {
        stdin: pty.slave.as_fd(),
        stdout: pty.slave.as_fd(),
        stderr: pty.slave.as_fd(),
    };
    let r = exec(
        &runc,
        id,
        &c.dir,
        &spec(&["sh", "-c", "tty; stty size; echo $TERM; exit 3"], true),
        ExecMode::default(),
        io,
    )
    .unwrap();
    assert_eq!(r, ExecOutcome::Exited(3));
    fdio::set_nonblocking(pty.master.as_fd(), true).unwrap();
    let mut buf = [0u8; 4096];
    let mut shown = Vec::new();
    // The kernel passes what the process wrote to the master side asynchronously: read until
    // the last line arrives (or a generous deadline passes).
    let t0 = Instant::now();
    while !String::from_utf8_lossy(&shown).contains("xterm")
        && t0.elapsed() < Duration::from_secs(10)
    {
        match fdio::read_some(pty.master.as_fd(), &mut buf) {
            Ok(fdio::Read::Data(n)) => shown.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let shown = String::from_utf8_lossy(&shown);
    assert!(shown.contains("/dev/pts/"), "{shown}");
    assert!(shown.contains("20 70"), "{shown}");
    assert!(shown.contains("xterm"), "{shown}");
    // The exec's files are gone.
    let leftovers: Vec<_> = std::fs::read_dir(&c.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("exec-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    runc.kill(id, libc::SIGKILL, true).unwrap();
    // The in-process runtime's detached processes are this process's children (runc's are
    // reparented away when runc exits): reap them, or their cgroup stays busy.
    for pid in detached_pids {
        let _ = rustix::process::waitpid(
            rustix::process::Pid::from_raw(pid),
            rustix::process::WaitOptions::empty(),
        );
    }
    assert_eq!(wait_exit(&c, &h).exit_code, 137);
}

#[test]
#[ignore = "needs root"]
fn large_output_reaches_client_and_log_intact() {
    let env = TestEnv::new("shim");
    let o = Opts {
        start: StartMode::OnAttach,
        ..DETACHED
    };
    // 3 MB in 100-byte lines: more than any pipe or socket buffer holds.
    let script = "i=0; while [ $i -lt 30000 ]; do printf '%099d\\n' $i; i=$((i+1)); done";
    let c = prepare(&env, "big", &["sh", "-c", script], o, |_| {});
    let h = spawn(&env, &c);
    let (out_r, out_w) = pipe();
    let reader = std::thread::spawn(move || {
        // A slow reader: the shim must hold the container back, not drop output.
        let mut f = std::fs::File::from(out_r);
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if all.len() < 200_000 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        all
    });
    let null = std::fs::File::open("/dev/null").unwrap();
    let r = attach_output(&c.dir, true, out_w.as_fd(), null.as_fd());
    assert_eq!(r, AttachOutcome::Exited(0));

    drop(out_w);
    let all = reader.join().unwrap();
    assert_eq!(all.len(), 3_000_000);
    assert!(all.starts_with(format!("{:099}\n", 0).as_bytes()));
    assert!(all.ends_with(format!("{:099}\n", 29999).as_bytes()));
    wait_exit(&c, &h);
    let entries = log_entries(&c);
    assert_eq!(entries.len(), 30000);
    assert!(entries.iter().all(|e| e.log.len() == 100));
}

#[test]
#[ignore = "needs root"]
fn a_client_that_stops_reading_cannot_keep_the_shim_alive() {
    let env = TestEnv::new("shim");
    let o = Opts {
        start: StartMode::OnAttach,
        ..DETACHED
    };
    // About 1.1 MB: more than the socket holds, so the shim keeps a backlog for the client.
    let script = "i=0; while [ $i -lt 11000 ]; do printf '%099d\\n' $i; i=$((i+1)); done";
    let c = prepare(&env, "stuck", &["sh", "-c", script], o, |_| {});
    let h = spawn(&env, &c);
    // This client asks for the start and then never reads.
    let mut stuck = AttachClient::connect(&c.dir).unwrap();
    stuck
        .send_blocking(&[
            Frame::Hello {
                stdin: false,
                stdout: true,
                stderr: true,
            },
            Frame::Start,
        ])
        .unwrap();
    let exit = wait_exit(&c, &h);
    assert_eq!(exit.exit_code, 0);
    assert_eq!(log_entries(&c).len(), 11000);
    drop(stuck);
}

/// Field numbers of proc(5) `/proc/PID/stat`, counted after the `(comm)`.
const PPID: usize = 1;
const SESSION: usize = 3;

fn proc_stat(pid: i32, field: usize) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(field)
        .unwrap()
        .parse()
        .unwrap()
}
