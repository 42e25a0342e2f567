//! [`Progress`] is how long image operations (load, save, import) report how far they are; the
//! CLI draws a bar on a terminal and nothing otherwise. [`ProgressReader`] counts bytes as they
//! are read.

use std::io::{self, Read};

/// Receives progress of one long operation at a time.
pub trait Progress {
    /// A new phase starts, e.g. `Loading layer`, with its total size when known.
    fn begin(&self, label: &str, total: Option<u64>);
    /// `n` more bytes are done.
    fn advance(&self, n: u64);
    /// The phase is done.
    fn end(&self);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _label: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn end(&self) {}
}

/// A reader that reports every byte read to a [`Progress`].
pub struct ProgressReader<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
}

impl<'p, R: Read> ProgressReader<'p, R> {
    /// Wraps `inner`.
    pub fn new(inner: R, progress: &'p dyn Progress) -> Self {
        ProgressReader { inner, progress }
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
