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

/// Sends `signal` to container `c`'s process (to all its processes for SIGKILL), thawing a
/// frozen one first when `thaw`. False when the process had ended already (its exit not yet
/// recorded): Docker takes that as done, not as a failure.
fn deliver(
    runtime: &dyn berth_runtime::Runtime,
    c: &Container,
    signal: i32,
    thaw: bool,
) -> Result<bool, EngineError> {
    if thaw && c.state.status == super::Status::Paused {
        // Frozen processes cannot act on a signal.
        let _ = runtime.resume(&c.id);
    }
    match runtime.kill(&c.id, signal, signal == libc::SIGKILL) {
        Ok(()) => Ok(true),
        Err(e) if e.is_not_running() || e.is_not_found() => Ok(false),
        Err(e) => Err(berth_runtime::error::ProcessError::from(e).into()),
    }
}

/// A `kill` refused before the state is read, in dockerd's words.
#[derive(Debug, thiserror::Error)]
pub enum KillError {
    /// A signal name or number Linux does not have.
    #[error("Invalid signal: {0}")]
    InvalidSignal(String),
    /// No container by that name (404), which dockerd's kill words its own way.
    #[error("Cannot kill container: {0}: No such container: {0}")]
    NoSuchContainer(String),
}

impl KillError {
    /// The class of the refusal.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            KillError::InvalidSignal(_) => berth_store::ErrorKind::InvalidArgument,
            KillError::NoSuchContainer(_) => berth_store::ErrorKind::NotFound,
        }
    }
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
        let signal = match c.config.stop_signal.as_str() {
            "" => libc::SIGTERM,
            s => parse_signal(s).unwrap_or(libc::SIGTERM),
        };
        let timeout = timeout
            .or(c.config.stop_timeout)
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        // A --rm container's shim removes it once it has ended, maybe before this looks again:
        // it is answered as it was last seen, stopped (docker prints its name, exit 0).
        let gone = |c: &Container, e: EngineError| match e {
            EngineError::NoSuchContainer(_) if c.host_config.auto_remove => Ok(c.clone()),
            e => Err(e),
        };
        if !self.signal_and_wait(&c, signal, timeout)? {
            let now = self.container(&c.id).or_else(|e| gone(&c, e))?;
            return Ok((now, Stopped::NotRunning));
        }
        self.emit_container(&c, "stop", &[]);
        let c = self.container(&c.id).or_else(|e| gone(&c, e))?;
        // The shim tears the network down at exit; this covers a shim that could not.
        if !c.state.status.is_running() {
            self.detach_network(&c);
        }
        Ok((c, Stopped::Stopped))
    }

    /// Sends `signal`; if the container still runs after `timeout` seconds (negative: forever),
    /// kills it. Returns once its exit is recorded, with whether its process ran (false: nothing
    /// was sent). The user stopped it: its restart policy does not bring it back.
    pub(crate) fn signal_and_wait(
        &mut self,
        c: &Container,
        signal: i32,
        timeout: i64,
    ) -> Result<bool, EngineError> {
        self.signal_checked(c, signal, timeout, |_| Ok(()))
    }

    /// [`Engine::signal_and_wait`] once `allowed` accepts the state. The state is read, and the
    /// first signal sent, under the store's write lock ([`Engine::acting`]): the shim cannot
    /// record an exit in between, so a container that ended meanwhile is answered as a stopped
    /// one, never signalled after its exit was recorded.
    fn signal_checked(
        &mut self,
        c: &Container,
        signal: i32,
        timeout: i64,
        allowed: impl FnOnce(&Container) -> Result<(), super::StateError>,
    ) -> Result<bool, EngineError> {
        let dir = c.dir(self);
        let runtime = self.runtime_of(c);
        let sent = self.acting(&c.id, allowed, |_, now| {
            if !now.state.status.is_running() {
                return Ok(None);
            }
            restart_policy::mark_manually_stopped(&dir);
            deliver(&*runtime, now, signal, true).map(Some)
        })?;
        let Some(delivered) = sent else {
            return Ok(false);
        };
        if delivered {
            self.emit_container(c, "kill", &[("signal", signal.to_string())]);
        }
        self.await_exit(c, signal, timeout)?;
        // A restart policy may have started the next run just before it saw the mark; a --rm
        // container's shim may have removed it already (it ended: that is what was asked).
        let now = match self.container(&c.id) {
            Ok(now) => now,
            Err(EngineError::NoSuchContainer(_)) if c.host_config.auto_remove => return Ok(true),
            Err(e) => return Err(e),
        };
        if now.state.status.is_running() {
            if deliver(&*self.runtime_of(&now), &now, signal, true)? {
                self.emit_container(&now, "kill", &[("signal", signal.to_string())]);
            }
            self.await_exit(&now, signal, timeout)?;
        }
        Ok(true)
    }

    /// Waits for the exit of a container sent `signal`: `timeout` seconds (negative: forever),
    /// then SIGKILL and 30 more seconds.
    fn await_exit(&mut self, c: &Container, signal: i32, timeout: i64) -> Result<(), EngineError> {
        let Some(shim) = shim_stamp(&self.run_dir(&c.id)) else {
            return Ok(());
        };
        if signal != libc::SIGKILL {
            let wait = if timeout < 0 {
                Duration::from_secs(u64::MAX / 4)
            } else {
                Duration::from_secs(timeout as u64)
            };
            if shim.wait_exit(wait) {
                return Ok(());
            }
            if deliver(&*self.runtime_of(c), c, libc::SIGKILL, true)? {
                self.emit_container(c, "kill", &[("signal", libc::SIGKILL.to_string())]);
            }
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
        let sig =
            parse_signal(signal).ok_or_else(|| KillError::InvalidSignal(signal.to_string()))?;
        let c = self.container(name).map_err(|e| match e {
            EngineError::NoSuchContainer(_) => KillError::NoSuchContainer(name.to_string()).into(),
            other => other,
        })?;
        if sig == libc::SIGKILL {
            self.signal_checked(&c, sig, 0, |now| now.can_kill(name))?;
        } else {
            let dir = c.dir(self);
            let runtime = self.runtime_of(&c);
            // Checked and sent under the write lock, as `stop`'s signal is.
            let delivered = self.acting(
                &c.id,
                |now| now.can_kill(name),
                |_, now| {
                    // Docker counts any kill as a manual stop for the restart policy.
                    restart_policy::mark_manually_stopped(&dir);
                    deliver(&*runtime, now, sig, false)
                },
            )?;
            if delivered {
                self.emit_container(&c, "kill", &[("signal", sig.to_string())]);
            }
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::Stopped;
    use crate::container::testutil::{engine_with_container, open_engine, FakeRuntime};
    use crate::container::Status;

    /// The race of issue 14: `kill` read the state, then signalled, and a shim could record
    /// the exit in between. Now, while the runtime delivers the signal, another berth process
    /// (here a second engine on the same root, recording the exit as a shim would) waits for
    /// kill's transaction: the state kill checked is the state it acted on.
    #[test]
    fn kill_checks_and_signals_under_the_write_lock() {
        let fake = FakeRuntime::new();
        let (root, mut engine) = engine_with_container(&fake, "abc", Status::Running);
        let (done_tx, done_rx) = mpsc::channel();
        let shim: Arc<Mutex<Option<std::thread::JoinHandle<()>>>> = Arc::default();
        let waited = Arc::new(Mutex::new(None));
        let (root_path, other_fake) = (root.path().to_path_buf(), FakeRuntime::new());
        let (shim_slot, waited_slot) = (shim.clone(), waited.clone());
        fake.during(move |call| {
            if !call.starts_with("kill") {
                return;
            }
            let (root, fake, done) = (root_path.clone(), other_fake.clone(), done_tx.clone());
            *shim_slot.lock().unwrap() = Some(std::thread::spawn(move || {
                let mut other = open_engine(&fake, &root);
                let mut state = other.container("abc").unwrap().state;
                state.status = Status::Exited;
                other.save_state("abc", &state).unwrap();
                done.send(()).unwrap();
            }));
            // Generous: on a loaded machine the writer may not even have started, which this
            // cannot tell from a blocked one; with the lock not held it finishes at once.
            let finished = done_rx.recv_timeout(Duration::from_millis(700)).is_ok();
            *waited_slot.lock().unwrap() = Some(!finished);
        });
        engine.kill_container("abc", "TERM").unwrap();
        let writer = shim
            .lock()
            .unwrap()
            .take()
            .expect("the runtime was asked to kill");
        writer.join().unwrap();
        assert_eq!(
            *waited.lock().unwrap(),
            Some(true),
            "the shim's write landed while kill acted"
        );
        assert_eq!(fake.calls(), ["kill abc 15"]);
        // The write that waited landed once kill's transaction ended.
        assert_eq!(
            engine.container("abc").unwrap().state.status,
            Status::Exited
        );
    }

    #[test]
    fn a_process_gone_before_its_exit_is_recorded_is_killed_already() {
        let fake = FakeRuntime::new();
        let (_root, mut engine) = engine_with_container(&fake, "abc", Status::Running);
        // The runtime finds the process ended (the shim has not recorded it yet): Docker
        // takes that as done, not as runc's error.
        fake.fail_next("container not running");
        engine.kill_container("abc", "TERM").unwrap();
        assert_eq!(fake.calls(), ["kill abc 15"]);
    }

    #[test]
    fn stop_of_a_stopped_container_sends_nothing() {
        let fake = FakeRuntime::new();
        let (_root, mut engine) = engine_with_container(&fake, "abc", Status::Exited);
        let (c, stopped) = engine.stop_container("abc", Some(0)).unwrap();
        assert_eq!(stopped, Stopped::NotRunning);
        assert_eq!(c.state.status, Status::Exited);
        assert!(fake.calls().is_empty());
    }
}
