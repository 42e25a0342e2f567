//! [`hostile_corpus`] builds layer tars that try to reach outside the directory they are unpacked
//! into; [`Sandbox`] surrounds a layer root with decoys and proves afterwards that nothing outside
//! the root changed. Both are public behind the `hostile-corpus` feature so that driver-level and
//! CLI-level tests can run the same corpus through their own entry points.
//!
//! The tars are written header by header (not with `tar::Builder`, which refuses such names). Paths
//! that escape point at the sandbox's decoys relative to the root (`../victim`, `../outside`), at
//! host paths that must never appear ([`HOST_CANARIES`]), or at `/etc/passwd`, which is only ever
//! hardlinked, never written, by a tar here: a buggy extractor shows up as a changed snapshot, not
//! as damage to the machine.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

/// The name every escaping file in the corpus tries to create.
pub const ESCAPE_NAME: &str = "berth-hostile-escape";

/// Host paths that an escaping tar of the corpus would create. None of them may exist after an
/// apply (nor before: a leftover means an earlier run escaped).
pub const HOST_CANARIES: &[&str] = &[
    "/berth-hostile-escape",
    "/tmp/berth-hostile-escape",
    "/tmp/berth-hostile-victim",
    "/etc/berth-hostile-escape",
];

/// How berth's `apply_tar` must answer a hostile tar (in both whiteout modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileExpect {
    /// Refused with `ArchiveError::Escape`.
    Escape,
    /// Refused with some other error (malformed rather than escaping).
    Rejected,
    /// Applied successfully: the dangerous entry is neutralized inside the root (a symlink
    /// replaced rather than followed, a private xattr dropped).
    Contained,
}

/// One hostile layer tar.
#[derive(Debug, Clone)]
pub struct HostileTar {
    /// A short name saying what the tar tries.
    pub name: &'static str,
    /// The uncompressed tar bytes.
    pub tar: Vec<u8>,
    /// What berth's extractor must do with it.
    pub expect: HostileExpect,
}

/// Writes raw tar entries, including names that `tar::Builder` would refuse. Owner and mtime
/// apply to the entries that follow their setting.
pub(crate) struct Raw {
    out: Vec<u8>,
    uid: u64,
    gid: u64,
    mtime: u64,
}

const MTIME: u64 = 1_600_000_000;

impl Default for Raw {
    fn default() -> Self {
        Raw {
            out: Vec::new(),
            uid: 0,
            gid: 0,
            mtime: MTIME,
        }
    }
}

#[cfg_attr(not(test), allow(dead_code))]
impl Raw {
    /// Owner of the following entries.
    pub(crate) fn owner(&mut self, uid: u64, gid: u64) -> &mut Self {
        self.uid = uid;
        self.gid = gid;
        self
    }

    /// Mtime of the following entries.
    pub(crate) fn at(&mut self, mtime: u64) -> &mut Self {
        self.mtime = mtime;
        self
    }

    pub(crate) fn entry(
        &mut self,
        kind: EntryType,
        name: &str,
        link: &str,
        mode: u32,
        data: &[u8],
    ) -> &mut Self {
        self.entry_bytes(kind, name.as_bytes(), link.as_bytes(), mode, data, (0, 0))
    }

    pub(crate) fn entry_bytes(
        &mut self,
        kind: EntryType,
        name: &[u8],
        link: &[u8],
        mode: u32,
        data: &[u8],
        dev: (u32, u32),
    ) -> &mut Self {
        let mut h = Header::new_ustar();
        let n = name.len().min(100);
        h.as_old_mut().name[..n].copy_from_slice(&name[..n]);
        let l = link.len().min(100);
        h.as_old_mut().linkname[..l].copy_from_slice(&link[..l]);
        h.set_mode(mode);
        h.set_uid(self.uid);
        h.set_gid(self.gid);
        h.set_mtime(self.mtime);
        h.set_size(data.len() as u64);
        h.set_entry_type(kind);
        h.set_device_major(dev.0).expect("ustar");
        h.set_device_minor(dev.1).expect("ustar");
        h.set_cksum();
        self.out.extend_from_slice(h.as_bytes());
        self.out.extend_from_slice(data);
        let rem = data.len() % 512;
        if rem != 0 {
            self.out.extend(std::iter::repeat_n(0u8, 512 - rem));
        }
        self
    }

