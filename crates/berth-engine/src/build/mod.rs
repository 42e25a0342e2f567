//! `build`: the engine's side of `docker build`. [`Engine::build`] prepares the context (a
//! directory, or a tar unpacked into the data root's staging area), reads the Dockerfile and hands
//! both to berth-build's [`Builder`], implementing its [`Backend`]: FROM resolves local images
//! and pulls the missing ones (every one with `--pull`) with the pull's progress in the build's
//! output, RUN steps are containers created, started and attached like `docker run`'s (their changes
//! committed with `commit`'s diff code, the container removed), COPY/ADD/WORKDIR write into a
//! [`layer::ScratchLayer`] through the store's root-confined tar extractor, every image is stored
//! with its parent and its step's cache key in the store's `build_cache` table.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use berth_build::builder::{
    Backend, BuildError, BuildOptions, Builder, CopyRequest, Image, NewLayer, Output, RunRequest,
};
use berth_build::context::{resolve_in_root, Context, SumMemo};
use berth_build::refusal::{Missing, Refusal};
use berth_image::config::{ContainerConfig, ImageConfig};
use berth_image::reference::Reference;
use berth_image::store::{ImageStore, RefKind};
use berth_store::digest::Digest;
use berth_store::metadata::{build_cache, build_sums};

use crate::image::{PullOptions, RegistryAuth};
use crate::types::{CreateRequest, HostConfig, ProgressMessage, ProgressSink};
use crate::{Engine, EngineError};

mod copy;
mod error;
mod layer;

pub use error::BuildRequestError;

/// Where the build context comes from.
pub enum ContextSource {
    /// A directory (its `.dockerignore` applies).
    Dir(PathBuf),
    /// A tar stream, plain or compressed (`-`, or the API's body).
    Tar(Box<dyn Read + Send>),
}

/// Where the Dockerfile comes from.
#[derive(Debug, Clone)]
pub enum DockerfileSource {
    /// A path inside the context (default `Dockerfile`).
    InContext(String),
    /// Its text (`-f -`, or a file outside the context).
    Text {
        /// What error messages call it.
        name: String,
        /// The text.
        text: String,
    },
}

