//! `push`: an image from the store to a registry, as Docker's daemon pushes it. Each layer is
//! first looked for where it is known to be (the blob sources recorded by pulls and pushes): a
//! blob the repository already has is skipped ("Layer already exists"), one a sibling
//! repository of the same registry has is mounted ("Mounted from …"); the rest are gzip-compressed
//! from the layer's tar while they stream up (one `PATCH`, then `PUT ?digest=`), up to
//! [`PUSH_WORKERS`] at once. The config goes up whole (monolithic `PUT`), then a Docker schema 2
//! manifest under the tag, and the pushed digest becomes one of the image's repository digests.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};
use berth_registry::client::UploadStart;
use berth_registry::manifest::{
    Descriptor, ImageManifest, DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST,
};
use berth_registry::{Access, Repository};
use berth_store::blob_source::BlobSource;
use berth_store::digest::{Digest, Hasher};

use super::registry::RegistryAuth;
use super::TransferError;
use crate::types::{ProgressMessage, ProgressSink};
use crate::{Engine, EngineError};

/// Layers uploaded at once (Docker's `max-concurrent-uploads` default).
pub const PUSH_WORKERS: usize = 5;

/// How to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Every tag of the repository (`push -a`).
    pub all_tags: bool,
    /// Where credentials come from.
    pub auth: RegistryAuth,
}

/// One tag pushed.
#[derive(Debug, Clone)]
pub struct PushOutcome {
    /// The tag.
    pub tag: String,
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's size.
    pub size: u64,
}

/// One layer to push.
struct LayerJob {
    diff_id: Digest,
    tar: File,
    tar_size: u64,
    known: Vec<BlobSource>,
    sent: Arc<AtomicU64>,
}

impl Engine {
    /// `docker push [-a] NAME[:TAG]` (a name alone means `:latest`, unless `-a`).
    pub fn push_image(
        &mut self,
        name: &str,
        opts: &PushOptions,
        progress: &dyn ProgressSink,
    ) -> Result<Vec<PushOutcome>, EngineError> {
        let reference = Reference::parse(name)?;
        if reference.digest().is_some() {
            return Err(TransferError::PushDigest(reference.familiar_string()).into());
        }
        let tags: Vec<Reference> = if opts.all_tags {
            if reference.tag().is_some() {
                return Err(TransferError::TagWithAllTags.into());
            }
            let repo = reference.name();
            let images = ImageStore::new(&mut self.store);
            let mut tags: Vec<Reference> = images
                .names(None)?
                .into_iter()
                .filter(|n| n.kind == RefKind::Tag)
                .filter_map(|n| Reference::parse(&n.name).ok())
                .filter(|r| r.name() == repo)
                .collect();
            tags.sort();
            tags
        } else {
            vec![reference.clone().with_default_tag()]
        };
        if tags.is_empty() {
            return Err(TransferError::NoLocalTag(reference.familiar_name()).into());
        }
        let registry = self.registry(&opts.auth);
        progress.send(ProgressMessage::status(
            None,
            format!(
                "The push refers to repository [{}]",
                reference.familiar_name()
            ),
        ));
        let mut out = Vec::new();
        for r in &tags {
            out.push(self.push_one(&registry, r, progress)?);
        }
        // As dockerd: one `push` event naming what was asked (the repository for `-a`), with
        // the image's labels when it is one image.
        let asked = if opts.all_tags {
            reference
        } else {
            tags[0].clone()
        };
        let labels = if opts.all_tags {
            None
        } else {
            let id = ImageStore::new(&mut self.store).lookup_name(&asked.to_string())?;
            id.and_then(|id| self.image_labels(&id.to_string()))
        };
        self.emit_image_labeled(
            &asked.familiar_string(),
            &asked.familiar_name(),
            "push",
            labels,
        );
        Ok(out)
    }

