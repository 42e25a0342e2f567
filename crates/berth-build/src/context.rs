//! [`Context`] is a build's source tree on disk (the context directory, an unpacked context tar,
//! or a `COPY --from` image's root filesystem): it resolves COPY/ADD sources the way Docker does
//! (leading `/` and `./` dropped, globs matched with Go's `filepath.Match` against every path,
//! symlinks followed but never out of the root), leaves out what `.dockerignore` excludes, and
//! computes Docker's content hashes of sources: `file:<tarsum>` for a file and `dir:<sha256>` over
//! the sums of everything in a directory, where a file's tarsum (v1) covers its tar header
//! (name, mode with type bits, owner, size, type, link target, devices, security xattrs; not
//! the modification time) and its content — so touching a file keeps the cache, editing it or
//! changing its mode does not.
//!
//! A context directory may carry a [`SumMemo`]: the sums of its files from an earlier build with
//! the stamp (device, inode, size, modification and change times, mode, owner) each was
//! computed at. A file whose stamp is unchanged is not read again; the change time moves with
//! every write and cannot be set back, and a file changed less than [`SETTLE`] before it was
//! hashed is not remembered (its later writes could share the change time), as git and BuildKit
//! reason about theirs.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use crate::ignore::{glob_match, read_patterns, IgnoreError, IgnoreMatcher};

/// A context path that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// Not there, or excluded by `.dockerignore`.
    #[error("file not found in build context or excluded by .dockerignore: stat {0}: file does not exist")]
    NotFound(String),
    /// An I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The failure.
        source: io::Error,
    },
    /// A bad `.dockerignore` or glob.
    #[error("{0}")]
    Pattern(#[from] IgnoreError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ContextError + '_ {
    move |source| ContextError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A file or directory below a copy source.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path on the host.
    pub path: PathBuf,
    /// Path relative to the source (`""` for the source itself).
    pub rel: String,
    /// Its metadata (not following symlinks).
    pub meta: fs::Metadata,
}

/// How long a file must have been left alone before its sum is remembered.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Sums of a context's files from an earlier build (see the module doc), and what this build
/// used; serialized by the engine between builds.
#[derive(Debug, Default)]
pub struct SumMemo {
    /// Tar name → (stamp, sum), as loaded.
    known: BTreeMap<String, (String, String)>,
    /// What this build hashed or reused, to keep for the next.
    used: BTreeMap<String, (String, String)>,
}

impl SumMemo {
    /// A memo from what [`SumMemo::to_json`] wrote (anything unreadable is an empty memo).
    pub fn from_json(json: Option<&str>) -> SumMemo {
        let known = json
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        SumMemo {
            known,
            used: BTreeMap::new(),
        }
    }

    /// What to keep for the next build (the sums this one used), or `None` when that is what
    /// was loaded.
    pub fn to_json(&self) -> Option<String> {
        if self.used == self.known {
            return None;
        }
        Some(serde_json::to_string(&self.used).expect("sums serialize"))
    }
}

/// A source tree.
#[derive(Debug, Clone)]
pub struct Context {
    root: PathBuf,
    ignore: IgnoreMatcher,
    /// Hash owners as 0:0 (the docker CLI sends a directory context owned by root).
    root_owned: bool,
    /// Sums remembered across builds (context directories only).
    memo: Option<Arc<Mutex<SumMemo>>>,
}

impl Context {
    /// A context directory: its `.dockerignore` applies; owners hash as root (as the docker CLI
    /// sends them).
    pub fn from_dir(root: &Path) -> Result<Context, ContextError> {
        let ignore = match fs::read_to_string(root.join(".dockerignore")) {
            Ok(text) => IgnoreMatcher::new(&read_patterns(&text))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => IgnoreMatcher::default(),
            Err(e) => return Err(io_err(&root.join(".dockerignore"))(e)),
        };
        Ok(Context {
            root: root.to_path_buf(),
            ignore,
            root_owned: true,
            memo: None,
        })
    }

