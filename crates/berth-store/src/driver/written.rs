//! [`Written`] says where a container's writable layer holds what the container changed: the
//! bytes in total and split by the directories that hold them (`/var/lib/mysql 118 MB`,
//! `/tmp 4 kB`). [`Splitter`] builds the split in one pass over a depth-first walk, keeping only
//! one frame per open directory on the current path (and never below [`MAX_DEPTH`]), so memory is
//! bounded by the split's depth and row caps, not by the number of files in the layer.
//!
//! The rule, applied when a directory's walk ends:
//! - a directory holding changed entries directly (files, symlinks, whiteouts) is where data
//!   lives: it becomes one row with everything below it;
//! - a directory holding only one child row passes that row up (`/var` → `/var/lib/mysql`);
//! - a directory whose changes are spread over several child rows keeps the rows that hold at
//!   least a tenth of its bytes and folds the rest into a row of its own;
//! - the root keeps every top row (up to [`MAX_ROWS`]); changes directly in `/` are a `/` row.
//!
//! Bytes are counted as [`crate::fsutil::tree_size`] counts them (files and symlinks by size,
//! directories not at all, each hard-linked inode once), so the total equals `SizeRw`.

use std::collections::HashSet;
use std::io;
use std::path::Path;

/// Rows are never deeper than this many path components.
pub const MAX_DEPTH: usize = 8;
/// Rows one directory keeps while its walk goes on; beyond it, the smallest fold into the
/// directory itself.
pub const MAX_ROWS: usize = 64;
/// Hard-linked inodes remembered to count them once; beyond it each link counts its share.
const MAX_LINKS: usize = 1 << 16;

/// What a writable layer holds: its total, and the split by directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Bytes of everything changed (the layer's `SizeRw`).
    pub bytes: u64,
    /// Changed entries (files, symlinks, whiteouts, devices; directories are not counted).
    pub entries: u64,
    /// Where they are, sorted by path; the rows add up to `bytes` and `entries`.
    pub dirs: Vec<WrittenDir>,
}

/// One row of a [`Written`] split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenDir {
    /// Absolute path in the container (`/var/lib/mysql`; `/` for entries directly in the root
    /// and for what folded into it).
    pub path: String,
    /// Bytes below `path` that no more specific row holds.
    pub bytes: u64,
    /// Entries below `path` that no more specific row holds.
    pub entries: u64,
}

/// What the walk met.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    /// A directory (its own change is not counted; what is in it is).
    Dir,
    /// Anything else: a file, symlink, whiteout or device, with its size and inode.
    Other {
        /// Size in bytes (0 for whiteouts).
        len: u64,
        /// Device and inode, to count hard links once.
        inode: (u64, u64),
        /// Link count.
        nlink: u64,
    },
}

#[derive(Debug, Default)]
struct Frame {
    /// Absolute path (`""` for the root).
    path: String,
    /// Entries directly in this directory (or folded into it).
    own_bytes: u64,
    own_entries: u64,
    /// Everything below it, own included.
    bytes: u64,
    entries: u64,
    /// Rows its closed children handed up.
    rows: Vec<WrittenDir>,
}

impl Frame {
    fn as_row(&self, bytes: u64, entries: u64) -> WrittenDir {
        WrittenDir {
            path: if self.path.is_empty() {
                "/".into()
            } else {
                self.path.clone()
            },
            bytes,
            entries,
        }
    }

    /// Folds the smallest rows into the frame itself once it holds too many.
    fn bound_rows(&mut self) {
        if self.rows.len() <= MAX_ROWS {
            return;
        }
        self.rows
            .sort_unstable_by(|a, b| b.bytes.cmp(&a.bytes).then(b.entries.cmp(&a.entries)));
        for r in self.rows.drain(MAX_ROWS / 2..) {
            self.own_bytes += r.bytes;
            self.own_entries += r.entries;
        }
    }
}

/// Builds a [`Written`] from a depth-first, pre-order stream of entries ([`Splitter::entry`])
/// or from paths in component order ([`Splitter::path`]).
#[derive(Debug)]
pub struct Splitter {
    /// `stack[0]` is the root; `stack[d]` the open directory at depth `d` (≤ [`MAX_DEPTH`]).
    stack: Vec<Frame>,
    links: HashSet<(u64, u64)>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::new()
    }
}

impl Splitter {
    /// An empty split.
    pub fn new() -> Splitter {
        Splitter {
            stack: vec![Frame::default()],
            links: HashSet::new(),
        }
    }

