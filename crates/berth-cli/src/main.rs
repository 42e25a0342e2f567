//! The `berth` binary: everything happens in the `berth_cli` library.
fn main() -> std::process::ExitCode {
    // Like any Unix filter (and the docker CLI), die quietly when the reader of our output goes
    // away (`berth export c | head`) instead of reporting EPIPE as an error.
    // SAFETY: resetting a signal's disposition to the default before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    berth_cli::run()
}
