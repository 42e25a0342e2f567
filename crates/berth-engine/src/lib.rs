//! The berth Engine.
#![warn(missing_docs)]