/// A build request.
pub struct BuildRequest {
    /// The context.
    pub context: ContextSource,
    /// The Dockerfile.
    pub dockerfile: DockerfileSource,
    /// `-t` names.
    pub tags: Vec<String>,
    /// Builder options (build args, target, no-cache, labels, rm).
    pub options: BuildOptions,
    /// `--network` for RUN steps: `default` (the bridge), `none`, `host` or a network's name.
    pub network: String,
    /// `--pull`: pull every base image (`FROM`, `COPY --from=image`) even when it is here.
    pub pull: bool,
    /// Credentials for the pulls of base images.
    pub auth: RegistryAuth,
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct BuildResult {
    /// The image ID.
    pub id: Digest,
}

impl From<BuildError> for EngineError {
    fn from(e: BuildError) -> EngineError {
        match e {
            BuildError::Invalid(_) | BuildError::NotFound(_) => {
                BuildRequestError::Builder(e).into()
            }
            BuildError::Failed { .. } => EngineError::BuildFailed(e.to_string(), failed_code(&e)),
            BuildError::Backend(m) => EngineError::Io(std::io::Error::other(m)),
        }
    }
}

fn meta_err(e: berth_store::metadata::MetaError) -> EngineError {
    EngineError::Io(std::io::Error::other(e.to_string()))
}

fn failed_code(e: &BuildError) -> i32 {
    match e {
        BuildError::Failed { code, .. } => *code,
        _ => 1,
    }
}

fn backend_err(e: impl std::fmt::Display) -> BuildError {
    BuildError::Backend(e.to_string())
}

impl Engine {
    /// `docker build`: runs the Dockerfile and tags the result. Progress goes to `out`.
    pub fn build(
        &mut self,
        req: BuildRequest,
        out: &mut dyn Output,
    ) -> Result<BuildResult, EngineError> {
        // RUN containers join the network as `run --network` would (default: the bridge, as in
        // Docker); an unknown network fails at the first RUN with the engine's words.
        let network = if req.network.is_empty() {
            "default"
        } else {
            req.network.as_str()
        };
        let mut tags = Vec::new();
        for t in &req.tags {
            tags.push(Reference::parse_tag_target(t)?);
        }
        let mut staged: Option<PathBuf> = None;
        let mut memo_key: Option<String> = None;
        let result = (|| {
            let ctx = match req.context {
                ContextSource::Dir(d) => {
                    let meta =
                        std::fs::metadata(&d).map_err(|e| BuildRequestError::ContextMissing {
                            path: d.display().to_string(),
                            source: e,
                        })?;
                    if !meta.is_dir() {
                        return Err(
                            BuildRequestError::ContextNotDir(d.display().to_string()).into()
                        );
                    }
                    let ctx = Context::from_dir(&d).map_err(BuildRequestError::Context)?;
                    // The sums of this directory's files from the last build of it.
                    let key = std::path::absolute(&d)
                        .ok()
                        .map(|p| format!("dir:{}", p.display()));
                    let known = match &key {
                        Some(k) => build_sums::get(self.store.db().conn(), k).map_err(meta_err)?,
                        None => None,
                    };
                    memo_key = key;
                    ctx.with_memo(SumMemo::from_json(known.as_deref()))
                }
                ContextSource::Tar(r) => {
                    let dir = self.store.staging_path("build-context")?;
                    std::fs::create_dir(&dir)?;
                    staged = Some(dir.clone());
                    let r = berth_store::archive::decompress(std::io::BufReader::new(r))?;
                    berth_store::archive::apply_tar(
                        CompleteTar::new(r),
                        &dir,
                        &berth_store::archive::ApplyOptions {
                            no_overwrite_dir_non_dir: false,
                            skip_devices: false,
                            whiteouts: berth_store::archive::WhiteoutMode::Delete,
                            root_metadata: false,
                            owner: None,
                        },
                    )
                    .map_err(BuildRequestError::UnreadableContext)?;
                    Context::plain(&dir)
                }
            };
            let (name, text) = read_dockerfile(&ctx, &req.dockerfile)?;
            if let (Some(_), DockerfileSource::InContext(n)) = (&staged, &req.dockerfile) {
                ctx.remove_ignored_control_files(n)
                    .map_err(BuildRequestError::Context)?;
            }
            let mut backend = EngineBackend {
                engine: self,
                ctx: &ctx,
                network: network.to_string(),
                keep: req.options.keep_containers,
                mounts: BTreeMap::new(),
                pull: req.pull,
                auth: req.auth.clone(),
                pulled: BTreeSet::new(),
            };
            let built = {
                let mut builder = Builder::new(&mut backend, out, req.options.clone());
                builder.build(&text, &name)
            };
            backend.release_mounts();
            if let (Some(key), Some(json)) = (&memo_key, ctx.memo_json()) {
                let now = crate::now();
                self.store
                    .db_mut()
                    .write(|tx| build_sums::put(tx, key, None, &json, &now))
                    .map_err(meta_err)?;
            }
            let built = built?;
            let id = Digest::parse(&built.id)
                .map_err(|e| EngineError::Io(std::io::Error::other(e.to_string())))?;
            out.stdout(&format!("Successfully built {}\n", id.short()));
            for r in &tags {
                ImageStore::new(&mut self.store).set_name(&r.to_string(), &id, RefKind::Tag)?;
                out.stdout(&format!("Successfully tagged {}\n", r.familiar_string()));
            }
            Ok(BuildResult { id })
        })();
        if let Some(d) = staged {
            let _ = berth_store::fsutil::remove_tree(&d);
        }
        result
    }

