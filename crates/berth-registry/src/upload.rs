//! Chunked blob uploads ([`Repository::upload_chunked`]): the blob goes up in `PATCH` requests
//! of one chunk each, every one with its `Content-Range`, as the distribution spec describes,
//! then `PUT ?digest=` commits it. A chunk is kept in memory until the registry has taken it,
//! so a dropped connection costs at most that chunk: the upload's status (`GET` of its URL)
//! says how many bytes the registry holds, and the upload goes on from there. A registry that
//! reports fewer bytes than the kept chunk starts at (it lost an earlier chunk) has the blob
//! regenerated from its start and the held bytes skipped; one that dropped the upload session
//! altogether (distribution 2.8 does when a broken `PATCH` left part of its body) gets a new
//! session and the blob from the start. The digest is computed here over the bytes sent.

use std::io::{self, Read};

use berth_store::digest::{Digest, Hasher};
use reqwest::{Method, StatusCode};

use crate::client::{backoff, with_query, Repository, ATTEMPTS};
use crate::error::RegistryError;

/// Default chunk size (berth's `upload-chunk-size`): blobs larger than this go up in chunks.
pub const DEFAULT_CHUNK: u64 = 32 << 20;

/// An upload session the registry opened (`POST /v2/<name>/blobs/uploads/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Where to send the data (absolute).
    pub url: String,
    /// The smallest chunk the registry accepts (`OCI-Chunk-Min-Length`), when it says.
    pub min_chunk: Option<u64>,
}

/// A blob the registry committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// sha256 of the bytes sent.
    pub digest: Digest,
    /// How many bytes.
    pub size: u64,
}

/// The chunk size for an upload of `configured` bytes a chunk on a registry asking for at least
/// `min_chunk`.
pub fn chunk_size(configured: u64, min_chunk: Option<u64>) -> u64 {
    configured.max(min_chunk.unwrap_or(0)).max(1)
}

/// The number of bytes a `Range: 0-<last>` header of an upload says the registry holds.
/// Distribution answers `0-0` for an empty upload as well (its off-by-one for zero bytes).
fn held(range: Option<&str>) -> Option<u64> {
    let (start, end) = range?.trim().trim_start_matches("bytes=").split_once('-')?;
    let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
    if start != 0 {
        return None;
    }
    Some(if end == 0 { 0 } else { end + 1 })
}

/// Reads into `buf` until it holds `want` bytes or the source ends.
fn fill(source: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    buf.clear();
    source.take(want as u64).read_to_end(buf)?;
    Ok(())
}

impl Repository {
    /// Uploads the blob `open` produces (called again, from its first byte, when the upload
    /// must go back further than the chunk in hand) to session `upload` in chunks of `chunk`
    /// bytes (at least the registry's minimum), then commits it.
    pub fn upload_chunked<R: Read>(
        &self,
        upload: Upload,
        chunk: u64,
        mut open: impl FnMut() -> io::Result<R>,
    ) -> Result<Uploaded, RegistryError> {
        let chunk = chunk_size(chunk, upload.min_chunk);
        let want = usize::try_from(chunk).unwrap_or(usize::MAX);
        let mut url = upload.url;
        let mut source = open()?;
        let mut hasher = Hasher::default();
        // The kept chunk holds bytes [start, start + buf.len()) of the blob; the registry holds
        // `committed` bytes; `read` bytes came from the source (and were hashed).
        let mut buf = Vec::with_capacity(want.min(64 << 20));
        let (mut start, mut committed, mut read) = (0u64, 0u64, 0u64);
        let mut ended = false;
        let mut failures = 0u32;
        loop {
            let end = start + buf.len() as u64;
            if committed == end {
                if ended {
                    break;
                }
                fill(&mut source, &mut buf, want)?;
                hasher.update(&buf);
                start = read;
                read += buf.len() as u64;
                ended = (buf.len() as u64) < chunk;
                if buf.is_empty() {
                    break;
                }
                continue;
            }
            let from = (committed - start) as usize;
            let sent = self.patch_chunk(&url, committed, &buf[from..]);
            let reported = match sent {
                Ok((next, held)) => {
                    failures = 0;
                    url = next;
                    held.unwrap_or(end)
                }
                Err(e) => {
                    failures += 1;
                    if failures >= ATTEMPTS {
                        return Err(e);
                    }
                    log::debug!("upload {url}: {e}; asking how much arrived");
                    std::thread::sleep(backoff(failures + 1));
                    match self.upload_status(&url)? {
                        Some((next, held)) => {
                            url = next;
                            held
                        }
                        None => {
                            // The session is gone: a new one, from the first byte.
                            log::debug!("upload {url} is gone; starting a new one");
                            url = match self.start_upload(None)? {
                                crate::client::UploadStart::Location(u) => u.url,
                                crate::client::UploadStart::Mounted => {
                                    return Err(RegistryError::Invalid(
                                        "the registry answered an upload with a mount".into(),
                                    ))
                                }
                            };
                            0
                        }
                    }
                }
            };
            if reported > end {
                return Err(RegistryError::Invalid(format!(
                    "the registry holds {reported} bytes of an upload that has sent {end}"
                )));
            }
            committed = reported;
            if committed < start {
                // Further back than the kept chunk: regenerate the blob and skip what is held.
                source = open()?;
                hasher = Hasher::default();
                buf.clear();
                let mut skipped = Vec::new();
                let mut left = committed;
                while left > 0 {
                    fill(&mut source, &mut skipped, want.min(left as usize))?;
                    if skipped.is_empty() {
                        return Err(RegistryError::Invalid(
                            "the blob to upload changed while it was uploaded".into(),
                        ));
                    }
                    hasher.update(&skipped);
                    left -= skipped.len() as u64;
                }
                start = committed;
                read = committed;
                ended = false;
            }
        }
        let digest = hasher.finish();
        self.commit_upload(&url, &digest)?;
        Ok(Uploaded { digest, size: read })
    }

