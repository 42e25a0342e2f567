//! [`LocalDriver`] is the `local` volume driver: a volume is the directory
//! `<root>/volumes/<name>/_data`, or — with options — a mount made there when the volume is
//! first used: `type`/`device`/`o` are passed to mount(2) (tmpfs, bind, nfs — whose `addr=`
//! name is resolved first, as the kernel wants an address), and berth's
//! `size` either sizes a tmpfs or, for a plain volume, puts the data on an ext4 image file of that
//! size, so writing past it fails with ENOSPC on any backing filesystem.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use berth_store::fsutil;
use berth_store::mount::{image, Mount, MountError, Mounter};

/// Errors of the local driver; `Display` is the text after Docker's `create <name>: ` prefix.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// An option the driver does not know.
    #[error("invalid option: {0:?}")]
    InvalidOption(String),
    /// An option that another option requires is missing.
    #[error("missing required option: {0:?}")]
    MissingOption(&'static str),
    /// `size` is not a size.
    #[error("invalid size: {0:?}")]
    InvalidSize(String),
    /// Mounting the volume failed.
    #[error("error while mounting volume '{path}': failed to mount local volume: {detail}")]
    Mount {
        /// The volume's `_data`.
        path: String,
        /// What mount(2) said.
        detail: String,
    },
    /// The `addr=` of an nfs volume is a name that does not resolve.
    #[error("error while mounting volume '{path}': error resolving passed in nfs address: lookup {host}: {detail}")]
    Resolve {
        /// The volume's `_data`.
        path: String,
        /// The name given as `addr=`.
        host: String,
        /// What the resolver said.
        detail: String,
    },
    /// Preparing the size-limited filesystem failed.
    #[error("cannot create a size-limited volume: {0}")]
    SizedFs(String),
    /// An I/O failure on the volume's files.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LocalError + '_ {
    move |source| LocalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

const VALID_OPTIONS: &[&str] = &["type", "device", "o", "size"];

/// Parses `10m`, `1g`, `512k` or plain bytes (binary units, like go-units' `RAMInBytes`).
pub fn parse_size(s: &str) -> Option<u64> {
    berth_go::ram_in_bytes(s)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
}

/// The local volume driver over `<root>/volumes`.
#[derive(Debug, Clone)]
pub struct LocalDriver {
    root: PathBuf,
    mounter: Mounter,
    /// Who owns a new plain volume's `_data` (uid, gid): the remapped root under
    /// `userns-remap`, as dockerd's local driver makes it; `None`: whoever berth runs as.
    owner: Option<(u32, u32)>,
}

impl LocalDriver {
    /// The driver whose volumes live under `root` (created with mode 0701, like Docker's),
    /// mounting option volumes through `mounter`.
    pub fn open(root: &Path, mounter: Mounter) -> io::Result<LocalDriver> {
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new().mode(0o701).create(root) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        Ok(LocalDriver {
            root: root.to_path_buf(),
            mounter,
            owner: None,
        })
    }

    /// Gives every plain volume this driver creates (or makes again, [`LocalDriver::restore`])
    /// a `_data` owned by `owner` (uid, gid).
    pub fn set_owner(&mut self, owner: Option<(u32, u32)>) {
        self.owner = owner;
    }

    /// A new plain volume's `_data` made `owner`'s, if one is set.
    fn own(&self, data: &Path) -> Result<(), LocalError> {
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(data, Some(uid), Some(gid)).map_err(io_err(data))?;
        }
        Ok(())
    }

    /// `<root>/volumes/<name>`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The volume's mountpoint, `<root>/volumes/<name>/_data`.
    pub fn data(&self, name: &str) -> PathBuf {
        // One allocation of the final size: listings make one per volume.
        let root = self.root.as_os_str();
        let mut p = PathBuf::with_capacity(root.len() + name.len() + "/_data".len() + 1);
        p.push(&self.root);
        p.push(name);
        p.push("_data");
        p
    }

    /// Checks options the way Docker's local driver does (syntax only; mounting happens later).
    pub fn validate(opts: &BTreeMap<String, String>) -> Result<(), LocalError> {
        for k in opts.keys() {
            if !VALID_OPTIONS.contains(&k.as_str()) {
                return Err(LocalError::InvalidOption(k.clone()));
            }
        }
        let has = |k: &str| opts.get(k).is_some_and(|v| !v.is_empty());
        if has("type") || has("device") || has("o") {
            if !has("device") {
                return Err(LocalError::MissingOption("device"));
            }
            if !has("type") {
                return Err(LocalError::MissingOption("type"));
            }
        }
        if let Some(size) = opts.get("size") {
            parse_size(size).ok_or_else(|| LocalError::InvalidSize(size.clone()))?;
        }
        Ok(())
    }

    /// Whether a volume with these options is a mount (rather than a plain directory).
    pub fn is_mounted_kind(opts: Option<&BTreeMap<String, String>>) -> bool {
        opts.is_some_and(|o| o.contains_key("type") || o.contains_key("size"))
    }

    /// Creates the volume's directories (and the image file of a size-limited plain volume).
    pub fn create(
        &self,
        name: &str,
        opts: Option<&BTreeMap<String, String>>,
    ) -> Result<(), LocalError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.dir(name);
        std::fs::DirBuilder::new()
            .mode(0o701)
            .create(&dir)
            .map_err(io_err(&dir))?;
        let data = self.data(name);
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&data)
            .map_err(io_err(&data))?;
        if let Some(size) = sized_plain(opts) {
            self.make_image(name, size)?;
        }
        if opts.is_none_or(|o| o.is_empty()) {
            self.own(&data)?;
        }
        // A plain volume's two empty directories are not flushed before the row the caller
        // commits next: a power loss that keeps the row and takes them loses nothing (the
        // volume was new and empty), and [`LocalDriver::restore`] makes them again when the
        // volume is next used. A volume with options is more than empty directories (an ext4
        // image, a mount's target), so its entries reach the disk first: one fsync of the
        // volume's directory, the last one changed (on ext4 and xfs it forces the journal up to
        // that change, which holds the earlier mkdir in the volumes directory too).
        if opts.is_some_and(|o| !o.is_empty()) {
            fsutil::fsync_dir(&dir).map_err(io_err(&dir))?;
        }
        Ok(())
    }

    /// Makes a plain volume's directories again if they are missing: what a power loss right
    /// after [`LocalDriver::create`] (which does not flush them) may leave behind a committed
    /// row. Nothing is lost with them: the volume was new and empty. One `statx` when they are
    /// there.
    pub fn restore(&self, name: &str) -> Result<(), LocalError> {
        use std::os::unix::fs::DirBuilderExt;
        let data = self.data(name);
        if std::fs::symlink_metadata(&data).is_ok() {
            return Ok(());
        }
        for (path, mode) in [(self.dir(name), 0o701), (data.clone(), 0o755)] {
            match std::fs::DirBuilder::new().mode(mode).create(&path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                    return Err(LocalError::Io { path, source: e })
                }
                _ => {}
            }
        }
        self.own(&data)
    }

    /// An ext4 filesystem of exactly `size` bytes in a sparse image file next to `_data`.
    fn make_image(&self, name: &str, size: u64) -> Result<(), LocalError> {
        let img = self.dir(name).join("fs.img");
        image::make_ext4(&img, size, image::Ext4Root::Empty).map_err(|e| match e {
            image::ImageError::Io { path, source } => LocalError::Io { path, source },
            image::ImageError::Tool(t) => LocalError::SizedFs(t),
        })
    }

    /// The mount an option volume needs at its `_data`, as data (`None` for a plain volume):
    /// the ext4 image of a size-limited plain volume through a loop device, or `type`/`device`/`o`
    /// as given (an nfs `addr=` name resolved to an address).
    pub fn mount_of(
        &self,
        name: &str,
        opts: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<Mount>, LocalError> {
        let Some(opts) = opts.filter(|o| Self::is_mounted_kind(Some(o))) else {
            return Ok(None);
        };
        let data = self.data(name);
        if sized_plain(Some(opts)).is_some() {
            return Ok(Some(Mount {
                fstype: "ext4".into(),
                source: self.dir(name).join("fs.img").display().to_string(),
                target: data,
                options: vec!["loop".into()],
                cwd: None,
            }));
        }
        let fstype = opts.get("type").cloned().unwrap_or_default();
        let mut options: Vec<String> = opts
            .get("o")
            .map(|o| {
                o.split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(size) = opts.get("size") {
            options.push(format!("size={size}"));
        }
        if fstype == "nfs" {
            resolve_nfs_addr(&mut options).map_err(|(host, detail)| LocalError::Resolve {
                path: data.display().to_string(),
                host,
                detail,
            })?;
        }
        let is_bind = options.iter().any(|o| o == "bind" || o == "rbind");
        Ok(Some(Mount {
            fstype: if is_bind { "bind".into() } else { fstype },
            source: opts.get("device").cloned().unwrap_or_default(),
            target: data,
            options,
            cwd: None,
        }))
    }

    /// Whether the volume's `_data` is mounted now.
    pub fn is_mounted(&self, name: &str) -> bool {
        self.mounter.is_mount_point(&self.data(name))
    }

    /// Makes an option volume's mount at `_data` if it is not mounted yet (it stays until
    /// [`LocalDriver::unmount`]). A plain volume only gets its directories back if a power loss
    /// took them ([`LocalDriver::restore`]).
    pub fn mount(
        &self,
        name: &str,
        opts: Option<&BTreeMap<String, String>>,
    ) -> Result<(), LocalError> {
        if !Self::is_mounted_kind(opts) {
            return self.restore(name);
        }
        if self.is_mounted(name) {
            return Ok(());
        }
        let Some(m) = self.mount_of(name, opts)? else {
            return Ok(());
        };
        self.mounter.mount(&m).map_err(|e| {
            // Docker's words: `mount DEVICE:TARGET, flags: 0x..[, data: ...]: ERRNO`.
            let (flags, data) = m.flags_and_data();
            let mut detail = format!(
                "mount {}:{}, flags: {flags:#x}",
                m.source,
                m.target.display()
            );
            if !data.is_empty() {
                detail.push_str(&format!(", data: {data}"));
            }
            let errno = match &e {
                MountError::Loop { error, .. } => {
                    format!(
                        "no loop device for the size-limited volume: {}",
                        berth_go::errno_text(error)
                    )
                }
                other => berth_go::errno_text(other.io_error()),
            };
            LocalError::Mount {
                path: m.target.display().to_string(),
                detail: format!("{detail}: {errno}"),
            }
        })
    }

    /// Undoes [`LocalDriver::mount`] (lazily if the mount is busy); nothing if not mounted.
    pub fn unmount(&self, name: &str) -> Result<(), LocalError> {
        let data = self.data(name);
        self.mounter.release(&data).map_err(|e| LocalError::Io {
            path: data.clone(),
            source: io::Error::new(e.io_error().kind(), e.to_string()),
        })?;
        Ok(())
    }

    /// Deletes the volume's files (unmounting first).
    ///
    /// Most volumes removed are empty plain volumes: after the mount check, two `rmdir`s remove
    /// them, where the tree walk took ten system calls more per volume (`volume rm` of many
    /// names). A directory with anything in it (ENOTEMPTY), like a missing volume, takes the
    /// walk.
    pub fn remove(&self, name: &str) -> Result<(), LocalError> {
        self.unmount(name)?;
        let dir = self.dir(name);
        if std::fs::remove_dir(self.data(name)).is_ok() && std::fs::remove_dir(&dir).is_ok() {
            return Ok(());
        }
        fsutil::remove_tree(&dir).map_err(io_err(&dir))
    }

    /// Bytes stored in the volume (Docker's `du` rules).
    pub fn size(&self, name: &str) -> Result<u64, LocalError> {
        let data = self.data(name);
        fsutil::tree_size(&data).map_err(io_err(&data))
    }

    /// [`LocalDriver::size`] of each of `names`, in order, walked by a few threads at once: the
    /// walk of `system df -v` is the kernel's directory reads and stats, which run in parallel
    /// on as many cores as there are (at most 4 threads, so a large listing stays gentle).
    pub fn sizes(&self, names: &[&str]) -> Vec<Result<u64, LocalError>> {
        parallel_map(names, 4, |name| self.size(name))
    }

    /// [`LocalDriver::remove`] of each of `names`, in order, by two threads at once (one on a
    /// single core). Per removed empty volume the two `rmdir`s were 84–86 % of the system-call
    /// time of `volume rm` of many names, spent waiting on the filesystem's journal: a second
    /// thread overlaps one volume's wait with the next one's work.
    pub fn remove_each(&self, names: &[String]) -> Vec<Result<(), LocalError>> {
        parallel_map(names, 2, |name| self.remove(name))
    }
}

/// `f` of each item, in order, run by up to `max_threads` threads (no more than the cores, nor
/// the items) taking the next item as they finish one.
fn parallel_map<I: Sync, T: Send>(
    items: &[I],
    max_threads: usize,
    f: impl Fn(&I) -> T + Sync,
) -> Vec<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, max_threads.max(1))
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let r = f(item);
        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every index is taken once"))
        .collect()
}

