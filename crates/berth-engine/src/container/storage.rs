//! `container storage`: for one container, which of its paths persist and which die with it.
//! [`Engine::container_storage`] computes the view from what the engine owns — the layer stack
//! and sizes from the store, the writable layer's changes split by directory (one walk, see
//! `berth_store::driver::written`), the mounts from the container's record, volumes with their
//! drivers — for running and stopped containers alike.

use berth_go::units::{bytes_size, human_size_with_precision};
use berth_store::driver::written::Written;
use berth_volume::mount_spec::{MountKind, MountSpec};

use super::Container;
use crate::filters::Filters;
use crate::types::{Backing, ContainerStorage, LayerDir, Lifetime, StoragePath, WritableLayer};
use crate::{Engine, EngineError};

/// The marker in a container's directory by which an attached `run --rm` asks for a report of
/// what the removal discards.
const DISCARD_REPORT_WANTED: &str = "discard-report-wanted";

impl Engine {
    /// `berth container storage NAME` and `GET /containers/{id}/storage`.
    pub fn container_storage(&mut self, name: &str) -> Result<ContainerStorage, EngineError> {
        let c = self.container(name)?;
        let written = self.written_of(&c)?;
        self.storage_view(&c, &written)
    }

    /// `run --rm` on a terminal: asks the container's shim to record, just before it removes
    /// the container, what the removal discards ([`Engine::take_discard_report`] reads it).
    pub fn want_discard_report(&self, id: &str) -> Result<(), EngineError> {
        std::fs::write(self.container_dir(id).join(DISCARD_REPORT_WANTED), b"")?;
        Ok(())
    }

