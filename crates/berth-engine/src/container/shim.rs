//! The engine side of a container's shim: `berth shim <id>` runs [`run_shim`], whose hooks record
//! the container's start and exit in the database, unmount its root filesystem when it ends, and
//! remove it (with its anonymous volumes) for `--rm`, or bring it back under its restart policy
//! ([`super::restart_policy`]). The engine is opened lazily inside the hooks,
//! after the shim has forked and detached, so no database handle crosses a fork.

use berth_runtime::shim::{ExitInfo, ShimConfig, ShimHooks, SHIM_CONFIG};
use chrono::{DateTime, SecondsFormat, Utc};

use super::{State, Status};
use crate::{Engine, EngineError, EngineOptions};

struct EngineHooks {
    opts: EngineOptions,
    id: String,
    engine: Option<Engine>,
    /// Sockets holding the container's published host ports, released at exit.
    held: Vec<std::os::fd::OwnedFd>,
    /// Set at exit when the restart policy brings the container back after this wait.
    restart_after: Option<std::time::Duration>,
    /// A pidfd of the container's health monitor ([`super::health`]), while it runs: the
    /// shim's loop reaps every child, so only a pidfd names the monitor safely later.
    health_monitor: Option<std::os::fd::OwnedFd>,
}

impl EngineHooks {
    fn engine(&mut self) -> Result<&mut Engine, EngineError> {
        if self.engine.is_none() {
            self.engine = Some(Engine::open(self.opts.clone())?);
        }
        Ok(self.engine.as_mut().expect("opened above"))
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

impl ShimHooks for EngineHooks {
    fn started(&mut self, pid: i32, at: DateTime<Utc>) -> Result<(), Box<dyn std::error::Error>> {
        let id = self.id.clone();
        let engine = self.engine()?;
        let c = engine.lookup_container(&id)?;
        let state = State {
            status: Status::Running,
            pid: pid as i64,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: rfc3339(at),
            finished_at: c.state.finished_at.clone(),
        };
        let start = crate::events::container_event(&c, "start", &[]);
        engine.save_settled_state(&id, &state, &[start])?;
        if super::health::HealthSettings::of(&c.config).is_some() {
            engine.reset_health(&c)?;
            match engine.spawn_health_monitor(&c) {
                Ok(child) => {
                    // Not reaped yet: the shim's loop runs after this hook returns.
                    let pid = rustix::process::Pid::from_child(&child);
                    self.health_monitor =
                        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok();
                }
                Err(e) => eprintln!("berth shim {id}: {e}"),
            }
        }
        Ok(())
    }

    fn exited(&mut self, exit: &ExitInfo) {
        if let Some(monitor) = self.health_monitor.take() {
            // The shim's loop reaps it.
            let _ = rustix::process::pidfd_send_signal(&monitor, rustix::process::Signal::KILL);
        }
        let id = self.id.clone();
        let Ok(engine) = self.engine() else { return };
        let Ok(c) = engine.lookup_container(&id) else {
            return;
        };
        // Network first: its ports and addresses are free before anyone sees the exit.
        engine.detach_network(&c);
        self.held.clear();
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let restart_after = engine.restart_delay(&c, exit);
        let mut state = c.state.clone();
        state.status = if exit.error.is_some() && c.state.status == Status::Created {
            Status::Created
        } else if restart_after.is_some() {
            Status::Restarting
        } else {
            Status::Exited
        };
        state.pid = 0;
        state.exit_code = exit.exit_code;
        state.oom_killed = exit.oom_killed;
        state.error = exit.error.clone().unwrap_or_default();
        state.finished_at = rfc3339(exit.finished_at);
        let mut events = Vec::new();
        if c.state.status != Status::Created || exit.error.is_none() {
            if exit.oom_killed {
                events.push(crate::events::container_event(&c, "oom", &[]));
            }
            let code = ("exitCode", exit.exit_code.to_string());
            events.push(crate::events::container_event(&c, "die", &[code]));
        }
        if let Err(e) = engine.save_settled_state(&id, &state, &events) {
            log::warn!("container {id}: exit not recorded: {e}");
        }
        berth_runtime::phases::mark("hooks.state_saved");
        engine.release_rootfs(&c);
        engine.release_mounts(&c);
        berth_runtime::phases::mark("hooks.released");
        if c.host_config.auto_remove {
            engine.write_discard_report(&c);
            // The files are deleted in `finished`, once the client has the exit code.
            engine.defer_deletes();
            let _ = engine.destroy_container(&c, true);
            berth_runtime::phases::mark("hooks.removed");
        }
        self.restart_after = restart_after;
    }

    fn finished(&mut self) -> bool {
        if let Some(engine) = self.engine.as_mut() {
            engine.empty_trash();
        }
        let Some(delay) = self.restart_after.take() else {
            // Nothing follows: closed now, the engine removes this process's staging directory
            // (where the trash was), which the shim's exit would leave to the repair pass.
            self.engine = None;
            return false;
        };
        let id = self.id.clone();
        match self.engine() {
            Ok(engine) => engine.restart_after(&id, delay),
            Err(_) => false,
        }
    }
}

impl Engine {
    /// The body of `berth shim <id>`: never returns.
    pub fn run_shim(opts: EngineOptions, id: &str) -> ! {
        // The launcher wrote the configuration in the container's run directory, under the
        // exec root the settings file gives this data root (as Engine::open reads it).
        let exec_root = match crate::config::EngineConfig::load(opts.config_file.as_deref()) {
            Ok((settings, _)) => settings.network(&opts.root).exec_root,
            Err(e) => {
                eprintln!("berth shim: {e}");
                std::process::exit(125);
            }
        };
        let dir = super::run_dir(&exec_root, id);
        let config = match ShimConfig::load(&dir.join(SHIM_CONFIG)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("berth shim: {e}");
                std::process::exit(125);
            }
        };
        let mut hooks = EngineHooks {
            opts,
            id: id.to_string(),
            engine: None,
            held: berth_runtime::shim::take_held_fds(),
            restart_after: None,
            health_monitor: None,
        };
        berth_runtime::shim::run_shim(config, &mut hooks)
    }
}
