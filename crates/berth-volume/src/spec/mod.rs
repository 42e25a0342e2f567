//! Mount specs.
