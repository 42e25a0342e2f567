//! [`load_archive`] reads an image archive — a `docker save` archive (`manifest.json`, configs,
//! `layer.tar`s) or an OCI image layout (`oci-layout`, `index.json`, `blobs/`) — and stores its
//! images, layers and tags. Archives may be compressed (gzip, zstd) and may come from a pipe.
//!
//! The archive is indexed once (entry name → offset) and each layer is then read straight from
//! its place in the file, so a layer already in the store is never read at all, and a 1 GiB
//! archive is not unpacked to a temporary directory first. Each layer is verified against the
//! diff-id its config announces before the image becomes visible.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use berth_store::digest::Digest;
use berth_store::Store;
use oci_spec::image::{ImageIndex, ImageManifest};
use serde::Deserialize;

use crate::config::ImageConfig;
use crate::progress::{Progress, ProgressReader};
use crate::reference::Reference;
use crate::store::{ImageStore, ImageStoreError, RefKind};

/// Failures of `load`.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the archive failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The archive is not an image archive or is inconsistent.
    #[error("invalid image archive: {0}")]
    Invalid(String),
    /// The input is not a tar archive (cut short, or a header that is not one): dockerd's words,
    /// with Go's reason (`unexpected EOF`, `archive/tar: invalid tar header`).
    #[error("Error processing tar file(exit status 1): {0}")]
    Tar(String),
    /// Storing layers or images failed.
    #[error(transparent)]
    Store(#[from] ImageStoreError),
}

impl From<berth_store::StoreError> for LoadError {
    fn from(e: berth_store::StoreError) -> Self {
        LoadError::Store(e.into())
    }
}

impl From<berth_store::metadata::MetaError> for LoadError {
    fn from(e: berth_store::metadata::MetaError) -> Self {
        LoadError::Store(e.into())
    }
}

impl LoadError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            LoadError::Store(e) => e.kind(),
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

/// One image stored by `load`, and the names it got.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// The image ID.
    pub id: Digest,
    /// Names, in familiar form (`busybox:latest`).
    pub tags: Vec<String>,
    /// For each name that moved off another image: (name, previous image ID).
    pub replaced: Vec<(String, Digest)>,
}

/// `manifest.json` of a docker archive.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The most a load reads into memory for one metadata file (`manifest.json`, `index.json`, an
/// image manifest or config): the size a tar header claims is the archive's word, not a fact, so
/// it is checked before any buffer is made. Real ones are kilobytes; registries cap manifests
/// at 4 MiB.
const MAX_METADATA: u64 = 32 << 20;

/// Where each entry's data lies in the archive file.
struct TarIndex {
    entries: HashMap<String, (u64, u64)>,
}

