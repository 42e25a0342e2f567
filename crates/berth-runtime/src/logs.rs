//! `LogWriter` appends a container's output to its log in Docker's `json-file` format, one
//! `{"log":"…","stream":"stdout","time":"…"}` object per line, and [`read_logs`](crate::logs::read_logs) prints it back
//! for `berth logs` (`--tail`, `--since`, `--until`, `--timestamps`, `--follow`).
//!
//! Like Docker: output is split at newlines, a line longer than 16 KiB becomes several entries
//! (only the last carries the `\n`), a final line without newline is written as is when the
//! stream ends, a tty's output is all `stdout`, and strings are escaped the way Docker's
//! encoder does it (`<`, `>`, `&` and control characters as `\u00XX`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest log entry; longer lines are split.
pub const MAX_ENTRY: usize = 16 * 1024;

/// How often `--follow` looks for appended output.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);

/// Which output stream an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output (and all of a tty's output).
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// A log that cannot be read, or a bad `--since`/`--until`/`--tail` value.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The log file (or `-` for the output).
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A time value that is neither a timestamp nor a duration.
    #[error("invalid value for \"{field}\": {source}")]
    InvalidTime {
        /// `since` or `until`.
        field: &'static str,
        /// Why the value is not a time.
        source: berth_go::time::TimestampError,
    },
}

impl LogError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            LogError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                berth_store::ErrorKind::NotFound
            }
            LogError::Io { .. } => berth_store::ErrorKind::Internal,
            LogError::InvalidTime { .. } => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

