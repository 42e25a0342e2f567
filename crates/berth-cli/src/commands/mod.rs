//! One module per command family; each function takes parsed arguments and the engine and
//! returns an [`crate::exit::Exit`]. Output formatting goes through [`crate::output`].

pub mod container;
pub mod files;
pub mod image;
pub mod inspect;
pub mod system;
pub mod volume;

use std::collections::BTreeMap;

use crate::error::CliError;

/// `--filter k=v` flags as a key → values map (docker's filter args). A flag without `=` is an
/// error, like docker's `bad format of filter (expected name=value)`.
pub fn parse_filters(flags: &[String]) -> Result<BTreeMap<String, Vec<String>>, CliError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in flags {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            CliError::usage(format!(
                "invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"
            ))
            .with_exit(crate::exit::Exit::Engine)
        })?;
        out.entry(k.trim().to_lowercase())
            .or_default()
            .push(v.to_string());
    }
    Ok(out)
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
