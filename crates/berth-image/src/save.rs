//! [`save_images`] writes images as one tar stream: a `docker save` archive (what `docker load`
//! of any version reads) or, with [`SaveFormat::Oci`], an OCI image layout that also carries a
//! `manifest.json` so Docker loads it too. Layer tars are the exact bytes stored under their
//! diff-ids, so every diff-id survives the round trip.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

use berth_store::digest::Digest;
use berth_store::layer::Layer;
use berth_store::Store;
use serde_json::json;

use crate::progress::{Progress, ProgressReader};
use crate::reference::Reference;
use crate::store::ImageRecord;

/// Archive layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFormat {
    /// `docker save`'s classic layout.
    Docker,
    /// An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`), plus `manifest.json`.
    Oci,
}

/// One image to save and the names to record for it.
#[derive(Debug, Clone)]
pub struct SaveItem {
    /// The image.
    pub image: ImageRecord,
    /// Names to record (full references with tags); empty when saved by ID.
    pub names: Vec<Reference>,
}

/// Failures of `save`.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Writing the archive failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Reading from the store failed.
    #[error(transparent)]
    Store(#[from] berth_store::StoreError),
    /// A layer blob is missing or unreadable.
    #[error(transparent)]
    Content(#[from] berth_store::content::ContentError),
}

const LAYER_MEDIA: &str = "application/vnd.oci.image.layer.v1.tar";
const CONFIG_MEDIA: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST_MEDIA: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_MEDIA: &str = "application/vnd.oci.image.index.v1+json";

struct Writer<'p, W: Write> {
    tar: tar::Builder<W>,
    written: HashSet<String>,
    progress: &'p dyn Progress,
}

impl<W: Write> Writer<'_, W> {
    fn header(size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(mode);
        h.set_entry_type(kind);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    fn dir(&mut self, path: &str) -> io::Result<()> {
        if self.written.insert(path.to_string()) {
            let mut h = Self::header(0, 0o755, tar::EntryType::Directory);
            self.tar.append_data(&mut h, path, io::empty())?;
        }
        Ok(())
    }

    fn bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        if self.written.insert(path.to_string()) {
            let mut h = Self::header(data.len() as u64, 0o644, tar::EntryType::Regular);
            self.tar.append_data(&mut h, path, data)?;
        }
        Ok(())
    }

    fn layer(&mut self, store: &Store, path: &str, layer: &Layer) -> Result<(), SaveError> {
        if !self.written.insert(path.to_string()) {
            return Ok(());
        }
        let size = store.content().size(&layer.diff_id)?;
        let blob = store.open_layer_tar(layer)?;
        self.progress.begin(
            &format!("Saving layer {}", layer.diff_id.short()),
            Some(size),
        );
        let mut h = Self::header(size, 0o644, tar::EntryType::Regular);
        self.tar
            .append_data(&mut h, path, ProgressReader::new(blob, self.progress))?;
        self.progress.end();
        Ok(())
    }
}

/// Writes `items` to `out` in `format`.
pub fn save_images<W: Write>(
    store: &Store,
    items: &[SaveItem],
    format: SaveFormat,
    out: W,
    progress: &dyn Progress,
) -> Result<W, SaveError> {
    let mut w = Writer {
        tar: tar::Builder::new(out),
        written: HashSet::new(),
        progress,
    };
    let mut manifest = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut index = Vec::new();
    if format == SaveFormat::Oci {
        w.bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        w.dir("blobs/")?;
        w.dir("blobs/sha256/")?;
    }
    for item in items {
        let chain = match &item.image.top_layer {
            Some(top) => store.layer_chain(top)?,
            None => Vec::new(),
        };
        let config_path = match format {
            SaveFormat::Docker => format!("{}.json", item.image.id.hex()),
            SaveFormat::Oci => format!("blobs/sha256/{}", item.image.id.hex()),
        };
        w.bytes(&config_path, &item.image.config_bytes)?;
        let mut layer_paths = Vec::new();
        let mut descriptors = Vec::new();
        let mut parent_v1: Option<String> = None;
        for layer in &chain {
            let path = match format {
                SaveFormat::Docker => {
                    // Classic per-layer directory, named by chain ID (unique per stack position).
                    let v1 = layer.chain_id.hex().to_string();
                    w.dir(&format!("{v1}/"))?;
                    w.bytes(&format!("{v1}/VERSION"), b"1.0")?;
                    let mut v1_json = json!({"id": v1, "created": "1970-01-01T00:00:00Z",
                        "container_config": {"Cmd": null}});
                    if let Some(p) = &parent_v1 {
                        v1_json["parent"] = json!(p);
                    }
                    w.bytes(&format!("{v1}/json"), v1_json.to_string().as_bytes())?;
                    parent_v1 = Some(v1.clone());
                    format!("{v1}/layer.tar")
                }
                SaveFormat::Oci => format!("blobs/sha256/{}", layer.diff_id.hex()),
            };
            w.layer(store, &path, layer)?;
            descriptors.push(
                json!({"mediaType": LAYER_MEDIA, "digest": layer.diff_id.to_string(),
                "size": store.content().size(&layer.diff_id)?}),
            );
            layer_paths.push(path);
        }
        let tags: Vec<String> = item.names.iter().map(|r| r.familiar_string()).collect();
        manifest.push(json!({
            "Config": config_path,
            "RepoTags": if tags.is_empty() { serde_json::Value::Null } else { json!(tags) },
            "Layers": layer_paths,
        }));
        for r in &item.names {
            if let (Some(tag), Some(v1)) = (r.tag(), &parent_v1) {
                repositories
                    .entry(r.familiar_name())
                    .or_default()
                    .insert(tag.to_string(), v1.clone());
            }
        }
        if format == SaveFormat::Oci {
            let m = json!({
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA,
                "config": {"mediaType": CONFIG_MEDIA, "digest": item.image.id.to_string(),
                    "size": item.image.config_bytes.len()},
                "layers": descriptors,
            });
            let bytes = serde_json::to_vec(&m).expect("json values serialize");
            let digest = Digest::of_bytes(&bytes);
            w.bytes(&format!("blobs/sha256/{}", digest.hex()), &bytes)?;
            let descriptor = |annotations: Option<serde_json::Value>| {
                let mut d = json!({"mediaType": MANIFEST_MEDIA, "digest": digest.to_string(),
                    "size": bytes.len()});
                if let Some(a) = annotations {
                    d["annotations"] = a;
                }
                d
            };
            if item.names.is_empty() {
                index.push(descriptor(None));
            }
            for r in &item.names {
                index.push(descriptor(Some(json!({
                    "io.containerd.image.name": r.to_string(),
                    "org.opencontainers.image.ref.name": r.tag().unwrap_or("latest"),
                }))));
            }
        }
    }
    w.bytes(
        "manifest.json",
        serde_json::to_string(&manifest)
            .expect("json values serialize")
            .as_bytes(),
    )?;
    if !repositories.is_empty() {
        w.bytes(
            "repositories",
            serde_json::to_string(&repositories)
                .expect("json values serialize")
                .as_bytes(),
        )?;
    }
    if format == SaveFormat::Oci {
        let idx = json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA, "manifests": index});
        w.bytes("index.json", idx.to_string().as_bytes())?;
    }
    Ok(w.tar.into_inner()?)
}