    /// This context with `memo`'s sums to reuse (and to add to).
    pub fn with_memo(mut self, memo: SumMemo) -> Context {
        self.memo = Some(Arc::new(Mutex::new(memo)));
        self
    }

    /// The memo to keep after the build, if it changed (see [`SumMemo::to_json`]).
    pub fn memo_json(&self) -> Option<String> {
        self.memo
            .as_ref()
            .and_then(|m| m.lock().expect("memo lock").to_json())
    }

    /// A tree used as it is (an unpacked context tar whose `.dockerignore` was applied by the
    /// client, or an image's root filesystem): owners hash as they are on disk.
    pub fn plain(root: &Path) -> Context {
        Context {
            root: root.to_path_buf(),
            ignore: IgnoreMatcher::default(),
            root_owned: false,
            memo: None,
        }
    }

    /// What dockerd does to an unpacked context tar once it has read the Dockerfile: the
    /// Dockerfile and `.dockerignore` themselves are removed when the tar's `.dockerignore`
    /// excludes them (the docker CLI sends both even then); nothing else is filtered, as the
    /// client applied the rules when it made the tar.
    pub fn remove_ignored_control_files(&self, dockerfile: &str) -> Result<(), ContextError> {
        let ignore_file = self.resolve(".dockerignore");
        let text = match fs::read_to_string(&ignore_file) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&ignore_file)(e)),
        };
        let rules = IgnoreMatcher::new(&read_patterns(&text))?;
        for name in [".dockerignore", dockerfile] {
            let rel = name.trim_start_matches('/');
            if rules.matches(rel) {
                let path = self.resolve(rel);
                if path.is_file() {
                    fs::remove_file(&path).map_err(io_err(&path))?;
                }
            }
        }
        Ok(())
    }

    /// The tree's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `rel` is excluded by `.dockerignore`.
    pub fn is_ignored(&self, rel: &str) -> bool {
        !rel.is_empty() && rel != "." && self.ignore.matches(rel)
    }

    /// `rel` on the host, symlinks followed but kept inside the root (Docker's
    /// `FollowSymlinkInScope`). The result may not exist.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        resolve_in_root(&self.root, rel)
    }

    /// The sources a COPY/ADD argument means: `(relative path, is directory, Docker's hash)`.
    pub fn sources(&self, arg: &str) -> Result<Vec<(String, bool, String)>, ContextError> {
        let p = arg.trim_start_matches('/');
        let p = p.strip_prefix("./").unwrap_or(p);
        if contains_wildcards(p) {
            let mut out = Vec::new();
            for e in walkdir::WalkDir::new(&self.root)
                .follow_links(false)
                .sort_by_file_name()
                .min_depth(1)
            {
                let e = e.map_err(|e| ContextError::Io {
                    path: self.root.display().to_string(),
                    source: e.into(),
                })?;
                let rel = rel_of(&self.root, e.path());
                if self.is_ignored(&rel) {
                    continue;
                }
                if glob_match(p, &rel)? {
                    out.extend(self.sources_exact(&rel)?);
                }
            }
            return Ok(out);
        }
        self.sources_exact(p)
    }

    fn sources_exact(&self, rel: &str) -> Result<Vec<(String, bool, String)>, ContextError> {
        let clean = berth_go::clean(&format!("/{rel}"));
        let rel = clean.trim_start_matches('/').to_string();
        let rel = if rel.is_empty() { ".".to_string() } else { rel };
        if rel != "." && self.is_ignored(&rel) {
            return Err(ContextError::NotFound(rel));
        }
        let host = self.resolve(&rel);
        let meta = fs::metadata(&host).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                ContextError::NotFound(rel.clone())
            }
            _ => io_err(&host)(e),
        })?;
        if !meta.is_dir() {
            let name = if rel == "." {
                String::new()
            } else {
                rel.clone()
            };
            let sum = self.entry_sum(
                &host,
                &name,
                &fs::symlink_metadata(&host).map_err(io_err(&host))?,
            )?;
            return Ok(vec![(rel, false, format!("file:{sum}"))]);
        }
        let mut sums = Vec::new();
        for e in self.walk(&rel)? {
            let name = if rel == "." {
                e.rel.clone()
            } else if e.rel.is_empty() {
                rel.clone()
            } else {
                format!("{rel}/{}", e.rel)
            };
            if name.is_empty() {
                continue;
            }
            sums.push(self.entry_sum(&e.path, &name, &e.meta)?);
        }
        sums.sort();
        let dir = hex::encode(Sha256::digest(sums.join(",").as_bytes()));
        Ok(vec![(rel, true, format!("dir:{dir}"))])
    }

    /// Everything below the directory `rel` (itself first, `rel == ""`), parents before
    /// children, siblings by name, `.dockerignore` applied; symlinks are not followed.
    pub fn walk(&self, rel: &str) -> Result<Vec<Entry>, ContextError> {
        let top = self.resolve(rel);
        let base = if rel == "." {
            String::new()
        } else {
            rel.to_string()
        };
        let mut out = Vec::new();
        let mut it = walkdir::WalkDir::new(&top)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter();
        while let Some(e) = it.next() {
            let e = e.map_err(|e| ContextError::Io {
                path: top.display().to_string(),
                source: e.into(),
            })?;
            let sub = rel_of(&top, e.path());
            let full = match (base.is_empty(), sub.is_empty()) {
                (true, _) => sub.clone(),
                (false, true) => base.clone(),
                (false, false) => format!("{base}/{sub}"),
            };
            if !sub.is_empty() && self.is_ignored(&full) {
                if e.file_type().is_dir() && !self.ignore.has_exclusions {
                    it.skip_current_dir();
                }
                continue;
            }
            let meta = e.metadata().map_err(|err| ContextError::Io {
                path: e.path().display().to_string(),
                source: err.into(),
            })?;
            out.push(Entry {
                path: e.path().to_path_buf(),
                rel: sub,
                meta,
            });
        }
        Ok(out)
    }

    /// Docker's tarsum (v1) of one entry named `name` in the tar the docker CLI would send.
    fn entry_sum(
        &self,
        path: &Path,
        name: &str,
        meta: &fs::Metadata,
    ) -> Result<String, ContextError> {
        let ft = meta.file_type();
        let (type_bits, flag) = if ft.is_dir() {
            (0o040000, '5')
        } else if ft.is_symlink() {
            (0o120000, '2')
        } else if ft.is_char_device() {
            (0o020000, '3')
        } else if ft.is_block_device() {
            (0o060000, '4')
        } else if ft.is_fifo() {
            (0o010000, '6')
        } else {
            (0o100000, '0')
        };
        let mut tar_name = name.to_string();
        if ft.is_dir() && !tar_name.ends_with('/') {
            tar_name.push('/');
        }
        let mode = (meta.mode() & 0o7777) | type_bits;
        let (uid, gid) = if self.root_owned {
            (0, 0)
        } else {
            (meta.uid(), meta.gid())
        };
        let size = if ft.is_file() { meta.len() } else { 0 };
        let link = if ft.is_symlink() {
            fs::read_link(path)
                .map_err(io_err(path))?
                .to_string_lossy()
                .into_owned()
        } else {
            String::new()
        };
        let (major, minor) = if ft.is_char_device() || ft.is_block_device() {
            let rdev = meta.rdev();
            (
                ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff),
                (rdev & 0xff) | ((rdev >> 12) & !0xff),
            )
        } else {
            (0, 0)
        };
        // A regular file's sum may come from the memo (its header fields are in the stamp).
        let stamp = match (&self.memo, ft.is_file()) {
            (Some(memo), true) => {
                let stamp = format!(
                    "{}:{}:{}:{}.{}:{}.{}:{mode}:{uid}:{gid}",
                    meta.dev(),
                    meta.ino(),
                    size,
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.ctime(),
                    meta.ctime_nsec()
                );
                let mut memo = memo.lock().expect("memo lock");
                if let Some((known, sum)) = memo.known.get(&tar_name).cloned() {
                    if known == stamp {
                        memo.used.insert(tar_name, (stamp, sum.clone()));
                        return Ok(sum);
                    }
                }
                Some(stamp)
            }
            _ => None,
        };
        let settled = SystemTime::UNIX_EPOCH
            + Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec().max(0) as u32)
            + SETTLE
            < SystemTime::now();
        let memo_name = tar_name.clone();
        let mut h = Sha256::new();
        for (k, v) in [
            ("name", tar_name),
            ("mode", mode.to_string()),
            ("uid", uid.to_string()),
            ("gid", gid.to_string()),
            ("size", size.to_string()),
            ("typeflag", flag.to_string()),
            ("linkname", link),
            ("uname", String::new()),
            ("gname", String::new()),
            ("devmajor", major.to_string()),
            ("devminor", minor.to_string()),
        ] {
            h.update(k.as_bytes());
            h.update(v.as_bytes());
        }
        if ft.is_file() {
            let mut f = fs::File::open(path).map_err(io_err(path))?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf).map_err(io_err(path))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
        let sum = hex::encode(h.finalize());
        if let (Some(memo), Some(stamp)) = (&self.memo, stamp) {
            if settled {
                let mut memo = memo.lock().expect("memo lock");
                memo.used.insert(memo_name, (stamp, sum.clone()));
            }
        }
        Ok(sum)
    }

    /// Whether the file `rel` is a (possibly compressed) tar archive, which ADD extracts.
    pub fn is_archive(&self, rel: &str) -> bool {
        let Ok(f) = fs::File::open(self.resolve(rel)) else {
            return false;
        };
        let Ok(r) = berth_store::archive::decompress(io::BufReader::new(f)) else {
            return false;
        };
        let mut a = tar::Archive::new(r);
        let ok = match a.entries() {
            Ok(mut entries) => matches!(entries.next(), Some(Ok(_))),
            Err(_) => false,
        };
        ok
    }
}

