//! `pause` and `unpause`: freeze and thaw a running container's processes (the cgroup
//! freezer, through the runtime). tmpfs content and everything else survives (spec §10.3).

use berth_runtime::Runtime;

use super::{Container, Status};
use crate::{Engine, EngineError};

impl Engine {
    /// `docker pause NAME`.
    pub fn pause_container(&mut self, name: &str) -> Result<Container, EngineError> {
        let c = self.container(name)?;
        match c.state.status {
            Status::Paused => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is already paused",
                    c.id
                )))
            }
            s if !s.is_running() => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is not running",
                    c.id
                )))
            }
            _ => {}
        }
        self.runtime_for(&c)
            .pause(&c.id)
            .map_err(berth_runtime::error::ProcessError::from)?;
        let mut state = c.state.clone();
        state.status = Status::Paused;
        self.save_state(&c.id, &state)?;
        self.container(&c.id)
    }

    /// `docker unpause NAME`.
    pub fn unpause_container(&mut self, name: &str) -> Result<Container, EngineError> {
        let c = self.container(name)?;
        if c.state.status != Status::Paused {
            return Err(EngineError::Conflict(format!(
                "Container {} is not paused",
                c.id
            )));
        }
        self.runtime_for(&c)
            .resume(&c.id)
            .map_err(berth_runtime::error::ProcessError::from)?;
        let mut state = c.state.clone();
        state.status = Status::Running;
        self.save_state(&c.id, &state)?;
        self.container(&c.id)
    }
}