/// `time` as Go's RFC 3339 with nanoseconds and trailing zeros trimmed (the `time` field).
pub fn format_time(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos == 0 {
        return base + "Z";
    }
    let frac = format!("{nanos:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

/// `time` with exactly nine fractional digits, as `docker logs -t` prints it.
pub fn format_time_fixed(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Appends one encoded entry (with its trailing newline) to `out`.
pub fn encode_entry(out: &mut Vec<u8>, stream: Stream, log: &[u8], time: DateTime<Utc>) {
    out.extend_from_slice(b"{\"log\":");
    berth_go::json::push_string(out, log, berth_go::json::JsonStyle::JsonLog);
    out.extend_from_slice(b",\"stream\":\"");
    out.extend_from_slice(stream.name().as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(format_time(time).as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// How a log rotates (`--log-opt max-size/max-file/compress`), as Docker's json-file driver
/// does it: before an entry is written to a file that has reached `max_size`, the file becomes
/// `PATH.1` (the older ones move up to `PATH.<max_file - 1>`, the oldest goes), gzipped to
/// `PATH.1.gz` with `compress`; with `max_file` 1 the file is emptied instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRotation {
    /// Rotate once the file holds this many bytes (`None`: never).
    pub max_size: Option<u64>,
    /// Files kept, the current one included (at least 1).
    pub max_file: u32,
    /// Gzip the rotated files.
    pub compress: bool,
}

impl Default for LogRotation {
    fn default() -> Self {
        LogRotation {
            max_size: None,
            max_file: 1,
            compress: false,
        }
    }
}

/// The name of rotated file `n` of the log at `path` (`PATH.n`, `PATH.n.gz`).
fn rotated_name(path: &Path, n: u32, gz: bool) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}{}", if gz { ".gz" } else { "" }));
    PathBuf::from(name)
}

/// Appends a container's output to its json-file log, rotating it as asked; the `none` log
/// driver's writer ([`LogWriter::discard`]) drops everything.
#[derive(Debug)]
pub struct LogWriter {
    file: Option<File>,
    path: PathBuf,
    partial: [Vec<u8>; 2],
    rotation: LogRotation,
    size: u64,
}

fn open_append(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

impl LogWriter {
    /// Opens (creating, mode 0640) the log at `path` for appending; it never rotates.
    pub fn open(path: &Path) -> Result<LogWriter, LogError> {
        LogWriter::open_rotating(path, LogRotation::default())
    }

    /// Opens the log at `path` for appending, rotating it by `rotation`.
    pub fn open_rotating(path: &Path, rotation: LogRotation) -> Result<LogWriter, LogError> {
        let ioerr = |source| LogError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(ioerr)?;
        }
        let file = open_append(path).map_err(ioerr)?;
        let size = file.metadata().map_err(ioerr)?.len();
        Ok(LogWriter {
            file: Some(file),
            path: path.to_path_buf(),
            partial: [Vec::new(), Vec::new()],
            rotation,
            size,
        })
    }

    /// A writer that keeps nothing (`--log-driver none`).
    pub fn discard() -> LogWriter {
        LogWriter {
            file: None,
            path: PathBuf::new(),
            partial: [Vec::new(), Vec::new()],
            rotation: LogRotation::default(),
            size: 0,
        }
    }

    fn slot(stream: Stream) -> usize {
        match stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }

    /// Logs output read from `stream` at `now`: every complete line, and 16 KiB pieces of a
    /// line that grows past [`MAX_ENTRY`]; the rest waits for more output.
    pub fn write(
        &mut self,
        stream: Stream,
        data: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), LogError> {
        if self.file.is_none() {
            return Ok(());
        }
        let slot = Self::slot(stream);
        self.partial[slot].extend_from_slice(data);
        let mut entries = Vec::new();
        let mut start = 0;
        {
            let pending = &self.partial[slot];
            loop {
                let rest = &pending[start..];
                let end = match rest.iter().take(MAX_ENTRY).position(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None if rest.len() >= MAX_ENTRY => MAX_ENTRY,
                    None => break,
                };
                let mut out = Vec::new();
                encode_entry(&mut out, stream, &rest[..end], now);
                entries.push(out);
                start += end;
            }
        }
        self.partial[slot].drain(..start);
        for e in entries {
            self.append(&e)?;
        }
        Ok(())
    }

    /// Logs whatever is left of `stream` (a last line without newline): call at end of stream.
    pub fn finish(&mut self, stream: Stream, now: DateTime<Utc>) -> Result<(), LogError> {
        let pending = std::mem::take(&mut self.partial[Self::slot(stream)]);
        if pending.is_empty() {
            return Ok(());
        }
        let mut out = Vec::new();
        encode_entry(&mut out, stream, &pending, now);
        self.append(&out)
    }

    /// Writes one encoded entry, rotating first if the file is full (Docker's order: a file may
    /// end one entry past `max_size`).
    fn append(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        if bytes.is_empty() || self.file.is_none() {
            return Ok(());
        }
        if self.rotation.max_size.is_some_and(|max| self.size >= max) {
            self.rotate().map_err(|source| LogError::Io {
                path: self.path.clone(),
                source,
            })?;
        }
        let file = self.file.as_mut().expect("checked above");
        file.write_all(bytes).map_err(|source| LogError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.rotation.max_file.max(1);
        if keep == 1 {
            if let Some(f) = &self.file {
                f.set_len(0)?;
            }
            self.size = 0;
            return Ok(());
        }
        let gz = self.rotation.compress;
        let ignore_missing = |r: io::Result<()>| match r {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        ignore_missing(std::fs::remove_file(rotated_name(&self.path, keep - 1, gz)))?;
        for n in (1..keep - 1).rev() {
            ignore_missing(std::fs::rename(
                rotated_name(&self.path, n, gz),
                rotated_name(&self.path, n + 1, gz),
            ))?;
        }
        let first = rotated_name(&self.path, 1, false);
        std::fs::rename(&self.path, &first)?;
        self.file = Some(open_append(&self.path)?);
        self.size = 0;
        if gz {
            gzip_file(&first, &rotated_name(&self.path, 1, true))?;
        }
        Ok(())
    }
}

/// Replaces `src` by its gzip at `dst` (written beside it first, so a reader sees one or the
/// other whole).
fn gzip_file(src: &Path, dst: &Path) -> io::Result<()> {
    let tmp = dst.with_extension("gz.tmp");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut input = File::open(src)?;
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)?;
        let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        io::copy(&mut input, &mut enc)?;
        enc.finish()?.sync_all()?;
    }
    std::fs::rename(&tmp, dst)?;
    std::fs::remove_file(src)
}

/// The rotated files of the log at `path`, oldest first (`PATH.3.gz`, `PATH.2.gz`, `PATH.1`).
pub fn rotated_files(path: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut n = 1;
    loop {
        let plain = rotated_name(path, n, false);
        let gz = rotated_name(path, n, true);
        if plain.exists() {
            found.push(plain);
        } else if gz.exists() {
            found.push(gz);
        } else {
            break;
        }
        n += 1;
    }
    found.reverse();
    found
}

/// A reader of one log file, gunzipping a `.gz` one.
fn open_log_file(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let file = File::open(path)?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Complete lines in a log file.
fn count_lines(path: &Path) -> io::Result<usize> {
    let mut r = open_log_file(path)?;
    let mut n = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(n);
        }
        n += buf.iter().filter(|&&b| b == b'\n').count();
        let len = buf.len();
        r.consume(len);
    }
}

/// One decoded log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The stream it came from.
    pub stream: Stream,
    /// The output (ending in `\n` unless it was split or was the last piece).
    pub log: String,
    /// When the shim read it.
    pub time: DateTime<Utc>,
    /// The entry's attributes (`--log-opt labels=/env=`), what `--details` prints.
    pub attrs: std::collections::BTreeMap<String, String>,
}

impl LogEntry {
    /// Decodes one line of a json-file log.
    pub fn parse(line: &[u8]) -> Option<LogEntry> {
        #[derive(Deserialize)]
        struct Raw {
            log: String,
            stream: Stream,
            time: String,
            #[serde(default)]
            attrs: Option<std::collections::BTreeMap<String, String>>,
        }
        let raw: Raw = serde_json::from_slice(line).ok()?;
        let time = DateTime::parse_from_rfc3339(&raw.time)
            .ok()?
            .with_timezone(&Utc);
        Some(LogEntry {
            stream: raw.stream,
            log: raw.log,
            time,
            attrs: raw.attrs.unwrap_or_default(),
        })
    }
}

/// What `berth logs` asks for.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Print stdout entries.
    pub stdout: bool,
    /// Print stderr entries.
    pub stderr: bool,
    /// Only the last N entries (`None`: all).
    pub tail: Option<usize>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries at or before this time.
    pub until: Option<DateTime<Utc>>,
    /// Prefix each entry with its time (fixed 9-digit RFC 3339) and a space.
    pub timestamps: bool,
    /// Keep printing appended entries until the container stops.
    pub follow: bool,
    /// Prefix each entry with its attributes (`k=v,k2=v2`, empty when it has none) and a
    /// space, after the time (`--details`).
    pub details: bool,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            stdout: true,
            stderr: true,
            tail: None,
            since: None,
            until: None,
            timestamps: false,
            follow: false,
            details: false,
        }
    }
}

