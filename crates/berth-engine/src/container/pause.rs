//! `pause` and `unpause`: freeze and thaw a running container's processes (the cgroup
//! freezer, through the runtime). tmpfs content and everything else survives (spec §10.3).

use berth_runtime::Runtime;

use super::{Container, Status};
use crate::{Engine, EngineError};

impl Engine {
    /// `docker pause NAME`.
    pub fn pause_container(&mut self, name: &str) -> Result<Container, EngineError> {
        let c = self.container(name)?;
        let runtime = self.runtime_for(&c);
        self.transition(&c.id, Container::can_pause, |c, state| {
            runtime
                .pause(&c.id)
                .map_err(berth_runtime::error::ProcessError::from)?;
            state.status = Status::Paused;
            Ok(())
        })?;
        self.container(&c.id)
    }

    /// `docker unpause NAME`.
    pub fn unpause_container(&mut self, name: &str) -> Result<Container, EngineError> {
        let c = self.container(name)?;
        let runtime = self.runtime_for(&c);
        self.transition(&c.id, Container::can_unpause, |c, state| {
            runtime
                .resume(&c.id)
                .map_err(berth_runtime::error::ProcessError::from)?;
            state.status = Status::Running;
            Ok(())
        })?;
        self.container(&c.id)
    }
}