    /// `docker builder prune`: forgets the build cache and removes the images only it kept
    /// (untagged, unused, without children). Returns the bytes of layers freed.
    pub fn prune_build_cache(
        &mut self,
        until: Option<&str>,
    ) -> Result<(Vec<String>, u64), EngineError> {
        let images = self
            .store
            .db_mut()
            .write(|tx| {
                if until.is_none() {
                    build_sums::clear(tx)?;
                }
                build_cache::clear(tx, until)
            })
            .map_err(meta_err)?;
        let mut deleted = Vec::new();
        let mut freed = 0u64;
        let mut todo: Vec<String> = images;
        while let Some(id) = todo.pop() {
            let Ok(d) = Digest::parse(&id) else { continue };
            let store = ImageStore::new(&mut self.store);
            let Some(rec) = store.get(&d)? else { continue };
            if !store.names(Some(&d))?.is_empty() || store.has_children(&d)? {
                continue;
            }
            if !self.containers_using_image(&id)?.is_empty() {
                continue;
            }
            for l in ImageStore::new(&mut self.store).delete(&d)? {
                freed += l.size;
            }
            deleted.push(id);
            if let Some(p) = rec.parent {
                todo.push(p.to_string());
            }
        }
        Ok((deleted, freed))
    }
}

fn read_dockerfile(ctx: &Context, src: &DockerfileSource) -> Result<(String, String), EngineError> {
    let (name, text) = match src {
        DockerfileSource::Text { name, text } => (name.clone(), text.clone()),
        DockerfileSource::InContext(name) => {
            let name = if name.is_empty() { "Dockerfile" } else { name };
            let mut path = ctx.resolve(name);
            if !path.is_file() && name == "Dockerfile" {
                let lower = ctx.resolve("dockerfile");
                if lower.is_file() {
                    path = lower;
                }
            }
            let text = std::fs::read(&path)
                .map_err(|_| BuildRequestError::NoDockerfile(name.to_string()))?;
            (
                name.to_string(),
                String::from_utf8_lossy(&text).into_owned(),
            )
        }
    };
    if text.is_empty() {
        return Err(BuildRequestError::EmptyDockerfile(name).into());
    }
    Ok((name, text))
}

/// The cache key of a step: its parent and its config.
fn cache_key(parent: &str, probe: &ContainerConfig) -> String {
    let json = serde_json::to_vec(probe).expect("configs serialize");
    let mut bytes = parent.as_bytes().to_vec();
    bytes.push(b'\n');
    bytes.extend(json);
    berth_build::builder::sha256_hex(&bytes)
}

/// What `copy_sources` answers: (path, is a directory, Docker's hash) of each source.
type Sources = Vec<(String, bool, String)>;

struct EngineBackend<'e, 'c> {
    engine: &'e mut Engine,
    ctx: &'c Context,
    network: String,
    keep: bool,
    /// `COPY --from` images, mounted once per build.
    mounts: BTreeMap<String, (layer::ScratchLayer, Context)>,
    /// `--pull`.
    pull: bool,
    auth: RegistryAuth,
    /// Base images this build pulled already (each is pulled once, as Docker's builder does).
    pulled: BTreeSet<String>,
}

impl EngineBackend<'_, '_> {
    fn release_mounts(&mut self) {
        for (_, (s, _)) in std::mem::take(&mut self.mounts) {
            self.engine.drop_scratch(s);
        }
    }

    fn top_layer(&mut self, image: &str) -> Result<Option<Digest>, BuildError> {
        if image.is_empty() {
            return Ok(None);
        }
        let d = Digest::parse(image).map_err(backend_err)?;
        let rec = ImageStore::new(&mut self.engine.store)
            .get(&d)
            .map_err(backend_err)?
            .ok_or_else(|| Missing::Image(image.to_string()))?;
        Ok(rec.top_layer)
    }

    fn source_ctx(&mut self, from: Option<&str>) -> Result<&Context, BuildError> {
        let Some(id) = from else {
            return Ok(self.ctx);
        };
        if !self.mounts.contains_key(id) {
            let top = self.top_layer(id)?;
            let s = self
                .engine
                .scratch_layer(top.as_ref())
                .map_err(backend_err)?;
            let c = Context::plain(&s.path);
            self.mounts.insert(id.to_string(), (s, c));
        }
        Ok(&self.mounts[id].1)
    }

    fn new_layer(l: Option<berth_store::layer::Layer>) -> Option<NewLayer> {
        l.map(|l| NewLayer {
            diff_id: l.diff_id,
            chain_id: l.chain_id,
        })
    }
}

impl Backend for EngineBackend<'_, '_> {
    fn base_image(&mut self, name: &str, out: &mut dyn Output) -> Result<Image, BuildError> {
        // As Docker's classic builder: `--pull` pulls each base image (once per build); without
        // it a local image is used and a missing one pulled.
        let local = if self.pull && !self.pulled.contains(name) {
            None
        } else {
            match self.engine.resolve_image(name) {
                Ok((rec, _)) => Some(rec),
                Err(EngineError::NoSuchImage(_)) => None,
                Err(e) => return Err(backend_err(e)),
            }
        };
        let rec = match local {
            Some(rec) => rec,
            None => {
                self.pull_base(name, out)?;
                self.pulled.insert(name.to_string());
                self.engine.resolve_image(name).map_err(pull_err)?.0
            }
        };
        Ok(Image {
            id: rec.id.to_string(),
            config: rec.config,
        })
    }

