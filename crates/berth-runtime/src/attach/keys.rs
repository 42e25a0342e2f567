//! `DetachKeys` is the key sequence that detaches a client from a container (Docker's
//! `--detach-keys`, default Ctrl-P Ctrl-Q); `EscapeScanner` finds it in a stdin stream.

use std::fmt;
use std::str::FromStr;

/// The control-key names Docker accepts, indexed by their byte value.
const CTRL_NAMES: [&str; 32] = [
    "ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d", "ctrl-e", "ctrl-f", "ctrl-g", "ctrl-h",
    "ctrl-i", "ctrl-j", "ctrl-k", "ctrl-l", "ctrl-m", "ctrl-n", "ctrl-o", "ctrl-p", "ctrl-q",
    "ctrl-r", "ctrl-s", "ctrl-t", "ctrl-u", "ctrl-v", "ctrl-w", "ctrl-x", "ctrl-y", "ctrl-z",
    "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_",
];

/// Docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// A detach-keys string that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Invalid detach keys ({0}) provided")]
pub struct InvalidDetachKeys(pub String);

/// A parsed detach sequence (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachKeys {
    spec: String,
    bytes: Vec<u8>,
}

impl DetachKeys {
    /// Parses Docker's syntax: comma-separated keys, each a single character or `ctrl-<x>` with
    /// `<x>` one of `a`-`z`, `@`, `[`, `\`, `]`, `^`, `_`. An empty string means the default.
    pub fn parse(spec: &str) -> Result<DetachKeys, InvalidDetachKeys> {
        if spec.is_empty() {
            return Ok(DetachKeys::default());
        }
        let invalid = || InvalidDetachKeys(spec.to_string());
        let mut bytes = Vec::new();
        for key in spec.split(',') {
            if key.len() == 1 {
                bytes.push(key.as_bytes()[0]);
            } else if let Some(code) = CTRL_NAMES.iter().position(|n| *n == key) {
                bytes.push(code as u8);
            } else {
                return Err(invalid());
            }
        }
        Ok(DetachKeys {
            spec: spec.to_string(),
            bytes,
        })
    }

    /// The bytes of the sequence.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Default for DetachKeys {
    fn default() -> DetachKeys {
        DetachKeys {
            spec: DEFAULT_DETACH_KEYS.to_string(),
            bytes: vec![0x10, 0x11],
        }
    }
}

impl FromStr for DetachKeys {
    type Err = InvalidDetachKeys;
    fn from_str(s: &str) -> Result<DetachKeys, InvalidDetachKeys> {
        DetachKeys::parse(s)
    }
}

impl fmt::Display for DetachKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

/// Scans stdin for the detach sequence, holding back bytes that might start it.
#[derive(Debug)]
pub struct EscapeScanner {
    keys: Vec<u8>,
    matched: usize,
}

/// What [`EscapeScanner::feed`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// Forward these bytes (possibly none: they may all be held back).
    Forward(Vec<u8>),
    /// The sequence was typed: forward these bytes that came before it, then detach.
    Detach(Vec<u8>),
}

impl EscapeScanner {
    /// A scanner for `keys`.
    pub fn new(keys: &DetachKeys) -> EscapeScanner {
        EscapeScanner {
            keys: keys.bytes().to_vec(),
            matched: 0,
        }
    }

    /// Feeds bytes read from stdin.
    pub fn feed(&mut self, input: &[u8]) -> Scan {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Scan::Detach(out);
                }
                continue;
            }
            // Not the sequence after all: release what was held back.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return Scan::Detach(out);
                }
            } else {
                out.push(b);
            }
        }
        Scan::Forward(out)
    }

    /// Bytes held back at end of input (a partial sequence); they are forwarded then.
    pub fn flush(&mut self) -> Vec<u8> {
        let held = self.keys[..self.matched].to_vec();
        self.matched = 0;
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_syntax() {
        assert_eq!(DetachKeys::parse("").unwrap().bytes(), &[0x10, 0x11]);
        assert_eq!(DetachKeys::default().to_string(), "ctrl-p,ctrl-q");
        assert_eq!(
            DetachKeys::parse("ctrl-p,ctrl-q").unwrap().bytes(),
            &[16, 17]
        );
        assert_eq!(DetachKeys::parse("ctrl-x,y").unwrap().bytes(), &[24, b'y']);
        assert_eq!(
            DetachKeys::parse("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_")
                .unwrap()
                .bytes(),
            &[0, 27, 28, 29, 30, 31]
        );
        assert_eq!(DetachKeys::parse("a,^,@,[").unwrap().bytes(), b"a^@[");
        assert_eq!(
            DetachKeys::parse("ctrl-xx").unwrap_err().to_string(),
            "Invalid detach keys (ctrl-xx) provided"
        );
        assert!(DetachKeys::parse("ab").is_err());
        assert!(DetachKeys::parse("ctrl-p,").is_err());
        assert!(DetachKeys::parse("CTRL-P").is_err());
    }

    #[test]
    fn scanner_detaches_and_releases_false_starts() {
        let keys = DetachKeys::default();
        let mut s = EscapeScanner::new(&keys);
        assert_eq!(s.feed(b"ab"), Scan::Forward(b"ab".to_vec()));
        assert_eq!(s.feed(&[0x10]), Scan::Forward(vec![]));
        assert_eq!(s.feed(b"x"), Scan::Forward(vec![0x10, b'x']));
        assert_eq!(s.feed(&[b'1', 0x10, 0x10]), Scan::Forward(vec![b'1', 0x10]));
        assert_eq!(s.feed(&[0x11, b'z']), Scan::Detach(vec![]));
        assert_eq!(s.feed(&[b'q', 0x10, 0x11]), Scan::Detach(vec![b'q']));
        assert_eq!(s.feed(&[0x10]), Scan::Forward(vec![]));
        assert_eq!(s.flush(), vec![0x10]);
        let one = DetachKeys::parse("ctrl-c").unwrap();
        let mut s = EscapeScanner::new(&one);
        assert_eq!(s.feed(b"ab\x03c"), Scan::Detach(b"ab".to_vec()));
    }
}
