//! Go compatibility: the few functions of Go's standard library and of go-units whose exact
//! behaviour Docker's users see — string quoting ([`quote`], [`unquote`]), float parsing and
//! printing ([`parse_float`], [`format_float`]), sizes ([`ram_in_bytes`], [`human_size`]...),
//! durations ([`human_duration`], [`parse_go_duration`]), Docker's time arguments
//! ([`parse_timestamp`]), `encoding/csv` ([`csv_first_record`]), `path.Clean`
//! ([`clean`]), the CLI's natural sort of names ([`natural_cmp`]), OS error texts
//! ([`errno_text`]), `os.FileMode` ([`fs::file_mode`]) and JSON strings as `encoding/json` and
//! Docker's log driver write them ([`json`]).
//!
//! This crate sits at the bottom of berth's stack and depends on no other berth crate, so every
//! layer (image references, mount parsing, the engine, the CLI's templates) words and parses
//! things the same way, with the tests in one place. Everything here is pure and total: no input
//! makes these functions panic.
#![warn(missing_docs)]

pub mod csv;
pub mod errno;
pub mod fs;
pub mod json;
pub mod path;
pub mod sortorder;
pub mod strconv;
pub mod strings;
pub mod time;
pub mod units;
pub mod url;

pub use csv::csv_first_record;
pub use errno::errno_text;
pub use path::{abs, clean};
pub use sortorder::natural_cmp;
pub use strconv::{
    format_float, parse_bool, parse_float, parse_octal_u32, quote, quote_slice, unquote, NumError,
    SyntaxError,
};
pub use strings::to_lower;
pub use time::{
    format_go_duration, parse_go_duration, parse_timestamp, parse_unix, TimestampError,
};
pub use units::{
    bytes_size, created_since, created_since_at, daemon_ram_in_bytes, from_human_size,
    human_duration, human_size, human_size_with_precision, ram_in_bytes, SizeError,
};
pub use url::query_escape;
