//! `wait`: blocks until a container stops and returns its exit code.

use std::time::Duration;

use berth_runtime::attach::AttachClient;

use crate::{Engine, EngineError};

impl Engine {
    /// `docker wait NAME`.
    pub fn wait_container(&mut self, name: &str) -> Result<i32, EngineError> {
        let c = self.container(name)?;
        if !c.state.status.is_running() {
            return Ok(c.state.exit_code);
        }
        let dir = self.run_dir(&c.id);
        // The shim reports the code itself; if it is gone already, the database has it.
        if let Ok(Some(code)) = AttachClient::wait(&dir, None) {
            return Ok(code);
        }
        if let Some(shim) = berth_runtime::shim::shim_stamp(&dir) {
            shim.wait_exit(Duration::from_secs(u64::MAX / 4));
        }
        match self.container(&c.id) {
            Ok(c) => Ok(c.state.exit_code),
            Err(EngineError::NoSuchContainer(_)) => Ok(0),
            Err(e) => Err(e),
        }
    }
}

impl Engine {
    /// `wait` with the API's `next-exit` and `removed` conditions: waits for the container's
    /// next exit even if it has not started yet (the docker CLI asks before it starts the
    /// container), and with `until_removed` also for its `--rm` removal. The code comes from
    /// the shim, so it survives the removal. `abandoned` is asked while nothing runs yet: when
    /// it says the caller is gone, the wait ends (with a conflict error).
    pub fn wait_next_exit(
        &mut self,
        name: &str,
        until_removed: bool,
        abandoned: &dyn Fn() -> bool,
    ) -> Result<i32, EngineError> {
        let c = self.container(name)?;
        let dir = self.run_dir(&c.id);
        let code = loop {
            if let Ok(Some(code)) = AttachClient::wait(&dir, None) {
                break code;
            }
            // No shim (yet): it is being started, or it ran and the database has the code.
            match self.container(&c.id) {
                Ok(now) if now.state.finished_at != c.state.finished_at => {
                    break now.state.exit_code
                }
                Ok(_) if abandoned() => return Err(EngineError::WaitAbandoned),
                Ok(_) => std::thread::sleep(Duration::from_millis(50)),
                // Removed without running (a --rm container whose start failed): what was
                // waited for has happened.
                Err(EngineError::NoSuchContainer(_)) if until_removed => {
                    return Ok(c.state.exit_code)
                }
                Err(e) => return Err(e),
            }
        };
        if until_removed {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while self.container(&c.id).is_ok() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(code)
    }
}
