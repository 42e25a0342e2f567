//! [`SavedImage`] reads an image archive written by `docker save` (Docker's own layout, the
//! `blobs/sha256` layout of newer engines, or an OCI layout) so scenarios can look inside layers:
//! `"$HARNESS" layer-ls ARCHIVE [INDEX]` prints one line per entry of a layer (INDEX counts from
//! 0, negative from the top; default -1), sorted by path:
//!
//! ```text
//! f 0600 0:0 0 data/sub/.wh.b.txt
//! d 0750 1000:2000 0 data
//! l 0777 0:0 0 data/link -> a.txt
//! ```
//!
//! Paths lose their `./` prefix and trailing `/`; modification times are left out.
//! `"$HARNESS" diff-ids ARCHIVE` prints the sha256 of each uncompressed layer, bottom first.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// The files of an image archive and the ordered list of its layer files.
pub struct SavedImage {
    files: HashMap<String, Vec<u8>>,
    /// Paths of the layer blobs inside the archive, bottom first.
    pub layers: Vec<String>,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl SavedImage {
    /// Reads a whole archive (only the first image of a multi-image archive is considered).
    pub fn open(path: &Path) -> io::Result<SavedImage> {
        let mut files = HashMap::new();
        let mut archive = tar::Archive::new(std::fs::File::open(path)?);
        for entry in archive.entries()? {
            let mut entry = entry?;
            if entry.header().entry_type().is_file() {
                let name = clean(&entry.path()?.to_string_lossy());
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                files.insert(name, data);
            }
        }
        let layers = if let Some(m) = files.get("manifest.json") {
            let m: serde_json::Value = serde_json::from_slice(m)?;
            m[0]["Layers"]
                .as_array()
                .map(|a| a.iter().filter_map(|l| l.as_str().map(clean)).collect())
        } else if let Some(index) = files.get("index.json") {
            let index: serde_json::Value = serde_json::from_slice(index)?;
            let digest = index["manifests"][0]["digest"].as_str().unwrap_or_default();
            let manifest = files
                .get(&blob_path(digest))
                .ok_or_else(|| invalid(format!("missing blob {digest}")))?;
            let manifest: serde_json::Value = serde_json::from_slice(manifest)?;
            manifest["layers"].as_array().map(|a| {
                a.iter()
                    .filter_map(|l| l["digest"].as_str().map(blob_path))
                    .collect()
            })
        } else {
            None
        };
        let layers = layers
            .ok_or_else(|| invalid("neither manifest.json nor index.json lists layers".into()))?;
        Ok(SavedImage { files, layers })
    }

    /// The uncompressed tar of layer `index` (negative counts from the top).
    pub fn layer(&self, index: i64) -> io::Result<Vec<u8>> {
        let n = self.layers.len() as i64;
        let i = if index < 0 { n + index } else { index };
        let path = usize::try_from(i)
            .ok()
            .and_then(|i| self.layers.get(i))
            .ok_or_else(|| invalid(format!("layer {index} out of range ({n} layers)")))?;
        let data = self
            .files
            .get(path)
            .ok_or_else(|| invalid(format!("missing layer file {path}")))?;
        if data.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&data[..]).read_to_end(&mut out)?;
            Ok(out)
        } else {
            Ok(data.clone())
        }
    }
}

fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

fn clean(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_end_matches('/');
    p.to_string()
}

/// One line per entry of a layer tar, sorted by path.
pub fn list_layer(tar_bytes: &[u8]) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive.entries()? {
        let entry = entry?;
        let h = entry.header();
        let path = clean(&entry.path()?.to_string_lossy());
        if path.is_empty() || path == "." {
            continue;
        }
        use tar::EntryType as T;
        let kind = match h.entry_type() {
            T::Directory => "d",
            T::Symlink => "l",
            T::Link => "h",
            T::Char => "c",
            T::Block => "b",
            T::Fifo => "p",
            _ => "f",
        };
        let mut line = format!(
            "{kind} {:04o} {}:{} {} {path}",
            h.mode()? & 0o7777,
            h.uid()?,
            h.gid()?,
            h.size()?
        );
        if let Some(target) = entry.link_name()? {
            line.push_str(" -> ");
            line.push_str(&target.to_string_lossy());
        }
        lines.push((path, line));
    }
    lines.sort();
    Ok(lines.into_iter().map(|(_, l)| l).collect())
}

/// `sha256:<hex>` of every uncompressed layer, bottom first.
pub fn diff_ids(image: &SavedImage) -> io::Result<Vec<String>> {
    (0..image.layers.len() as i64)
        .map(|i| {
            Ok(format!(
                "sha256:{}",
                hex::encode(Sha256::digest(image.layer(i)?))
            ))
        })
        .collect()
}
