//! End-to-end tests: each runs the built `berth` binary against its own data root.
