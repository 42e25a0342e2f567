//! One module per command family; each function takes parsed arguments and the engine and
//! returns an [`crate::exit::Exit`]. Output formatting goes through [`crate::output`].

pub mod build;
pub mod container;
pub mod files;
pub mod image;
pub mod inspect;
pub mod network;
#[cfg(feature = "inproc")]
pub mod oci_runtime;
pub mod registry;
pub mod resources;
pub mod stats;
pub mod storage;
pub mod system;
pub mod volume;

use berth_engine::filters::{FilterError, Filters};

use crate::error::CliError;

/// `--filter k=v` flags as [`Filters`]. A flag without `=` is refused as the docker CLI
/// refuses it (`flag` is how the command spells the option: `-f, --filter` or `--filter`).
pub fn parse_filters(flags: &[String], flag: &str) -> Result<Filters, CliError> {
    Filters::from_flags(flags).map_err(|e| {
        let f = match &e {
            FilterError::BadFormat(f) => f.as_str(),
            _ => "",
        };
        crate::parse::flag_error(format!("invalid argument \"{f}\" for \"{flag}\" flag: {e}"))
    })
}

/// Prints `warning` and docker's `Are you sure you want to continue? [y/N] ` on stdout and reads
/// the answer from stdin (docker's prune prompts).
pub fn confirm(warning: &str) -> bool {
    use std::io::Write;
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}
