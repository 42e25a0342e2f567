//! Sizes and durations printed and parsed like Docker's `go-units`: [`human_size`] (`102.4kB`),
//! [`bytes_size`] (`1.5MiB`), [`human_duration`] (`About a minute`), [`created_since`]
//! (`2 days ago`), and the one size parser, in its two flavours: [`ram_in_bytes`] (binary: `10m` =
//! 10 MiB, used for `--tmpfs size=`, `tmpfs-size=`, `--opt size=`) and [`from_human_size`]
//! (decimal: `10m` = 10 000 000), as docker CLI 28 vendors go-units; and dockerd 20.10's
//! stricter older parser, [`daemon_ram_in_bytes`], for the sizes the daemon itself parses.

use chrono::{DateTime, TimeDelta, Utc};

use crate::strconv::{format_float, parse_float, NumError};

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn scale(mut size: f64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// `units.HumanSize`: decimal units, 4 significant digits (`0B`, `6B`, `102.4kB`, `1.234MB`).
/// Docker prints `volume prune`, `system df` and `volume ls` sizes with it.
pub fn human_size(bytes: f64) -> String {
    human_size_with_precision(bytes, 4)
}

/// `units.HumanSizeWithPrecision`: decimal units with `precision` significant digits (`%.*g`).
/// `docker images` and `docker ps -s` use 3 (`4.86MB`, `1.98MB (virtual 3.96MB)`).
pub fn human_size_with_precision(bytes: f64, precision: usize) -> String {
    let (size, unit) = scale(bytes, 1000.0, &DECIMAL_UNITS);
    format!("{}{unit}", format_float(size, 'g', Some(precision)))
}

/// `units.BytesSize`: binary units, 4 significant digits (`1KiB`, `1.5MiB`).
pub fn bytes_size(bytes: f64) -> String {
    let (size, unit) = scale(bytes, 1024.0, &BINARY_UNITS);
    format!("{}{unit}", format_float(size, 'g', Some(4)))
}

/// A size string that go-units cannot parse. Texts are go-units'.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// No digits, or a negative number.
    #[error("invalid size: '{0}'")]
    InvalidSize(String),
    /// The unit is not one of b, k, m, g, t, p with optional `b`/`ib`.
    #[error("invalid suffix: '{0}'")]
    InvalidSuffix(String),
    /// The number part is not a Go float.
    #[error(transparent)]
    InvalidNumber(#[from] NumError),
}

/// go-units' `RAMInBytes` as vendored by docker CLI 28: a number (Go float syntax) with an
/// optional binary unit (`b`, `k`, `kb`, `kib`, `m`, ... `p`, case-insensitive), optionally
/// separated by one space: `512k`, `10m`, `1.5GiB`, `100`.
pub fn ram_in_bytes(s: &str) -> Result<i64, SizeError> {
    parse_size(s, 1024.0)
}

/// go-units' `FromHumanSize`: like [`ram_in_bytes`] but k/m/g/t/p are powers of 1000.
pub fn from_human_size(s: &str) -> Result<i64, SizeError> {
    parse_size(s, 1000.0)
}

/// go-units' `parseSize`, step for step (including its wording of errors).
fn parse_size(s: &str, base: f64) -> Result<i64, SizeError> {
    let sep = s
        .rfind(|c: char| "01234567890. ".contains(c))
        .ok_or_else(|| SizeError::InvalidSize(s.to_string()))?;
    let (num, sfx) = if s.as_bytes()[sep] != b' ' {
        (&s[..=sep], &s[sep + 1..])
    } else {
        (&s[..sep], &s[sep + 1..])
    };
    let size = parse_float(num)?;
    if size < 0.0 {
        return Err(SizeError::InvalidSize(s.to_string()));
    }
    if sfx.is_empty() {
        return Ok(f64_to_i64(size));
    }
    if sfx.len() > 3 {
        return Err(SizeError::InvalidSuffix(sfx.to_string()));
    }
    let lower = crate::strings::to_lower(sfx);
    let bad = || SizeError::InvalidSuffix(lower.clone());
    let b = lower.as_bytes();
    if b[0] == b'b' {
        return if b.len() == 1 {
            Ok(f64_to_i64(size))
        } else {
            Err(bad())
        };
    }
    let power = match b[0] {
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return Err(bad()),
    };
    match b.len() {
        2 if b[1] != b'b' => Err(bad()),
        3 if &b[1..] != b"ib" => Err(bad()),
        _ => Ok(f64_to_i64(size * base.powi(power))),
    }
}

/// go-units v0.4's `RAMInBytes`, the parser dockerd 20.10 vendors and uses on the daemon side
/// (`--log-opt max-size`): the whole string must match `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`
/// (ASCII digits only; no sign, exponent, hex or `_`), else `invalid size: '<s>'`; a number that
/// matches but is not a float (`1.2.3`) is Go's `strconv.ParseFloat` error. The unit letter alone
/// scales (`1kb`, `1KiB` and `1k` are 1024; `1ib` and `1b` are 1).
pub fn daemon_ram_in_bytes(s: &str) -> Result<i64, SizeError> {
    let invalid = || SizeError::InvalidSize(s.to_string());
    let b = s.as_bytes();
    let digits = |from: usize| {
        b[from..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(b.len(), |n| from + n)
    };
    // `\d+(\.\d+)*`
    let mut end = digits(0);
    if end == 0 {
        return Err(invalid());
    }
    while end < b.len() && b[end] == b'.' {
        let next = digits(end + 1);
        if next == end + 1 {
            break;
        }
        end = next;
    }
    let num = &s[..end];
    // ` ?([kKmMgGtTpP])?[iI]?[bB]?$`
    let mut rest = &b[end..];
    if rest.first() == Some(&b' ') {
        rest = &rest[1..];
    }
    let power = match rest.first().map(u8::to_ascii_lowercase) {
        Some(u @ (b'k' | b'm' | b'g' | b't' | b'p')) => {
            rest = &rest[1..];
            match u {
                b'k' => 1,
                b'm' => 2,
                b'g' => 3,
                b't' => 4,
                _ => 5,
            }
        }
        _ => 0,
    };
    if matches!(rest.first(), Some(b'i' | b'I')) {
        rest = &rest[1..];
    }
    if matches!(rest.first(), Some(b'b' | b'B')) {
        rest = &rest[1..];
    }
    if !rest.is_empty() {
        return Err(invalid());
    }
    let size = parse_float(num)?;
    Ok(f64_to_i64(size * 1024f64.powi(power)))
}

/// What Go does when it converts a `float64` to an `int64` on amd64 (`CVTTSD2SQ`): truncation
/// toward zero, and the "integer indefinite" value `i64::MIN` for NaN and out-of-range values.
fn f64_to_i64(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// `units.HumanDuration`: how `docker ps` and `docker images` print ages.
pub fn human_duration(d: TimeDelta) -> String {
    let secs_f = d.num_milliseconds() as f64 / 1000.0;
    let seconds = secs_f.trunc() as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs_f / 60.0).trunc() as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours_f = secs_f / 3600.0;
    let hours = (hours_f + 0.5).trunc() as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", hours_f.trunc() as i64 / 24 / 365)
}

/// `<human_duration> ago` measured from now (the `CREATED` column).
pub fn created_since(created: DateTime<Utc>) -> String {
    created_since_at(created, Utc::now())
}

/// `<human_duration> ago` measured from `now`.
pub fn created_since_at(created: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ago", human_duration(now - created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0B"),
            (6.0, "6B"),
            (999.0, "999B"),
            (1000.0, "1kB"),
            (1024.0, "1.024kB"),
            (102_406.0, "102.4kB"),
            (1_000_000.0, "1MB"),
            (1_234_567.0, "1.235MB"),
            (10_000_000_000.0, "10GB"),
            (1_230_000_000.0, "1.23GB"),
            (1e30, "1e+06YB"),
        ];
        for &(n, want) in cases {
            assert_eq!(human_size(n), want, "{n}");
        }
    }

    #[test]
    fn human_sizes_precision_3() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0B"),
            (1_980_000.0, "1.98MB"),
            (4_860_000.0, "4.86MB"),
            (4_864_123.0, "4.86MB"),
            (3_963_000.0, "3.96MB"),
            (999_500.0, "1e+03kB"),
            (123_456_789.0, "123MB"),
        ];
        for &(n, want) in cases {
            assert_eq!(human_size_with_precision(n, 3), want, "{n}");
        }
    }

    #[test]
    fn binary_sizes() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0B"),
            (1024.0, "1KiB"),
            (1024.0 * 1024.0, "1MiB"),
            (1_572_864.0, "1.5MiB"),
            (1023.0, "1023B"),
            (1024.0 * 1024.0 * 1024.0 * 1024.0, "1TiB"),
        ];
        for &(n, want) in cases {
            assert_eq!(bytes_size(n), want, "{n}");
        }
    }

    #[test]
    fn parsing_sizes() {
        type Case = (
            &'static str,
            Result<i64, &'static str>,
            Result<i64, &'static str>,
        );
        let cases: Vec<Case> = vec![
            // input, ram_in_bytes, from_human_size
            ("32", Ok(32), Ok(32)),
            ("32b", Ok(32), Ok(32)),
            ("32B", Ok(32), Ok(32)),
            ("512k", Ok(524_288), Ok(512_000)),
            ("32kb", Ok(32_768), Ok(32_000)),
            ("32Kib", Ok(32_768), Ok(32_000)),
            ("10m", Ok(10_485_760), Ok(10_000_000)),
            ("10MB", Ok(10_485_760), Ok(10_000_000)),
            ("1g", Ok(1_073_741_824), Ok(1_000_000_000)),
            ("1.5GiB", Ok(1_610_612_736), Ok(1_500_000_000)),
            ("2t", Ok(2_199_023_255_552), Ok(2_000_000_000_000)),
            ("1p", Ok(1_125_899_906_842_624), Ok(1_000_000_000_000_000)),
            ("32 mb", Ok(33_554_432), Ok(32_000_000)),
            ("0.3", Ok(0), Ok(0)),
            ("", Err("invalid size: ''"), Err("invalid size: ''")),
            (
                "hello",
                Err("invalid size: 'hello'"),
                Err("invalid size: 'hello'"),
            ),
            (
                "-32",
                Err("invalid size: '-32'"),
                Err("invalid size: '-32'"),
            ),
            (
                "32x",
                Err("invalid suffix: 'x'"),
                Err("invalid suffix: 'x'"),
            ),
            (
                "32mbx",
                Err("invalid suffix: 'mbx'"),
                Err("invalid suffix: 'mbx'"),
            ),
            (
                "32bytes",
                Err("invalid suffix: 'bytes'"),
                Err("invalid suffix: 'bytes'"),
            ),
            (
                "32mib ",
                Err(r#"strconv.ParseFloat: parsing "32mib": invalid syntax"#),
                Err(r#"strconv.ParseFloat: parsing "32mib": invalid syntax"#),
            ),
            (
                "1.2.3k",
                Err(r#"strconv.ParseFloat: parsing "1.2.3": invalid syntax"#),
                Err(r#"strconv.ParseFloat: parsing "1.2.3": invalid syntax"#),
            ),
        ];
        for (input, ram, human) in cases {
            let got = ram_in_bytes(input).map_err(|e| e.to_string());
            assert_eq!(got, ram.map_err(str::to_string), "ram {input:?}");
            let got = from_human_size(input).map_err(|e| e.to_string());
            assert_eq!(got, human.map_err(str::to_string), "human {input:?}");
        }
    }

    #[test]
    fn durations() {
        let s = TimeDelta::seconds;
        let cases: Vec<(TimeDelta, &str)> = vec![
            (TimeDelta::milliseconds(-5000), "Less than a second"),
            (TimeDelta::milliseconds(999), "Less than a second"),
            (s(1), "1 second"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (s(119), "About a minute"),
            (s(120), "2 minutes"),
            (s(5 * 60), "5 minutes"),
            (s(59 * 60 + 59), "59 minutes"),
            (s(60 * 60), "About an hour"),
            (s(89 * 60), "About an hour"),
            (s(90 * 60), "2 hours"),
            (s(3 * 3600), "3 hours"),
            (s(47 * 3600), "47 hours"),
            (s(48 * 3600), "2 days"),
            (s(13 * 86400), "13 days"),
            (s(14 * 86400), "2 weeks"),
            (s(21 * 86400), "3 weeks"),
            (s(60 * 86400), "2 months"),
            (s(4 * 30 * 86400), "4 months"),
            (s(730 * 86400), "2 years"),
            (s(3 * 365 * 86400), "3 years"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn created_since_reads_ago() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let created = now - TimeDelta::days(2);
        assert_eq!(created_since_at(created, now), "2 days ago");
        assert_eq!(created_since_at(now, now), "Less than a second ago");
    }

    #[test]
    fn ram_in_bytes_matches_go_units() {
        for (input, want) in [
            ("1m", Some(1 << 20)),
            ("2m", Some(2 << 20)),
            ("1048576", Some(1 << 20)),
            ("10", Some(10)),
            ("1k", Some(1024)),
            ("1K", Some(1024)),
            ("1kb", Some(1024)),
            ("1KiB", Some(1024)),
            ("1 MiB", Some(1 << 20)),
            ("1.5k", Some(1536)),
            ("1g", Some(1 << 30)),
            ("1t", Some(1 << 40)),
            ("1p", Some(1 << 50)),
            ("32b", Some(32)),
            ("1\u{212A}", Some(1024)),
            ("1e3", Some(1000)),
            ("1_000", Some(1000)),
            ("0x10p0", Some(16)),
            ("0", Some(0)),
            ("-0", Some(0)),
            ("1 ", Some(1)),
            ("abc", None),
            ("-1", None),
            ("1x", None),
            ("1kbb", None),
            ("1mm", None),
            ("1kab", None),
            ("1bb", None),
            ("", None),
            (" ", None),
            ("1e400", None),
            ("1__0", None),
            ("nan m", Some(i64::MIN)),
            ("1e30", Some(i64::MIN)),
        ] {
            assert_eq!(ram_in_bytes(input).ok(), want, "ram_in_bytes({input:?})");
        }
    }

    /// Checked against dockerd 20.10.24 (`docker run --log-opt max-size=...`).
    #[test]
    fn daemon_ram_in_bytes_matches_dockerd_20_10() {
        for (input, want) in [
            ("1k", Ok(1024)),
            ("1K", Ok(1024)),
            ("1kb", Ok(1024)),
            ("1KiB", Ok(1024)),
            ("1 m", Ok(1 << 20)),
            ("1.5k", Ok(1536)),
            ("1 ", Ok(1)),
            ("1ib", Ok(1)),
            ("32b", Ok(32)),
            ("0", Ok(0)),
            ("10", Ok(10)),
            ("1p", Ok(1 << 50)),
            ("1x", Err("invalid size: '1x'")),
            ("abc", Err("invalid size: 'abc'")),
            ("-1", Err("invalid size: '-1'")),
            ("1e3", Err("invalid size: '1e3'")),
            ("1_000", Err("invalid size: '1_000'")),
            ("0x10", Err("invalid size: '0x10'")),
            (" 1k", Err("invalid size: ' 1k'")),
            ("1.k", Err("invalid size: '1.k'")),
            ("1kbb", Err("invalid size: '1kbb'")),
            ("1mm", Err("invalid size: '1mm'")),
            ("1bi", Err("invalid size: '1bi'")),
            ("", Err("invalid size: ''")),
            ("1\u{212A}", Err("invalid size: '1\u{212A}'")),
            (
                "1.2.3k",
                Err("strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"),
            ),
        ] {
            let got = daemon_ram_in_bytes(input).map_err(|e| e.to_string());
            assert_eq!(
                got,
                want.map_err(String::from),
                "daemon_ram_in_bytes({input:?})"
            );
        }
    }
}
