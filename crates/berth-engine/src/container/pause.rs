//! `pause` and `unpause`: freeze and thaw a running container's processes (the cgroup
//! freezer, through the runtime). tmpfs content and everything else survives (spec §10.3).

use super::{Container, Status};
use crate::{Engine, EngineError};

impl Engine {
    /// `docker pause NAME`.
    pub fn pause_container(&mut self, name: &str) -> Result<Container, EngineError> {
        let c = self.container(name)?;
        let runtime = self.runtime_of(&c);
        self.transition(&c.id, Container::can_pause, |c, state| {
            runtime
                .pause(&c.id)
                .map_err(berth_runtime::error::ProcessError::from)?;
            state.status = Status::Paused;
            Ok(())
        })?;
        self.emit_container(&c, "pause", &[]);
        self.container(&c.id)
    }

    /// `docker unpause NAME`.
    pub fn unpause_container(&mut self, name: &str) -> Result<Container, EngineError> {
        let c = self.container(name)?;
        let runtime = self.runtime_of(&c);
        self.transition(&c.id, Container::can_unpause, |c, state| {
            runtime
                .resume(&c.id)
                .map_err(berth_runtime::error::ProcessError::from)?;
            state.status = Status::Running;
            Ok(())
        })?;
        self.emit_container(&c, "unpause", &[]);
        self.container(&c.id)
    }
}

#[cfg(test)]
mod tests {
    use crate::container::testutil::{engine_with_container, FakeRuntime};
    use crate::container::Status;
    use crate::EngineError;

    #[test]
    fn pause_and_unpause_check_and_act_in_one_transaction() {
        let fake = FakeRuntime::new();
        let (_root, mut engine) = engine_with_container(&fake, "abc", Status::Running);
        assert_eq!(
            engine.pause_container("abc").unwrap().state.status,
            Status::Paused
        );
        // Refused by the state, before the runtime is asked.
        let again = engine.pause_container("abc").unwrap_err();
        assert!(matches!(again, EngineError::State(_)), "{again:?}");
        assert_eq!(again.to_string(), "Container abc is already paused");
        assert_eq!(
            engine.unpause_container("abc").unwrap().state.status,
            Status::Running
        );
        assert_eq!(fake.calls(), ["pause abc", "resume abc"]);
        // A runtime that fails leaves the recorded state as it was.
        fake.fail_next("container not running");
        let failed = engine.pause_container("abc").unwrap_err();
        assert_eq!(failed.to_string(), "container not running");
        assert_eq!(
            engine.container("abc").unwrap().state.status,
            Status::Running
        );
        let unpaused = engine.unpause_container("abc").unwrap_err();
        assert_eq!(unpaused.to_string(), "Container abc is not paused");
    }

    #[test]
    fn top_and_kill_are_refused_by_state_without_asking_the_runtime() {
        let fake = FakeRuntime::new();
        let (_root, mut engine) = engine_with_container(&fake, "abc", Status::Exited);
        assert_eq!(
            engine.container_top("abc", &[]).unwrap_err().to_string(),
            "Container abc is not running"
        );
        assert_eq!(
            engine
                .kill_container("abc", "KILL")
                .unwrap_err()
                .to_string(),
            "Cannot kill container: abc: Container abc is not running"
        );
        assert_eq!(
            engine
                .kill_container("abc", "NOSUCH")
                .unwrap_err()
                .to_string(),
            "Invalid signal: NOSUCH"
        );
        assert!(fake.calls().is_empty());
    }
}
