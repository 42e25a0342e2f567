//! `logs`: the container's json-file log, with Docker's `--tail`, `--since`, `--until`,
//! `-t` and `-f` (which follows until the container stops).

use std::io::Write;

use berth_runtime::logs::{read_logs, LogOptions};

use crate::{Engine, EngineError};

/// A `logs` request.
pub struct LogsRequest {
    /// Reader options.
    pub options: LogOptions,
}

impl Engine {
    /// Writes the log of `name` to `out` (stdout lines) and `err` (stderr lines).
    pub fn container_logs(
        &mut self,
        name: &str,
        req: &LogsRequest,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), EngineError> {
        let c = self.container(name)?;
        let dir = c.dir(self);
        let path = self.log_path(&c.id);
        if !path.exists() {
            return Ok(());
        }
        let mut running = || berth_runtime::shim::shim_alive(&dir);
        read_logs(&path, &req.options, out, err, &mut running)
            .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(())
    }
}
