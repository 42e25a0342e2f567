//! Start-up phase marks for the benchmark's per-phase breakdown of `run --rm` (bench/README.md).
//! When the environment variable [`PHASES_ENV`] names a file, [`mark`] appends one line
//! `<phase> <microseconds since the epoch> <pid>` to it; the CLI, the engine and the shim (which
//! inherits the variable) all mark, so one file tells where a run's wall time went. Without the
//! variable a mark costs one environment look-up per process and writes nothing.

use std::io::Write;
use std::sync::OnceLock;

/// The environment variable naming the marks file.
pub const PHASES_ENV: &str = "BERTH_PHASES";

fn sink() -> Option<&'static std::fs::File> {
    static SINK: OnceLock<Option<std::fs::File>> = OnceLock::new();
    SINK.get_or_init(|| {
        let path = std::env::var_os(PHASES_ENV)?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    })
    .as_ref()
}

/// Records that this process reached `phase` now (one `write(2)` in append mode, so the lines of
/// concurrent processes do not mix).
pub fn mark(phase: &str) {
    if let Some(mut f) = sink() {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        let line = format!("{phase} {micros} {}\n", std::process::id());
        let _ = f.write_all(line.as_bytes());
    }
}
