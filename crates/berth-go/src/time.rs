//! Go's `time.ParseDuration` ([`parse_go_duration`]) and `time.Parse` over the layouts Docker
//! uses, behind [`parse_timestamp`], which reads the time arguments Docker takes as "timestamp or duration" — `logs
//! --since/--until` and the `until` filter of the prune verbs — exactly as Docker's
//! `api/types/time.GetTimestamp` and `ParseTimestamps` do: a Go duration before now (`10m`,
//! `-1.5h`), an RFC 3339-like time in one of Docker's layouts (`2026-11-24`, `2026-11-24T10`,
//! `…T10:05`, `…T10:05:00`, with a fraction and/or a zone; no zone means the local zone), or a
//! Unix time (`1700000000.5`).
//!
//! Written by hand because the errors are part of Docker's interface (`failed to parse value as
//! time or duration: "abc"`, `parsing time "2020-13-01": month out of range`): the layouts are
//! read the way Go's `time.Parse` reads them, element by element, so that the same input fails
//! with the same words. Every function here is total: no input panics.

use chrono::{DateTime, Local, NaiveDate, Offset, TimeZone, Utc};

use crate::strconv::quote;

/// A time argument Docker would refuse; `Display` is Docker's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Neither a duration, a time nor a Unix timestamp.
    #[error("failed to parse value as time or duration: \"{0}\"")]
    Unparsable(String),
    /// It looked like a date (it has a `-`) but Go's time parser refused it; the text is Go's.
    #[error("{0}")]
    BadTime(String),
}

/// `value` as a point in time, durations counted back from `now` (Docker's `GetTimestamp`
/// followed by `ParseTimestamps`).
pub fn parse_timestamp(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimestampError> {
    if value != "0" {
        if let Some(nanos) = parse_go_duration(value) {
            // GetTimestamp answers the whole seconds of `now - d`.
            let then = i128::from(now.timestamp()) * 1_000_000_000
                + i128::from(now.timestamp_subsec_nanos())
                - i128::from(nanos);
            return i64::try_from(then.div_euclid(1_000_000_000))
                .ok()
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .ok_or_else(|| TimestampError::Unparsable(value.to_string()));
        }
    }
    let zoned = value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3;
    let layout: &[Elem] = if value.contains('.') {
        &[
            Year, Dash, Month, Dash, Day, T, Hour, Colon, Minute, Colon, Second, Frac,
        ]
    } else if value.contains('T') {
        let mut colons = value.matches(':').count();
        if zoned && !value.contains(['z', 'Z']) && colons > 0 {
            colons -= 1;
        }
        match colons {
            0 => &[Year, Dash, Month, Dash, Day, T, Hour],
            1 => &[Year, Dash, Month, Dash, Day, T, Hour, Colon, Minute],
            _ => &[
                Year, Dash, Month, Dash, Day, T, Hour, Colon, Minute, Colon, Second,
            ],
        }
    } else {
        &[Year, Dash, Month, Dash, Day]
    };
    let offset = if zoned {
        None
    } else {
        Some(
            Local
                .offset_from_utc_datetime(&now.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    };
    match go_parse(value, layout, offset) {
        Ok(t) => Ok(t),
        Err(_) if !value.contains('-') => parse_unix(value)
            .and_then(|(s, n)| DateTime::from_timestamp(s, n))
            .ok_or_else(|| TimestampError::Unparsable(value.to_string())),
        Err(e) => Err(TimestampError::BadTime(e)),
    }
}

/// A Unix time `SECONDS[.FRACTION]` as Docker's `ParseTimestamps` reads it: seconds and
/// nanoseconds, normalized.
pub fn parse_unix(value: &str) -> Option<(i64, u32)> {
    let (secs, frac) = match value.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (value, None),
    };
    let secs = go_parse_int(secs)?;
    let Some(frac) = frac else {
        return Some((secs, 0));
    };
    let n = go_parse_int(frac)?;
    // Go: n * 10^(9 - len(frac)), in float64.
    let nanos = (n as f64 * 10f64.powi(9 - frac.len() as i32)) as i64;
    let secs = secs.checked_add(nanos.div_euclid(1_000_000_000))?;
    Some((secs, nanos.rem_euclid(1_000_000_000) as u32))
}

/// Go's `time.Duration.String`: `1h2m3.5s`, `1.5s`, `500ms`, `0s`.
pub fn format_go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    // Below one second Go uses the largest unit that keeps an integer part.
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            return format!("{sign}{u}ns");
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction_str(u, div));
    }
    let secs = u / 1_000_000_000;
    let frac = u % 1_000_000_000;
    let mut s = String::from(sign);
    let (h, m, sec) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        s.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        s.push_str(&format!("{m}m"));
    }
    s.push_str(&fraction_str(sec * 1_000_000_000 + frac, 1_000_000_000));
    s.push('s');
    s
}