    fn image(&mut self, id: &str) -> Result<Image, BuildError> {
        let d = Digest::parse(id).map_err(backend_err)?;
        let rec = ImageStore::new(&mut self.engine.store)
            .get(&d)
            .map_err(backend_err)?
            .ok_or_else(|| Missing::Image(id.to_string()))?;
        Ok(Image {
            id: rec.id.to_string(),
            config: rec.config,
        })
    }

    fn cache_lookup(
        &mut self,
        parent: &str,
        probe: &ContainerConfig,
    ) -> Result<Option<String>, BuildError> {
        let key = cache_key(parent, probe);
        build_cache::lookup(self.engine.store.db().conn(), &key).map_err(backend_err)
    }

    fn copy_sources(
        &mut self,
        from: Option<&str>,
        pattern: &str,
    ) -> Result<Vec<(String, bool, String)>, BuildError> {
        // An image's files cannot change: what a path in it hashed to is kept with the image,
        // so a rebuild neither mounts nor reads it again.
        let key = from.map(|id| format!("from:{id}:{pattern}"));
        if let Some(k) = &key {
            let known = build_sums::get(self.engine.store.db().conn(), k).map_err(backend_err)?;
            if let Some(sources) = known.and_then(|j| serde_json::from_str::<Sources>(&j).ok()) {
                return Ok(sources);
            }
        }
        let ctx = self.source_ctx(from)?;
        let sources = ctx.sources(pattern).map_err(|e| match e {
            berth_build::context::ContextError::NotFound(_) => BuildError::from(Missing::Source(e)),
            e => Refusal::Context(e).into(),
        })?;
        if let (Some(k), Some(id)) = (&key, from) {
            let json = serde_json::to_string(&sources).expect("sources serialize");
            let now = crate::now();
            self.engine
                .store
                .db_mut()
                .write(|tx| build_sums::put(tx, k, Some(id), &json, &now))
                .map_err(backend_err)?;
        }
        Ok(sources)
    }

    fn is_archive(&mut self, rel: &str) -> bool {
        self.ctx.is_archive(rel)
    }

    fn run(
        &mut self,
        parent: &str,
        req: &RunRequest,
        out: &mut dyn Output,
    ) -> Result<(String, Option<NewLayer>), BuildError> {
        let mut config = req.config.clone();
        config.image = parent.to_string();
        // An empty entrypoint keeps the image's out of the step, as Docker's [""] does.
        if config.entrypoint.is_none() {
            config.entrypoint = Some(Vec::new());
        }
        let create = CreateRequest {
            name: None,
            config,
            host_config: HostConfig {
                network_mode: self.network.clone(),
                ..Default::default()
            },
            pull: Default::default(),
            networking_config: None,
            platform: None,
            api_version: None,
        };
        let c = self.engine.create_container(create).map_err(backend_err)?;
        out.running_in(&c.id[..12]);
        let outcome = self.run_attached(&c.id, out);
        let code = match outcome {
            Ok(code) => code,
            Err(e) => {
                let _ = self.engine.remove_container(&c.id, true, true);
                return Err(e);
            }
        };
        if code != 0 {
            let _ = self.engine.remove_container(&c.id, true, true);
            return Err(BuildError::Failed {
                command: String::new(),
                code,
            });
        }
        let fresh = self.engine.container(&c.id).map_err(backend_err)?;
        let layer = self.engine.commit_layer(&fresh);
        if !self.keep || layer.is_err() {
            let _ = self.engine.remove_container(&c.id, true, true);
        }
        Ok((c.id, Self::new_layer(layer.map_err(backend_err)?)))
    }