    fn push_one(
        &mut self,
        registry: &berth_registry::Registry,
        r: &Reference,
        progress: &dyn ProgressSink,
    ) -> Result<PushOutcome, EngineError> {
        let tag = r.tag().unwrap_or("latest").to_string();
        let images = ImageStore::new(&mut self.store);
        let id = images
            .lookup_name(&r.to_string())?
            .ok_or_else(|| TransferError::NoLocalTag(r.familiar_name()))?;
        let image = images
            .get(&id)?
            .ok_or_else(|| EngineError::NoSuchImage(r.familiar_string()))?;
        let layers = match &image.top_layer {
            Some(top) => self.store.layer_chain(top)?,
            None => Vec::new(),
        };
        let domain = r.domain().to_string();
        let mut jobs = Vec::new();
        let mut siblings = Vec::new();
        for l in &layers {
            let known = self.store.blob_sources(&l.diff_id, &domain)?;
            for k in &known {
                if k.repository != r.path() && !siblings.contains(&k.repository) {
                    siblings.push(k.repository.clone());
                }
            }
            let tar = self.store.open_layer_tar(l)?;
            let tar_size = tar.metadata()?.len();
            jobs.push(LayerJob {
                diff_id: l.diff_id.clone(),
                tar,
                tar_size,
                known,
                sent: Arc::new(AtomicU64::new(0)),
            });
        }
        let repo = registry.repository(&domain, r.path(), Access::Push, &siblings)?;
        let chunk = registry.options().upload_chunk;
        let descriptors = upload_layers(&repo, &jobs, chunk, progress)?;
        for (job, (desc, _)) in jobs.iter().zip(&descriptors) {
            self.store.add_blob_source(&BlobSource {
                diff_id: job.diff_id.clone(),
                digest: Digest::parse(&desc.digest).map_err(|e| TransferError::BadDigest {
                    digest: desc.digest.clone(),
                    reason: e.to_string(),
                })?,
                registry: domain.clone(),
                repository: r.path().to_string(),
                media_type: desc.media_type.clone(),
                size: desc.size,
            })?;
        }
        // The config, whole.
        let config_digest = image.id.to_string();
        if repo.blob_exists(&config_digest)?.is_none() {
            match repo.start_upload(None)? {
                UploadStart::Location(upload) => {
                    repo.put_blob(&upload.url, &config_digest, &image.config_bytes)?
                }
                UploadStart::Mounted => {}
            }
        }
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: DOCKER_MANIFEST.to_string(),
            config: Descriptor {
                media_type: DOCKER_CONFIG.to_string(),
                digest: config_digest,
                size: image.config_bytes.len() as u64,
                urls: None,
                platform: None,
                annotations: None,
            },
            layers: descriptors.into_iter().map(|(d, _)| d).collect(),
        };
        let bytes = manifest_bytes(&manifest);
        let digest = repo.put_manifest(&tag, DOCKER_MANIFEST, &bytes)?;
        ImageStore::new(&mut self.store).set_name(
            &format!("{}@{digest}", r.name()),
            &image.id,
            RefKind::Digest,
        )?;
        progress.send(ProgressMessage::status(
            None,
            format!("{tag}: digest: {digest} size: {}", bytes.len()),
        ));
        progress.send(ProgressMessage {
            aux: Some(
                serde_json::json!({"Tag": tag, "Digest": digest.to_string(), "Size": bytes.len()}),
            ),
            progress_detail: Some(Default::default()),
            ..Default::default()
        });
        Ok(PushOutcome {
            tag,
            digest,
            size: bytes.len() as u64,
        })
    }
}

/// The manifest as Docker writes it: indented three spaces.
fn manifest_bytes(m: &ImageManifest) -> Vec<u8> {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    m.serialize(&mut ser).expect("a manifest serializes");
    out
}

