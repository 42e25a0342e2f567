//! [`fetch_layers`] brings a pull's missing layers into the store: up to [`PULL_WORKERS`] at
//! once, each streamed from the registry through [`BlobReader`] (which keeps every byte in the
//! blob's ingest file, hashes it, and resumes with `Range` when the connection drops) straight
//! into decompression and tar extraction, so a layer is unpacked when its last byte arrives.
//! The store's thread records layers bottom-up as they complete.
//!
//! On a driver whose layers cannot be unpacked before their parent (vfs), workers only download
//! (into the ingest area) and the store's thread unpacks in order.
//!
//! A blob is fetched by whoever holds its ingest lock; a process that finds it held waits, then
//! uses what the holder left (the recorded layer, or the verified `.done` file) instead of
//! fetching again. Locks are held only while downloading or reading ingest files, never while
//! waiting for another layer, so two pulls cannot deadlock.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use berth_registry::client::{backoff, ATTEMPTS};
use berth_registry::manifest::Descriptor;
use berth_registry::{RegistryError, Repository};
use berth_store::digest::{Digest, Hasher};
use berth_store::ingest::{Ingest, IngestEntry};
use berth_store::layer::Layer;
use berth_store::unpack::{LayerProbe, LayerSlot, LayerUnpacker, UnpackedLayer};
use berth_store::Store;

use super::TransferError;
use crate::types::{ProgressMessage, ProgressSink};
use crate::EngineError;

/// Layers downloaded at once (Docker's `max-concurrent-downloads` default).
pub const PULL_WORKERS: usize = 3;

/// One layer of the image being pulled.
#[derive(Debug, Clone)]
pub struct LayerPlan {
    /// The manifest's descriptor (compressed blob).
    pub blob: Descriptor,
    /// Its digest, parsed.
    pub digest: Digest,
    /// The diff ID the config announces for it.
    pub diff_id: Digest,
    /// Its chain ID.
    pub chain: Digest,
    /// Already in the store.
    pub present: bool,
}

impl LayerPlan {
    /// The id its progress lines carry (12 hex digits of the blob digest, as Docker).
    pub fn short(&self) -> &str {
        self.digest.short()
    }
}

/// What a worker produced for one layer.
enum Fetched {
    /// Unpacked into its slot, waiting to be recorded.
    Unpacked(UnpackedLayer),
    /// Downloaded whole and verified; the store's thread unpacks it (vfs).
    Downloaded(File),
    /// Another process stored the layer meanwhile.
    Stored,
}

/// Shared by the workers of one pull.
struct Job<'a> {
    repo: &'a Repository,
    ingest: &'a Ingest,
    unpacker: Option<&'a LayerUnpacker>,
    probe: &'a LayerProbe,
    progress: &'a dyn ProgressSink,
    cancel: &'a AtomicBool,
}

