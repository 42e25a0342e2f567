//! [`CliError`] is a message the CLI prints to stderr as is, and the [`Exit`] it ends with.
//! Engine errors become `Error response from daemon: <text>`, as the docker CLI prints a
//! daemon's answer; `run` adds the program name (`berth: `, where docker prints `docker: `) and
//! docker's help pointer, and exits 125 (126/127 when the command cannot be invoked or found).

use berth_engine::EngineError;

use crate::exit::Exit;

/// A printed failure.
#[derive(Debug)]
pub struct CliError {
    /// The full text for stderr.
    pub message: String,
    /// How the process ends.
    pub exit: Exit,
}

impl CliError {
    /// A CLI-side error (no daemon prefix) ending with exit 1.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            exit: Exit::Failure,
        }
    }

    /// Same error, other exit.
    pub fn with_exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        CliError {
            message: format!("Error response from daemon: {e}"),
            exit: Exit::Failure,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError {
            message: e.to_string(),
            exit: Exit::Failure,
        }
    }
}

/// What a command returns.
pub type CliResult = Result<Exit, CliError>;
