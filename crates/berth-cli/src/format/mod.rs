//! Output formatting: Go-template `--format`, tables, units.
