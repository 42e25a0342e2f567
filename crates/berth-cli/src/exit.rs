//! [`Exit`] is every way the `berth` process ends, with Docker's exit codes: 125 when the engine
//! itself failed, 126 when the container's command cannot be invoked, 127 when it is not found,
//! 1 for a failed non-run command (64 for a template that does not parse), otherwise the container's own code.

use std::process::ExitCode;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok,
    /// A command failed (`docker volume rm`, `docker tag`...): 1.
    Failure,
    /// A `--format` template that does not parse (`inspect`, `info`, `version`): 64, the
    /// docker CLI's "command line usage error" (sysexits' EX_USAGE).
    Usage,
    /// `docker run`/`create` failed in the engine or the CLI: 125.
    Engine,
    /// The container's command could not be invoked: 126.
    CannotInvoke,
    /// The container's command was not found: 127.
    NotFound,
    /// The container's own exit code.
    Container(i32),
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Usage => 64,
            Exit::Engine => 125,
            Exit::CannotInvoke => 126,
            Exit::NotFound => 127,
            Exit::Container(c) => (c & 0xff) as u8,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}
