//! `stop`, `kill` and `restart`. Stopping sends the container's stop signal, waits for its shim
//! to record the exit (the shim exits right after), and escalates to SIGKILL after the timeout.

use std::time::Duration;

use berth_runtime::shim::shim_stamp;

use super::{restart_policy, Container, Started};
use crate::{Engine, EngineError};

/// Docker's default stop timeout, in seconds.
const DEFAULT_STOP_TIMEOUT: i64 = 10;

/// Parses `KILL`, `SIGKILL`, `9`, `sigterm`... into a signal number.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    Some(match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "ILL" => libc::SIGILL,
        "TRAP" => libc::SIGTRAP,
        "ABRT" | "IOT" => libc::SIGABRT,
        "BUS" => libc::SIGBUS,
        "FPE" => libc::SIGFPE,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "SEGV" => libc::SIGSEGV,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "STKFLT" => libc::SIGSTKFLT,
        "CHLD" | "CLD" => libc::SIGCHLD,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "TTIN" => libc::SIGTTIN,
        "TTOU" => libc::SIGTTOU,
        "URG" => libc::SIGURG,
        "XCPU" => libc::SIGXCPU,
        "XFSZ" => libc::SIGXFSZ,
        "VTALRM" => libc::SIGVTALRM,
        "PROF" => libc::SIGPROF,
        "WINCH" => libc::SIGWINCH,
        "IO" | "POLL" => libc::SIGIO,
        "PWR" => libc::SIGPWR,
        "SYS" => libc::SIGSYS,
        _ => return None,
    })
}

/// What `stop` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Its process ran and has ended.
    Stopped,
    /// It was not running: nothing to do (Docker's 304).
    NotRunning,
}

impl Engine {
    /// `docker stop [-t N]`: a stopped container is fine (nothing to do, and the outcome says
    /// so, decided on the same reading of the state as the stop itself).
    pub fn stop_container(
        &mut self,
        name: &str,
        timeout: Option<i64>,
    ) -> Result<(Container, Stopped), EngineError> {
        let c = self.container(name)?;
        if !c.state.status.is_running() {
            return Ok((c, Stopped::NotRunning));
        }
        let signal = match c.config.stop_signal.as_str() {
            "" => libc::SIGTERM,
            s => parse_signal(s).unwrap_or(libc::SIGTERM),
        };
        let timeout = timeout
            .or(c.config.stop_timeout)
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        self.signal_and_wait(&c, signal, timeout)?;
        self.emit_container(&c, "stop", &[]);
        let c = self.container(&c.id)?;
        // The shim tears the network down at exit; this covers a shim that could not.
        if !c.state.status.is_running() {
            self.detach_network(&c);
        }
        Ok((c, Stopped::Stopped))
    }

    /// Sends `signal`; if the container still runs after `timeout` seconds (negative: forever),
    /// kills it. Returns once its exit is recorded. The user stopped it: its restart policy
    /// does not bring it back.
    pub(crate) fn signal_and_wait(
        &mut self,
        c: &Container,
        signal: i32,
        timeout: i64,
    ) -> Result<(), EngineError> {
        restart_policy::mark_manually_stopped(&c.dir(self));
        self.signal_once(c, signal, timeout)?;
        // A restart policy may have started the next run just before it saw the mark.
        let now = self.container(&c.id)?;
        if now.state.status.is_running() {
            self.signal_once(&now, signal, timeout)?;
        }
        Ok(())
    }

    fn signal_once(&mut self, c: &Container, signal: i32, timeout: i64) -> Result<(), EngineError> {
        let runtime = self.runtime_of(c);
        let dir = c.dir(self);
        let Some(shim) = shim_stamp(&dir) else {
            return Ok(());
        };
        if c.state.status == super::Status::Paused {
            // Frozen processes cannot act on a signal: thaw them first.
            let _ = runtime.resume(&c.id);
        }

        if signal != libc::SIGKILL {
            match runtime.kill(&c.id, signal, false) {
                Ok(()) => self.emit_container(c, "kill", &[("signal", signal.to_string())]),
                Err(e) if e.is_not_running() || e.is_not_found() => {}
                Err(e) => return Err(berth_runtime::error::ProcessError::from(e).into()),
            }
            let wait = if timeout < 0 {
                Duration::from_secs(u64::MAX / 4)
            } else {
                Duration::from_secs(timeout as u64)
            };
            if shim.wait_exit(wait) {
                return Ok(());
            }
        }
        match runtime.kill(&c.id, libc::SIGKILL, true) {
            Ok(()) => self.emit_container(c, "kill", &[("signal", libc::SIGKILL.to_string())]),
            Err(e) if e.is_not_running() || e.is_not_found() => {}
            Err(e) => return Err(berth_runtime::error::ProcessError::from(e).into()),
        }
        if !shim.wait_exit(Duration::from_secs(30)) {
            return Err(EngineError::Io(std::io::Error::other(format!(
                "container {} did not exit after SIGKILL",
                c.id
            ))));
        }
        Ok(())
    }

    /// `docker kill [-s SIGNAL]`.
    pub fn kill_container(&mut self, name: &str, signal: &str) -> Result<Container, EngineError> {
        let sig = parse_signal(signal)
            .ok_or_else(|| EngineError::InvalidArgument(format!("Invalid signal: {signal}")))?;
        let c = self.container(name).map_err(|e| match e {
            EngineError::NoSuchContainer(_) => EngineError::NotFound(format!(
                "Cannot kill container: {name}: No such container: {name}"
            )),
            other => other,
        })?;
        c.can_kill(name)?;
        if sig == libc::SIGKILL {
            self.signal_and_wait(&c, sig, 0)?;
        } else {
            // Docker counts any kill as a manual stop for the restart policy.
            restart_policy::mark_manually_stopped(&c.dir(self));
            let runtime = self.runtime_of(&c);
            runtime
                .kill(&c.id, sig, false)
                .map_err(berth_runtime::error::ProcessError::from)?;
            self.emit_container(&c, "kill", &[("signal", sig.to_string())]);
        }
        self.container(&c.id)
    }

    /// `docker restart [-t N]`.
    pub fn restart_container(
        &mut self,
        name: &str,
        timeout: Option<i64>,
    ) -> Result<Container, EngineError> {
        let (c, _) = self.stop_container(name, timeout)?;
        // `RestartCount` counts restarts by a restart policy, not this manual one (Docker).
        let (c, started) = self.start_container(&c.id, false, None)?;
        debug_assert_ne!(started, Started::AwaitingAttach);
        self.emit_container(&c, "restart", &[]);
        Ok(c)
    }
}