    pub(crate) fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.entry(EntryType::Regular, name, "", 0o644, data)
    }

    pub(crate) fn dir(&mut self, name: &str, mode: u32) -> &mut Self {
        self.entry(EntryType::Directory, name, "", mode, b"")
    }

    pub(crate) fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(EntryType::Symlink, name, target, 0o777, b"")
    }

    pub(crate) fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(EntryType::Link, name, target, 0o644, b"")
    }

    /// A PAX extended header for the next entry.
    pub(crate) fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let base = k.len() + v.len() + 3;
            let mut len = base + base.to_string().len();
            if len.to_string().len() > base.to_string().len() {
                len += 1;
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        self.entry(EntryType::XHeader, "PaxHeaders/x", "", 0o644, &data)
    }

    /// A GNU long name (`L`) or long link (`K`) record for the next entry.
    pub(crate) fn gnu_long(&mut self, kind: EntryType, value: &str) -> &mut Self {
        let mut data = value.as_bytes().to_vec();
        data.push(0);
        self.entry(kind, "././@LongLink", "", 0o644, &data)
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

/// The hostile tars: at least one for every way out we know of.
pub fn hostile_corpus() -> Vec<HostileTar> {
    use HostileExpect::*;
    let esc = ESCAPE_NAME;
    let mut v = Vec::new();
    let mut add = |name: &'static str, expect: HostileExpect, build: &dyn Fn(&mut Raw)| {
        let mut r = Raw::default();
        build(&mut r);
        v.push(HostileTar {
            name,
            tar: r.finish(),
            expect,
        });
    };

    // Lexical escapes.
    add("dotdot-file", Escape, &|r| {
        r.file(&format!("../{esc}"), b"pwned");
    });
    add("nested-dotdot-file", Escape, &|r| {
        r.dir("a/", 0o755).file(&format!("a/../../{esc}"), b"pwned");
    });
    add("dot-slash-dotdot-file", Escape, &|r| {
        r.file(&format!("./../{esc}"), b"pwned");
    });
    add("absolute-file", Escape, &|r| {
        r.file(&format!("/tmp/{esc}"), b"pwned");
    });
    add("fifo-dotdot", Escape, &|r| {
        r.entry(EntryType::Fifo, &format!("../{esc}"), "", 0o644, b"");
    });
    add("pax-path-escape", Escape, &|r| {
        r.pax(&[("path", format!("../{esc}").as_bytes())])
            .file("innocent", b"pwned");
    });
    add("gnu-longname-escape", Escape, &|r| {
        let long = format!("{}{}{esc}", "a/".repeat(60), "../".repeat(61));
        r.gnu_long(EntryType::GNULongName, &long)
            .file("innocent", b"pwned");
    });
    add("nul-in-pax-path", Rejected, &|r| {
        r.pax(&[("path", format!("ok\0/../../{esc}").as_bytes())])
            .file("innocent", b"pwned");
    });

    // Symlinks followed as parents.
    add("symlink-to-root-then-file", Escape, &|r| {
        r.symlink("s", "/").file(&format!("s/{esc}"), b"pwned");
    });
    add("symlink-to-root-then-dir-then-file", Escape, &|r| {
        r.symlink("s", "/")
            .dir("s/tmp/", 0o777)
            .file(&format!("s/tmp/{esc}"), b"pwned");
    });
    add("symlink-dotdot-then-file", Escape, &|r| {
        r.symlink("s", "..").file(&format!("s/{esc}"), b"pwned");
    });
    add("symlink-dotdot-dotdot-then-file", Escape, &|r| {
        r.symlink("s", "../..").file(&format!("s/{esc}"), b"pwned");
    });
    add("nested-symlink-escape", Escape, &|r| {
        r.dir("d/", 0o755)
            .symlink("d/s", "../../")
            .file(&format!("d/s/{esc}"), b"pwned");
    });
    add("symlink-chain", Escape, &|r| {
        r.symlink("a", "b")
            .symlink("b", "..")
            .file(&format!("a/{esc}"), b"pwned");
    });
    add("symlink-to-proc-magic-link", Escape, &|r| {
        r.symlink("s", "/proc/self/root")
            .file(&format!("s/{esc}"), b"pwned");
    });
    add("symlink-overwrites-victim-through-parent", Escape, &|r| {
        r.symlink("s", "..").file("s/victim", b"pwned");
    });
    add("parent-replaced-by-symlink", Escape, &|r| {
        // The extractor's cached parent directory must not outlive the directory it names.
        r.dir("d/", 0o755)
            .file("d/f", b"ok")
            .symlink("d", "..")
            .file(&format!("d/{esc}"), b"pwned");
    });
    add("device-under-symlink", Escape, &|r| {
        r.symlink("s", "..").entry_bytes(
            EntryType::Char,
            format!("s/{esc}").as_bytes(),
            b"",
            0o666,
            b"",
            (1, 3),
        );
    });

    // A symlink in the final position must be replaced, never followed.
    add("file-over-symlink", Contained, &|r| {
        r.symlink("s", "../victim").file("s", b"pwned");
    });
    add("file-over-absolute-symlink", Contained, &|r| {
        r.symlink("s", "/tmp/berth-hostile-victim")
            .file("s", b"pwned");
    });
    add("symlink-dir-then-dir-entry-and-file", Contained, &|r| {
        r.symlink("s", "../outside")
            .dir("s/", 0o777)
            .file("s/file", b"pwned");
    });
    add("chmod-chown-through-symlink", Contained, &|r| {
        r.symlink("s", "../outside").dir("s/", 0o777);
    });
    add("device-over-symlink", Contained, &|r| {
        r.symlink("s", "../victim")
            .entry_bytes(EntryType::Fifo, b"s", b"", 0o666, b"", (0, 0));
    });
    add("hardlink-to-symlink-then-overwrite", Contained, &|r| {
        r.symlink("s", "../victim")
            .hardlink("h", "s")
            .file("h", b"pwned");
    });
    add("whiteout-of-symlink", Contained, &|r| {
        r.symlink("s", "../victim").file(".wh.s", b"");
    });

    // Hardlinks.
    add("hardlink-to-etc-passwd", Escape, &|r| {
        r.hardlink("p", "/etc/passwd");
    });
    add("hardlink-dotdot", Escape, &|r| {
        r.hardlink("h", "../victim");
    });
    add("hardlink-then-overwrite", Escape, &|r| {
        r.hardlink("h", "../victim").file("h", b"pwned");
    });
    add("hardlink-through-symlink", Escape, &|r| {
        r.symlink("s", "..").hardlink("h", "s/victim");
    });
    add("pax-linkpath-escape", Escape, &|r| {
        r.pax(&[("linkpath", b"../victim")])
            .hardlink("h", "innocent");
    });
    add("gnu-longlink-escape", Escape, &|r| {
        let long = format!("{}{}victim", "x/".repeat(60), "../".repeat(61));
        r.gnu_long(EntryType::GNULongLink, &long)
            .hardlink("h", "innocent");
    });

    // Whiteouts and opaque markers.
    add("whiteout-dotdot", Escape, &|r| {
        r.file(".wh...", b"");
    });
    add("whiteout-dot", Escape, &|r| {
        r.file(".wh..", b"");
    });
    add("whiteout-bare", Escape, &|r| {
        r.file(".wh.", b"");
    });
    add("whiteout-outside-name", Escape, &|r| {
        r.file("../.wh.victim", b"");
    });
    add("whiteout-through-symlink", Escape, &|r| {
        r.symlink("s", "..").file("s/.wh.victim", b"");
    });
    add("whiteout-dir-through-symlink", Escape, &|r| {
        r.symlink("s", "..").file("s/.wh.outside", b"");
    });
    add("opaque-through-symlink", Escape, &|r| {
        r.symlink("s", "../outside").file("s/.wh..wh..opq", b"");
    });
    add("opaque-outside", Escape, &|r| {
        r.file("../.wh..wh..opq", b"");
    });

    // Overlay's private xattrs must never come from a tar.
    add("smuggled-overlay-xattrs", Contained, &|r| {
        r.pax(&[
            ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
            ("SCHILY.xattr.trusted.overlay.redirect", b"/../../outside"),
            ("SCHILY.xattr.user.overlay.origin", b"x"),
            ("SCHILY.xattr.user.berth", b"ok"),
        ])
        .dir("d/", 0o755);
    });
    v
}