/// Parses `--tail`: a count, or anything else (`all`, negative, garbage) for everything, as
/// Docker's daemon does.
pub fn parse_tail(value: &str) -> Option<usize> {
    value.trim().parse::<usize>().ok()
}

/// Parses a `--since`/`--until` value the way Docker does ([`crate::timestamp`]).
pub fn parse_time(
    field: &'static str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, LogError> {
    berth_go::time::parse_timestamp(value, now)
        .map_err(|source| LogError::InvalidTime { field, source })
}

/// Where [`read_logs`] stands in the log.
struct Printer<'a> {
    opts: &'a LogOptions,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    /// Set once an entry after `until` shows up.
    done: bool,
}

impl Printer<'_> {
    fn entry(&mut self, line: &[u8]) -> io::Result<()> {
        let Some(e) = LogEntry::parse(line) else {
            return Ok(());
        };
        if self.opts.since.is_some_and(|s| e.time < s) {
            return Ok(());
        }
        if self.opts.until.is_some_and(|u| e.time > u) {
            self.done = true;
            return Ok(());
        }
        let w: &mut dyn Write = match e.stream {
            Stream::Stdout if self.opts.stdout => &mut *self.out,
            Stream::Stderr if self.opts.stderr => &mut *self.err,
            _ => return Ok(()),
        };
        // One write per entry: the API frames each write as one multiplexed chunk.
        let mut line = String::new();
        if self.opts.timestamps {
            line.push_str(&format_time_fixed(e.time));
            line.push(' ');
        }
        if self.opts.details {
            let attrs: Vec<String> = e
                .attrs
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        berth_go::query_escape(k),
                        berth_go::query_escape(v)
                    )
                })
                .collect();
            line.push_str(&attrs.join(","));
            line.push(' ');
        }
        line.push_str(&e.log);
        w.write_all(line.as_bytes())
    }
}