    /// One `PATCH` of `data` at `offset`, not retried: the next upload URL and the bytes the
    /// registry says it holds.
    fn patch_chunk(
        &self,
        url: &str,
        offset: u64,
        data: &[u8],
    ) -> Result<(String, Option<u64>), RegistryError> {
        let range = format!("{offset}-{}", offset + data.len() as u64 - 1);
        let r = self.send_with(Method::PATCH, url, 1, &|b| {
            b.header("Content-Type", "application/octet-stream")
                .header("Content-Range", range.as_str())
                .body(data.to_vec())
        })?;
        if r.status() != StatusCode::ACCEPTED && !r.status().is_success() {
            return Err(self.answer_error("Patch", url, r));
        }
        Ok(self.next_upload(url, &r))
    }

    /// `GET` of an upload: its next URL and how many bytes the registry holds, or `None` when
    /// the registry no longer knows the session.
    fn upload_status(&self, url: &str) -> Result<Option<(String, u64)>, RegistryError> {
        let r = self.send(Method::GET, url, &|b| b)?;
        match r.status() {
            s if s.is_success() => {
                let (next, held) = self.next_upload(url, &r);
                Ok(Some((next, held.unwrap_or(0))))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.answer_error("Get", url, r)),
        }
    }

    fn next_upload(&self, url: &str, r: &reqwest::blocking::Response) -> (String, Option<u64>) {
        let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok());
        let next = header("location")
            .map(|l| self.absolute(l))
            .unwrap_or_else(|| url.to_string());
        (next, held(header("range")))
    }

    /// `PUT ?digest=` with no body. A commit whose answer was lost is checked with `HEAD`.
    pub(crate) fn commit_upload(&self, url: &str, digest: &Digest) -> Result<(), RegistryError> {
        let digest = digest.to_string();
        let put = with_query(url, "digest", &digest);
        let r = self.send(Method::PUT, &put, &|b| b.header("Content-Length", "0"));
        match r {
            Ok(r) if r.status() == StatusCode::CREATED || r.status().is_success() => Ok(()),
            Ok(r) => {
                let e = self.answer_error("Put", &put, r);
                match self.blob_exists(&digest) {
                    Ok(Some(_)) => Ok(()),
                    _ => Err(e),
                }
            }
            Err(e) => match self.blob_exists(&digest) {
                Ok(Some(_)) => Ok(()),
                _ => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_how_many_bytes_are_held() {
        assert_eq!(held(Some("0-0")), Some(0));
        assert_eq!(held(Some("0-1048575")), Some(1 << 20));
        assert_eq!(held(Some("bytes=0-9")), Some(10));
        assert_eq!(held(Some("5-9")), None);
        assert_eq!(held(Some("junk")), None);
        assert_eq!(held(None), None);
    }

    #[test]
    fn the_registrys_minimum_chunk_wins() {
        assert_eq!(chunk_size(1 << 20, None), 1 << 20);
        assert_eq!(chunk_size(1 << 20, Some(5 << 20)), 5 << 20);
        assert_eq!(chunk_size(8 << 20, Some(5 << 20)), 8 << 20);
        assert_eq!(chunk_size(0, None), 1);
    }
}
