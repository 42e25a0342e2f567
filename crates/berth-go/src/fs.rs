//! Go's `os.FileMode`: how Go encodes a file's type and permissions in one number (type bits at
//! the top, `ModeDir = 1<<31`...), as Docker sends it in `X-Docker-Container-Path-Stat` and the
//! docker CLI reads it back (`IsDir()`, `IsRegular()`).

/// `os.ModeDir`.
pub const MODE_DIR: u32 = 1 << 31;
/// `os.ModeSymlink`.
pub const MODE_SYMLINK: u32 = 1 << 27;
/// `os.ModeDevice`.
pub const MODE_DEVICE: u32 = 1 << 26;
/// `os.ModeNamedPipe`.
pub const MODE_NAMED_PIPE: u32 = 1 << 25;
/// `os.ModeSocket`.
pub const MODE_SOCKET: u32 = 1 << 24;
/// `os.ModeSetuid`.
pub const MODE_SETUID: u32 = 1 << 23;
/// `os.ModeSetgid`.
pub const MODE_SETGID: u32 = 1 << 22;
/// `os.ModeCharDevice`.
pub const MODE_CHAR_DEVICE: u32 = 1 << 21;
/// `os.ModeSticky`.
pub const MODE_STICKY: u32 = 1 << 20;

/// A stat(2) `st_mode` as Go's `os.FileMode` (`fillFileStatFromSys`).
pub fn file_mode(st_mode: u32) -> u32 {
    let mut mode = st_mode & 0o777;
    mode |= match st_mode & 0o170000 {
        0o060000 => MODE_DEVICE,
        0o020000 => MODE_DEVICE | MODE_CHAR_DEVICE,
        0o040000 => MODE_DIR,
        0o010000 => MODE_NAMED_PIPE,
        0o120000 => MODE_SYMLINK,
        0o140000 => MODE_SOCKET,
        _ => 0,
    };
    if st_mode & 0o2000 != 0 {
        mode |= MODE_SETGID;
    }
    if st_mode & 0o4000 != 0 {
        mode |= MODE_SETUID;
    }
    if st_mode & 0o1000 != 0 {
        mode |= MODE_STICKY;
    }
    mode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_gos() {
        assert_eq!(file_mode(0o100644), 0o644);
        assert_eq!(file_mode(0o040755), MODE_DIR | 0o755);
        assert_eq!(file_mode(0o041777), MODE_DIR | MODE_STICKY | 0o777);
        assert_eq!(file_mode(0o120777), MODE_SYMLINK | 0o777);
        assert_eq!(file_mode(0o020666), MODE_DEVICE | MODE_CHAR_DEVICE | 0o666);
        assert_eq!(file_mode(0o104755), MODE_SETUID | 0o755);
        // What a directory's stat looks like on the wire (Docker: 2147484141 for 0755).
        assert_eq!(file_mode(0o040755), 2147484141);
    }
}
