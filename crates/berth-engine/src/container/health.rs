//! Health checks (an image's `HEALTHCHECK`, `--health-*`, the API's `Config.Healthcheck`), run
//! without a daemon. [`HealthSettings`] reads a container's check from its config; when the
//! container starts, its shim resets `State.Health` to `starting` and starts `berth
//! health-monitor ID` beside it ([`Engine::spawn_health_monitor`]), a process of its own whose
//! body is [`Engine::run_health_monitor`]: it probes the container on the interval (an exec of
//! the check's command, output kept to 4 KiB, killed at the timeout) and records each result in
//! `State.Health` (the store's `containers.health`), with a `health_status` event whenever the
//! status changes. The shim kills the monitor when the container exits (and the kernel does if
//! the shim dies). The rules — start period, retries, the last five results, `-1` for a probe
//! that timed out or could not run — are Docker's.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use berth_image::config::ContainerConfig;
use berth_runtime::attach::AttachIo;
use berth_runtime::error::ProcessError;
use berth_runtime::exec::{exec_with, ExecMode, ExecOutcome};
use berth_store::metadata::containers;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::{Container, Status};
use crate::types::{ExecConfig, Health, HealthcheckResult};
use crate::{Engine, EngineError, EngineOptions};

/// Docker's defaults for a check that leaves a setting at zero.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// Results kept in `State.Health.Log`.
const MAX_LOG: usize = 5;
/// Bytes of a probe's output kept.
const MAX_OUTPUT: usize = 4096;
/// The smallest non-zero duration a check may set.
const MIN_DURATION_NANOS: i64 = 1_000_000;

/// `State.Health.Status` values.
pub const STARTING: &str = "starting";
/// A passing check.
pub const HEALTHY: &str = "healthy";
/// A check that failed `retries` times in a row.
pub const UNHEALTHY: &str = "unhealthy";

/// A container's health check, with Docker's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSettings {
    /// The command to run in the container.
    pub command: Vec<String>,
    /// Time between probes.
    pub interval: Duration,
    /// How long a probe may run.
    pub timeout: Duration,
    /// Time after a start during which failures do not count.
    pub start_period: Duration,
    /// Time between probes during the start period (API 1.44).
    pub start_interval: Duration,
    /// Failures in a row that make the container unhealthy.
    pub retries: i64,
}

