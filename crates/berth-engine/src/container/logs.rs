//! `logs`: the container's log (json-file or local, rotated files included), with Docker's
//! `--tail`, `--since`, `--until`, `-t` and `-f` (which follows until the container stops, across
//! rotations); the `none` driver keeps nothing to read.

use std::io::Write;

use berth_runtime::logs::{read_logs, LogOptions};

use crate::{Engine, EngineError};

/// A `logs` request.
pub struct LogsRequest {
    /// Reader options.
    pub options: LogOptions,
}

impl Engine {
    /// Whether the log of `name` can be read (the `none` driver keeps nothing): the API checks it
    /// before it answers, as dockerd does (501).
    pub fn check_logs_readable(&mut self, name: &str) -> Result<(), EngineError> {
        let c = self.container(name)?;
        match self.log_path(&c) {
            Some(_) => Ok(()),
            None => Err(super::runconfig::RunConfigError::LogsNotReadable.into()),
        }
    }

    /// Writes the log of `name` to `out` (stdout lines) and `err` (stderr lines).
    pub fn container_logs(
        &mut self,
        name: &str,
        req: &LogsRequest,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), EngineError> {
        let c = self.container(name)?;
        let dir = self.run_dir(&c.id);
        let Some(path) = self.log_path(&c) else {
            return Err(super::runconfig::RunConfigError::LogsNotReadable.into());
        };
        if !path.exists() {
            return Ok(());
        }
        let mut running = || berth_runtime::shim::shim_alive(&dir);
        read_logs(&path, &req.options, out, err, &mut running)
            .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(())
    }
}