    /// The shim, before removing an `--rm` container: writes its storage view where the
    /// attached `run --rm` finds it, if that asked ([`Engine::want_discard_report`]).
    pub(crate) fn write_discard_report(&mut self, c: &Container) {
        if !self
            .container_dir(&c.id)
            .join(DISCARD_REPORT_WANTED)
            .exists()
        {
            return;
        }
        let Ok(view) = self.container_storage(&c.id) else {
            return;
        };
        let path = self.discard_report(&c.id);
        let tmp = path.with_extension("tmp");
        if let Ok(json) = serde_json::to_vec(&view) {
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    /// What the shim recorded before it removed `--rm` container `id` (see
    /// [`Engine::want_discard_report`]); the record is removed as it is read.
    pub fn take_discard_report(&self, id: &str) -> Option<ContainerStorage> {
        let path = self.discard_report(id);
        let data = std::fs::read(&path).ok();
        let _ = std::fs::remove_file(&path);
        serde_json::from_slice(&data?).ok()
    }

    fn discard_report(&self, id: &str) -> std::path::PathBuf {
        self.root().join("tmp").join(format!("discarded-{id}.json"))
    }

    /// How much a writable layer may hold before `rm` on a terminal warns (daemon.json's
    /// `rm-warning-threshold`; 0: never).
    pub fn rm_warning_threshold(&self) -> u64 {
        self.config.rm_warning_threshold()
    }

    /// `container prune --dry-run`: the containers `prune` would remove with `filters`, and
    /// what each one's writable layer holds. Nothing is removed.
    pub fn prune_containers_preview(
        &mut self,
        filters: &Filters,
    ) -> Result<Vec<WritableLayer>, EngineError> {
        let mut out = Vec::new();
        for c in self.prunable_containers(filters)? {
            let written = self.written_of(&c).unwrap_or_default();
            out.push(writable_layer(&c, written));
        }
        Ok(out)
    }

    /// What container `c`'s writable layer holds, split by directory.
    pub(crate) fn written_of(&self, c: &Container) -> Result<Written, EngineError> {
        Ok(self.store.driver().written(&c.id, Some(c.init_layer()))?)
    }

    fn storage_view(
        &mut self,
        c: &Container,
        written: &Written,
    ) -> Result<ContainerStorage, EngineError> {
        let mut paths = Vec::new();
        let chain = match &c.top_layer {
            Some(top) => self.store.layer_chain(top)?,
            None => Vec::new(),
        };
        let image_size: u64 = chain.iter().map(|l| l.size).sum();
        let n = chain.len() as u64;
        paths.push(StoragePath {
            backed_by: format!(
                "{n} image layer{} ({})",
                if n == 1 { "" } else { "s" },
                human_size_with_precision(image_size as f64, 3)
            ),
            source: Some(c.image_ref.clone()),
            layers: Some(n),
            size: Some(image_size),
            read_only: true,
            ..row("/", Backing::Image, Lifetime::Image, None)
        });
        let layer = if c.host_config.readonly_rootfs {
            "writable layer (read-only rootfs)"
        } else {
            "writable layer"
        };
        paths.push(StoragePath {
            backed_by: layer.into(),
            entries: Some(written.entries),
            read_only: c.host_config.readonly_rootfs,
            ..row(
                "/",
                Backing::Layer,
                Lifetime::Container,
                Some(written.bytes),
            )
        });
        for d in written.dirs.iter().filter(|d| d.path != "/") {
            paths.push(StoragePath {
                backed_by: layer.into(),
                entries: Some(d.entries),
                ..row(&d.path, Backing::Layer, Lifetime::Container, Some(d.bytes))
            });
        }
        let mut mounts: Vec<&MountSpec> = c.mounts.iter().collect();
        mounts.sort_by(|a, b| a.destination.cmp(&b.destination));
        let mut anonymous_bytes = 0;
        for m in mounts {
            let p = self.mount_row(c, m)?;
            if p.lifetime == Lifetime::AnonymousVolume
                || (m.anonymous && p.lifetime == Lifetime::Container)
            {
                anonymous_bytes += p.written.unwrap_or(0);
            }
            paths.push(p);
        }
        let discarded_by_rm = written.bytes
            + if c.host_config.auto_remove {
                anonymous_bytes
            } else {
                0
            };
        Ok(ContainerStorage {
            id: c.id.clone(),
            name: c.name.clone(),
            state: c.state.status.as_str().to_string(),
            driver: self.store.driver().name().to_string(),
            paths,
            discarded_by_rm,
            anonymous_volume_bytes: anonymous_bytes,
        })
    }

    fn mount_row(&mut self, c: &Container, m: &MountSpec) -> Result<StoragePath, EngineError> {
        let dest = m.destination.as_str();
        Ok(match m.kind {
            MountKind::Volume => {
                let name = m.source.clone().unwrap_or_default();
                let mounter = self.mounter().clone();
                let store = self.volumes()?;
                let vol = store.get(&name)?;
                let driver = vol
                    .as_ref()
                    .map(|v| v.driver.clone())
                    .unwrap_or_else(|| "local".into());
                let written = match &vol {
                    Some(v) if measurable(v, &mounter) => store.size(&name).ok(),
                    _ => None,
                };
                let lifetime = match (m.anonymous, c.host_config.auto_remove) {
                    (false, _) => Lifetime::Volume,
                    (true, false) => Lifetime::AnonymousVolume,
                    (true, true) => Lifetime::Container,
                };
                let shown = if m.anonymous {
                    format!(
                        "anonymous volume {} ({driver})",
                        &name[..name.len().min(12)]
                    )
                } else {
                    format!("volume {name} ({driver})")
                };
                StoragePath {
                    backed_by: shown,
                    source: Some(name),
                    driver: Some(driver),
                    read_only: m.read_only,
                    ..row(dest, Backing::Volume, lifetime, written)
                }
            }
            MountKind::Bind => {
                let src = m.source.clone().unwrap_or_default();
                StoragePath {
                    backed_by: format!("bind {src}"),
                    source: Some(src),
                    read_only: m.read_only,
                    ..row(dest, Backing::Bind, Lifetime::Host, None)
                }
            }
            MountKind::Tmpfs => {
                let limit = m
                    .tmpfs
                    .options
                    .iter()
                    .find_map(|o| o.strip_prefix("size="))
                    .and_then(berth_volume::local::parse_size);
                let backed_by = match limit {
                    Some(l) => format!("tmpfs ({})", bytes_size(l as f64)),
                    None => "tmpfs".into(),
                };
                let written = if c.state.status.is_running() && c.state.pid > 0 {
                    tmpfs_used(c.state.pid, dest)
                } else {
                    None
                };
                StoragePath {
                    backed_by,
                    size: limit,
                    read_only: m.read_only,
                    ..row(dest, Backing::Tmpfs, Lifetime::Memory, written)
                }
            }
        })
    }
}

/// Whether berth measures what volume `v` holds: a plain directory, or a size-limited volume
/// while its image is mounted. A volume mounting something else (tmpfs, nfs, a device) is not
/// walked, as `system df` does not list it.
fn measurable(v: &berth_volume::store::Volume, mounter: &berth_store::mount::Mounter) -> bool {
    let opts = v.options.clone().unwrap_or_default();
    if opts.contains_key("type") {
        return false;
    }
    !opts.contains_key("size") || mounter.is_mount_point(&v.mountpoint)
}

/// Container `c`'s writable layer as `system df -v` and `prune --dry-run` list it.
pub(crate) fn writable_layer(c: &Container, written: Written) -> WritableLayer {
    WritableLayer {
        id: c.id.clone(),
        name: c.name.clone(),
        bytes: written.bytes,
        dirs: written
            .dirs
            .into_iter()
            .map(|d| LayerDir {
                path: d.path,
                bytes: d.bytes,
                entries: d.entries,
            })
            .collect(),
    }
}

fn row(path: &str, backing: Backing, lifetime: Lifetime, written: Option<u64>) -> StoragePath {
    StoragePath {
        path: path.to_string(),
        backing,
        backed_by: String::new(),
        lifetime,
        written,
        entries: None,
        source: None,
        driver: None,
        layers: None,
        size: None,
        read_only: false,
    }
}

/// Bytes in use on the tmpfs at `dest` of the running container `pid`: its mount is looked up
/// inside the container's root (symlinks resolved there, never on the host).
fn tmpfs_used(pid: i64, dest: &str) -> Option<u64> {
    use rustix::fs::{Mode, OFlags};
    let root = rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let fd =
        berth_store::fsutil::open_in_root(&root, dest, OFlags::PATH | OFlags::DIRECTORY).ok()?;
    let st = rustix::fs::fstatvfs(&fd).ok()?;
    Some(st.f_blocks.saturating_sub(st.f_bfree) * st.f_frsize)
}