/// Whether the process runs as root (most tests here need it: chown, mknod, `trusted.*`).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// What a snapshot records about one filesystem entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySnapshot {
    /// `file`, `dir`, `symlink`, `char`, `block`, `fifo` or `socket`.
    pub kind: &'static str,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (0 for directories, whose size is not meaningful across filesystems).
    pub size: u64,
    /// Hardlink count.
    pub nlink: u64,
    /// Inode number.
    pub ino: u64,
    /// Device number of a char or block device.
    pub rdev: u64,
    /// Modification time (seconds, nanoseconds).
    pub mtime: (i64, i64),
    /// Status-change time (seconds, nanoseconds): catches a chmod or chown to the same value.
    pub ctime: (i64, i64),
    /// sha256 of a regular file's content.
    pub sha256: Option<String>,
    /// A symlink's target.
    pub link_target: Option<PathBuf>,
    /// For a non-directory with several links: the first path (in sorted order) of the snapshot
    /// that shares its inode.
    pub hardlink_of: Option<PathBuf>,
    /// All xattrs, overlay's included.
    pub xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl EntrySnapshot {
    /// The parts that survive a tar round trip: no inode, ctime, directory link count, sub-second
    /// mtime or overlay-private xattrs.
    pub fn portable(&self) -> EntrySnapshot {
        let mut e = self.clone();
        e.ino = 0;
        e.ctime = (0, 0);
        e.mtime.1 = 0;
        if e.kind == "dir" {
            e.nlink = 0;
        }
        e.xattrs.retain(|k, _| !super::xattr::is_overlay_private(k));
        e
    }
}

