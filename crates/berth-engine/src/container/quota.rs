//! `--storage-opt size=`, the size limit of a container's writable layer: the option checked with
//! dockerd's rules, and the lifetime of the layer's size-limited filesystem (the graph driver's
//! [`berth_store::driver::GraphDriver::quota_mount`], an ext4 image on a loop device). It is
//! mounted when the container is created and stays mounted while the container exists, so
//! `diff`, `commit`, `cp` and `export` of a stopped container read it as they read any upper dir;
//! it is mounted again when a container is looked up after a reboot took the mount, and it goes
//! (with its loop device, which clears itself) before the layer's files at `rm` — and in the
//! repair pass, which removes the files of a container a crash left half created or half removed.
//!
//! Docker enforces the limit with xfs project quotas only (overlay2 over xfs with `pquota`); the
//! image file works on any backing filesystem, so berth serves it on ext4 too.
//!
//! The settings file's `storage-opts` (dockerd's graph driver options, checked as dockerd checks
//! them when it starts) give every container that asks for no `size` of its own a default limit
//! (`overlay2.size=`), as dockerd merges its default into `--storage-opt`; `size=0` opts out.

use std::collections::BTreeMap;

use berth_store::mount::image::MIN_EXT4_SIZE;

use super::runconfig::RunConfigError;
use crate::{Engine, EngineError};

/// The writable layer's limit in bytes a `StorageOpt` asks for, checked as dockerd's overlay2
/// driver checks it (keys are case-insensitive; `size` is the only one; `0` means no limit).
pub(crate) fn layer_size(
    opts: Option<&BTreeMap<String, String>>,
) -> Result<Option<u64>, RunConfigError> {
    let mut size = None;
    for (key, value) in opts.into_iter().flatten() {
        let key = key.to_lowercase();
        if key != "size" {
            return Err(RunConfigError::Invalid(format!("Unknown option {key}")));
        }
        let bytes =
            berth_go::ram_in_bytes(value).map_err(|e| RunConfigError::Invalid(e.to_string()))?;
        let bytes = u64::try_from(bytes).unwrap_or(0);
        if bytes > 0 && bytes < MIN_EXT4_SIZE {
            return Err(RunConfigError::Invalid(format!(
                "--storage-opt size={value} is too small: berth's smallest size-limited writable layer is {}KiB",
                MIN_EXT4_SIZE >> 10
            )));
        }
        size = (bytes > 0).then_some(bytes);
    }
    Ok(size)
}

/// The default writable-layer limit the settings file's `storage-opts` give containers of
/// storage driver `driver` (dockerd's keys per driver: `overlay2.size` and
/// `overlay2.override_kernel_check` for overlay2, `size` for vfs), or the refusal in dockerd's
/// words (`error initializing graphdriver: ...`).
pub(crate) fn daemon_layer_size(driver: &str, opts: &[String]) -> Result<Option<u64>, String> {
    let refuse = |what: String| Err(format!("error initializing graphdriver: {what}"));
    let mut size = None;
    for opt in opts {
        let Some((key, value)) = opt.split_once('=') else {
            return refuse(format!("unable to parse key/value option: {opt}"));
        };
        let key = key.trim().to_lowercase();
        let value = value.trim();
        match (driver, key.as_str()) {
            ("overlay2", "overlay2.size") => {
                let bytes = match berth_go::ram_in_bytes(value) {
                    Ok(b) => u64::try_from(b).unwrap_or(0),
                    Err(e) => return refuse(e.to_string()),
                };
                if bytes > 0 && bytes < MIN_EXT4_SIZE {
                    return refuse(format!(
                        "overlay2.size={value} is too small: berth's smallest size-limited writable layer is {}KiB",
                        MIN_EXT4_SIZE >> 10
                    ));
                }
                size = (bytes > 0).then_some(bytes);
            }
            // Kept by dockerd for kernels older than 4.0; berth needs no check to override.
            ("overlay2", "overlay2.override_kernel_check") => {
                if berth_go::strconv::parse_bool(value).is_none() {
                    return refuse(format!(
                        "strconv.ParseBool: parsing {value:?}: invalid syntax"
                    ));
                }
            }
            ("overlay2", _) => return refuse(format!("overlay2: unknown option {key}")),
            ("vfs", "size") => {
                return refuse(
                    "storage option size is not supported for vfs: berth limits a writable layer's size on the overlay2 storage driver"
                        .to_string(),
                )
            }
            (_, _) => return refuse(format!("unknown option {key} for {driver}")),
        }
    }
    Ok(size)
}

