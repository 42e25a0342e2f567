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
        let dir = c.dir(self);
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
