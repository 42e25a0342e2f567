//! Layers end to end.