/// `v / div` with the fractional digits Go prints (trailing zeros dropped).
fn fraction_str(v: u64, div: u64) -> String {
    let whole = v / div;
    let mut frac = v % div;
    if frac == 0 {
        return whole.to_string();
    }
    let mut width = div.ilog10() as usize;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width -= 1;
    }
    format!("{whole}.{frac:0width$}")
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `time.ParseDuration`, in nanoseconds; `None` where Go reports an error (including
/// overflow past ±292 years).
pub fn parse_go_duration(value: &str) -> Option<i64> {
    let (neg, mut s) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let whole: u64 = if digits == 0 {
            0
        } else {
            s[..digits].parse().ok()?
        };
        s = &s[digits..];
        let (mut frac, mut scale) = (0u64, 1f64);
        if let Some(rest) = s.strip_prefix('.') {
            let frac_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in rest[..frac_digits].bytes() {
                if overflow {
                    continue;
                }
                match frac
                    .checked_mul(10)
                    .and_then(|f| f.checked_add(u64::from(b - b'0')))
                {
                    Some(f) if f < 1 << 63 => {
                        frac = f;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            s = &rest[frac_digits..];
            if digits == 0 && frac_digits == 0 {
                return None;
            }
        } else if digits == 0 {
            return None;
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if whole > (1u64 << 63) / unit {
            return None;
        }
        let mut v = whole * unit;
        if frac > 0 {
            v = v.checked_add((frac as f64 * (unit as f64 / scale)) as u64)?;
            if v > 1 << 63 {
                return None;
            }
        }
        total = total.checked_add(v).filter(|t| *t <= 1 << 63)?;
    }
    if neg {
        Some((total as i128).wrapping_neg() as i64)
    } else if total > i64::MAX as u64 {
        None
    } else {
        Some(total as i64)
    }
}

/// An element of the layouts Docker uses, as Go's `time.Parse` reads it.
#[derive(Debug, Clone, Copy)]
enum Elem {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Frac,
    Dash,
    Colon,
    T,
}
use Elem::*;

impl Elem {
    /// The element as Go's layout spells it (in error messages).
    fn layout(self) -> &'static str {
        match self {
            Year => "2006",
            Month => "01",
            Day => "02",
            Hour => "15",
            Minute => "04",
            Second => "05",
            Frac => ".999999999",
            Dash => "-",
            Colon => ":",
            T => "T",
        }
    }
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if !digit(0) {
        return None;
    }
    if !digit(1) {
        return (!fixed).then(|| (i64::from(b[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0'),
        &s[2..],
    ))
}

/// Go's optional fractional second (`.5`, `,123456789`; digits past the ninth are dropped):
/// nanoseconds and the rest of `s`.
fn fraction(s: &str) -> (i64, &str) {
    let b = s.as_bytes();
    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
        return (0, s);
    }
    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = &s[1..n.min(10)];
    (format!("{digits:0<9}").parse().unwrap_or(0), &s[n..])
}

/// Go's `time.Parse` (zone in the value) or `ParseInLocation` (`offset` seconds east of UTC)
/// over `layout`; errors carry Go's text.
fn go_parse(value: &str, layout: &[Elem], offset: Option<i32>) -> Result<DateTime<Utc>, String> {
    let zoned = offset.is_none();
    let mut full: String = layout.iter().map(|e| e.layout()).collect();
    if zoned {
        full.push_str("Z07:00");
    }
    let cannot = |rest: &str, elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(value),
            quote(&full),
            quote(rest),
            quote(elem)
        )
    };
    let range = |what: &str| format!("parsing time {}: {what} out of range", quote(value));
    let (mut year, mut month, mut day, mut hour, mut min, mut sec, mut nsec) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let mut s = value;
    for (i, elem) in layout.iter().enumerate() {
        match elem {
            Dash | Colon | T => {
                s = s.strip_prefix(elem.layout()).ok_or_else(|| {
                    // Go reports the literal run up to the next element.
                    let lit: String = layout[i..]
                        .iter()
                        .take_while(|e| matches!(e, Dash | Colon | T))
                        .map(|e| e.layout())
                        .collect();
                    cannot(s, &lit)
                })?;
            }
            Year => {
                let p = s.get(..4).ok_or_else(|| cannot(s, "2006"))?;
                year = go_parse_int(p).ok_or_else(|| cannot(s, "2006"))?;
                s = &s[4..];
            }
            Month | Day | Hour | Minute | Second => {
                let (n, rest) =
                    getnum(s, !matches!(elem, Hour)).ok_or_else(|| cannot(s, elem.layout()))?;
                let bad = match elem {
                    Month => (!(1..=12).contains(&n)).then_some("month"),
                    Hour => (n >= 24).then_some("hour"),
                    Minute => (n >= 60).then_some("minute"),
                    Second => (n >= 60).then_some("second"),
                    _ => None,
                };
                if let Some(what) = bad {
                    return Err(range(what));
                }
                match elem {
                    Month => month = n,
                    Day => day = n,
                    Hour => hour = n,
                    Minute => min = n,
                    _ => sec = n,
                }
                s = rest;
                // Go takes a fraction after the seconds even where the layout has none.
                if matches!(elem, Second) && !matches!(layout.get(i + 1), Some(Frac)) {
                    let (n, rest) = fraction(s);
                    nsec = n;
                    s = rest;
                }
            }
            Frac => {
                let (n, rest) = fraction(s);
                nsec = n;
                s = rest;
            }
        }
    }
    let mut zone_secs = offset.map(i64::from).unwrap_or(0);
    if zoned {
        if let Some(rest) = s.strip_prefix('Z') {
            s = rest;
        } else {
            let b = s.as_bytes();
            if b.len() < 6 || b[3] != b':' {
                return Err(cannot(s, "Z07:00"));
            }
            let num = |r: std::ops::Range<usize>| s.get(r).and_then(|d| getnum(d, true));
            let (hh, mm) = match (num(1..3), num(4..6)) {
                (Some((h, _)), Some((m, _))) => (h, m),
                _ => return Err(cannot(s, "Z07:00")),
            };
            if hh > 24 {
                return Err(range("time zone offset hour"));
            }
            if mm > 60 {
                return Err(range("time zone offset minute"));
            }
            zone_secs = (hh * 60 + mm) * 60;
            match b[0] {
                b'+' => {}
                b'-' => zone_secs = -zone_secs,
                _ => return Err(cannot(s, "Z07:00")),
            }
            s = &s[6..];
        }
    }
    if !s.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            quote(value),
            quote(s)
        ));
    }
    let date = u32::try_from(month)
        .ok()
        .zip(u32::try_from(day).ok())
        .and_then(|(m, d)| NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, m, d));
    let Some(date) = date else {
        return Err(format!("parsing time {}: day out of range", quote(value)));
    };
    let naive = date
        .and_hms_nano_opt(hour as u32, min as u32, sec as u32, nsec as u32)
        .ok_or_else(|| range("second"))?;
    Ok(Utc.from_utc_datetime(&naive) - chrono::TimeDelta::seconds(zone_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn duration_strings_match_go() {
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(5_000_000_000), "5s");
        assert_eq!(format_go_duration(90_000_000_000), "1m30s");
        assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(500_000_000), "500ms");
        assert_eq!(format_go_duration(1_500), "1.5µs");
        assert_eq!(format_go_duration(-2_000_000_000), "-2s");
    }

    #[test]
    fn durations_match_go() {
        assert_eq!(parse_go_duration("10m"), Some(600_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_go_duration("1.s"), Some(1_000_000_000));
        assert_eq!(parse_go_duration("-1h"), Some(-3_600_000_000_000));
        assert_eq!(parse_go_duration("+2ms"), Some(2_000_000));
        assert_eq!(parse_go_duration("3\u{b5}s"), Some(3_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        for bad in [
            "",
            "-",
            "1",
            "1e9",
            "10x",
            ".",
            ".s",
            "1..5s",
            "s",
            "9999999999999h",
        ] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
        assert_eq!(
            parse_go_duration("2562047h"),
            Some(2562047 * 3_600_000_000_000)
        );
    }

    #[test]
    fn times_parse_like_docker() {
        let now = t("2026-11-24T10:00:00.7Z");
        let p = |v: &str| parse_timestamp(v, now);
        assert_eq!(p("10m").unwrap(), t("2026-11-24T09:50:00Z"));
        assert_eq!(p("-1h").unwrap(), t("2026-11-24T11:00:00Z"));
        assert_eq!(
            p("2026-11-24T09:00:00.25Z").unwrap(),
            t("2026-11-24T09:00:00.25Z")
        );
        assert_eq!(
            p("2026-11-24T09:00:00+01:00").unwrap(),
            t("2026-11-24T08:00:00Z")
        );
        assert_eq!(
            p("2026-11-24T09:00-02:00").unwrap(),
            t("2026-11-24T11:00:00Z")
        );
        assert_eq!(p("2026-11-24Z").unwrap(), t("2026-11-24T00:00:00Z"));
        assert_eq!(p("1700000000").unwrap(), t("2023-11-14T22:13:20Z"));
        assert_eq!(p("1700000000.5").unwrap(), t("2023-11-14T22:13:20.5Z"));
        assert_eq!(p("0").unwrap(), t("1970-01-01T00:00:00Z"));
        let local = |s: &str| {
            let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap();
            let off = Local.offset_from_utc_datetime(&now.naive_utc()).fix();
            off.from_local_datetime(&naive).unwrap().with_timezone(&Utc)
        };
        assert_eq!(
            p("2026-11-24T09:00:00").unwrap(),
            local("2026-11-24T09:00:00")
        );
        assert_eq!(p("2026-11-24T09:05").unwrap(), local("2026-11-24T09:05:00"));
        assert_eq!(p("2026-11-24T9").unwrap(), local("2026-11-24T09:00:00"));
        assert_eq!(p("2026-11-24").unwrap(), local("2026-11-24T00:00:00"));
    }

    /// The texts a Docker 20.10 daemon answered for these `until` values.
    #[test]
    fn errors_are_dockers_words() {
        let now = t("2026-11-24T10:00:00Z");
        let e = |v: &str| parse_timestamp(v, now).unwrap_err().to_string();
        assert_eq!(
            e("abc"),
            "failed to parse value as time or duration: \"abc\""
        );
        assert_eq!(
            e("10x"),
            "failed to parse value as time or duration: \"10x\""
        );
        assert_eq!(
            e("1e9"),
            "failed to parse value as time or duration: \"1e9\""
        );
        assert_eq!(
            e("1.5.5"),
            "failed to parse value as time or duration: \"1.5.5\""
        );
        assert_eq!(e(""), "failed to parse value as time or duration: \"\"");
        assert_eq!(
            e("2020-13-01"),
            "parsing time \"2020-13-01\": month out of range"
        );
        assert_eq!(
            e("2020-01-01T25:00"),
            "parsing time \"2020-01-01T25:00\": hour out of range"
        );
        assert_eq!(
            e("2021-02-30"),
            "parsing time \"2021-02-30\": day out of range"
        );
        assert_eq!(
            e("2020-01-01x"),
            "parsing time \"2020-01-01x\": extra text: \"x\""
        );
        assert_eq!(
            e("-5"),
            "parsing time \"-5\" as \"2006-01-02\": cannot parse \"-5\" as \"2006\""
        );
        assert_eq!(
            e("2020-1-01"),
            "parsing time \"2020-1-01\" as \"2006-01-02\": cannot parse \"1-01\" as \"01\""
        );
    }

    #[test]
    fn unix_times() {
        assert_eq!(parse_unix("5"), Some((5, 0)));
        assert_eq!(parse_unix("5.000000001"), Some((5, 1)));
        assert_eq!(parse_unix("-1.5"), Some((-1, 500_000_000)));
        assert_eq!(parse_unix("x"), None);
        assert_eq!(parse_unix("1."), None);
    }
}