    fn copy(&mut self, parent: &str, req: &CopyRequest) -> Result<Option<NewLayer>, BuildError> {
        let top = self.top_layer(parent)?;
        let src_root = match &req.from_image {
            Some(id) => {
                self.source_ctx(Some(id))?;
                self.mounts[id.as_str()].1.clone()
            }
            None => self.ctx.clone(),
        };
        let scratch = self
            .engine
            .scratch_layer(top.as_ref())
            .map_err(backend_err)?;
        match copy::copy_into(&scratch.path, &src_root, req) {
            Ok(()) => {}
            Err(e) => {
                self.engine.drop_scratch(scratch);
                return Err(e);
            }
        }
        let l = self.engine.commit_scratch(scratch).map_err(backend_err)?;
        Ok(Self::new_layer(l))
    }

    fn workdir(&mut self, parent: &str, dir: &str) -> Result<Option<NewLayer>, BuildError> {
        let top = self.top_layer(parent)?;
        let scratch = self
            .engine
            .scratch_layer(top.as_ref())
            .map_err(backend_err)?;
        if let Err(e) = crate::container::files::mkdir_all_in_root(&scratch.path, dir, 0, 0) {
            self.engine.drop_scratch(scratch);
            return Err(backend_err(e));
        }
        let l = self.engine.commit_scratch(scratch).map_err(backend_err)?;
        Ok(Self::new_layer(l))
    }

    fn commit(
        &mut self,
        parent: &str,
        config: &ImageConfig,
        layer: Option<&NewLayer>,
        probe: &ContainerConfig,
    ) -> Result<String, BuildError> {
        let parent_id = if parent.is_empty() {
            None
        } else {
            Some(Digest::parse(parent).map_err(backend_err)?)
        };
        let created =
            ImageStore::new(&mut self.engine.store).create(config.to_bytes(), parent_id.as_ref());
        let rec = match created {
            Ok(r) => r,
            Err(e) => {
                if let Some(l) = layer {
                    self.discard(l);
                }
                return Err(backend_err(e));
            }
        };
        if let Some(l) = layer {
            // The image points at the layer now; the hold taken when it was made can go.
            self.engine
                .store
                .release_chain_hold(&l.chain_id, false)
                .map_err(backend_err)?;
        }
        let key = cache_key(parent, probe);
        let now = crate::now();
        let id = rec.id.to_string();
        self.engine
            .store
            .db_mut()
            .write(|tx| build_cache::record(tx, &key, &id, parent, &now))
            .map_err(backend_err)?;
        Ok(id)
    }

    fn discard(&mut self, layer: &NewLayer) {
        let _ = self.engine.store.release_chain_hold(&layer.chain_id, true);
    }

    fn valid_signal(&self, s: &str) -> bool {
        crate::container::parse_signal(s).is_some()
    }

    fn container_id(&mut self) -> String {
        berth_store::fsutil::random_hex(32)
    }

