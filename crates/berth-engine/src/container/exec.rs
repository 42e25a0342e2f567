//! `exec`: another process in a running container, through the runtime.

use berth_runtime::attach::AttachIo;
use berth_runtime::exec::{exec, ExecMode, ExecOutcome, ExecSpec};

use crate::{Engine, EngineError};

/// An `exec` request.
pub struct ExecRequest {
    /// Command and arguments.
    pub args: Vec<String>,
    /// Extra `K=V` (added to the container's environment).
    pub env: Vec<String>,
    /// Working directory (`""`: the container's).
    pub workdir: String,
    /// `--user` (`""`: the container's).
    pub user: String,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// `-d`.
    pub detach: bool,
}

impl Engine {
    /// Runs `req` in container `name`; returns the process's exit (or that it was detached).
    pub fn exec_in_container(
        &mut self,
        name: &str,
        req: &ExecRequest,
    ) -> Result<ExecOutcome, EngineError> {
        let c = self.container(name)?;
        c.can_exec()?;
        let rootfs = self.store.driver().rootfs(&c.id, true)?.path;
        let user_spec = if req.user.is_empty() {
            &c.config.user
        } else {
            &req.user
        };
        let user = berth_runtime::user::resolve_user(&rootfs, user_spec)
            .map_err(berth_runtime::error::ProcessError::from)?;
        let mut env = c.config.env.clone().unwrap_or_default();
        env.extend(req.env.iter().cloned());
        let spec = ExecSpec {
            args: req.args.clone(),
            env,
            cwd: if req.workdir.is_empty() {
                c.config.working_dir.clone()
            } else {
                req.workdir.clone()
            },
            user,
            tty: req.tty,
            hostname: c.config.hostname.clone(),
            console_size: None,
        };
        let runtime = self.runtime_for(&c);
        let dir = c.dir(self);
        let outcome = exec(
            &runtime,
            &c.id,
            &dir,
            &spec,
            ExecMode {
                interactive: req.interactive,
                detach: req.detach,
            },
            AttachIo::stdio(),
        )
        .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(outcome)
    }
}