impl Engine {
    /// The limit of a new container's writable layer: its own `--storage-opt size=` if it
    /// names one (`0`: none), else the settings file's default.
    pub(crate) fn container_layer_size(
        &self,
        opts: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<u64>, EngineError> {
        let own = opts
            .into_iter()
            .flatten()
            .any(|(k, _)| k.eq_ignore_ascii_case("size"));
        let size = layer_size(opts)?;
        if own {
            return Ok(size);
        }
        Ok(size.or(self.default_layer_size))
    }

    /// Checks that this engine's storage driver can limit a writable layer (before anything is
    /// made for the container).
    pub(crate) fn check_layer_size(&self, size: Option<u64>) -> Result<(), EngineError> {
        let driver = self.store.driver();
        if size.is_some() && !driver.sized_layers() {
            return Err(RunConfigError::Invalid(format!(
                "--storage-opt is not supported for {}: berth limits a writable layer's size on the overlay2 storage driver",
                driver.name()
            ))
            .into());
        }
        Ok(())
    }

    /// Mounts the size-limited filesystem of container `id`'s writable layer if it has one and
    /// it is not mounted (under a lock on its image, so two processes never mount it twice).
    pub(crate) fn mount_layer_quota(&self, id: &str) -> Result<(), EngineError> {
        let Some(m) = self.store.driver().quota_mount(id) else {
            return Ok(());
        };
        if self.mounter().is_mount_point(&m.target) {
            return Ok(());
        }
        let image = std::fs::File::open(&m.source)?;
        rustix::fs::flock(&image, rustix::fs::FlockOperation::LockExclusive)
            .map_err(std::io::Error::from)?;
        if !self.mounter().is_mount_point(&m.target) {
            self.mounter().mount(&m)?;
        }
        Ok(())
    }

    /// Unmounts the size-limited filesystem of container `id`'s writable layer if it is
    /// mounted; its loop device clears itself once the mount is gone.
    pub(crate) fn release_layer_quota(&self, id: &str) -> Result<(), EngineError> {
        if let Some(m) = self.store.driver().quota_mount(id) {
            self.mounter().release(&m.target)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(pairs: &[(&str, &str)]) -> Result<Option<u64>, String> {
        let opts: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        layer_size(Some(&opts)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_settings_files_storage_opts_are_checked_with_dockerds_words() {
        let opts = |o: &[&str]| o.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(daemon_layer_size("overlay2", &[]), Ok(None));
        assert_eq!(
            daemon_layer_size("overlay2", &opts(&["overlay2.size=1G"])),
            Ok(Some(1 << 30))
        );
        assert_eq!(
            daemon_layer_size(
                "overlay2",
                &opts(&["overlay2.override_kernel_check=true", "Overlay2.Size=0"])
            ),
            Ok(None)
        );
        for (driver, o, words) in [
            (
                "overlay2",
                "overlay2.foo=1",
                "overlay2: unknown option overlay2.foo",
            ),
            ("overlay2", "size=1G", "overlay2: unknown option size"),
            ("overlay2", "overlay2.size=abc", "invalid size: 'abc'"),
            (
                "overlay2",
                "overlay2.size",
                "unable to parse key/value option",
            ),
            ("overlay2", "overlay2.size=100k", "is too small"),
            ("vfs", "size=1G", "not supported for vfs"),
            ("vfs", "vfs.size=1G", "unknown option vfs.size for vfs"),
        ] {
            let e = daemon_layer_size(driver, &opts(&[o])).unwrap_err();
            assert!(e.starts_with("error initializing graphdriver: "), "{e}");
            assert!(e.contains(words), "{o}: {e}");
        }
    }

    #[test]
    fn storage_opts_are_checked_with_dockerds_words() {
        assert_eq!(size(&[]), Ok(None));
        assert_eq!(size(&[("size", "20M")]), Ok(Some(20 << 20)));
        assert_eq!(size(&[("SIZE", "1g")]), Ok(Some(1 << 30)));
        assert_eq!(size(&[("size", "0")]), Ok(None));
        assert_eq!(size(&[("foo", "1")]), Err("Unknown option foo".into()));
        assert_eq!(size(&[("size", "abc")]), Err("invalid size: 'abc'".into()));
        assert!(size(&[("size", "100k")]).unwrap_err().contains("too small"));
    }
}