/// Fetches and records every layer of `plan` that is not present, on top of the layers before
/// it; returns the chain ID of the top layer. Every layer recorded is held (journal `chain`)
/// until the caller releases the hold; on failure the layers recorded here are freed.
pub fn fetch_layers(
    store: &mut Store,
    repo: &Repository,
    plan: &[LayerPlan],
    progress: &dyn ProgressSink,
) -> Result<Option<Digest>, EngineError> {
    let ingest = store.ingest()?;
    // What interrupted pulls left a week ago and nobody resumed.
    let _ = ingest.sweep(Duration::from_secs(7 * 24 * 3600));
    let unpacker = store.layer_unpacker()?;
    let probe = store.layer_probe();
    let missing: Vec<usize> = (0..plan.len()).filter(|&i| !plan[i].present).collect();
    let mut slots: BTreeMap<usize, String> = BTreeMap::new();
    let mut queue = VecDeque::new();
    for (n, &i) in missing.iter().enumerate() {
        let slot = match &unpacker {
            Some(_) => {
                let s = store.reserve_layer()?;
                slots.insert(i, s.cache_id().to_string());
                Some(s)
            }
            None => None,
        };
        progress.send(ProgressMessage::layer(plan[i].short(), "Pulling fs layer"));
        if n >= PULL_WORKERS {
            progress.send(ProgressMessage::layer(plan[i].short(), "Waiting"));
        }
        queue.push_back((i, slot));
    }
    let cancel = AtomicBool::new(false);
    let job = Job {
        repo,
        ingest: &ingest,
        unpacker: unpacker.as_ref(),
        probe: &probe,
        progress,
        cancel: &cancel,
    };
    let queue = Mutex::new(queue);
    let (tx, rx) = mpsc::channel::<(usize, Result<Fetched, EngineError>)>();
    let mut top: Option<Digest> = None;
    let mut failure: Option<EngineError> = None;
    std::thread::scope(|s| {
        for _ in 0..PULL_WORKERS.min(missing.len()) {
            let tx = tx.clone();
            let (job, queue) = (&job, &queue);
            s.spawn(move || loop {
                let next = queue.lock().expect("queue lock").pop_front();
                let Some((i, slot)) = next else { break };
                if job.cancel.load(Ordering::Relaxed) {
                    let _ = tx.send((i, Err(cancelled())));
                    continue;
                }
                let result = fetch_one(job, &plan[i], slot);
                if result.is_err() {
                    job.cancel.store(true, Ordering::Relaxed);
                }
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Record bottom-up as layers complete.
        let mut done: BTreeMap<usize, Fetched> = BTreeMap::new();
        let mut next = 0;
        let mut advance = |store: &mut Store,
                           done: &mut BTreeMap<usize, Fetched>,
                           next: &mut usize,
                           top: &mut Option<Digest>|
         -> Result<(), EngineError> {
            while *next < plan.len() {
                let p = &plan[*next];
                if p.present {
                    store.move_chain_hold(top.as_ref(), &p.chain)?;
                    *top = Some(p.chain.clone());
                    *next += 1;
                    continue;
                }
                let Some(f) = done.remove(next) else { break };
                let layer = record(store, top.as_ref(), p, f, progress)?;
                if layer.chain_id != p.chain {
                    return Err(TransferError::DiffIdMismatch {
                        blob: p.digest.to_string(),
                        actual: layer.diff_id.to_string(),
                        expected: p.diff_id.to_string(),
                    }
                    .into());
                }
                slots.remove(next);
                if let Some(entry) = job.ingest.try_lock(&p.digest)? {
                    entry.discard()?;
                }
                progress.send(ProgressMessage::layer(p.short(), "Pull complete"));
                *top = Some(layer.chain_id);
                *next += 1;
            }
            Ok(())
        };
        if let Err(e) = advance(store, &mut done, &mut next, &mut top) {
            failure = Some(e);
            cancel.store(true, Ordering::Relaxed);
        }
        for (i, result) in rx {
            match result {
                Ok(f) if failure.is_none() => {
                    done.insert(i, f);
                    if let Err(e) = advance(store, &mut done, &mut next, &mut top) {
                        failure = Some(e);
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    cancel.store(true, Ordering::Relaxed);
                    // The first real cause wins over the cancellations it led to.
                    if failure.is_none()
                        || (is_cancelled(failure.as_ref()) && !is_cancelled(Some(&e)))
                    {
                        failure = Some(e);
                    }
                }
            }
        }
    });
    if let Some(e) = failure {
        for cache_id in slots.values() {
            store.abandon_slot(cache_id);
        }
        if let Some(t) = &top {
            let _ = store.release_chain_hold(t, true);
        }
        return Err(e);
    }
    Ok(top)
}

fn cancelled() -> EngineError {
    EngineError::Io(io::Error::new(io::ErrorKind::Interrupted, "pull cancelled"))
}

fn is_cancelled(e: Option<&EngineError>) -> bool {
    matches!(e, Some(EngineError::Io(io)) if io.kind() == io::ErrorKind::Interrupted)
}

/// Records one fetched layer on `parent`.
fn record(
    store: &mut Store,
    parent: Option<&Digest>,
    p: &LayerPlan,
    fetched: Fetched,
    progress: &dyn ProgressSink,
) -> Result<Layer, EngineError> {
    match fetched {
        Fetched::Unpacked(u) => Ok(store.record_unpacked(parent, u)?),
        Fetched::Downloaded(file) => {
            progress.send(ProgressMessage::counting(
                p.short(),
                "Extracting",
                p.blob.size,
                p.blob.size,
            ));
            Ok(store.register_layer_held(
                parent,
                Some(&p.diff_id),
                io::BufReader::with_capacity(1 << 20, file),
            )?)
        }
        Fetched::Stored => {
            let layer = store
                .layer(&p.chain)?
                .ok_or_else(|| berth_store::StoreError::NoSuchLayer(p.chain.to_string()))?;
            store.move_chain_hold(parent, &p.chain)?;
            Ok(layer)
        }
    }
}

/// One worker's job: get layer `p` unpacked (or downloaded) from wherever it is.
fn fetch_one(
    job: &Job<'_>,
    p: &LayerPlan,
    slot: Option<LayerSlot>,
) -> Result<Fetched, EngineError> {
    let entry = match job.ingest.try_lock(&p.digest)? {
        Some(e) => e,
        None => {
            // Another process is fetching this blob: wait, then use what it left.
            job.progress
                .send(ProgressMessage::layer(p.short(), "Waiting"));
            job.ingest.lock(&p.digest)?
        }
    };
    // Another process may have stored the layer since this pull looked.
    if job.probe.exists(&p.chain)? {
        progress_done(job.progress, p, "Already exists");
        return Ok(Fetched::Stored);
    }
    let mut reader = BlobReader::open(job, p, &entry)?;
    match (job.unpacker, slot) {
        (Some(unpacker), Some(slot)) => {
            let unpacked = unpacker.unpack(slot, &p.diff_id, &mut reader);
            let finished = match unpacked {
                Ok(u) => reader.finish(&entry).map(|()| u),
                Err(e) => Err(match reader.take_failure() {
                    Some(f) => f,
                    // A stream that does not unpack is most often one that does not match its
                    // digest (a corrupt blob breaks gzip first): say so when it is the case.
                    None => match reader.finish(&entry) {
                        Err(
                            mismatch @ EngineError::Registry(RegistryError::DigestMismatch {
                                ..
                            }),
                        ) => mismatch,
                        _ => {
                            let _ = entry.discard();
                            e.into()
                        }
                    },
                }),
            };
            let unpacked = finished?;
            job.progress.send(ProgressMessage::counting(
                p.short(),
                "Extracting",
                p.blob.size,
                p.blob.size,
            ));
            Ok(Fetched::Unpacked(unpacked))
        }
        _ => {
            io::copy(&mut reader, &mut io::sink())
                .map_err(|e| reader.take_failure().unwrap_or_else(|| e.into()))?;
            reader.finish(&entry)?;
            let file = entry.complete().ok_or_else(|| {
                EngineError::Io(io::Error::other(format!(
                    "the downloaded blob {} vanished from the ingest area",
                    p.digest
                )))
            })?;
            Ok(Fetched::Downloaded(file))
        }
    }
}

fn progress_done(progress: &dyn ProgressSink, p: &LayerPlan, status: &str) {
    progress.send(ProgressMessage::layer(p.short(), status));
}

/// The bytes of one blob, from the ingest area first and then the registry, hashed as they
/// pass. Network bytes are appended to the ingest file before they are handed on; a broken
/// connection is resumed at the current offset with `Range`, up to [`ATTEMPTS`] times in a
/// row. More bytes than the manifest announced is an error, so a registry cannot make berth
/// read forever.
struct BlobReader<'j> {
    job: &'j Job<'j>,
    plan: &'j LayerPlan,
    local: Option<File>,
    /// Where network bytes go (`None` when reading a complete `.done` file).
    append: Option<io::BufWriter<File>>,
    net: Option<Box<dyn Read + Send>>,
    offset: u64,
    hasher: Hasher,
    failures: u32,
    failure: Option<EngineError>,
    last_report: Instant,
    reported_done: bool,
}

impl<'j> BlobReader<'j> {
    fn open(
        job: &'j Job<'j>,
        plan: &'j LayerPlan,
        entry: &IngestEntry,
    ) -> Result<Self, EngineError> {
        let (local, append) = match entry.complete() {
            Some(done) => (Some(done), None),
            None => {
                let kept = entry.partial_len();
                if kept > plan.blob.size {
                    entry.reset()?;
                }
                let local = if entry.partial_len() > 0 {
                    Some(entry.open_partial()?)
                } else {
                    None
                };
                (
                    local,
                    Some(io::BufWriter::with_capacity(128 << 10, entry.append()?)),
                )
            }
        };
        Ok(BlobReader {
            job,
            plan,
            local,
            append,
            net: None,
            offset: 0,
            hasher: Hasher::default(),
            failures: 0,
            failure: None,
            last_report: Instant::now(),
            reported_done: false,
        })
    }

    /// The registry error behind an I/O error this reader returned, if any.
    fn take_failure(&mut self) -> Option<EngineError> {
        self.failure.take()
    }

    /// The connection failed [`ATTEMPTS`] times in a row: give up with the last reason.
    fn broken(&mut self, reason: String) -> io::Error {
        let url = self.job.repo.blob_url(&self.plan.blob.digest);
        self.fail(
            RegistryError::Transport {
                verb: "Get",
                url,
                reason,
            }
            .into(),
        )
    }

    fn fail(&mut self, e: EngineError) -> io::Error {
        let text = e.to_string();
        self.failure = Some(e);
        io::Error::other(text)
    }

    fn report(&mut self) {
        let total = self.plan.blob.size;
        let now = Instant::now();
        if self.offset < total && now.duration_since(self.last_report) < Duration::from_millis(100)
        {
            return;
        }
        self.last_report = now;
        self.job.progress.send(ProgressMessage::counting(
            self.plan.short(),
            "Downloading",
            self.offset,
            total,
        ));
        if self.offset >= total && !self.reported_done {
            self.reported_done = true;
            self.job.progress.send(ProgressMessage::layer(
                self.plan.short(),
                "Verifying Checksum",
            ));
            self.job.progress.send(ProgressMessage::layer(
                self.plan.short(),
                "Download complete",
            ));
        }
    }

    /// Reads the rest, checks size and digest, and marks the ingest file complete.
    fn finish(&mut self, entry: &IngestEntry) -> Result<(), EngineError> {
        io::copy(self, &mut io::sink())
            .map_err(|e| self.take_failure().unwrap_or_else(|| e.into()))?;
        let size = self.plan.blob.size;
        let actual = std::mem::take(&mut self.hasher).finish();
        if self.offset != size || actual != self.plan.digest {
            let _ = entry.discard();
            return Err(RegistryError::DigestMismatch {
                what: format!("layer {}", self.plan.short()),
                expected: self.plan.digest.to_string(),
                actual: if self.offset != size {
                    format!("{actual} ({} of {size} bytes)", self.offset)
                } else {
                    actual.to_string()
                },
            }
            .into());
        }
        if let Some(mut a) = self.append.take() {
            a.flush()?;
            entry.mark_complete()?;
        }
        self.report();
        Ok(())
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.job.cancel.load(Ordering::Relaxed) {
            return Err(self.fail(cancelled()));
        }
        if let Some(f) = &mut self.local {
            let n = f.read(buf)?;
            if n > 0 {
                self.hasher.update(&buf[..n]);
                self.offset += n as u64;
                self.report();
                return Ok(n);
            }
            self.local = None;
        }
        let size = self.plan.blob.size;
        if self.append.is_none() || self.offset >= size && self.net.is_none() {
            return Ok(0);
        }
        loop {
            if self.net.is_none() {
                if self.offset >= size {
                    return Ok(0);
                }
                std::thread::sleep(backoff(self.failures + 1));
                match self.job.repo.blob(&self.plan.blob.digest, self.offset) {
                    Ok(s) => self.net = Some(s.reader),
                    Err(e) => {
                        self.failures += 1;
                        if e.is_transient() && self.failures < ATTEMPTS {
                            continue;
                        }
                        return Err(self.fail(e.into()));
                    }
                }
            }
            let net = self.net.as_mut().expect("opened above");
            match net.read(buf) {
                Ok(0) => {
                    self.net = None;
                    if self.offset >= size {
                        return Ok(0);
                    }
                    // The connection ended early: resume where it stopped.
                    self.failures += 1;
                    log::debug!(
                        "blob {}: connection closed at {} of {size} bytes; resuming",
                        self.plan.digest,
                        self.offset
                    );
                    if self.failures >= ATTEMPTS {
                        let reason =
                            format!("unexpected EOF after {} of {size} bytes", self.offset);
                        return Err(self.broken(reason));
                    }
                }
                Ok(n) => {
                    if self.offset + n as u64 > size {
                        return Err(self.fail(
                            TransferError::BlobTooLarge {
                                digest: self.plan.digest.to_string(),
                                size,
                            }
                            .into(),
                        ));
                    }
                    self.failures = 0;
                    let append = self.append.as_mut().expect("network bytes are kept");
                    append.write_all(&buf[..n])?;
                    self.hasher.update(&buf[..n]);
                    self.offset += n as u64;
                    if self.offset >= size {
                        append.flush()?;
                    }
                    self.report();
                    return Ok(n);
                }
                Err(e) => {
                    self.net = None;
                    self.failures += 1;
                    log::debug!(
                        "blob {}: {e}; resuming at {}",
                        self.plan.digest,
                        self.offset
                    );
                    if self.failures >= ATTEMPTS {
                        return Err(self.broken(e.to_string()));
                    }
                }
            }
        }
    }
}