    /// The entry `name` at `depth` (1: directly in the root). Entries must come depth first,
    /// each directory before what it holds, and a directory's content contiguously.
    pub fn entry(&mut self, depth: usize, name: &str, entry: Entry) {
        let depth = depth.max(1);
        while self.stack.len() > depth {
            self.close();
        }
        match entry {
            Entry::Dir => {
                if depth <= MAX_DEPTH && self.stack.len() == depth {
                    let parent = &self.stack[depth - 1].path;
                    let path = format!("{parent}/{name}");
                    self.stack.push(Frame {
                        path,
                        ..Frame::default()
                    });
                }
            }
            Entry::Other { len, inode, nlink } => {
                let bytes = self.count(len, inode, nlink);
                let top = self.stack.last_mut().expect("the root frame stays");
                top.own_bytes += bytes;
                top.own_entries += 1;
                top.bytes += bytes;
                top.entries += 1;
            }
        }
    }

    /// The entry at `path` (absolute, `/`-separated). Paths must come sorted by component (a
    /// directory's content contiguously); missing parent directories are opened on the way.
    pub fn path(&mut self, path: &str, entry: Entry) {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some((last, dirs)) = parts.split_last() else {
            return;
        };
        for (i, dir) in dirs.iter().enumerate() {
            let depth = i + 1;
            let open = self
                .stack
                .get(depth)
                .is_some_and(|f| f.path.rsplit('/').next() == Some(dir));
            if depth > MAX_DEPTH || !open {
                self.entry(depth, dir, Entry::Dir);
            }
        }
        self.entry(parts.len(), last, entry);
    }

    /// Bytes an entry adds: its size, once per hard-linked inode.
    fn count(&mut self, len: u64, inode: (u64, u64), nlink: u64) -> u64 {
        if len == 0 || nlink <= 1 {
            return len;
        }
        if self.links.contains(&inode) {
            return 0;
        }
        if self.links.len() < MAX_LINKS {
            self.links.insert(inode);
            return len;
        }
        len / nlink
    }

    /// Ends the walk of the innermost open directory and hands its rows to its parent.
    fn close(&mut self) {
        let f = self
            .stack
            .pop()
            .expect("close is called on open directories");
        let depth = self.stack.len();
        let parent = self.stack.last_mut().expect("the root frame stays");
        parent.bytes += f.bytes;
        parent.entries += f.entries;
        if f.entries == 0 {
            return;
        }
        if f.own_entries > 0 || depth == MAX_DEPTH || f.rows.is_empty() {
            parent.rows.push(f.as_row(f.bytes, f.entries));
        } else if f.rows.len() == 1 {
            parent.rows.extend(f.rows);
        } else {
            let (mut rest_bytes, mut rest_entries) = (f.bytes, f.entries);
            for r in &f.rows {
                if r.bytes * 10 >= f.bytes {
                    rest_bytes -= r.bytes;
                    rest_entries -= r.entries;
                    parent.rows.push(r.clone());
                }
            }
            if rest_entries > 0 {
                parent.rows.push(f.as_row(rest_bytes, rest_entries));
            }
        }
        parent.bound_rows();
    }

    /// The split.
    pub fn finish(mut self) -> Written {
        while self.stack.len() > 1 {
            self.close();
        }
        let mut root = self.stack.pop().expect("the root frame stays");
        if root.own_entries > 0 {
            let row = root.as_row(root.own_bytes, root.own_entries);
            root.rows.push(row);
        }
        root.rows.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        // A fold into the root can meet an earlier `/` row: one row per path.
        root.rows.dedup_by(|b, a| {
            if a.path == b.path {
                a.bytes += b.bytes;
                a.entries += b.entries;
                true
            } else {
                false
            }
        });
        Written {
            bytes: root.bytes,
            entries: root.entries,
            dirs: root.rows,
        }
    }
}

