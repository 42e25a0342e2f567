//! [`attach`] binds a filesystem image to a free loop device, as `mount -o loop` does: the three
//! loop ioctls by hand. The maintained `loopdev` crate generates its bindings with bindgen at
//! build time (libclang on every build machine) for what is a small, stable kernel ABI
//! (`linux/loop.h`), so berth declares the two structures itself.
//!
//! The device is configured with `LO_FLAGS_AUTOCLEAR`: the kernel detaches it when its last user
//! goes — the mount made on it when that is unmounted, or the descriptor returned here if no
//! mount is made — so a volume's loop device never outlives its mount.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::LoopDevice;

const LOOP_SET_FD: libc::Ioctl = 0x4C00;
const LOOP_CLR_FD: libc::Ioctl = 0x4C01;
const LOOP_SET_STATUS64: libc::Ioctl = 0x4C04;
const LOOP_CONFIGURE: libc::Ioctl = 0x4C0A;
const LOOP_CTL_GET_FREE: libc::Ioctl = 0x4C82;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_NAME_SIZE: usize = 64;
const LO_KEY_SIZE: usize = 32;

/// `struct loop_info64` of `linux/loop.h`.
#[repr(C)]
#[derive(Clone, Copy)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; LO_NAME_SIZE],
    lo_crypt_name: [u8; LO_NAME_SIZE],
    lo_encrypt_key: [u8; LO_KEY_SIZE],
    lo_init: [u64; 2],
}

/// `struct loop_config` of `linux/loop.h` (Linux 5.8+).
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

fn info_for(file: &Path) -> LoopInfo64 {
    let mut info = LoopInfo64 {
        lo_device: 0,
        lo_inode: 0,
        lo_rdevice: 0,
        lo_offset: 0,
        lo_sizelimit: 0,
        lo_number: 0,
        lo_encrypt_type: 0,
        lo_encrypt_key_size: 0,
        lo_flags: LO_FLAGS_AUTOCLEAR,
        lo_file_name: [0; LO_NAME_SIZE],
        lo_crypt_name: [0; LO_NAME_SIZE],
        lo_encrypt_key: [0; LO_KEY_SIZE],
        lo_init: [0; 2],
    };
    let name = file.as_os_str().as_encoded_bytes();
    let n = name.len().min(LO_NAME_SIZE - 1);
    info.lo_file_name[..n].copy_from_slice(&name[..n]);
    info
}

fn open_rw(path: &Path) -> io::Result<OwnedFd> {
    Ok(OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)?
        .into())
}

/// ioctl(2) with a pointer or integer argument; -1 becomes the errno.
fn ioctl(fd: &OwnedFd, request: libc::Ioctl, arg: usize) -> io::Result<libc::c_int> {
    // SAFETY: `fd` is an open descriptor; every request made here takes either an integer or a
    // pointer to a live, correctly laid out `#[repr(C)]` structure that outlives the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Attaches `file` (read-write) to a free loop device set to clear itself once unused.
pub(super) fn attach(file: &Path) -> io::Result<LoopDevice> {
    let backing = open_rw(file)?;
    let control = open_rw(Path::new("/dev/loop-control"))?;
    // Another process may take the free device between the two calls: ask again then.
    for _ in 0..16 {
        let n = ioctl(&control, LOOP_CTL_GET_FREE, 0)?;
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let device = open_rw(&path)?;
        match configure(&device, &backing, file) {
            Ok(()) => {
                return Ok(LoopDevice {
                    path,
                    fd: Some(device),
                })
            }
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::EBUSY))
}

fn configure(device: &OwnedFd, backing: &OwnedFd, file: &Path) -> io::Result<()> {
    let config = LoopConfig {
        fd: backing.as_raw_fd() as u32,
        block_size: 0,
        info: info_for(file),
        reserved: [0; 8],
    };
    match ioctl(
        device,
        LOOP_CONFIGURE,
        &config as *const LoopConfig as usize,
    ) {
        Ok(_) => Ok(()),
        // Kernels before 5.8: attach, then set the flags.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOTTY)) => {
            ioctl(device, LOOP_SET_FD, backing.as_raw_fd() as usize)?;
            let info = info_for(file);
            if let Err(e) = ioctl(
                device,
                LOOP_SET_STATUS64,
                &info as *const LoopInfo64 as usize,
            ) {
                let _ = ioctl(device, LOOP_CLR_FD, 0);
                return Err(e);
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_have_the_kernels_layout() {
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
        assert_eq!(std::mem::size_of::<LoopConfig>(), 304);
        let info = info_for(Path::new("/v/fs.img"));
        assert_eq!(&info.lo_file_name[..10], b"/v/fs.img\0");
        assert_eq!(info.lo_flags, LO_FLAGS_AUTOCLEAR);
        let long = "x".repeat(100);
        assert_eq!(info_for(Path::new(&long)).lo_file_name[LO_NAME_SIZE - 1], 0);
    }

    #[test]
    #[ignore = "needs root"]
    fn an_attached_image_clears_once_its_descriptor_closes() {
        let t = tempfile::tempdir().unwrap();
        let img = t.path().join("fs.img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        let dev = attach(&img).unwrap();
        let name = dev.path.file_name().unwrap().to_str().unwrap().to_string();
        let backing = format!("/sys/block/{name}/loop/backing_file");
        assert_eq!(
            std::fs::read_to_string(&backing).unwrap().trim(),
            img.display().to_string()
        );
        drop(dev);
        // The kernel clears an autoclear device on its last close (udev may hold it a moment).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::path::Path::new(&backing).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            !std::path::Path::new(&backing).exists(),
            "{name} still attached"
        );
    }
}
