//! [`ContentStore`] keeps blobs by sha256 under `<root>/blobs/sha256/<hex>`. A [`BlobWriter`]
//! writes into the caller's staging dir while hashing; [`BlobWriter::finish`] fsyncs and checks the
//! digest the caller expected; [`ContentStore::publish`] renames the blob into place. Nothing is
//! readable under its digest before it was verified, and a crash leaves at most a staging file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::digest::{Digest, Hasher};

/// A failure of the content store.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// No blob with that digest.
    #[error("blob {0} not found")]
    NotFound(Digest),
    /// The data did not hash to the digest the caller expected.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    Mismatch {
        /// The digest the caller announced.
        expected: Digest,
        /// The digest of what was written.
        actual: Digest,
    },
    /// An I/O failure on a blob path.
    #[error("{path}: {source}")]
    Io {
        /// The blob or staging path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ContentError + '_ {
    move |source| ContentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Blobs addressed by digest.
#[derive(Debug, Clone)]
pub struct ContentStore {
    dir: PathBuf,
}

impl ContentStore {
    /// The store under `<root>/blobs/sha256` (created if missing).
    pub fn open(root: &Path) -> io::Result<ContentStore> {
        let dir = root.join("blobs").join("sha256");
        fs::create_dir_all(&dir)?;
        Ok(ContentStore { dir })
    }

    /// Where the blob with digest `d` lives.
    pub fn path(&self, d: &Digest) -> PathBuf {
        self.dir.join(d.hex())
    }

    /// The blob's path relative to the data root (the journal key of a blob).
    pub fn contains(&self, d: &Digest) -> bool {
        self.path(d).exists()
    }

    /// Opens a blob for reading.
    pub fn open_blob(&self, d: &Digest) -> Result<File, ContentError> {
        File::open(self.path(d)).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                ContentError::NotFound(d.clone())
            } else {
                ContentError::Io {
                    path: self.path(d),
                    source: e,
                }
            }
        })
    }

    /// Size of a stored blob.
    pub fn size(&self, d: &Digest) -> Result<u64, ContentError> {
        let p = self.path(d);
        fs::metadata(&p).map(|m| m.len()).map_err(io_err(&p))
    }

    /// Starts a blob at `staging_path` (a fresh path in the caller's staging dir).
    pub fn writer(&self, staging_path: PathBuf) -> Result<BlobWriter, ContentError> {
        let file = File::create_new(&staging_path).map_err(io_err(&staging_path))?;
        Ok(BlobWriter {
            file: BufWriter::with_capacity(1 << 20, file),
            path: Some(staging_path),
            hasher: Hasher::default(),
        })
    }

    /// Moves a verified blob into place. If the blob already exists the staged copy is dropped.
    pub fn publish(&self, mut staged: StagedBlob) -> Result<(), ContentError> {
        let tmp = staged.tmp.take().expect("a staged blob is published once");
        let dst = self.path(&staged.digest);
        if dst.exists() {
            let _ = fs::remove_file(&tmp);
            return Ok(());
        }
        fs::rename(&tmp, &dst).map_err(io_err(&dst))?;
        crate::fsutil::fsync_dir(&self.dir).map_err(io_err(&self.dir))
    }

    /// Removes a blob (absent blobs are fine).
    pub fn remove(&self, d: &Digest) -> Result<(), ContentError> {
        let p = self.path(d);
        match fs::remove_file(&p) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&p)(e)),
            _ => Ok(()),
        }
    }
}

/// A blob being written; hashes as it goes.
pub struct BlobWriter {
    file: BufWriter<File>,
    path: Option<PathBuf>,
    hasher: Hasher,
}

impl BlobWriter {
    /// Flushes, fsyncs and verifies against `expected` (if given).
    pub fn finish(mut self, expected: Option<&Digest>) -> Result<StagedBlob, ContentError> {
        let path = self.path.take().expect("finish is called once");
        let result = (|| {
            self.file.flush().map_err(io_err(&path))?;
            self.file.get_ref().sync_all().map_err(io_err(&path))?;
            let size = self.hasher.len();
            let digest = std::mem::take(&mut self.hasher).finish();
            if let Some(expected) = expected {
                if *expected != digest {
                    return Err(ContentError::Mismatch {
                        expected: expected.clone(),
                        actual: digest,
                    });
                }
            }
            Ok((digest, size))
        })();
        match result {
            Ok((digest, size)) => Ok(StagedBlob {
                digest,
                size,
                tmp: Some(path),
            }),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(e)
            }
        }
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// A verified blob waiting in staging for [`ContentStore::publish`].
#[derive(Debug)]
pub struct StagedBlob {
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    tmp: Option<PathBuf>,
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if let Some(p) = self.tmp.take() {
            let _ = fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_verify_publish_read() {
        let t = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(t.path()).unwrap();
        let mut w = cs.writer(t.path().join("staged")).unwrap();
        w.write_all(b"layer bytes").unwrap();
        let want = Digest::of_bytes(b"layer bytes");
        assert!(!cs.contains(&want));
        let staged = w.finish(Some(&want)).unwrap();
        assert!(!cs.contains(&want), "not visible before publish");
        cs.publish(staged).unwrap();
        assert_eq!(fs::read(cs.path(&want)).unwrap(), b"layer bytes");
        assert!(!t.path().join("staged").exists());
    }

    #[test]
    fn mismatch_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(t.path()).unwrap();
        let mut w = cs.writer(t.path().join("staged")).unwrap();
        w.write_all(b"evil").unwrap();
        let want = Digest::of_bytes(b"good");
        let err = w.finish(Some(&want)).unwrap_err();
        assert!(matches!(err, ContentError::Mismatch { .. }));
        assert!(!t.path().join("staged").exists());
        assert!(!cs.contains(&want));
    }
}
