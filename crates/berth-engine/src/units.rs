//! Sizes and durations printed and parsed like Docker's `go-units`: [`human_size`] (`102.4kB`),
//! [`bytes_size`] (`1.5MiB`), [`human_duration`] (`About a minute`), [`created_since`]
//! (`2 days ago`), and the parsers [`ram_in_bytes`] (binary: `10m` = 10 MiB, used for
//! `--tmpfs size=`, `tmpfs-size=`, `--opt size=`) and [`from_human_size`] (decimal: `10m` =
//! 10 000 000).

use chrono::{DateTime, TimeDelta, Utc};

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
    format!("{}{unit}", significant(size, precision))
}

/// `units.BytesSize`: binary units, 4 significant digits (`1KiB`, `1.5MiB`).
pub fn bytes_size(bytes: f64) -> String {
    let (size, unit) = scale(bytes, 1024.0, &BINARY_UNITS);
    format!("{}{unit}", significant(size, 4))
}

/// The `SIZE` column of `docker ps -s`: the writable layer, then the whole filesystem when known
/// (`1.98MB (virtual 3.96MB)`), both with 3 significant digits.
pub fn container_size(size_rw: i64, size_root_fs: i64) -> String {
    let rw = human_size_with_precision(size_rw as f64, 3);
    if size_root_fs > 0 {
        return format!(
            "{rw} (virtual {})",
            human_size_with_precision(size_root_fs as f64, 3)
        );
    }
    rw
}

/// A size string that `go-units` cannot parse. Texts are go-units'.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// No digits, or a negative number.
    #[error("invalid size: '{0}'")]
    InvalidSize(String),
    /// The unit is not one of b, k, m, g, t, p with optional `b`/`ib`.
    #[error("invalid suffix: '{0}'")]
    InvalidSuffix(String),
    /// The number part is not a float.
    #[error("strconv.ParseFloat: parsing {0}: invalid syntax")]
    InvalidNumber(String),
}

/// `units.RAMInBytes`: `512k`, `10m`, `1g`, `1.5GiB`, `100` — k/m/g/t/p are powers of 1024, with
/// an optional `b` or `ib`, case-insensitive.
pub fn ram_in_bytes(s: &str) -> Result<i64, SizeError> {
    parse_size(s, 1024)
}

/// `units.FromHumanSize`: like [`ram_in_bytes`] but k/m/g/t/p are powers of 1000.
pub fn from_human_size(s: &str) -> Result<i64, SizeError> {
    parse_size(s, 1000)
}

fn parse_size(s: &str, base: i64) -> Result<i64, SizeError> {
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(SizeError::InvalidSize(s.to_string()));
    };
    let (num, suffix) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size: f64 =
        parse_go_float(num).ok_or_else(|| SizeError::InvalidNumber(format!("{num:?}")))?;
    if size < 0.0 {
        return Err(SizeError::InvalidSize(s.to_string()));
    }
    if suffix.is_empty() {
        return Ok(size as i64);
    }
    if suffix.len() > 3 {
        return Err(SizeError::InvalidSuffix(suffix.to_string()));
    }
    let suffix = suffix.to_lowercase();
    let bad = || SizeError::InvalidSuffix(suffix.clone());
    let first = suffix.as_bytes()[0];
    if first == b'b' {
        if suffix.len() > 1 {
            return Err(bad());
        }
        return Ok(size as i64);
    }
    let power = match first {
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return Err(bad()),
    };
    match suffix.len() {
        2 if &suffix[1..] != "b" => return Err(bad()),
        3 if &suffix[1..] != "ib" => return Err(bad()),
        _ => {}
    }
    Ok((size * base.pow(power) as f64) as i64)
}

/// `strconv.ParseFloat` for decimal input (Rust's parser also takes `inf`/`nan`, which cannot
/// reach here because the number part ends with a digit or `.`).
fn parse_go_float(s: &str) -> Option<f64> {
    if s.contains('_') {
        return None;
    }
    s.parse().ok()
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

/// Go's `%.{prec}g` for the finite, non-negative values sizes take (below 1000 after scaling):
/// `prec` significant digits, trailing zeros dropped (`102.4`, `1.98`, `4`).
fn significant(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    // Round to `prec` significant digits through scientific notation, then print plainly.
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("numeric exponent");
    if exp < -4 || exp >= prec as i32 {
        let m = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    let rounded: f64 = mantissa.parse::<f64>().expect("numeric mantissa") * 10f64.powi(exp);
    let text = format!("{rounded:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
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
    fn ps_sizes() {
        assert_eq!(
            container_size(1_980_000, 3_960_000),
            "1.98MB (virtual 3.96MB)"
        );
        assert_eq!(container_size(0, 0), "0B");
        assert_eq!(container_size(6, 0), "6B");
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
}