impl TarIndex {
    fn build(file: &mut File) -> Result<TarIndex, LoadError> {
        file.seek(SeekFrom::Start(0))?;
        let mut archive = tar::Archive::new(BufReader::new(&mut *file));
        let mut entries = HashMap::new();
        for entry in archive.entries_with_seek().map_err(not_a_tar)? {
            let entry = entry.map_err(not_a_tar)?;
            let name = clean_name(&entry.path()?.to_string_lossy());
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
        Ok(TarIndex { entries })
    }

    fn get(&self, name: &str) -> Option<(u64, u64)> {
        self.entries.get(&clean_name(name)).copied()
    }

    fn read_all(&self, file: &mut File, name: &str) -> Result<Vec<u8>, LoadError> {
        let (off, size) = self
            .get(name)
            .ok_or_else(|| LoadError::Invalid(format!("{name} is missing from the archive")))?;
        if size > MAX_METADATA {
            return Err(LoadError::Invalid(format!(
                "{name} is {size} bytes, more than the {MAX_METADATA} an image's metadata may have"
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        file.seek(SeekFrom::Start(off))?;
        // A header may also claim more than the file holds: read what is there, then check.
        file.by_ref().take(size).read_to_end(&mut buf)?;
        if buf.len() as u64 != size {
            return Err(LoadError::Tar("unexpected EOF".into()));
        }
        Ok(buf)
    }
}

/// A tar reader's error in the words Go's `archive/tar` gives dockerd: a block cut short is
/// `unexpected EOF`, a block that is no header `invalid tar header`.
fn not_a_tar(e: io::Error) -> LoadError {
    let text = e.to_string();
    if e.kind() == io::ErrorKind::UnexpectedEof || text.contains("entire block") {
        LoadError::Tar("unexpected EOF".into())
    } else if text.contains("checksum") || text.contains("header") {
        LoadError::Tar("archive/tar: invalid tar header".into())
    } else {
        LoadError::Io(e)
    }
}

fn clean_name(n: &str) -> String {
    n.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

/// Loads every image of the archive in `input` (a file or a pipe; plain, gzip or zstd).
pub fn load_archive(
    store: &mut Store,
    input: impl Read,
    progress: &dyn Progress,
) -> Result<Vec<LoadedImage>, LoadError> {
    // Everything is made seekable and uncompressed in staging first unless it already is.
    let staged = store.staging_path("load")?;
    let mut file = {
        let mut out = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&staged)?;
        let mut reader = berth_store::archive::decompress(input)?;
        io::copy(&mut reader, &mut out)?;
        out
    };
    let result = load_file(store, &mut file, progress);
    let _ = std::fs::remove_file(&staged);
    result
}

/// Loads every image of an uncompressed archive file, reading layers in place.
pub fn load_file(
    store: &mut Store,
    file: &mut File,
    progress: &dyn Progress,
) -> Result<Vec<LoadedImage>, LoadError> {
    let index = TarIndex::build(file)?;
    if index.get("manifest.json").is_some() {
        load_docker(store, file, &index, progress)
    } else if index.get("index.json").is_some() {
        load_oci(store, file, &index, progress)
    } else {
        Err(LoadError::Invalid(
            "neither manifest.json nor index.json found: not a docker save archive or an OCI image layout (use `import` for a root filesystem tarball)".into(),
        ))
    }
}

fn load_docker(
    store: &mut Store,
    file: &mut File,
    index: &TarIndex,
    progress: &dyn Progress,
) -> Result<Vec<LoadedImage>, LoadError> {
    let manifest: Vec<DockerManifestEntry> =
        serde_json::from_slice(&index.read_all(file, "manifest.json")?)
            .map_err(|e| LoadError::Invalid(format!("manifest.json: {e}")))?;
    let mut loaded = Vec::new();
    for entry in manifest {
        let config_bytes = index.read_all(file, &entry.config)?;
        let layers: Vec<(u64, u64)> = entry
            .layers
            .iter()
            .map(|l| {
                index
                    .get(l)
                    .ok_or_else(|| LoadError::Invalid(format!("{l} is missing from the archive")))
            })
            .collect::<Result<_, _>>()?;
        let names = entry.repo_tags.unwrap_or_default();
        loaded.push(store_image(
            store,
            file,
            config_bytes,
            &layers,
            &names,
            progress,
        )?);
    }
    Ok(loaded)
}

fn load_oci(
    store: &mut Store,
    file: &mut File,
    index: &TarIndex,
    progress: &dyn Progress,
) -> Result<Vec<LoadedImage>, LoadError> {
    let blob_path = |d: &str| format!("blobs/{}", d.replacen(':', "/", 1));
    let idx: ImageIndex = serde_json::from_slice(&index.read_all(file, "index.json")?)
        .map_err(|e| LoadError::Invalid(format!("index.json: {e}")))?;
    let mut loaded = Vec::new();
    // (descriptor digest, names) pairs; nested indexes are followed to the platform's manifest.
    let mut queue: Vec<(oci_spec::image::Descriptor, Vec<String>)> = idx
        .manifests()
        .iter()
        .map(|d| (d.clone(), names_of(d)))
        .collect();
    while let Some((desc, names)) = queue.pop() {
        let bytes = index.read_all(file, &blob_path(desc.digest().as_ref()))?;
        let media = desc.media_type().to_string();
        if media.contains("index") || media.contains("manifest.list") {
            let nested: ImageIndex = serde_json::from_slice(&bytes)
                .map_err(|e| LoadError::Invalid(format!("nested index: {e}")))?;
            let chosen = nested
                .manifests()
                .iter()
                .find(|m| {
                    m.platform().as_ref().is_none_or(|p| {
                        p.os().to_string() == "linux"
                            && p.architecture().to_string() == crate::import::host_architecture()
                    })
                })
                .or_else(|| nested.manifests().first())
                .cloned();
            if let Some(c) = chosen {
                queue.push((c, names));
            }
            continue;
        }
        let manifest: ImageManifest = serde_json::from_slice(&bytes)
            .map_err(|e| LoadError::Invalid(format!("manifest {}: {e}", desc.digest())))?;
        let config_digest = manifest.config().digest().to_string();
        let config_bytes = index.read_all(file, &blob_path(&config_digest))?;
        if Digest::of_bytes(&config_bytes).to_string() != config_digest {
            return Err(LoadError::Invalid(format!(
                "config blob does not match its digest {config_digest}"
            )));
        }
        let layers: Vec<(u64, u64)> = manifest
            .layers()
            .iter()
            .map(|l| {
                let p = blob_path(l.digest().as_ref());
                index
                    .get(&p)
                    .ok_or_else(|| LoadError::Invalid(format!("{p} is missing from the archive")))
            })
            .collect::<Result<_, _>>()?;
        loaded.push(store_image(
            store,
            file,
            config_bytes,
            &layers,
            &names,
            progress,
        )?);
    }
    loaded.reverse();
    Ok(loaded)
}

/// Names an OCI descriptor carries: containerd's full name, else a full `ref.name`.
fn names_of(d: &oci_spec::image::Descriptor) -> Vec<String> {
    let Some(a) = d.annotations() else {
        return Vec::new();
    };
    if let Some(n) = a.get("io.containerd.image.name") {
        return vec![n.clone()];
    }
    match a.get("org.opencontainers.image.ref.name") {
        Some(n) if n.contains('/') || n.contains(':') => vec![n.clone()],
        _ => Vec::new(),
    }
}

/// Registers the layers (reading only those not yet stored), records the image and its names.
fn store_image(
    store: &mut Store,
    file: &mut File,
    config_bytes: Vec<u8>,
    layers: &[(u64, u64)],
    names: &[String],
    progress: &dyn Progress,
) -> Result<LoadedImage, LoadError> {
    let config =
        ImageConfig::parse(&config_bytes).map_err(|e| LoadError::Invalid(e.to_string()))?;
    if config.rootfs.diff_ids.len() != layers.len() {
        return Err(LoadError::Invalid(format!(
            "the config lists {} layers but the manifest {}",
            config.rootfs.diff_ids.len(),
            layers.len()
        )));
    }
    let parsed_names: Vec<Reference> = names
        .iter()
        .map(|n| {
            Reference::parse_with_default_tag(n)
                .map_err(|e| LoadError::Invalid(format!("invalid tag {n:?}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    // Until the image's row references them, the layers registered here are released by the
    // repair pass if this process dies (issue 15): a killed load leaves no layer that nothing
    // references.
    let mut chains = Vec::new();
    for diff_id in &config.rootfs.diff_ids {
        chains.push(berth_store::layer::chain_id(chains.last(), diff_id));
    }
    store.db_mut().write(|tx| -> Result<(), LoadError> {
        for chain in &chains {
            Store::begin_release(tx, chain)?;
        }
        Ok(())
    })?;
    let mut parent: Option<Digest> = None;
    for (diff_id, (offset, size)) in config.rootfs.diff_ids.iter().zip(layers) {
        let chain = berth_store::layer::chain_id(parent.as_ref(), diff_id);
        if store.layer(&chain)?.is_none() {
            progress.begin(&format!("Loading layer {}", diff_id.short()), Some(*size));
            file.seek(SeekFrom::Start(*offset))?;
            let section = BufReader::with_capacity(1 << 20, (&mut *file).take(*size));
            let layer = store.register_layer(
                parent.as_ref(),
                Some(diff_id),
                ProgressReader::new(section, progress),
            )?;
            progress.end();
            debug_assert_eq!(layer.chain_id, chain);
        }
        parent = Some(chain);
    }
    let mut images = ImageStore::new(store);
    let record = images.create(config_bytes, None)?;
    store.db_mut().write(|tx| -> Result<(), LoadError> {
        for chain in &chains {
            berth_store::layer::end_release(tx, chain)?;
        }
        Ok(())
    })?;
    let mut images = ImageStore::new(store);
    let mut loaded = LoadedImage {
        id: record.id.clone(),
        tags: Vec::new(),
        replaced: Vec::new(),
    };
    for r in parsed_names {
        let full = r.to_string();
        if let Some(old) = images.lookup_name(&full)? {
            if old != record.id {
                loaded.replaced.push((r.familiar_string(), old));
            }
        }
        images.set_name(&full, &record.id, RefKind::Tag)?;
        loaded.tags.push(r.familiar_string());
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// An archive holding `manifest.json` whose header says `size` bytes, and `body` after it.
    fn archive_claiming(size: u64, body: &[u8]) -> File {
        let mut header = tar::Header::new_gnu();
        header.set_path("manifest.json").unwrap();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_cksum();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(header.as_bytes()).unwrap();
        file.write_all(body).unwrap();
        file
    }

    #[test]
    fn metadata_reads_are_bounded_whatever_the_header_claims() {
        // A header claiming 1 TiB: refused before any buffer is made, not an allocation abort.
        let mut file = archive_claiming(1 << 40, b"[]");
        let index = TarIndex {
            entries: HashMap::from([("manifest.json".to_string(), (512, 1 << 40))]),
        };
        let err = index.read_all(&mut file, "manifest.json").unwrap_err();
        assert!(err.to_string().contains("more than the"), "{err}");

        // A header claiming more than the file holds, under the cap: cut short, in Go's words.
        let mut file = archive_claiming(1000, b"[]");
        let index = TarIndex {
            entries: HashMap::from([("manifest.json".to_string(), (512, 1000))]),
        };
        let err = index.read_all(&mut file, "manifest.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Error processing tar file(exit status 1): unexpected EOF"
        );

        // An honest one reads back whole.
        let mut file = archive_claiming(2, b"[]");
        let index = TarIndex::build(&mut file).unwrap();
        assert_eq!(index.read_all(&mut file, "manifest.json").unwrap(), b"[]");
    }
}
