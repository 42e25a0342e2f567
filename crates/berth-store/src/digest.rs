//! [`Digest`] is a validated `sha256:<64 hex>` content address; [`HashingReader`] and
//! [`HashingWriter`] compute one while data streams through, so nothing is read twice.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A sha256 content digest, always printed as `sha256:<64 lower-case hex>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

/// Why a string is not a digest. The texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The algorithm part is not `sha256`.
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
    /// The hex part is not 64 characters long.
    #[error("invalid checksum digest length")]
    InvalidLength,
    /// The string has no `algorithm:` prefix or contains non-hex characters.
    #[error("invalid checksum digest format")]
    InvalidFormat,
}

impl Digest {
    /// Parses `sha256:<hex>`.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let (alg, hex) = s.split_once(':').ok_or(DigestError::InvalidFormat)?;
        if alg != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm);
        }
        Digest::from_hex(hex)
    }

    /// Builds a digest from its 64 hex characters (no algorithm prefix).
    pub fn from_hex(hex: &str) -> Result<Digest, DigestError> {
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DigestError::InvalidFormat);
        }
        if hex.len() != 64 {
            return Err(DigestError::InvalidLength);
        }
        Ok(Digest {
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// The digest of a byte slice.
    pub fn of_bytes(data: &[u8]) -> Digest {
        Digest::from_sha(Sha256::digest(data).as_slice())
    }

    fn from_sha(bytes: &[u8]) -> Digest {
        Digest {
            hex: hex::encode(bytes),
        }
    }

    /// The 64 hex characters.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, as Docker prints short IDs.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Incremental sha256 over everything fed to it.
#[derive(Default, Clone)]
pub struct Hasher {
    sha: Sha256,
    len: u64,
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha.update(data);
        self.len += data.len() as u64;
    }
    /// Number of bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }
    /// True when nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        Digest::from_sha(self.sha.finalize().as_slice())
    }
}

/// A reader that hashes what passes through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::default(),
        }
    }
    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }
    /// True when nothing was read yet.
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }
    /// Reads `inner` to its end (so trailing padding counts) and returns the digest and length.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let len = self.hasher.len();
        Ok((self.hasher.finish(), len))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that hashes what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::default(),
        }
    }
    /// Returns the inner writer, the digest and the number of bytes written.
    pub fn finish(self) -> (W, Digest, u64) {
        let len = self.hasher.len();
        (self.inner, self.hasher.finish(), len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d = Digest::of_bytes(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        assert_eq!(d.short(), "e3b0c44298fc");
    }

    #[test]
    fn rejects_like_docker() {
        assert_eq!(Digest::parse("sha256:abc"), Err(DigestError::InvalidLength));
        assert_eq!(
            Digest::parse("md5:0123456789abcdef0123456789abcdef"),
            Err(DigestError::UnsupportedAlgorithm)
        );
        assert_eq!(Digest::parse("nocolon"), Err(DigestError::InvalidFormat));
    }

    #[test]
    fn hashing_reader_matches_bytes() {
        let data = b"hello layers".repeat(1000);
        let r = HashingReader::new(&data[..]);
        let (d, n) = r.finish().unwrap();
        assert_eq!(d, Digest::of_bytes(&data));
        assert_eq!(n, data.len() as u64);
    }
}
