//! The `berth` command line: clap commands, tables, `--format` templates and progress bars. The
//! binary in `main.rs` only calls [`run`].
#![warn(missing_docs)]

/// Output formatting: Go-template `--format`, tables, human-readable units.
pub mod format;

/// Runs the command line and returns the process exit code.
pub fn run() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
