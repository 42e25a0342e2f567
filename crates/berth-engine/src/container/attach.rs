//! `attach` (and the attach half of `run`/`start -a`): connects the caller's terminal or pipes to
//! the container's shim.

use berth_runtime::attach::{AttachClient, AttachIo, AttachOptions, AttachOutcome, DetachKeys};

use crate::{Engine, EngineError};

/// How to attach.
pub struct AttachRequest {
    /// Forward stdin.
    pub stdin: bool,
    /// Receive stdout.
    pub stdout: bool,
    /// Receive stderr.
    pub stderr: bool,
    /// The key sequence that detaches.
    pub detach_keys: DetachKeys,
    /// Ask the shim to start the process first (`run`, `start -a`).
    pub start: bool,
}

impl Engine {
    /// Attaches the process's stdio to container `name` until it exits or the user detaches.
    pub fn attach_container(
        &mut self,
        name: &str,
        req: &AttachRequest,
    ) -> Result<AttachOutcome, EngineError> {
        let c = self.container(name)?;
        if !req.start && !c.state.status.is_running() {
            return Err(EngineError::Conflict(
                "You cannot attach to a stopped container, start it first".into(),
            ));
        }
        let dir = c.dir(self);
        let client =
            AttachClient::connect(&dir).map_err(berth_runtime::error::ProcessError::from)?;
        let opts = AttachOptions {
            stdin: req.stdin,
            stdout: req.stdout,
            stderr: req.stderr,
            tty: c.config.tty,
            detach_keys: req.detach_keys.clone(),
            start: req.start,
        };
        let outcome = client
            .run(&opts, AttachIo::stdio())
            .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(outcome)
    }
}