/// The size of a plain (non-tmpfs, non-device) volume with `size=`.
fn sized_plain(opts: Option<&BTreeMap<String, String>>) -> Option<u64> {
    let opts = opts?;
    if opts.contains_key("type") {
        return None;
    }
    opts.get("size").and_then(|s| parse_size(s))
}

/// The kernel's nfs client takes `addr=` as an IP address only; like Docker, a name there is
/// resolved first (an IPv4 address is preferred, as Go's resolver does). Fails with the name
/// and the resolver's words.
fn resolve_nfs_addr(options: &mut [String]) -> Result<(), (String, String)> {
    use std::net::{Ipv4Addr, ToSocketAddrs};
    let Some(opt) = options.iter_mut().find(|o| o.starts_with("addr=")) else {
        return Ok(());
    };
    let host = opt["addr=".len()..].to_string();
    if host.is_empty() || host.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    let unbracketed = host.trim_start_matches('[').trim_end_matches(']');
    // Go's resolver says "no such host" where getaddrinfo says EAI_NONAME.
    let words = |e: io::Error| {
        let text = e.to_string();
        let text = text
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&text);
        let text = if text == "Name or service not known" {
            "no such host"
        } else {
            text
        };
        (host.clone(), text.to_string())
    };
    let addrs: Vec<std::net::IpAddr> = (unbracketed, 0)
        .to_socket_addrs()
        .map_err(words)?
        .map(|a| a.ip())
        .collect();
    let ip = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .ok_or_else(|| (host.clone(), "no such host".to_string()))?;
    *opt = format!("addr={ip}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::mount::recording::{Call, RecordingSys};
    use berth_store::mount::MountArgs;
    use std::sync::Arc;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn nfs_addr_names_are_resolved_and_addresses_kept() {
        let resolved = |o: &[&str]| {
            let mut v: Vec<String> = o.iter().map(|s| s.to_string()).collect();
            resolve_nfs_addr(&mut v).map(|()| v)
        };
        assert_eq!(
            resolved(&["rw", "addr=localhost", "nfsvers=4"]).unwrap(),
            ["rw", "addr=127.0.0.1", "nfsvers=4"]
        );
        assert_eq!(resolved(&["addr=10.1.2.3"]).unwrap(), ["addr=10.1.2.3"]);
        assert_eq!(resolved(&["addr=::1"]).unwrap(), ["addr=::1"]);
        assert_eq!(resolved(&["vers=4"]).unwrap(), ["vers=4"]);
        // "no such host" from a working resolver; a machine without DNS says so instead.
        let (host, detail) = resolved(&["addr=nosuch.invalid"]).unwrap_err();
        assert_eq!(host, "nosuch.invalid");
        assert!(
            detail == "no such host" || detail.contains("name resolution"),
            "{detail}"
        );
    }

    #[test]
    fn validates_like_docker() {
        assert!(LocalDriver::validate(&opts(&[])).is_ok());
        assert_eq!(
            LocalDriver::validate(&opts(&[("foo", "1")]))
                .unwrap_err()
                .to_string(),
            "invalid option: \"foo\""
        );
        assert_eq!(
            LocalDriver::validate(&opts(&[("type", "tmpfs")]))
                .unwrap_err()
                .to_string(),
            "missing required option: \"device\""
        );
        assert_eq!(
            LocalDriver::validate(&opts(&[("device", "tmpfs")]))
                .unwrap_err()
                .to_string(),
            "missing required option: \"type\""
        );
        assert!(LocalDriver::validate(&opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m")
        ]))
        .is_ok());
        assert!(LocalDriver::validate(&opts(&[("size", "10m")])).is_ok());
        assert!(LocalDriver::validate(&opts(&[("size", "lots")])).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("x"), None);
    }

    /// A driver over a temporary root whose mounts are recorded, not made.
    fn recorded() -> (tempfile::TempDir, Arc<RecordingSys>, LocalDriver) {
        let t = tempfile::tempdir().unwrap();
        let sys = Arc::new(RecordingSys::default());
        let d = LocalDriver::open(&t.path().join("volumes"), Mounter::new(sys.clone())).unwrap();
        (t, sys, d)
    }

    #[test]
    fn a_tmpfs_volume_is_one_tmpfs_mount_made_once_and_undone_on_remove() {
        let (_t, sys, d) = recorded();
        let o = opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m,uid=1000,noexec"),
        ]);
        d.create("v1", Some(&o)).unwrap();
        d.mount("v1", Some(&o)).unwrap();
        d.mount("v1", Some(&o)).unwrap();
        assert_eq!(
            sys.calls(),
            [Call::Mount(MountArgs {
                source: "tmpfs".into(),
                target: d.data("v1"),
                fstype: Some("tmpfs".into()),
                flags: libc::MS_NOEXEC,
                data: "size=1m,uid=1000".into(),
                cwd: None,
            })]
        );
        assert!(d.is_mounted("v1"));
        d.remove("v1").unwrap();
        assert_eq!(
            sys.calls()[1],
            Call::Umount {
                target: d.data("v1"),
                detach: false
            }
        );
        assert!(!d.is_mounted("v1") && !d.dir("v1").exists());
    }

    #[test]
    fn a_bind_volume_is_a_bind_and_a_plain_volume_mounts_nothing() {
        let (t, sys, d) = recorded();
        let o = opts(&[("type", "none"), ("device", "/srv/x"), ("o", "bind,ro")]);
        d.create("b", Some(&o)).unwrap();
        d.mount("b", Some(&o)).unwrap();
        let m = sys.mounts();
        assert_eq!(m[0].fstype, None);
        assert_eq!(m[0].flags, libc::MS_BIND);
        assert_eq!(
            m[1].flags,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY
        );
        sys.clear();
        d.create("plain", None).unwrap();
        d.mount("plain", None).unwrap();
        d.mount("plain", Some(&opts(&[("o", "x")]))).unwrap();
        assert!(sys.calls().is_empty());
        drop(t);
    }

    /// Issue 20: a plain volume's directories are created without a flush, so a power loss may
    /// keep its row without them; mounting it (its next use) makes them again, as create did.
    #[test]
    fn a_plain_volume_whose_directories_are_gone_gets_them_back_when_mounted() {
        use std::os::unix::fs::PermissionsExt;
        let (_t, sys, d) = recorded();
        d.create("p", None).unwrap();
        std::fs::write(d.data("p").join("f"), "x").unwrap();
        d.mount("p", None).unwrap();
        assert!(
            d.data("p").join("f").exists(),
            "a volume that is there is left alone"
        );
        std::fs::remove_dir_all(d.dir("p")).unwrap();
        d.mount("p", None).unwrap();
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(d.dir("p")), 0o701);
        assert_eq!(mode(d.data("p")), 0o755);
        assert_eq!(std::fs::read_dir(d.data("p")).unwrap().count(), 0);
        // Only `_data` gone: made again inside the directory that is left.
        std::fs::remove_dir(d.data("p")).unwrap();
        d.restore("p").unwrap();
        assert!(d.data("p").is_dir());
        assert!(
            sys.calls().is_empty(),
            "nothing is mounted for a plain volume"
        );
    }

    #[test]
    fn a_size_limited_volume_is_its_image_on_a_loop_device() {
        let (_t, sys, d) = recorded();
        let o = opts(&[("size", "4m")]);
        let img = d.dir("s").join("fs.img");
        let m = d.mount_of("s", Some(&o)).unwrap().unwrap();
        assert_eq!(
            (m.fstype.as_str(), m.source.as_str(), m.options.as_slice()),
            ("ext4", img.to_str().unwrap(), &["loop".to_string()][..])
        );
        // Mounting: attach, mount the device, let go of the descriptor (autoclear frees the
        // device with the mount).
        std::fs::create_dir_all(d.data("s")).unwrap();
        d.mount("s", Some(&o)).unwrap();
        assert_eq!(
            sys.calls(),
            [
                Call::LoopAttach(img.clone()),
                Call::Mount(MountArgs {
                    source: "/dev/loop0".into(),
                    target: d.data("s"),
                    fstype: Some("ext4".into()),
                    flags: 0,
                    data: String::new(),
                    cwd: None,
                }),
                Call::LoopRelease("/dev/loop0".into()),
            ]
        );
        // A tmpfs with `size` is a tmpfs of that size, not an image.
        let t = opts(&[("type", "tmpfs"), ("device", "tmpfs"), ("size", "4m")]);
        assert_eq!(
            d.mount_of("t", Some(&t)).unwrap().unwrap().options,
            ["size=4m"]
        );
    }

    #[test]
    fn failed_mounts_read_like_docker_without_root() {
        let (_t, sys, d) = recorded();
        let o = opts(&[
            ("type", "none"),
            ("device", "/nonexistent/dir"),
            ("o", "bind"),
        ]);
        d.create("v2", Some(&o)).unwrap();
        sys.fail_mount_call(1, libc::ENOENT);
        let e = d.mount("v2", Some(&o)).unwrap_err().to_string();
        let data = d.data("v2").display().to_string();
        assert_eq!(
            e,
            format!(
                "error while mounting volume '{data}': failed to mount local volume: \
                 mount /nonexistent/dir:{data}, flags: 0x1000: no such file or directory"
            )
        );
        assert!(!d.is_mounted("v2"));
        let s = opts(&[("size", "4m")]);
        sys.fail_loop(libc::ENXIO);
        let e = d.mount("v3", Some(&s)).unwrap_err().to_string();
        assert!(
            e.contains("no loop device for the size-limited volume: no such device or address"),
            "{e}"
        );
    }

    #[test]
    #[ignore = "needs root"]
    fn tmpfs_option_volume_mounts_and_unmounts() {
        let t = tempfile::tempdir().unwrap();
        let d = LocalDriver::open(&t.path().join("volumes"), Mounter::linux()).unwrap();
        let o = opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m,uid=1000"),
        ]);
        d.create("v1", Some(&o)).unwrap();
        d.mount("v1", Some(&o)).unwrap();
        assert!(d.is_mounted("v1"));
        let md = std::fs::metadata(d.data("v1")).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&md), 1000);
        d.remove("v1").unwrap();
        assert!(!d.dir("v1").exists());
    }

    #[test]
    #[ignore = "needs root"]
    fn mount_errors_read_like_docker() {
        let t = tempfile::tempdir().unwrap();
        let d = LocalDriver::open(&t.path().join("volumes"), Mounter::linux()).unwrap();
        let o = opts(&[
            ("type", "none"),
            ("device", "/nonexistent/dir"),
            ("o", "bind"),
        ]);
        d.create("v2", Some(&o)).unwrap();
        let e = d.mount("v2", Some(&o)).unwrap_err().to_string();
        assert!(e.starts_with("error while mounting volume '"), "{e}");
        assert!(
            e.contains("failed to mount local volume: mount /nonexistent/dir:")
                && e.ends_with("/_data, flags: 0x1000: no such file or directory"),
            "{e}"
        );
        d.remove("v2").unwrap();
    }

    #[test]
    #[ignore = "needs root"]
    fn a_size_limited_volume_fills_up_at_its_size_and_frees_its_loop_device() {
        let t = tempfile::tempdir().unwrap();
        let d = LocalDriver::open(&t.path().join("volumes"), Mounter::linux()).unwrap();
        let o = opts(&[("size", "4m")]);
        d.create("s", Some(&o)).unwrap();
        d.mount("s", Some(&o)).unwrap();
        assert!(d.is_mounted("s"));
        let img = d.dir("s").join("fs.img").display().to_string();
        let big = vec![7u8; 8 << 20];
        let e = std::fs::write(d.data("s").join("f"), &big).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
        d.remove("s").unwrap();
        // The loop device went with the mount (autoclear; udev may hold it a moment).
        let attached = || {
            std::fs::read_dir("/sys/block").unwrap().flatten().any(|e| {
                std::fs::read_to_string(e.path().join("loop/backing_file"))
                    .is_ok_and(|b| b.trim() == img)
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while attached() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!attached(), "loop device of {img} still attached");
    }
}