/// Splits an overlay upper directory (`dir` holds only what the container changed) in one walk.
/// Entries that vanish during the walk (a running container deleting files) are skipped.
pub fn split_upper(dir: &Path) -> io::Result<Written> {
    use std::os::unix::fs::MetadataExt;
    let mut s = Splitter::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false).min_depth(1) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.io_error().map(|e| e.kind()) == Some(io::ErrorKind::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_dir() {
            s.entry(entry.depth(), &name, Entry::Dir);
            continue;
        }
        let md = match entry.metadata() {
            Ok(md) => md,
            Err(e) if e.io_error().map(|e| e.kind()) == Some(io::ErrorKind::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        s.entry(
            entry.depth(),
            &name,
            Entry::Other {
                len: md.len(),
                inode: (md.dev(), md.ino()),
                nlink: md.nlink(),
            },
        );
    }
    Ok(s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(len: u64) -> Entry {
        Entry::Other {
            len,
            inode: (0, 0),
            nlink: 1,
        }
    }

    fn rows(w: &Written) -> Vec<(&str, u64)> {
        w.dirs.iter().map(|d| (d.path.as_str(), d.bytes)).collect()
    }

    fn split(paths: &[(&str, Option<u64>)]) -> Written {
        let mut s = Splitter::new();
        for (p, len) in paths {
            s.path(p, len.map(file).unwrap_or(Entry::Dir));
        }
        s.finish()
    }

    #[test]
    fn a_database_directory_is_one_row_and_parents_narrow_to_it() {
        let w = split(&[
            ("/run", None),
            ("/run/mysqld", None),
            ("/run/mysqld/mysqld.pid", Some(3)),
            ("/tmp/x", Some(10)),
            ("/var", None),
            ("/var/lib", None),
            ("/var/lib/mysql", None),
            ("/var/lib/mysql/ibdata1", Some(1000)),
            ("/var/lib/mysql/mysql/user.ibd", Some(500)),
            ("/var/lib/mysql/sys/sys.ibd", Some(500)),
        ]);
        assert_eq!(w.bytes, 2013);
        assert_eq!(w.entries, 5);
        assert_eq!(
            rows(&w),
            [("/run/mysqld", 3), ("/tmp", 10), ("/var/lib/mysql", 2000)]
        );
    }

    #[test]
    fn small_siblings_fold_into_their_parent_and_big_ones_stay() {
        let w = split(&[
            ("/var/lib/mysql/ibdata1", Some(10_000)),
            ("/var/log/apt/history.log", Some(50)),
            ("/var/cache/x/y", Some(40)),
        ]);
        assert_eq!(rows(&w), [("/var", 90), ("/var/lib/mysql", 10_000)]);
        assert_eq!(w.dirs.iter().map(|d| d.entries).sum::<u64>(), 3);
    }

    #[test]
    fn files_in_the_root_and_deletions_count() {
        let mut s = Splitter::new();
        s.entry(1, "hello", file(5));
        s.entry(1, "etc", Entry::Dir);
        s.entry(2, "motd", file(0)); // a whiteout
        let w = s.finish();
        assert_eq!(rows(&w), [("/", 5), ("/etc", 0)]);
        assert_eq!(w.entries, 2);
    }

    #[test]
    fn hard_links_count_once() {
        let mut s = Splitter::new();
        let link = Entry::Other {
            len: 100,
            inode: (1, 7),
            nlink: 2,
        };
        s.path("/a/x", link);
        s.path("/b/y", link);
        let w = s.finish();
        assert_eq!(w.bytes, 100);
        assert_eq!(w.entries, 2);
    }

    #[test]
    fn rows_stop_at_the_maximum_depth() {
        let deep = "/a/b/c/d/e/f/g/h/i/j/k/file";
        let w = split(&[(deep, Some(7)), ("/a/b/c/d/e/f/g/h/i/j/k/l/m/n", Some(1))]);
        assert_eq!(rows(&w), [("/a/b/c/d/e/f/g/h", 8)]);
    }

    #[test]
    fn many_directories_keep_memory_bounded() {
        let mut s = Splitter::new();
        s.entry(1, "many", Entry::Dir);
        for i in 0..10_000u64 {
            s.entry(2, &format!("d{i}"), Entry::Dir);
            s.entry(3, "f", file(i));
            assert!(s.stack[1].rows.len() <= MAX_ROWS + 1);
        }
        let w = s.finish();
        assert_eq!(w.bytes, (0..10_000u64).sum::<u64>());
        assert_eq!(rows(&w), [("/many", w.bytes)]);
    }

    #[test]
    fn the_upper_walk_matches_tree_size() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("var/lib/mysql")).unwrap();
        std::fs::write(root.join("var/lib/mysql/ibdata1"), vec![0u8; 4096]).unwrap();
        std::fs::hard_link(
            root.join("var/lib/mysql/ibdata1"),
            root.join("var/lib/mysql/link"),
        )
        .unwrap();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::os::unix::fs::symlink("/nowhere", root.join("tmp/l")).unwrap();
        let w = split_upper(root).unwrap();
        assert_eq!(w.bytes, crate::fsutil::tree_size(root).unwrap());
        assert_eq!(rows(&w), [("/tmp", 8), ("/var/lib/mysql", 4096)]);
    }
}