/// Byte offset where the last `n` lines of `file` (of length `len`) begin.
fn tail_offset(file: &mut File, len: u64, n: usize) -> io::Result<u64> {
    if n == 0 {
        return Ok(len);
    }
    let mut pos = len;
    let mut newlines = 0;
    let mut buf = vec![0u8; 64 * 1024];
    // The file's last byte is normally a newline ending the last line; it does not count.
    let mut skip_last = true;
    while pos > 0 {
        let step = (pos as usize).min(buf.len());
        pos -= step as u64;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut buf[..step])?;
        for i in (0..step).rev() {
            if buf[i] == b'\n' {
                if skip_last && pos + i as u64 == len - 1 {
                    skip_last = false;
                    continue;
                }
                newlines += 1;
                if newlines == n {
                    return Ok(pos + i as u64 + 1);
                }
            }
        }
        skip_last = false;
    }
    Ok(0)
}

/// Prints the log at `path` to `out` (stdout entries) and `err` (stderr entries). With
/// `follow`, keeps printing appended entries while `running()` says the container runs, then
/// prints what is left and returns.
pub fn read_logs(
    path: &Path,
    opts: &LogOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
    running: &mut dyn FnMut() -> bool,
) -> Result<(), LogError> {
    let ioerr = |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let rotated = rotated_files(path);
    let mut file = File::open(path).map_err(ioerr)?;
    let len = file.metadata().map_err(ioerr)?.len();
    // With --tail, how many lines of each rotated file to skip (`None`: the whole file).
    let mut skip: Vec<Option<usize>> = vec![Some(0); rotated.len()];
    let start = match opts.tail {
        None => 0,
        Some(n) => {
            let offset = tail_offset(&mut file, len, n).map_err(ioerr)?;
            let mut need = if offset > 0 || rotated.is_empty() {
                0
            } else {
                n.saturating_sub(count_lines(path).map_err(ioerr)?)
            };
            for (i, p) in rotated.iter().enumerate().rev() {
                if need == 0 {
                    skip[i] = None;
                    continue;
                }
                let lines = count_lines(p).unwrap_or(0);
                skip[i] = Some(lines.saturating_sub(need));
                need = need.saturating_sub(lines);
            }
            offset
        }
    };
    let mut printer = Printer {
        opts,
        out,
        err,
        done: false,
    };
    let mut line = Vec::new();
    for (p, skip) in rotated.iter().zip(skip) {
        let Some(skip) = skip else { continue };
        // A file the shim rotated away since the listing is gone: its lines are lost to this
        // reader, as they would be to Docker's.
        let Ok(mut r) = open_log_file(p) else {
            continue;
        };
        let mut junk = Vec::new();
        for _ in 0..skip {
            junk.clear();
            r.read_until(b'\n', &mut junk)
                .map_err(|source| LogError::Io {
                    path: p.clone(),
                    source,
                })?;
        }
        pump_lines(&mut r, &mut line, &mut printer).map_err(|e| e.into_log_error(p))?;
        line.clear();
        if printer.done {
            return Ok(());
        }
    }
    file.seek(SeekFrom::Start(start)).map_err(ioerr)?;
    let mut reader = BufReader::new(file);
    loop {
        pump_lines(&mut reader, &mut line, &mut printer).map_err(|e| e.into_log_error(path))?;
        if !opts.follow || printer.done {
            return Ok(());
        }
        if !running() {
            // One last look: the shim writes everything before it reports the exit.
            pump_lines(&mut reader, &mut line, &mut printer).map_err(|e| e.into_log_error(path))?;
            return Ok(());
        }
        // The shim rotated the log: what is left of the old file, then the new one.
        if let Some(next) = reopen_if_rotated(&mut reader, path).map_err(ioerr)? {
            pump_lines(&mut reader, &mut line, &mut printer).map_err(|e| e.into_log_error(path))?;
            line.clear();
            reader = next;
            continue;
        }
        std::thread::sleep(FOLLOW_INTERVAL);
    }
}

/// While following: the new file if the log at `path` is no longer the file `reader` reads
/// (rotated away); a file emptied in place (`max-file=1`) is read again from its start.
fn reopen_if_rotated(
    reader: &mut BufReader<File>,
    path: &Path,
) -> io::Result<Option<BufReader<File>>> {
    use std::os::unix::fs::MetadataExt;
    let ours = reader.get_ref().metadata()?;
    let current = match std::fs::metadata(path) {
        Ok(m) => m,
        // Between the shim's rename and its new file.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if (ours.dev(), ours.ino()) != (current.dev(), current.ino()) {
        return Ok(Some(BufReader::new(File::open(path)?)));
    }
    if reader.stream_position()? > ours.len() {
        reader.seek(SeekFrom::Start(0))?;
    }
    Ok(None)
}

