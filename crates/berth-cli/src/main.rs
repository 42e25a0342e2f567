//! The `berth` binary: everything happens in the `berth_cli` library.
fn main() -> std::process::ExitCode {
    berth_cli::run()
}
