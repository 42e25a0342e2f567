//! berth's runtime layer: OCI bundles, the runc backend and the per-container shim.
#![warn(missing_docs)]
