//! [`Ingest`] keeps blobs being downloaded under `<root>/ingest/`, so that an interrupted pull
//! (a dropped connection, a SIGKILL) resumes from the bytes it already has, and two processes
//! that need the same blob fetch it once:
//!
//! ```text
//! <root>/ingest/<hex>.lock   flock(2)ed by the one process fetching the blob
//! <root>/ingest/<hex>.part   the bytes received so far (appended to)
//! <root>/ingest/<hex>.done   the whole blob, verified against its digest
//! ```
//!
//! Only the holder of an [`IngestEntry`] (the lock) touches `.part` and `.done`. A `.done` file
//! lets a second process unpack the blob without fetching it; whoever finishes with it removes
//! it. [`Ingest::sweep`] removes what interrupted pulls left that nobody resumed.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::{flock, FlockOperation};

use crate::digest::Digest;

/// The ingest area of a data root.
#[derive(Debug, Clone)]
pub struct Ingest {
    dir: PathBuf,
}

/// The lock on one blob's ingest files; released when dropped.
#[derive(Debug)]
pub struct IngestEntry {
    _lock: File,
    part: PathBuf,
    done: PathBuf,
}

impl Ingest {
    /// The ingest area under `root` (created if missing).
    pub fn open(root: &Path) -> io::Result<Ingest> {
        let dir = root.join("ingest");
        std::fs::create_dir_all(&dir)?;
        Ok(Ingest { dir })
    }

    fn lock_file(&self, digest: &Digest) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(format!("{}.lock", digest.hex())))
    }

    fn entry(&self, digest: &Digest, lock: File) -> IngestEntry {
        IngestEntry {
            _lock: lock,
            part: self.dir.join(format!("{}.part", digest.hex())),
            done: self.dir.join(format!("{}.done", digest.hex())),
        }
    }

    /// Takes the blob's lock if nobody holds it.
    pub fn try_lock(&self, digest: &Digest) -> io::Result<Option<IngestEntry>> {
        let f = self.lock_file(digest)?;
        match flock(&f, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(self.entry(digest, f))),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits for the blob's lock.
    pub fn lock(&self, digest: &Digest) -> io::Result<IngestEntry> {
        let f = self.lock_file(digest)?;
        loop {
            match flock(&f, FlockOperation::LockExclusive) {
                Err(rustix::io::Errno::INTR) => continue,
                r => r?,
            }
            return Ok(self.entry(digest, f));
        }
    }

    /// Removes the files of blobs nobody holds that were last written more than `age` ago.
    pub fn sweep(&self, age: Duration) -> io::Result<()> {
        let now = SystemTime::now();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().to_string();
            let Some(hex) = name.strip_suffix(".lock") else {
                continue;
            };
            let Ok(digest) = Digest::from_hex(hex) else {
                continue;
            };
            let Some(entry) = self.try_lock(&digest)? else {
                continue;
            };
            let newest = [&entry.part, &entry.done]
                .iter()
                .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
                .chain(e.metadata().and_then(|m| m.modified()).ok())
                .max();
            let stale = newest.is_none_or(|t| now.duration_since(t).unwrap_or_default() > age);
            if stale {
                entry.discard()?;
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }
}

impl IngestEntry {
    /// Bytes received so far (0 when nothing is kept).
    pub fn partial_len(&self) -> u64 {
        std::fs::metadata(&self.part).map(|m| m.len()).unwrap_or(0)
    }

    /// The kept bytes, for reading them again.
    pub fn open_partial(&self) -> io::Result<File> {
        File::open(&self.part)
    }

    /// The partial file, opened for appending (created if missing).
    pub fn append(&self) -> io::Result<File> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.part)
    }

    /// Drops the kept bytes (they were wrong) and starts again from nothing.
    pub fn reset(&self) -> io::Result<()> {
        match std::fs::remove_file(&self.part) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The verified whole blob, if a previous fetch completed it.
    pub fn complete(&self) -> Option<File> {
        File::open(&self.done).ok()
    }

    /// Marks the partial file as the whole, verified blob.
    pub fn mark_complete(&self) -> io::Result<()> {
        std::fs::rename(&self.part, &self.done)
    }

    /// Removes every file of the blob (the lock file stays while held).
    pub fn discard(&self) -> io::Result<()> {
        for p in [&self.part, &self.done] {
            match std::fs::remove_file(p) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

impl crate::Store {
    /// The ingest area of this root.
    pub fn ingest(&self) -> Result<Ingest, crate::StoreError> {
        Ingest::open(self.root()).map_err(|source| crate::StoreError::Io {
            path: self.root().join("ingest"),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn one_holder_at_a_time_and_bytes_survive() {
        let t = tempfile::tempdir().unwrap();
        let ingest = Ingest::open(t.path()).unwrap();
        let d = Digest::of_bytes(b"blob");
        let held = ingest.try_lock(&d).unwrap().unwrap();
        assert!(
            ingest.try_lock(&d).unwrap().is_none(),
            "a second holder is refused"
        );
        held.append().unwrap().write_all(b"bl").unwrap();
        drop(held);
        let again = ingest.try_lock(&d).unwrap().unwrap();
        assert_eq!(again.partial_len(), 2);
        again.append().unwrap().write_all(b"ob").unwrap();
        again.mark_complete().unwrap();
        assert_eq!(again.partial_len(), 0);
        assert!(again.complete().is_some());
        drop(again);
        ingest.sweep(Duration::from_secs(3600)).unwrap();
        assert!(
            ingest.try_lock(&d).unwrap().unwrap().complete().is_some(),
            "fresh files stay"
        );
        ingest.sweep(Duration::ZERO).unwrap();
        assert!(ingest.try_lock(&d).unwrap().unwrap().complete().is_none());
    }
}
