//! The files around a container's root filesystem: `hosts`, `hostname` and `resolv.conf` in its
//! directory (bind-mounted into it at start), the init layer's placeholders (Docker's
//! `<id>-init`: mount targets and `/.dockerenv`, kept out of `diff` and `commit`), and directory
//! creation inside a rootfs that resolves symlinks as the container would (never to the host).

use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// `/etc/hosts` of a container without its own network (Docker writes the same for `none`).
const HOSTS_NONE: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// Writes `hostname`, `hosts` and `resolv.conf` into the container directory.
pub fn write_etc_files(dir: &Path, hostname: &str, host_network: bool) -> io::Result<()> {
    fs::write(dir.join("hostname"), format!("{hostname}\n"))?;
    let hosts = if host_network {
        fs::read_to_string("/etc/hosts").unwrap_or_else(|_| HOSTS_NONE.to_string())
    } else {
        HOSTS_NONE.to_string()
    };
    fs::write(dir.join("hosts"), hosts)?;
    fs::write(dir.join("resolv.conf"), resolv_conf(host_network))?;
    Ok(())
}

/// The host's resolv.conf; without host networking, loopback name servers cannot be reached
/// from the container, so they are dropped (and Google's public servers used if none is left,
/// as Docker does).
fn resolv_conf(host_network: bool) -> String {
    let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    if host_network {
        return host;
    }
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let addr = words.next().unwrap_or_default();
            if addr.starts_with("127.") || addr == "::1" {
                continue;
            }
            servers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if servers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

/// Fills the init layer at `dir` with Docker's placeholders.
pub fn populate_init_layer(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    for d in ["dev", "dev/pts", "dev/shm", "etc", "proc", "sys"] {
        match fs::DirBuilder::new().mode(0o755).create(dir.join(d)) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    for f in [
        ".dockerenv",
        "dev/console",
        "etc/hostname",
        "etc/hosts",
        "etc/resolv.conf",
    ] {
        let p = dir.join(f);
        if fs::symlink_metadata(&p).is_err() {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o755)
                .open(&p)?;
        }
    }
    let mtab = dir.join("etc/mtab");
    if fs::symlink_metadata(&mtab).is_err() {
        std::os::unix::fs::symlink("/proc/mounts", &mtab)?;
    }
    Ok(())
}

/// Creates `path` (absolute, as seen inside the container) and its missing parents under
/// `rootfs`, owned by `uid:gid`, resolving every symlink on the way relative to `rootfs`
/// (`openat2(RESOLVE_IN_ROOT)`), so a link such as `/w -> /etc` lands in the container's `/etc`,
/// never the host's. Existing components are left as they are.
pub fn mkdir_all_in_root(rootfs: &Path, path: &str, uid: u32, gid: u32) -> io::Result<()> {
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut current = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        current.push('/');
        current.push_str(part);
        match open_in_root(&root, &current) {
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let parent = if let Some((p, _)) = current.rsplit_once('/') {
            if p.is_empty() {
                "/".to_string()
            } else {
                p.to_string()
            }
        } else {
            "/".to_string()
        };
        let pfd = open_in_root(&root, &parent)?;
        match rustix::fs::mkdirat(&pfd, part, Mode::from_raw_mode(0o755)) {
            Ok(()) => {
                rustix::fs::chownat(
                    &pfd,
                    part,
                    Some(rustix::fs::Uid::from_raw(uid)),
                    Some(rustix::fs::Gid::from_raw(gid)),
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                )?;
            }
            Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn open_in_root(root: &impl AsFd, path: &str) -> io::Result<OwnedFd> {
    Ok(berth_store::fsutil::open_in_root(
        root,
        path,
        OFlags::PATH | OFlags::DIRECTORY,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mkdir_resolves_symlinks_inside_the_rootfs() {
        let t = tempfile::tempdir().unwrap();
        let rootfs = t.path().join("rootfs");
        fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc", rootfs.join("w")).unwrap();
        std::os::unix::fs::symlink("../../../..", rootfs.join("up")).unwrap();
        mkdir_all_in_root(&rootfs, "/w/sub/dir", 0, 0).unwrap();
        assert!(
            rootfs.join("etc/sub/dir").is_dir(),
            "landed in the container's /etc"
        );
        mkdir_all_in_root(&rootfs, "/up/escaped", 0, 0).unwrap();
        assert!(
            rootfs.join("escaped").is_dir(),
            ".. stops at the container's root"
        );
        assert!(!t.path().join("escaped").exists());
    }

    #[test]
    fn init_layer_has_docker_placeholders() {
        let t = tempfile::tempdir().unwrap();
        populate_init_layer(t.path()).unwrap();
        for p in [
            ".dockerenv",
            "dev/console",
            "etc/hosts",
            "etc/hostname",
            "etc/resolv.conf",
        ] {
            assert!(t.path().join(p).is_file(), "{p}");
        }
        assert_eq!(
            fs::read_link(t.path().join("etc/mtab")).unwrap(),
            Path::new("/proc/mounts")
        );
    }
}