fn nanos(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn duration_or(v: &Value, key: &str, default: Duration) -> Duration {
    match nanos(v, key) {
        n if n > 0 => Duration::from_nanos(n as u64),
        _ => default,
    }
}

/// The `Test` of a check: `[]` (inherit), `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", cmd]`.
fn test_of(v: &Value) -> Vec<String> {
    v.get("Test")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl HealthSettings {
    /// The check of a container's config; `None` when it has none (or `NONE`).
    pub fn of(config: &ContainerConfig) -> Option<HealthSettings> {
        let v = config.healthcheck.as_ref()?;
        let test = test_of(v);
        let command = match test.split_first() {
            Some((kind, args)) if kind == "CMD" && !args.is_empty() => args.to_vec(),
            Some((kind, args)) if kind == "CMD-SHELL" && !args.is_empty() => {
                let mut shell = config
                    .shell
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
                shell.push(args.join(" "));
                shell
            }
            _ => return None,
        };
        Some(HealthSettings {
            command,
            interval: duration_or(v, "Interval", DEFAULT_INTERVAL),
            timeout: duration_or(v, "Timeout", DEFAULT_TIMEOUT),
            start_period: duration_or(v, "StartPeriod", Duration::ZERO),
            start_interval: duration_or(v, "StartInterval", DEFAULT_START_INTERVAL),
            retries: match v.get("Retries").and_then(Value::as_i64) {
                Some(n) if n > 0 => n,
                _ => DEFAULT_RETRIES,
            },
        })
    }
}

/// A create request's `Healthcheck` refused, in dockerd's words (400).
#[derive(Debug, thiserror::Error)]
pub enum HealthcheckError {
    /// Not a JSON object.
    #[error("Healthcheck must be an object")]
    NotObject,
    /// A duration or count that is not an integer.
    #[error("Healthcheck.{0} must be an integer")]
    NotInteger(&'static str),
    /// A duration under a millisecond (zero means the default).
    #[error("{0} in Healthcheck cannot be less than 1ms")]
    TooShort(&'static str),
    /// `Retries` below zero.
    #[error("Retries in Healthcheck cannot be negative")]
    NegativeRetries,
    /// `Test` is not a list of strings.
    #[error("Healthcheck.Test must be a list of strings")]
    TestNotStrings,
    /// `CMD` or `CMD-SHELL` alone.
    #[error("Missing command after {0}")]
    MissingCommand(String),
    /// A test type other than `CMD`, `CMD-SHELL` or `NONE`.
    #[error("Unknown healthcheck type '{0}' (expected 'CMD') in Healthcheck.Test")]
    UnknownType(String),
}

/// Checks a create request's `Healthcheck` as dockerd does (400 with its words), and refuses a
/// test type no probe could run instead of leaving the container `starting` forever.
pub(crate) fn validate(v: &Value) -> Result<(), HealthcheckError> {
    let Some(obj) = v.as_object() else {
        return Err(HealthcheckError::NotObject);
    };
    for key in [
        "Interval",
        "Timeout",
        "StartPeriod",
        "StartInterval",
        "Retries",
    ] {
        if obj.get(key).is_some_and(|x| !x.is_null() && !x.is_i64()) {
            return Err(HealthcheckError::NotInteger(key));
        }
    }
    for key in ["Interval", "Timeout", "StartPeriod", "StartInterval"] {
        let n = nanos(v, key);
        if n != 0 && n < MIN_DURATION_NANOS {
            return Err(HealthcheckError::TooShort(key));
        }
    }
    if nanos(v, "Retries") < 0 {
        return Err(HealthcheckError::NegativeRetries);
    }
    if let Some(t) = obj.get("Test").filter(|t| !t.is_null()) {
        let ok = t.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(HealthcheckError::TestNotStrings);
        }
    }
    let test = test_of(v);
    match test.first().map(String::as_str) {
        None | Some("NONE") => Ok(()),
        Some("CMD" | "CMD-SHELL") if test.len() > 1 => Ok(()),
        Some(kind @ ("CMD" | "CMD-SHELL")) => Err(HealthcheckError::MissingCommand(kind.into())),
        Some(other) => Err(HealthcheckError::UnknownType(other.to_string())),
    }
}

/// Docker's merge of an image's check into a container's: no check of its own takes the
/// image's; an empty `Test` or a zero setting takes the image's value.
pub(crate) fn merge(user: &mut Option<Value>, image: Option<&Value>) {
    let Some(image) = image else { return };
    let Some(mine) = user.as_mut() else {
        *user = Some(image.clone());
        return;
    };
    let Some(obj) = mine.as_object_mut() else {
        return;
    };
    if test_of(&Value::Object(obj.clone())).is_empty() {
        if let Some(t) = image.get("Test") {
            obj.insert("Test".into(), t.clone());
        }
    }
    for key in [
        "Interval",
        "Timeout",
        "StartPeriod",
        "StartInterval",
        "Retries",
    ] {
        if obj.get(key).and_then(Value::as_i64).unwrap_or(0) == 0 {
            if let Some(x) = image.get(key) {
                obj.insert(key.into(), x.clone());
            }
        }
    }
}

/// Records probe `result` in `h` by Docker's rules; returns true when the status changed. A
/// failure in the start period (`started_at` + `start_period`) of a container never yet healthy
/// does not count.
pub(crate) fn apply(
    h: &mut Health,
    result: HealthcheckResult,
    s: &HealthSettings,
    started_at: Option<DateTime<Utc>>,
) -> bool {
    let old = h.status.clone();
    if result.exit_code == 0 {
        h.failing_streak = 0;
        h.status = HEALTHY.into();
    } else {
        let in_start_period = h.status == STARTING
            && match (started_at, parse(&result.start)) {
                (Some(started), Some(at)) => {
                    (at - started).to_std().unwrap_or_default() < s.start_period
                }
                _ => false,
            };
        if !in_start_period {
            h.failing_streak += 1;
            if h.failing_streak >= s.retries {
                h.status = UNHEALTHY.into();
            }
        }
    }
    h.log.push(result);
    if h.log.len() > MAX_LOG {
        let extra = h.log.len() - MAX_LOG;
        h.log.drain(..extra);
    }
    h.status != old
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Keeps the first [`MAX_OUTPUT`] bytes, and whether more came (Docker appends `...`).
#[derive(Default)]
struct Output {
    kept: Vec<u8>,
    truncated: bool,
}

impl Output {
    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.kept).into_owned();
        if self.truncated {
            s.push_str("...");
        }
        s
    }
}

impl Engine {
    /// Container `id`'s `State.Health`, `None` when it has no health check or never started.
    pub fn health_of(&self, id: &str) -> Result<Option<Health>, EngineError> {
        let Some(json) = containers::health(self.store.db().conn(), id)? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&json).ok())
    }

    fn save_health(&self, id: &str, h: &Health) -> Result<(), EngineError> {
        let json = serde_json::to_string(h).expect("health serializes");
        containers::set_health(self.store.db().conn(), id, Some(&json))?;
        Ok(())
    }

    /// A (re)started container's health starts over: `starting`, no failures; the log stays.
    pub(crate) fn reset_health(&self, c: &Container) -> Result<(), EngineError> {
        if HealthSettings::of(&c.config).is_none() {
            return Ok(());
        }
        let mut h = self.health_of(&c.id)?.unwrap_or_default();
        h.status = STARTING.into();
        h.failing_streak = 0;
        self.save_health(&c.id, &h)
    }

    /// Starts `berth health-monitor ID` for container `c`, killed by the kernel if the calling
    /// shim dies. The shim kills it when the container exits.
    pub(crate) fn spawn_health_monitor(&self, c: &Container) -> Result<Child, EngineError> {
        let mut cmd = Command::new(self.shim_exe());
        cmd.arg("--root").arg(self.root());
        if let Some(file) = &self.opts.config_file {
            cmd.arg("--config-file").arg(file);
        }
        cmd.arg("health-monitor")
            .arg(&c.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: runs in the forked child before exec; prctl(2) is async-signal-safe and only
        // sets the child's own parent-death signal.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn().map_err(|e| {
            EngineError::Io(std::io::Error::other(format!(
                "{}: starting the health monitor: {e}",
                c.id
            )))
        })
    }

    /// The body of `berth health-monitor ID`: probes container `id` on its check's interval
    /// while it runs (skipping while it is paused) and records the results; exits once the
    /// container no longer runs, is gone, or has no check.
    pub fn run_health_monitor(opts: EngineOptions, id: &str) -> ! {
        let mut engine = match Engine::open(opts) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("berth health-monitor: {e}");
                std::process::exit(125);
            }
        };
        let parent = rustix::process::getppid();
        let current = |engine: &Engine| -> Option<(Container, HealthSettings)> {
            let c = engine.lookup_container(id).ok()?;
            let s = HealthSettings::of(&c.config)?;
            matches!(c.state.status, Status::Running | Status::Paused).then_some((c, s))
        };
        loop {
            let Some((c, s)) = current(&engine) else {
                break;
            };
            let starting = engine
                .health_of(id)
                .ok()
                .flatten()
                .is_some_and(|h| h.status == STARTING);
            let in_start_period = parse(&c.state.started_at)
                .and_then(|t| (Utc::now() - t).to_std().ok())
                .is_some_and(|since| since < s.start_period);
            let wait = if starting
                && in_start_period
                && c.config
                    .healthcheck
                    .as_ref()
                    .is_some_and(|v| nanos(v, "StartInterval") > 0)
            {
                s.start_interval
            } else {
                s.interval
            };
            let deadline = Instant::now() + wait;
            while Instant::now() < deadline {
                if rustix::process::getppid() != parent {
                    std::process::exit(0);
                }
                std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(250)));
            }
            let Some((c, s)) = current(&engine) else {
                break;
            };
            if c.state.status == Status::Paused {
                continue;
            }
            let result = engine.probe(&c, &s);
            if let Err(e) = engine.record_probe(id, &s, result) {
                eprintln!("berth health-monitor {id}: {e}");
            }
        }
        std::process::exit(0)
    }

    /// Records a probe's result in container `id`'s health (unless it stopped meanwhile) and
    /// reports a status change as a `health_status` event.
    fn record_probe(
        &mut self,
        id: &str,
        s: &HealthSettings,
        result: HealthcheckResult,
    ) -> Result<(), EngineError> {
        let c = self.lookup_container(id)?;
        if !c.state.status.is_running() {
            return Ok(());
        }
        let mut h = self.health_of(id)?.unwrap_or_else(|| Health {
            status: STARTING.into(),
            ..Default::default()
        });
        let changed = apply(&mut h, result, s, parse(&c.state.started_at));
        self.save_health(id, &h)?;
        if changed {
            self.emit_container(&c, &format!("health_status: {}", h.status), &[]);
        }
        Ok(())
    }

    /// Runs the check's command in container `c` as an exec (with Docker's exec events), its
    /// output kept to [`MAX_OUTPUT`] bytes, killed once it outlives the timeout.
    fn probe(&mut self, c: &Container, s: &HealthSettings) -> HealthcheckResult {
        let start = Utc::now();
        let exec_id = berth_store::fsutil::random_hex(32);
        let config = ExecConfig {
            cmd: s.command.clone(),
            attach_stdout: true,
            attach_stderr: true,
            ..Default::default()
        };
        let (first, rest) = s.command.split_first().expect("a check has a command");
        let command = format!("{first} {}", rest.join(" "));
        let id_attr = [("execID", exec_id.clone())];
        self.emit_container(c, &format!("exec_create: {command}"), &id_attr);
        self.emit_container(c, &format!("exec_start: {command}"), &id_attr);
        let (exit_code, output) = match self.run_probe(c, &config, s.timeout) {
            Ok((Some(code), out)) => (i64::from(code), out),
            Ok((None, _)) => (
                -1,
                format!(
                    "Health check exceeded timeout ({})",
                    berth_go::time::format_go_duration(s.timeout.as_nanos() as i64)
                ),
            ),
            Err(e) => (-1, e.to_string()),
        };
        let die_code = if exit_code < 0 { 137 } else { exit_code };
        self.emit_container(
            c,
            "exec_die",
            &[("execID", exec_id), ("exitCode", die_code.to_string())],
        );
        HealthcheckResult {
            start: rfc3339(start),
            end: rfc3339(Utc::now()),
            exit_code,
            output,
        }
    }

    /// Runs `config` in `c`; its exit code (`None`: killed at the timeout) and output.
    fn run_probe(
        &mut self,
        c: &Container,
        config: &ExecConfig,
        timeout: Duration,
    ) -> Result<(Option<i32>, String), EngineError> {
        let spec = self.exec_spec(c, config)?;
        let runtime = self.runtime_of(c);
        let dir = self.run_dir(&c.id);
        let io_err = |e: std::io::Error| EngineError::Io(e);
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| io_err(e.into()))?;
        let devnull = std::fs::File::open("/dev/null").map_err(io_err)?;

        // The reader keeps the start of the output and drains the rest.
        let output = Arc::new(Mutex::new(Output::default()));
        let (read_tx, read_rx) = mpsc::channel::<()>();
        {
            let output = Arc::clone(&output);
            let mut r = std::fs::File::from(r);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut out = output.lock().expect("output lock");
                    let keep = (MAX_OUTPUT - out.kept.len()).min(n);
                    out.kept.extend_from_slice(&buf[..keep]);
                    out.truncated |= keep < n;
                }
                let _ = read_tx.send(());
            });
        }

        // The watchdog kills the probe at the timeout.
        let pid = Arc::new(AtomicI32::new(0));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let watchdog = {
            let pid = Arc::clone(&pid);
            std::thread::spawn(move || {
                if done_rx.recv_timeout(timeout) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return false;
                }
                loop {
                    let p = pid.load(Ordering::SeqCst);
                    if p > 0 {
                        // SAFETY: kill(2) with a pid the runtime reported for the probe.
                        unsafe {
                            libc::kill(p, libc::SIGKILL);
                        }
                    }
                    if done_rx.recv_timeout(Duration::from_millis(100))
                        != Err(mpsc::RecvTimeoutError::Timeout)
                    {
                        return true;
                    }
                }
            })
        };
        let io = AttachIo {
            stdin: devnull.as_fd(),
            stdout: w.as_fd(),
            stderr: w.as_fd(),
        };
        let mut started = |p: i32| pid.store(p, Ordering::SeqCst);
        let outcome = exec_with(
            &*runtime,
            &c.id,
            &dir,
            &spec,
            ExecMode::default(),
            io,
            &mut started,
        );
        drop(done_tx);
        let timed_out = watchdog.join().unwrap_or(false);
        drop(w);
        // A process the probe left behind may hold the pipe open: do not wait for it long.
        let _ = read_rx.recv_timeout(Duration::from_secs(1));
        let text = output.lock().expect("output lock").text();
        match outcome {
            _ if timed_out => Ok((None, text)),
            Ok(ExecOutcome::Exited(code)) => Ok((Some(code), text)),
            Ok(ExecOutcome::Detached { .. }) => unreachable!("probes run attached"),
            Err(e) => Err(ProcessError::from(e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: Value) -> Option<HealthSettings> {
        HealthSettings::of(&ContainerConfig {
            healthcheck: Some(v),
            ..Default::default()
        })
    }

    fn result(code: i64, start: &str) -> HealthcheckResult {
        HealthcheckResult {
            start: start.into(),
            end: start.into(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn settings_take_dockers_defaults_and_the_shell() {
        let s = settings(json!({"Test": ["CMD-SHELL", "curl -f x"]})).unwrap();
        assert_eq!(s.command, ["/bin/sh", "-c", "curl -f x"]);
        assert_eq!(s.interval, Duration::from_secs(30));
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert_eq!(s.retries, 3);
        assert_eq!(s.start_period, Duration::ZERO);
        let s = settings(
            json!({"Test": ["CMD", "true", "x"], "Interval": 1_000_000_000i64,
            "Retries": 1}),
        )
        .unwrap();
        assert_eq!(s.command, ["true", "x"]);
        assert_eq!((s.interval, s.retries), (Duration::from_secs(1), 1));
        let c = ContainerConfig {
            healthcheck: Some(json!({"Test": ["CMD-SHELL", "a"]})),
            shell: Some(vec!["/bin/bash".into(), "-ec".into()]),
            ..Default::default()
        };
        assert_eq!(
            HealthSettings::of(&c).unwrap().command,
            ["/bin/bash", "-ec", "a"]
        );
        assert!(settings(json!({"Test": ["NONE"]})).is_none());
        assert!(settings(json!({"Test": []})).is_none());
    }

    #[test]
    fn create_refuses_what_dockerd_refuses() {
        let err = |v: Value| validate(&v).unwrap_err().to_string();
        assert!(validate(&json!({"Test": ["CMD-SHELL", "true"], "Interval": 1_000_000})).is_ok());
        assert!(validate(&json!({"Test": ["NONE"]})).is_ok());
        assert!(validate(&json!({})).is_ok());
        assert_eq!(
            err(json!({"Test": ["CMD", "x"], "Interval": 5})),
            "Interval in Healthcheck cannot be less than 1ms"
        );
        assert_eq!(
            err(json!({"Test": ["CMD", "x"], "Timeout": -1})),
            "Timeout in Healthcheck cannot be less than 1ms"
        );
        assert_eq!(
            err(json!({"Test": ["CMD", "x"], "Retries": -1})),
            "Retries in Healthcheck cannot be negative"
        );
        assert!(err(json!({"Test": ["HTTP", "x"]})).contains("Unknown healthcheck type 'HTTP'"));
        assert!(err(json!({"Test": ["CMD"]})).contains("Missing command after CMD"));
    }

    #[test]
    fn a_containers_check_inherits_what_it_leaves_unset_from_the_image() {
        let image = json!({"Test": ["CMD", "x"], "Interval": 5, "Retries": 7});
        let mut none = None;
        merge(&mut none, Some(&image));
        assert_eq!(none, Some(image.clone()));
        let mut mine = Some(json!({"Test": [], "Interval": 9}));
        merge(&mut mine, Some(&image));
        assert_eq!(
            mine,
            Some(json!({"Test": ["CMD", "x"], "Interval": 9, "Retries": 7}))
        );
        let mut off = Some(json!({"Test": ["NONE"]}));
        merge(&mut off, Some(&image));
        assert_eq!(off.unwrap()["Test"], json!(["NONE"]));
    }

    #[test]
    fn status_follows_dockers_rules() {
        let s = settings(json!({"Test": ["CMD", "x"], "Retries": 2,
            "StartPeriod": 10_000_000_000i64}))
        .unwrap();
        let started = parse("2026-01-01T00:00:00Z");
        let mut h = Health {
            status: STARTING.into(),
            ..Default::default()
        };
        // Failures in the start period do not count while starting.
        assert!(!apply(
            &mut h,
            result(1, "2026-01-01T00:00:05Z"),
            &s,
            started
        ));
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 0));
        assert!(!apply(
            &mut h,
            result(1, "2026-01-01T00:00:11Z"),
            &s,
            started
        ));
        assert_eq!(h.failing_streak, 1);
        assert!(apply(
            &mut h,
            result(1, "2026-01-01T00:00:12Z"),
            &s,
            started
        ));
        assert_eq!((h.status.as_str(), h.failing_streak), (UNHEALTHY, 2));
        assert!(apply(
            &mut h,
            result(0, "2026-01-01T00:00:13Z"),
            &s,
            started
        ));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 0));
        // Once healthy, the start period no longer shields failures.
        let mut h2 = h.clone();
        h2.log.clear();
        assert!(!apply(
            &mut h2,
            result(1, "2026-01-01T00:00:01Z"),
            &s,
            started
        ));
        assert_eq!(h2.failing_streak, 1);
        for i in 0..10 {
            apply(
                &mut h,
                result(0, &format!("2026-01-01T00:01:{i:02}Z")),
                &s,
                started,
            );
        }
        assert_eq!(h.log.len(), MAX_LOG);
        assert_eq!(h.log[0].start, "2026-01-01T00:01:05Z");
    }

    #[test]
    fn output_keeps_its_start_and_marks_a_cut() {
        let out = Output {
            kept: b"abc".to_vec(),
            truncated: true,
        };
        assert_eq!(out.text(), "abc...");
        assert_eq!(Output::default().text(), "");
    }
}