/// Gets every layer into the repository; returns each layer's descriptor (bottom first) and
/// how it got there.
fn upload_layers(
    repo: &Repository,
    jobs: &[LayerJob],
    chunk: u64,
    progress: &dyn ProgressSink,
) -> Result<Vec<(Descriptor, String)>, EngineError> {
    // Docker lists layers top first.
    for (n, job) in jobs.iter().enumerate().rev() {
        progress.send(ProgressMessage::layer(job.diff_id.short(), "Preparing"));
        if jobs.len() - 1 - n >= PUSH_WORKERS {
            progress.send(ProgressMessage::layer(job.diff_id.short(), "Waiting"));
        }
    }
    let queue = Mutex::new((0..jobs.len()).rev().collect::<Vec<usize>>());
    let cancel = AtomicBool::new(false);
    let uploading: Vec<AtomicBool> = jobs.iter().map(|_| AtomicBool::new(false)).collect();
    let (tx, rx) = mpsc::channel::<(usize, Result<(Descriptor, String), EngineError>)>();
    let mut results: Vec<Option<(Descriptor, String)>> = jobs.iter().map(|_| None).collect();
    let mut failure: Option<EngineError> = None;
    std::thread::scope(|s| {
        for _ in 0..PUSH_WORKERS.min(jobs.len()) {
            let tx = tx.clone();
            let (queue, cancel, uploading) = (&queue, &cancel, &uploading);
            s.spawn(move || loop {
                let Some(i) = queue.lock().expect("queue lock").pop() else {
                    break;
                };
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                let result = push_layer(repo, &jobs[i], chunk, &uploading[i]);
                if result.is_err() {
                    cancel.store(true, Ordering::Relaxed);
                }
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok((i, Ok((desc, how)))) => {
                    progress.send(ProgressMessage::layer(jobs[i].diff_id.short(), &how));
                    results[i] = Some((desc, how));
                }
                Ok((_, Err(e))) => {
                    if failure.is_none() {
                        failure = Some(e);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            for (i, job) in jobs.iter().enumerate() {
                if results[i].is_none() && uploading[i].load(Ordering::Relaxed) {
                    progress.send(ProgressMessage::counting(
                        job.diff_id.short(),
                        "Pushing",
                        job.sent.load(Ordering::Relaxed).min(job.tar_size),
                        job.tar_size,
                    ));
                }
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every layer pushed"))
        .collect())
}

/// One layer: already there, mounted, or compressed and uploaded: in one streamed `PATCH`, or
/// in chunks when the layer is larger than a chunk or the registry asks for chunks.
fn push_layer(
    repo: &Repository,
    job: &LayerJob,
    chunk: u64,
    uploading: &AtomicBool,
) -> Result<(Descriptor, String), EngineError> {
    let descriptor = |s: &BlobSource| Descriptor {
        media_type: s.media_type.clone(),
        digest: s.digest.to_string(),
        size: s.size,
        urls: None,
        platform: None,
        annotations: None,
    };
    for k in job.known.iter().filter(|k| k.repository == repo.path()) {
        if repo.blob_exists(&k.digest.to_string())?.is_some() {
            return Ok((descriptor(k), "Layer already exists".into()));
        }
    }
    // The newest sibling that has it: a mount the registry refuses starts a plain upload.
    let mut location = None;
    if let Some(k) = job.known.iter().find(|k| k.repository != repo.path()) {
        match repo.start_upload(Some((&k.digest.to_string(), &k.repository)))? {
            UploadStart::Mounted => {
                return Ok((descriptor(k), format!("Mounted from {}", k.repository)));
            }
            UploadStart::Location(l) => location = Some(l),
        }
    }
    let upload = match location {
        Some(l) => l,
        None => match repo.start_upload(None)? {
            UploadStart::Location(l) => l,
            UploadStart::Mounted => return Err(TransferError::UnexpectedMount.into()),
        },
    };
    uploading.store(true, Ordering::Relaxed);
    // The gzip stream of the layer tar, from its first byte (the same bytes every time).
    let compressed = || -> io::Result<_> {
        job.sent.store(0, Ordering::Relaxed);
        let tar = FromStart {
            file: job.tar.try_clone()?,
            pos: 0,
        };
        Ok(flate2::read::GzEncoder::new(
            Counting {
                inner: BufReader::with_capacity(1 << 20, tar),
                count: job.sent.clone(),
            },
            flate2::Compression::fast(),
        ))
    };
    let (digest, size) = if job.tar_size > chunk || upload.min_chunk.is_some() {
        let done = repo.upload_chunked(upload, chunk, compressed)?;
        (done.digest, done.size)
    } else {
        let state = Arc::new(Mutex::new((Hasher::default(), 0u64)));
        let body = Compressing {
            inner: compressed()?,
            hasher: state.clone(),
        };
        let digest_of =
            |s: &Mutex<(Hasher, u64)>| s.lock().expect("hasher lock").0.clone().finish();
        {
            let state = state.clone();
            repo.upload_stream(&upload.url, body, move || digest_of(&state).to_string())?;
        }
        let size = state.lock().expect("hasher lock").1;
        (digest_of(&state), size)
    };
    Ok((
        Descriptor {
            media_type: DOCKER_LAYER_GZIP.to_string(),
            digest: digest.to_string(),
            size,
            urls: None,
            platform: None,
            annotations: None,
        },
        "Pushed".into(),
    ))
}

/// A layer tar read from its first byte with positional reads (the file's offset is shared
/// with its clones; this reader keeps its own).
struct FromStart {
    file: File,
    pos: u64,
}

impl Read for FromStart {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Counts the bytes read from the layer tar (for the bar).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The compressed stream going up, hashed (and measured) as it goes.
struct Compressing<R> {
    inner: R,
    hasher: Arc<Mutex<(Hasher, u64)>>,
}

impl<R: Read> Read for Compressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut h = self.hasher.lock().expect("hasher lock");
        h.0.update(&buf[..n]);
        h.1 += n as u64;
        Ok(n)
    }
}