fn rel_of(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .map(|r| r.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Go's `containsWildcards` (a `\` escapes the next character).
fn contains_wildcards(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Resolves `rel` beneath `root`, following symlinks as if `root` were `/` (at most 255).
pub fn resolve_in_root(root: &Path, rel: &str) -> PathBuf {
    let mut stack: Vec<String> = Vec::new();
    let mut todo: Vec<String> = rel
        .split('/')
        .rev()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                stack.pop();
                continue;
            }
            _ => {}
        }
        let mut candidate = root.to_path_buf();
        for s in &stack {
            candidate.push(s);
        }
        candidate.push(&c);
        match fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() && links < 255 => {
                links += 1;
                let target = fs::read_link(&candidate).unwrap_or_default();
                if target.is_absolute() {
                    stack.clear();
                }
                let comps: Vec<String> = target
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                        Component::ParentDir => Some("..".into()),
                        _ => None,
                    })
                    .collect();
                for t in comps.into_iter().rev() {
                    todo.push(t);
                }
            }
            _ => stack.push(c),
        }
    }
    let mut out = root.to_path_buf();
    for s in stack {
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("src/sub")).unwrap();
        fs::write(r.join("src/a.txt"), "a").unwrap();
        fs::write(r.join("src/sub/b.txt"), "b").unwrap();
        fs::write(r.join("top.txt"), "top").unwrap();
        fs::write(r.join("secret.key"), "k").unwrap();
        fs::write(r.join(".dockerignore"), "*.key\n").unwrap();
        std::os::unix::fs::symlink("/etc", r.join("escape")).unwrap();
        d
    }

    #[test]
    fn sources_globs_and_ignores() {
        let d = tree();
        let c = Context::from_dir(d.path()).unwrap();
        let s = c.sources("/top.txt").unwrap();
        assert_eq!(s.len(), 1);
        assert!(s[0].2.starts_with("file:") && !s[0].1);
        let s = c.sources("src").unwrap();
        assert!(s[0].1 && s[0].2.starts_with("dir:"));
        let globbed: Vec<String> = c
            .sources("*.txt")
            .unwrap()
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(globbed, ["top.txt"]);
        assert!(matches!(
            c.sources("secret.key"),
            Err(ContextError::NotFound(_))
        ));
        assert!(c.sources("*.key").unwrap().is_empty());
        assert_eq!(
            c.sources("nope").unwrap_err().to_string(),
            "file not found in build context or excluded by .dockerignore: stat nope: file does not exist"
        );
        // A symlink to /etc stays inside the context.
        assert_eq!(c.resolve("escape/passwd"), d.path().join("etc/passwd"));
    }

    #[test]
    fn a_memo_skips_files_whose_stamp_is_unchanged() {
        let d = tree();
        let f = d.path().join("src/a.txt");
        let fresh = Context::from_dir(d.path())
            .unwrap()
            .with_memo(SumMemo::default());
        let real = fresh.sources("src/a.txt").unwrap()[0].2.clone();
        assert_eq!(
            fresh.memo_json(),
            None,
            "a file changed just now is not remembered"
        );
        std::thread::sleep(SETTLE + Duration::from_millis(200));
        let c = Context::from_dir(d.path())
            .unwrap()
            .with_memo(SumMemo::default());
        assert_eq!(c.sources("src/a.txt").unwrap()[0].2, real);
        let json = c.memo_json().expect("a settled file is remembered");
        // A remembered sum is used as it is while the stamp holds...
        let sum = real.strip_prefix("file:").unwrap();
        let poisoned = json.replace(sum, &"0".repeat(64));
        let c = Context::from_dir(d.path())
            .unwrap()
            .with_memo(SumMemo::from_json(Some(&poisoned)));
        assert_eq!(
            c.sources("src/a.txt").unwrap()[0].2,
            format!("file:{}", "0".repeat(64))
        );
        assert_eq!(c.memo_json(), None, "nothing new to keep");
        // ...and a write moves the stamp, so the file is read again.
        fs::write(&f, "a").unwrap();
        assert_eq!(c.sources("src/a.txt").unwrap()[0].2, real);
        // The directory's sum is built from the same file sums.
        let plain = Context::from_dir(d.path()).unwrap();
        assert_eq!(c.sources("src").unwrap(), plain.sources("src").unwrap());
    }

    #[test]
    fn hashes_follow_content_and_mode_not_mtime() {
        let d = tree();
        let c = Context::from_dir(d.path()).unwrap();
        let h1 = c.sources("src").unwrap()[0].2.clone();
        let f = d.path().join("src/a.txt");
        let t = fs::metadata(&f).unwrap().modified().unwrap();
        fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(t + std::time::Duration::from_secs(60))
            .unwrap();
        assert_eq!(c.sources("src").unwrap()[0].2, h1, "mtime is not hashed");
        fs::write(&f, "changed").unwrap();
        let h2 = c.sources("src").unwrap()[0].2.clone();
        assert_ne!(h2, h1);
        fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
        assert_ne!(c.sources("src").unwrap()[0].2, h2);
    }

    #[test]
    fn tarsum_of_a_file_is_dockers() {
        // name "hello.txt", mode 0644 regular, root-owned, content "hello\n": the sum Docker's
        // tarsum.v1 gives for the docker CLI's tar entry.
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hello.txt");
        fs::write(&f, "hello\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let c = Context::plain(d.path());
        let c = Context {
            root_owned: true,
            ..c
        };
        let mut h = Sha256::new();
        h.update(b"namehello.txtmode33188uid0gid0size6typeflag0linknameunamegnamedevmajor0devminor0hello\n");
        assert_eq!(
            c.sources("hello.txt").unwrap()[0].2,
            format!("file:{}", hex::encode(h.finalize()))
        );
    }
}
