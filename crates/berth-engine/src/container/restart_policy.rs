//! Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`). berth has no daemon,
//! so the container's shim applies the policy when the process exits: it records the container
//! as `restarting`, waits Docker's back-off while its pid file still names it (so `stop`, `kill`
//! and `rm -f` find it and wait for it), then starts the container's next shim and hands over.
//!
//! A user's `stop`, `kill`, `restart` or `rm -f` first leaves a marker file in the container
//! directory, which cancels any restart (Docker's "manually stopped"); a user's `start` clears
//! it. After a reboot no shim is left to apply a policy: `berth system boot` ([`starts_at_boot`],
//! run by `berth-restart.service`) brings back `always` containers, and `unless-stopped` ones
//! the user had not stopped, as dockerd does when it starts.

use std::path::Path;
use std::time::{Duration, Instant};

use berth_runtime::shim::ExitInfo;
use chrono::DateTime;

use super::{Container, Status};
use crate::types::RestartPolicy;
use crate::Engine;

/// Written by a user's stop, kill or remove; a restart policy never undoes it.
const MANUAL_STOP: &str = "manually-stopped";
/// Docker's first back-off, doubled for every consecutive restart.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Docker's longest back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run at least this long counts as healthy: the back-off starts over.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// How often a waiting restart looks for a stop.
const POLL: Duration = Duration::from_millis(50);

/// Records that the user stopped the container in `dir`, before it is signalled.
pub(crate) fn mark_manually_stopped(dir: &Path) {
    let _ = std::fs::write(dir.join(MANUAL_STOP), b"");
}

/// A user's start: the restart policy applies again.
pub(crate) fn clear_manual_stop(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(MANUAL_STOP));
}

fn manually_stopped(dir: &Path) -> bool {
    dir.join(MANUAL_STOP).exists()
}

/// Whether a stopped container with `policy`, whose directory is `dir`, starts at boot:
/// `always` does; `unless-stopped` does unless the user stopped it; `on-failure` and `no`
/// do not (a reboot is not the container's failure).
pub(crate) fn starts_at_boot(policy: &RestartPolicy, dir: &Path) -> bool {
    match policy.name.as_str() {
        "always" => true,
        "unless-stopped" => !manually_stopped(dir),
        _ => false,
    }
}

/// Whether `policy` restarts a container whose process exited with `exit_code`, after
/// `restarts` restarts so far.
pub fn wants_restart(policy: &RestartPolicy, exit_code: i64, restarts: i64) -> bool {
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            exit_code != 0
                && (policy.maximum_retry_count <= 0 || restarts < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// The wait before the next restart: 100 ms, doubled per restart (the count stands for the
/// consecutive ones), at most a minute, and 100 ms again after a run of 10 s or more.
pub fn backoff(restarts: i64, ran_for: Duration) -> Duration {
    if ran_for >= HEALTHY_RUN {
        return FIRST_BACKOFF;
    }
    let doublings = restarts.clamp(0, 10) as u32;
    (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

impl Engine {
    /// In the shim, when the process of `c` has exited: whether its policy brings it back, and
    /// after how long (the caller records it as restarting rather than exited).
    pub(crate) fn restart_delay(&self, c: &Container, exit: &ExitInfo) -> Option<Duration> {
        let restarts = wants_restart(
            &c.host_config.restart_policy,
            exit.exit_code as i64,
            c.restart_count,
        );
        if !restarts
            || exit.error.is_some()
            || c.host_config.auto_remove
            || manually_stopped(&c.dir(self))
        {
            return None;
        }
        let ran_for = DateTime::parse_from_rfc3339(&c.state.started_at)
            .ok()
            .and_then(|t| (exit.finished_at - t.to_utc()).to_std().ok())
            .unwrap_or_default();
        Some(backoff(c.restart_count, ran_for))
    }

    /// In the shim, last: waits `delay` unless the user stops or removes the container
    /// meanwhile, then starts its next shim. True when that shim took over.
    pub(crate) fn restart_after(&mut self, id: &str, delay: Duration) -> bool {
        let dir = self.container_dir(id);
        let deadline = Instant::now() + delay;
        loop {
            let Ok(Some(c)) = self.container_by_id(id) else {
                return false; // removed
            };
            if c.state.status != Status::Restarting || manually_stopped(&dir) {
                self.cancel_restart(c);
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return self.restart_now(c);
            }
            std::thread::sleep(POLL.min(deadline - now));
        }
    }

    fn restart_now(&mut self, c: Container) -> bool {
        let counted = self
            .store
            .db_mut()
            .write(|tx| berth_store::metadata::containers::count_restart(tx, &c.id));
        if counted.is_err() {
            self.cancel_restart(c);
            return false;
        }
        log::debug!("restart policy: starting {} again", c.id);
        match self.launch(&c, false, None) {
            Ok(_) => true,
            Err(e) => {
                log::debug!("restart policy: {} did not start: {e}", c.id);
                self.release_rootfs(&c);
                let mut state = c.state.clone();
                state.status = Status::Exited;
                state.error = e.to_string();
                let _ = self.save_state(&c.id, &state);
                false
            }
        }
    }

    /// The restart is off: a container still marked restarting is recorded as exited.
    fn cancel_restart(&mut self, c: Container) {
        if c.state.status == Status::Restarting {
            let mut state = c.state;
            state.status = Status::Exited;
            let _ = self.save_state(&c.id, &state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, max: i64) -> RestartPolicy {
        RestartPolicy {
            name: name.into(),
            maximum_retry_count: max,
        }
    }

    #[test]
    fn policies_decide_like_docker() {
        for (name, max, code, restarts, want) in [
            ("no", 0, 1, 0, false),
            ("", 0, 1, 0, false),
            ("always", 0, 0, 0, true),
            ("always", 0, 3, 100, true),
            ("unless-stopped", 0, 0, 5, true),
            ("on-failure", 0, 0, 0, false),
            ("on-failure", 0, 1, 1000, true),
            ("on-failure", 3, 1, 2, true),
            ("on-failure", 3, 1, 3, false),
            ("on-failure", 3, 137, 0, true),
        ] {
            assert_eq!(
                wants_restart(&policy(name, max), code, restarts),
                want,
                "{name}:{max} exit {code} after {restarts}"
            );
        }
    }

    #[test]
    fn backoff_doubles_caps_and_starts_over_after_a_healthy_run() {
        let quick = Duration::from_millis(10);
        assert_eq!(backoff(0, quick), Duration::from_millis(100));
        assert_eq!(backoff(1, quick), Duration::from_millis(200));
        assert_eq!(backoff(3, quick), Duration::from_millis(800));
        assert_eq!(
            backoff(9, quick),
            Duration::from_secs(51) + Duration::from_millis(200)
        );
        assert_eq!(backoff(10, quick), Duration::from_secs(60));
        assert_eq!(backoff(500, quick), Duration::from_secs(60));
        assert_eq!(
            backoff(7, Duration::from_secs(10)),
            Duration::from_millis(100)
        );
    }
}