/// A snapshot of a tree, by path relative to its top.
pub type TreeSnapshot = BTreeMap<PathBuf, EntrySnapshot>;

/// Snapshots one entry without following a symlink.
pub fn snapshot_entry(path: &Path) -> io::Result<EntrySnapshot> {
    let m = fs::symlink_metadata(path)?;
    let ft = m.file_type();
    use std::os::unix::fs::FileTypeExt;
    let kind = if ft.is_dir() {
        "dir"
    } else if ft.is_file() {
        "file"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else if ft.is_fifo() {
        "fifo"
    } else {
        "socket"
    };
    let sha256 = if kind == "file" {
        let mut f = fs::File::open(path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Some(hex::encode(h.finalize()))
    } else {
        None
    };
    let mut xattrs = BTreeMap::new();
    let mut names = vec![0u8; 4096];
    let n = match rustix::fs::llistxattr(path, &mut names[..]) {
        Ok(n) => n,
        Err(rustix::io::Errno::OPNOTSUPP) => 0,
        Err(e) => return Err(e.into()),
    };
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let mut val = vec![0u8; 65536];
        let len = rustix::fs::lgetxattr(path, name, &mut val[..])?;
        val.truncate(len);
        xattrs.insert(name.to_vec(), val);
    }
    Ok(EntrySnapshot {
        kind,
        mode: m.permissions().mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        size: if kind == "dir" { 0 } else { m.size() },
        nlink: m.nlink(),
        ino: m.ino(),
        rdev: m.rdev(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        sha256,
        link_target: if kind == "symlink" {
            Some(fs::read_link(path)?)
        } else {
            None
        },
        hardlink_of: None,
        xattrs,
    })
}

/// Snapshots everything below `top` (not `top` itself), skipping the subtrees in `skip`.
pub fn snapshot_tree(top: &Path, skip: &[&Path]) -> io::Result<TreeSnapshot> {
    fn walk(
        top: &Path,
        dir: &Path,
        skip: &[&Path],
        out: &mut TreeSnapshot,
        devino: &mut BTreeMap<(u64, u64), PathBuf>,
    ) -> io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        for name in names {
            let p = dir.join(&name);
            if skip.iter().any(|s| *s == p) {
                continue;
            }
            let mut snap = snapshot_entry(&p)?;
            let rel = p.strip_prefix(top).expect("below top").to_path_buf();
            if snap.kind != "dir" && snap.nlink > 1 {
                let m = fs::symlink_metadata(&p)?;
                let first = devino
                    .entry((m.dev(), m.ino()))
                    .or_insert_with(|| rel.clone());
                if *first != rel {
                    snap.hardlink_of = Some(first.clone());
                }
            }
            let is_dir = snap.kind == "dir";
            out.insert(rel, snap);
            if is_dir {
                walk(top, &p, skip, out, devino)?;
            }
        }
        Ok(())
    }
    let mut out = TreeSnapshot::new();
    walk(top, top, skip, &mut out, &mut BTreeMap::new())?;
    Ok(out)
}

/// The portable view of a tree snapshot (see [`EntrySnapshot::portable`]).
pub fn portable(t: &TreeSnapshot) -> TreeSnapshot {
    t.iter().map(|(p, e)| (p.clone(), e.portable())).collect()
}

/// Describes the differences between two snapshots (empty when equal).
pub fn diff_snapshots(before: &TreeSnapshot, after: &TreeSnapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (p, b) in before {
        match after.get(p) {
            None => out.push(format!("removed: {}", p.display())),
            Some(a) if a != b => out.push(format!(
                "changed: {}\n  before {b:?}\n  after  {a:?}",
                p.display()
            )),
            Some(_) => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        out.push(format!("added: {}", p.display()));
    }
    out
}

/// Host state that an escape could touch: `/etc/passwd` in full, the modes and owners of `/`,
/// `/tmp` and `/etc`, and the absence of [`HOST_CANARIES`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostSnapshot {
    passwd: EntrySnapshot,
    dirs: Vec<(u32, u32, u32)>,
    canaries: Vec<bool>,
}

fn host_snapshot(extra_canary: &Path) -> io::Result<HostSnapshot> {
    let mut passwd = snapshot_entry(Path::new("/etc/passwd"))?;
    // Other programs may legitimately rewrite /etc/passwd's metadata timestamps' nanoseconds;
    // content, owner, mode, link count and mtime are what an escape would change.
    passwd.ctime = (0, 0);
    passwd.ino = 0;
    let dirs = ["/", "/tmp", "/etc"]
        .iter()
        .map(|d| {
            fs::symlink_metadata(d).map(|m| (m.permissions().mode() & 0o7777, m.uid(), m.gid()))
        })
        .collect::<io::Result<_>>()?;
    let canaries = HOST_CANARIES
        .iter()
        .map(Path::new)
        .chain(std::iter::once(extra_canary))
        .map(|p| fs::symlink_metadata(p).is_ok())
        .collect();
    Ok(HostSnapshot {
        passwd,
        dirs,
        canaries,
    })
}

/// A layer root surrounded by decoys, and the snapshots that prove a hostile apply left
/// everything outside the root alone.
///
/// Layout around `root` (whose parent is the sandbox): `victim` (a file with known content,
/// mode 0640, owner 4321:4321, an xattr and a fixed mtime), `outside/` (mode 0750, owner
/// 1234:1234, holding `file` and `sub/`), `outside-link -> victim`.
#[derive(Debug)]
pub struct Sandbox {
    /// The layer root; tars are applied here.
    pub root: PathBuf,
    /// The directory holding `root` and the decoys.
    pub dir: PathBuf,
    before: TreeSnapshot,
    host_before: HostSnapshot,
}

impl Sandbox {
    /// Creates the decoys next to the existing directory `root` and takes the snapshots.
    pub fn around(root: &Path) -> io::Result<Sandbox> {
        let dir = root
            .parent()
            .ok_or_else(|| io::Error::other("root has no parent"))?
            .to_path_buf();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        let victim = dir.join("victim");
        fs::write(&victim, b"victim\n")?;
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o640))?;
        let outside = dir.join("outside");
        fs::create_dir_all(outside.join("sub"))?;
        fs::write(outside.join("file"), b"outside\n")?;
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o750))?;
        std::os::unix::fs::symlink("victim", dir.join("outside-link"))?;
        rustix::fs::setxattr(
            &victim,
            "user.berth",
            b"decoy",
            rustix::fs::XattrFlags::empty(),
        )
        .or_else(|e| {
            if e == rustix::io::Errno::OPNOTSUPP {
                Ok(())
            } else {
                Err(io::Error::from(e))
            }
        })?;
        if is_root() {
            std::os::unix::fs::chown(&victim, Some(4321), Some(4321))?;
            std::os::unix::fs::chown(&outside, Some(1234), Some(1234))?;
        }
        for p in [&victim, &outside.join("file")] {
            fs::File::options()
                .write(true)
                .open(p)?
                .set_modified(when)?;
        }
        let grand = dir.parent().unwrap_or(Path::new("/")).join(ESCAPE_NAME);
        let sb = Sandbox {
            root: root.to_path_buf(),
            before: snapshot_tree(&dir, &[root])?,
            host_before: host_snapshot(&grand)?,
            dir,
        };
        if sb.host_before.canaries.iter().any(|c| *c) {
            return Err(io::Error::other(format!(
                "a canary of an earlier escape exists already (one of {HOST_CANARIES:?} or {})",
                grand.display()
            )));
        }
        Ok(sb)
    }

    /// Checks that nothing outside the root changed: the sandbox (names, types, modes, owners,
    /// sizes, content hashes, xattrs, mtimes, ctimes, link counts), `/etc/passwd`, and the host
    /// canaries. Returns a description of every difference.
    pub fn check(&self) -> Result<(), String> {
        let after = snapshot_tree(&self.dir, &[&self.root]).map_err(|e| e.to_string())?;
        let mut diffs = diff_snapshots(&self.before, &after);
        let grand = self
            .dir
            .parent()
            .unwrap_or(Path::new("/"))
            .join(ESCAPE_NAME);
        let host = host_snapshot(&grand).map_err(|e| e.to_string())?;
        if host != self.host_before {
            diffs.push(format!(
                "host changed:\n  before {:?}\n  after  {host:?}",
                self.host_before
            ));
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{apply_tar, ApplyOptions, ArchiveError, WhiteoutMode};

    #[test]
    fn corpus_is_large_and_well_formed() {
        let corpus = hostile_corpus();
        assert!(corpus.len() >= 15, "{} tars", corpus.len());
        let mut names: Vec<_> = corpus.iter().map(|h| h.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), corpus.len(), "duplicate names");
        for h in &corpus {
            assert_eq!(h.tar.len() % 512, 0, "{}", h.name);
        }
    }

    /// Applies one hostile tar in a fresh sandbox; returns what went wrong, if anything.
    fn run(h: &HostileTar, mode: WhiteoutMode) -> Result<(), String> {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("layer");
        fs::create_dir(&root).unwrap();
        let sb =
            Sandbox::around(&root).map_err(|e| format!("{} ({mode:?}): sandbox: {e}", h.name))?;
        let r = apply_tar(
            &h.tar[..],
            &root,
            &ApplyOptions {
                no_overwrite_dir_non_dir: false,
                skip_devices: false,
                whiteouts: mode,
                root_metadata: false,
                owner: None,
            },
        );
        if let Err(diff) = sb.check() {
            return Err(format!(
                "{} ({mode:?}) changed things outside the root (apply: {r:?}):\n{diff}",
                h.name
            ));
        }
        match (h.expect, &r) {
            (HostileExpect::Escape, Err(ArchiveError::Escape { .. })) => {}
            (HostileExpect::Rejected, Err(ArchiveError::Invalid(_) | ArchiveError::Io { .. })) => {}
            (HostileExpect::Contained, Ok(_)) => {}
            _ => {
                return Err(format!(
                    "{} ({mode:?}): expected {:?}, got {r:?}",
                    h.name, h.expect
                ))
            }
        }
        if let Err(e) = &r {
            assert!(!e.to_string().is_empty());
        }
        // What the contained ones left inside the root.
        let lst = |p: &str| fs::symlink_metadata(root.join(p));
        match h.name {
            "file-over-symlink" | "file-over-absolute-symlink" => {
                assert!(lst("s").unwrap().is_file());
                assert_eq!(fs::read(root.join("s")).unwrap(), b"pwned");
            }
            "symlink-dir-then-dir-entry-and-file" | "chmod-chown-through-symlink" => {
                let m = lst("s").unwrap();
                assert!(m.is_dir());
                assert_eq!(m.permissions().mode() & 0o7777, 0o777);
            }
            "hardlink-to-symlink-then-overwrite" => {
                assert!(lst("s").unwrap().file_type().is_symlink());
                assert_eq!(fs::read(root.join("h")).unwrap(), b"pwned");
            }
            "whiteout-of-symlink" => match mode {
                WhiteoutMode::Delete => assert!(lst("s").unwrap().file_type().is_symlink()),
                WhiteoutMode::Overlay => assert!(lst("s").unwrap().file_type().is_symlink()),
            },
            "smuggled-overlay-xattrs" if is_root() => {
                let snap = snapshot_entry(&root.join("d")).unwrap();
                let names: Vec<_> = snap
                    .xattrs
                    .keys()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect();
                assert_eq!(names, ["user.berth"]);
            }
            _ => {}
        }
        Ok(())
    }

    #[test]
    #[ignore = "needs root"]
    fn hostile_tars_never_touch_anything_outside_the_root() {
        let mut failures = Vec::new();
        for h in hostile_corpus() {
            for mode in [WhiteoutMode::Overlay, WhiteoutMode::Delete] {
                if let Err(f) = run(&h, mode) {
                    failures.push(f);
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn sandbox_notices_a_change_outside() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("layer");
        fs::create_dir(&root).unwrap();
        let sb = Sandbox::around(&root).unwrap();
        assert_eq!(sb.check(), Ok(()));
        fs::write(root.join("inside"), b"fine").unwrap();
        assert_eq!(sb.check(), Ok(()));
        // A chmod to the very same mode still moves ctime.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::set_permissions(t.path().join("outside"), fs::Permissions::from_mode(0o750)).unwrap();
        assert!(sb.check().is_err());
    }
}
