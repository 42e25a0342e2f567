//! The `berth` binary.
mod format;
fn main() {}