    fn now(&self) -> String {
        crate::now()
    }
}

/// Forwards a pull's progress from the pulling thread to the build's output.
struct ChannelSink(std::sync::mpsc::Sender<ProgressMessage>);

impl ProgressSink for ChannelSink {
    fn send(&self, message: ProgressMessage) {
        let _ = self.0.send(message);
    }
}

fn pull_err(e: EngineError) -> BuildError {
    match e {
        EngineError::NoSuchImage(name) => Missing::Image(name).into(),
        // The registry's refusals, in its words: a base image it does not have is missing.
        e @ (EngineError::Registry(_) | EngineError::Transfer(_)) => match e.kind() {
            berth_store::ErrorKind::NotFound => Missing::Pull(e.to_string()).into(),
            berth_store::ErrorKind::InvalidArgument => Refusal::Pull(e.to_string()).into(),
            _ => backend_err(e),
        },
        e => backend_err(e),
    }
}

impl EngineBackend<'_, '_> {
    /// Pulls base image `name`, its progress going to `out` as it comes (the pull runs on a
    /// thread of its own, as its layer workers report from theirs).
    fn pull_base(&mut self, name: &str, out: &mut dyn Output) -> Result<(), BuildError> {
        let opts = PullOptions {
            all_tags: false,
            platform: None,
            auth: self.auth.clone(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let engine = &mut *self.engine;
        let pulled = std::thread::scope(|s| {
            let handle = s.spawn(move || {
                let sink = ChannelSink(tx);
                engine.pull_image(name, &opts, &sink).map(|_| ())
            });
            for m in rx {
                if m.status.is_empty() && m.progress.is_none() {
                    continue;
                }
                let plain = (!m.has_counts()).then(|| m.text(false));
                let json = serde_json::to_value(&m).expect("progress serializes");
                out.pull_progress(&json, plain.as_deref());
            }
            handle.join().expect("pull thread")
        });
        pulled.map_err(pull_err)
    }

    /// Starts the created container `id` and copies its output to `out` until it exits.
    fn run_attached(&mut self, id: &str, out: &mut dyn Output) -> Result<i32, BuildError> {
        use berth_runtime::attach::{AttachClient, AttachIo, AttachOptions, AttachOutcome};
        let (_, started) = self
            .engine
            .start_container(id, true, None)
            .map_err(backend_err)?;
        let dir = self.engine.run_dir(id);
        let (reader, writer) =
            rustix::pipe::pipe().map_err(|e| backend_err(std::io::Error::from(e)))?;
        let devnull = std::fs::File::open("/dev/null").map_err(backend_err)?;
        let opts = AttachOptions {
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
            detach_keys: Default::default(),
            start: started == crate::container::Started::AwaitingAttach,
        };
        let client = AttachClient::connect(&dir).map_err(backend_err)?;
        let outcome = std::thread::scope(|s| {
            let handle = s.spawn(move || {
                let w = writer;
                let io = AttachIo {
                    stdin: devnull.as_fd(),
                    stdout: w.as_fd(),
                    stderr: w.as_fd(),
                };
                client.run(&opts, io)
            });
            let mut r = std::fs::File::from(reader);
            let mut buf = [0u8; 8192];
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => out.stdout(&String::from_utf8_lossy(&buf[..n])),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            handle.join().expect("attach thread")
        });
        match outcome.map_err(backend_err)? {
            AttachOutcome::Exited(code) => Ok(code),
            AttachOutcome::Detached => Ok(self.engine.wait_container(id).map_err(backend_err)?),
        }
    }
}

/// A context tar completed at its end: the zero padding of the last entry's data and the two
/// end-of-archive blocks are added when the stream stops without them. dockerd's tar reader
/// accepts an archive that ends right after the last file's data, and the docker CLI 20.10 sends
/// exactly that when it adds a Dockerfile from outside the context (`-f ../x`); what is added
/// is only zeros, so a well-formed tar reads the same.
struct CompleteTar<R> {
    inner: R,
    read: u64,
    /// Zeros still to give after the inner stream ended (`None` until it ends).
    tail: Option<u64>,
}

impl<R: Read> CompleteTar<R> {
    fn new(inner: R) -> Self {
        CompleteTar {
            inner,
            read: 0,
            tail: None,
        }
    }
}

impl<R: Read> Read for CompleteTar<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.tail.is_none() {
            let n = self.inner.read(buf)?;
            if n > 0 || buf.is_empty() {
                self.read += n as u64;
                return Ok(n);
            }
            self.tail = Some((512 - self.read % 512) % 512 + 1024);
        }
        let left = self.tail.as_mut().expect("set above");
        let n = (*left).min(buf.len() as u64) as usize;
        buf[..n].fill(0);
        *left -= n as u64;
        Ok(n)
    }
}

/// Writes progress to a writer as the classic builder's plain text.
pub struct PlainOutput<W: Write>(pub W);

impl<W: Write> Output for PlainOutput<W> {
    fn stdout(&mut self, text: &str) {
        let _ = self.0.write_all(text.as_bytes());
        let _ = self.0.flush();
    }
}

/// Resolves a destination path beneath a mounted root (symlinks followed inside it).
pub(crate) fn in_root(root: &Path, dest: &str) -> PathBuf {
    resolve_in_root(root, dest)
}

#[cfg(test)]
mod tests {
    use super::CompleteTar;
    use std::io::Read;

    fn completed(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        CompleteTar::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_tar_cut_after_its_last_data_is_padded_and_ended() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(47);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "f", &[7u8; 47][..]).unwrap();
        let full = b.into_inner().unwrap();
        let cut = &full[..512 + 47];
        let fixed = completed(cut);
        assert_eq!(fixed.len(), 1024 + 1024);
        assert_eq!(&fixed[..cut.len()], cut);
        assert!(fixed[cut.len()..].iter().all(|&b| b == 0));
        let mut a = tar::Archive::new(&fixed[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["f"]);
        // A complete tar only gets zeros after its own end.
        assert_eq!(&completed(&full)[..full.len()], &full[..]);
    }
}
