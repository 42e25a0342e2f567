//! `system df`: what images, containers and volumes take on disk, as Docker's
//! `GET /system/df` reports it (layer sizes counted once; an image's shared size is what other
//! images also use; a container's size is its writable layer).

use std::collections::{BTreeMap, HashSet};

use berth_image::store::ImageStore;
use serde::Serialize;

use crate::container::ListOptions;
use crate::types::{ContainerSummary, ImageSummary, VolumeInfo, WritableLayer};
use crate::{Engine, EngineError};

/// The answer of `system df`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskUsage {
    /// Bytes of all layers, each counted once.
    pub layers_size: i64,
    /// Images with `SharedSize` and `Containers` filled in.
    pub images: Vec<ImageSummary>,
    /// Containers with `SizeRw`/`SizeRootFs`.
    pub containers: Vec<ContainerSummary>,
    /// Volumes (without driver options) with `UsageData`.
    pub volumes: Vec<VolumeInfo>,
    /// berth's own: each container's writable layer split by directory (`system df -v`); not
    /// part of Docker's `GET /system/df` answer.
    #[serde(skip)]
    pub writable_layers: Vec<WritableLayer>,
}

impl Engine {
    /// `docker system df`.
    pub fn disk_usage(&mut self) -> Result<DiskUsage, EngineError> {
        let mut du = self.disk_usage_without_volumes()?;
        du.volumes = self.volume_usage()?;
        Ok(du)
    }

    /// [`Engine::disk_usage`] with `volumes` left empty, for a caller that takes them one at a
    /// time from [`Engine::for_each_volume_usage`] (the CLI's `system df`: 100,000 volumes
    /// held at once took 100 MiB).
    pub fn disk_usage_without_volumes(&mut self) -> Result<DiskUsage, EngineError> {
        let mut containers = self.list_containers(&ListOptions {
            all: true,
            size: false,
            ..Default::default()
        })?;
        // One walk of each writable layer gives both its size and its split.
        let mut writable_layers = Vec::new();
        for summary in &mut containers {
            let Ok(c) = self.lookup_container(&summary.id) else {
                continue;
            };
            let written = self.written_of(&c).unwrap_or_default();
            let image = self.image_size_of(&c)?;
            summary.size_rw = Some(written.bytes as i64);
            summary.size_root_fs = Some((written.bytes + image) as i64);
            writable_layers.push(crate::container::writable_layer(&c, written));
        }
        let mut images = self.list_images(true, &crate::filters::Filters::new())?;
        // Which images use each layer, and each layer's size.
        let mut layer_users: BTreeMap<String, (u64, usize)> = BTreeMap::new();
        let mut chains: Vec<Vec<String>> = Vec::new();
        for img in &images {
            let id = berth_store::digest::Digest::parse(&img.id).ok();
            let top = id
                .as_ref()
                .and_then(|d| ImageStore::new(&mut self.store).get(d).ok().flatten())
                .and_then(|r| r.top_layer);
            {
                let chain = match top {
                    Some(t) => self.store.layer_chain(&t)?,
                    None => Vec::new(),
                };
                let ids: Vec<String> = chain.iter().map(|l| l.chain_id.to_string()).collect();
                for l in &chain {
                    let e = layer_users
                        .entry(l.chain_id.to_string())
                        .or_insert((l.size, 0));
                    e.1 += 1;
                }
                chains.push(ids);
            }
        }
        let layers_size: u64 = layer_users.values().map(|(s, _)| *s).sum();
        for (img, chain) in images.iter_mut().zip(&chains) {
            img.shared_size = chain
                .iter()
                .filter_map(|c| layer_users.get(c))
                .filter(|(_, n)| *n > 1)
                .map(|(s, _)| *s as i64)
                .sum();
            img.containers = containers.iter().filter(|c| c.image_id == img.id).count() as i64;
        }
        Ok(DiskUsage {
            layers_size: layers_size as i64,
            images,
            containers,
            volumes: Vec::new(),
            writable_layers,
        })
    }
}

/// The `Local Volumes` line of `system df`, summed one volume at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VolumeTotals {
    /// Volumes.
    pub count: usize,
    /// Volumes some container references.
    pub active: usize,
    /// Their bytes (a size not computed counts 0).
    pub size: u64,
    /// Bytes of the volumes no container references.
    pub reclaimable: u64,
}

impl VolumeTotals {
    /// Counts one volume of [`Engine::for_each_volume_usage`].
    pub fn add(&mut self, v: &VolumeInfo) {
        let (refs, size) = v
            .usage_data
            .as_ref()
            .map_or((0, 0), |u| (u.ref_count, u.size.max(0) as u64));
        self.count += 1;
        self.size += size;
        if refs > 0 {
            self.active += 1;
        } else {
            self.reclaimable += size;
        }
    }

    /// The totals of a list.
    pub fn of(volumes: &[VolumeInfo]) -> VolumeTotals {
        let mut t = VolumeTotals::default();
        volumes.iter().for_each(|v| t.add(v));
        t
    }
}

/// The summary rows of `system df`: (type, total, active, size, reclaimable) in bytes; the
/// volumes' line from `volumes` (`du.volumes` may be left empty).
pub fn summary(
    du: &DiskUsage,
    volumes: &VolumeTotals,
) -> Vec<(&'static str, usize, usize, u64, u64)> {
    let active_images: HashSet<&str> = du
        .images
        .iter()
        .filter(|i| i.containers > 0)
        .map(|i| i.id.as_str())
        .collect();
    let unique_active: i64 = du
        .images
        .iter()
        .filter(|i| active_images.contains(i.id.as_str()))
        .map(|i| i.size - i.shared_size)
        .sum();
    let images_reclaimable = (du.layers_size - unique_active).max(0) as u64;
    let running =
        |c: &&ContainerSummary| matches!(c.state.as_str(), "running" | "paused" | "restarting");
    let c_size: i64 = du.containers.iter().map(|c| c.size_rw.unwrap_or(0)).sum();
    let c_reclaim: i64 = du
        .containers
        .iter()
        .filter(|c| !running(c))
        .map(|c| c.size_rw.unwrap_or(0))
        .sum();
    vec![
        (
            "Images",
            du.images.len(),
            active_images.len(),
            du.layers_size as u64,
            images_reclaimable,
        ),
        (
            "Containers",
            du.containers.len(),
            du.containers.iter().filter(running).count(),
            c_size as u64,
            c_reclaim as u64,
        ),
        (
            "Local Volumes",
            volumes.count,
            volumes.active,
            volumes.size,
            volumes.reclaimable,
        ),
        ("Build Cache", 0, 0, 0, 0),
    ]
}