/// Which side of [`pump_lines`] failed.
enum PumpError {
    Read(io::Error),
    Write(io::Error),
}

impl PumpError {
    fn into_log_error(self, path: &Path) -> LogError {
        match self {
            PumpError::Read(source) => LogError::Io {
                path: path.to_path_buf(),
                source,
            },
            PumpError::Write(source) => LogError::Io {
                path: PathBuf::from("-"),
                source,
            },
        }
    }
}

/// Prints every complete line written so far; a partial last line stays in `line` until the
/// rest of it is written.
fn pump_lines(
    reader: &mut dyn BufRead,
    line: &mut Vec<u8>,
    printer: &mut Printer<'_>,
) -> Result<(), PumpError> {
    while !printer.done {
        let n = reader.read_until(b'\n', line).map_err(PumpError::Read)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        printer.entry(line).map_err(PumpError::Write)?;
        line.clear();
    }
    printer.out.flush().map_err(PumpError::Write)?;
    printer.err.flush().map_err(PumpError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn entries_are_encoded_like_dockers() {
        let mut out = Vec::new();
        encode_entry(
            &mut out,
            Stream::Stdout,
            "a<b>&c \"q\" é\\\n".as_bytes(),
            t("2026-11-24T10:33:56.580375952Z"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"log\":\"a\\u003cb\\u003e\\u0026c \\\"q\\\" é\\\\\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-24T10:33:56.580375952Z\"}\n"
        );
        let mut out = Vec::new();
        encode_entry(
            &mut out,
            Stream::Stderr,
            b"x\x01y\tz\r\n\xff",
            t("2026-11-24T10:33:57.7851Z"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"log\":\"x\\u0001y\\u0009z\\r\\n\\ufffd\",\"stream\":\"stderr\",\"time\":\"2026-11-24T10:33:57.7851Z\"}\n"
        );
        assert_eq!(
            format_time(t("2026-11-24T10:00:00Z")),
            "2026-11-24T10:00:00Z"
        );
        assert_eq!(
            format_time_fixed(t("2026-11-24T10:00:00.5Z")),
            "2026-11-24T10:00:00.500000000Z"
        );
    }

    #[test]
    fn writer_splits_lines_like_docker() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c-json.log");
        let now = t("2026-11-24T10:00:00.1Z");
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stdout, b"one\ntw", now).unwrap();
        w.write(Stream::Stderr, b"err\n", now).unwrap();
        w.write(Stream::Stdout, b"o\n", now).unwrap();
        let mut long = vec![b'a'; 20000];
        long.push(b'\n');
        w.write(Stream::Stdout, &long[..10000], now).unwrap();
        w.write(Stream::Stdout, &long[10000..], now).unwrap();
        w.write(Stream::Stdout, b"noeol", now).unwrap();
        w.finish(Stream::Stdout, now).unwrap();
        w.finish(Stream::Stderr, now).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let entries: Vec<LogEntry> = text
            .lines()
            .map(|l| LogEntry::parse(l.as_bytes()).unwrap())
            .collect();
        let logs: Vec<(Stream, usize)> = entries.iter().map(|e| (e.stream, e.log.len())).collect();
        assert_eq!(
            logs,
            [
                (Stream::Stdout, 4),
                (Stream::Stderr, 4),
                (Stream::Stdout, 4),
                (Stream::Stdout, 16384),
                (Stream::Stdout, 3617),
                (Stream::Stdout, 5)
            ]
        );
        assert_eq!(entries[2].log, "two\n");
        assert_eq!(entries[5].log, "noeol");
        assert_eq!(entries[0].time, now);
    }

    fn sample_log(dir: &Path) -> PathBuf {
        let path = dir.join("log.json");
        let mut w = LogWriter::open(&path).unwrap();
        for (i, (s, text)) in [
            (Stream::Stdout, "l1\n"),
            (Stream::Stderr, "e2\n"),
            (Stream::Stdout, "l3\n"),
            (Stream::Stdout, "l4\n"),
        ]
        .iter()
        .enumerate()
        {
            let at = t("2026-11-24T10:00:00Z") + chrono::Duration::seconds(i as i64 * 10);
            w.write(*s, text.as_bytes(), at).unwrap();
        }
        path
    }

    fn read(path: &Path, opts: &LogOptions) -> (String, String) {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        read_logs(path, opts, &mut o, &mut e, &mut || false).unwrap();
        (String::from_utf8(o).unwrap(), String::from_utf8(e).unwrap())
    }

    #[test]
    fn reader_tail_since_until_timestamps() {
        let tmp = tempfile::tempdir().unwrap();
        let path = sample_log(tmp.path());
        assert_eq!(
            read(&path, &LogOptions::default()),
            ("l1\nl3\nl4\n".into(), "e2\n".into())
        );
        let tail = |n| LogOptions {
            tail: Some(n),
            ..Default::default()
        };
        assert_eq!(read(&path, &tail(2)), ("l3\nl4\n".into(), "".into()));
        assert_eq!(read(&path, &tail(3)), ("l3\nl4\n".into(), "e2\n".into()));
        assert_eq!(read(&path, &tail(0)), ("".into(), "".into()));
        assert_eq!(
            read(&path, &tail(99)),
            ("l1\nl3\nl4\n".into(), "e2\n".into())
        );
        let since = LogOptions {
            since: Some(t("2026-11-24T10:00:10Z")),
            until: Some(t("2026-11-24T10:00:20Z")),
            ..Default::default()
        };
        assert_eq!(read(&path, &since), ("l3\n".into(), "e2\n".into()));
        let ts = LogOptions {
            timestamps: true,
            stderr: false,
            tail: Some(1),
            ..Default::default()
        };
        assert_eq!(read(&path, &ts).0, "2026-11-24T10:00:30.000000000Z l4\n");
        // --details: the entry's attributes and a space (nothing but the space without any),
        // after the time, as Docker prints them.
        let details = LogOptions {
            details: true,
            timestamps: true,
            tail: Some(1),
            stderr: false,
            ..Default::default()
        };
        assert_eq!(
            read(&path, &details).0,
            "2026-11-24T10:00:30.000000000Z  l4\n"
        );
        let with_attrs = tmp.path().join("attrs.json");
        std::fs::write(
            &with_attrs,
            concat!(
                r#"{"log":"a\n","stream":"stdout","attrs":{"l":"v w","FOO":"b&r"},"#,
                r#""time":"2026-11-24T10:00:00Z"}"#,
                "\n"
            ),
        )
        .unwrap();
        let details = LogOptions {
            details: true,
            ..Default::default()
        };
        assert_eq!(read(&with_attrs, &details).0, "FOO=b%26r,l=v+w a\n");
        assert_eq!(parse_tail("all"), None);
        assert_eq!(parse_tail("-3"), None);
        assert_eq!(parse_tail("5"), Some(5));
    }

    fn entry_line(i: usize) -> String {
        format!("line-{i:03}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
    }

    #[test]
    fn the_writer_rotates_compresses_and_the_reader_reads_across_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c-json.log");
        let rotation = LogRotation {
            max_size: Some(300),
            max_file: 3,
            compress: true,
        };
        let mut w = LogWriter::open_rotating(&path, rotation).unwrap();
        let now = t("2026-11-24T10:00:00Z");
        for i in 0..40 {
            w.write(Stream::Stdout, entry_line(i).as_bytes(), now)
                .unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["c-json.log", "c-json.log.1.gz", "c-json.log.2.gz"]);
        assert_eq!(
            rotated_files(&path),
            [
                path.with_extension("log.2.gz"),
                path.with_extension("log.1.gz")
            ]
        );
        // Each entry is 102 bytes: a file takes three (the third crosses 300, then it rotates,
        // as Docker's), so the current file has entry 39 and the two rotated ones 33 to 38.
        let (all, _) = read(&path, &LogOptions::default());
        let want: String = (33..40).map(entry_line).collect();
        assert_eq!(all, want);
        let tail = |n| LogOptions {
            tail: Some(n),
            ..Default::default()
        };
        assert_eq!(
            read(&path, &tail(4)).0,
            (36..40).map(entry_line).collect::<String>()
        );
        assert_eq!(
            read(&path, &tail(5)).0,
            (35..40).map(entry_line).collect::<String>()
        );
        assert_eq!(read(&path, &tail(100)).0, want);
        assert_eq!(read(&path, &tail(0)).0, "");

        // Without compression the rotated files stay plain; with one file, it is emptied.
        let plain = tmp.path().join("p.log");
        let mut w = LogWriter::open_rotating(
            &plain,
            LogRotation {
                max_size: Some(300),
                max_file: 2,
                compress: false,
            },
        )
        .unwrap();
        for i in 0..7 {
            w.write(Stream::Stdout, entry_line(i).as_bytes(), now)
                .unwrap();
        }
        assert_eq!(rotated_files(&plain), [plain.with_extension("log.1")]);
        assert_eq!(
            read(&plain, &LogOptions::default()).0,
            (3..7).map(entry_line).collect::<String>()
        );
        let one = tmp.path().join("one.log");
        let mut w = LogWriter::open_rotating(
            &one,
            LogRotation {
                max_size: Some(300),
                max_file: 1,
                compress: false,
            },
        )
        .unwrap();
        for i in 0..4 {
            w.write(Stream::Stdout, entry_line(i).as_bytes(), now)
                .unwrap();
        }
        assert!(rotated_files(&one).is_empty());
        assert_eq!(read(&one, &LogOptions::default()).0, entry_line(3));

        // The none driver's writer keeps nothing.
        let mut w = LogWriter::discard();
        w.write(Stream::Stdout, b"gone\n", now).unwrap();
        w.finish(Stream::Stdout, now).unwrap();
    }

    #[test]
    fn follow_goes_on_across_a_rotation() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.log");
        let rotation = LogRotation {
            max_size: Some(300),
            max_file: 5,
            compress: true,
        };
        LogWriter::open_rotating(&path, rotation).unwrap();
        let p2 = path.clone();
        let writer = std::thread::spawn(move || {
            let mut w = LogWriter::open_rotating(&p2, rotation).unwrap();
            for i in 0..12 {
                std::thread::sleep(Duration::from_millis(60));
                w.write(Stream::Stdout, entry_line(i).as_bytes(), Utc::now())
                    .unwrap();
            }
        });
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let opts = LogOptions {
            follow: true,
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let mut running = || started.elapsed() < Duration::from_millis(1500);
        read_logs(&path, &opts, &mut o, &mut e, &mut running).unwrap();
        writer.join().unwrap();
        assert_eq!(
            String::from_utf8(o).unwrap(),
            (0..12).map(entry_line).collect::<String>()
        );
        assert!(rotated_files(&path).len() >= 3);
    }

    #[test]
    fn follow_prints_appends_until_the_container_stops() {
        let tmp = tempfile::tempdir().unwrap();
        let path = sample_log(tmp.path());
        let p2 = path.clone();
        let writer = std::thread::spawn(move || {
            let mut w = LogWriter::open(&p2).unwrap();
            for i in 0..5 {
                std::thread::sleep(Duration::from_millis(50));
                w.write(Stream::Stdout, format!("f{i}\n").as_bytes(), Utc::now())
                    .unwrap();
            }
            // A line written in two pieces is printed whole.
            w.write(Stream::Stdout, b"pa", Utc::now()).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            w.write(Stream::Stdout, b"rt\n", Utc::now()).unwrap();
        });
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let opts = LogOptions {
            follow: true,
            tail: Some(1),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let mut running = || started.elapsed() < Duration::from_millis(1200);
        read_logs(&path, &opts, &mut o, &mut e, &mut running).unwrap();
        writer.join().unwrap();
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "l4\nf0\nf1\nf2\nf3\nf4\npart\n"
        );
    }

    #[test]
    fn time_values_name_their_flag() {
        let now = t("2026-11-24T10:00:00Z");
        assert_eq!(
            parse_time("since", "10m", now).unwrap(),
            t("2026-11-24T09:50:00Z")
        );
        assert_eq!(
            parse_time("since", "foo", now).unwrap_err().to_string(),
            "invalid value for \"since\": failed to parse value as time or duration: \"foo\""
        );
        assert_eq!(
            parse_time("until", "2020-13-01", now)
                .unwrap_err()
                .to_string(),
            "invalid value for \"until\": parsing time \"2020-13-01\": month out of range"
        );
    }
}
