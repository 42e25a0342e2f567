//! Docker's multiplexed stream: each chunk of a container's output (when it has no terminal)
//! is preceded by 8 bytes — the stream (1 stdout, 2 stderr), three zero bytes, and the chunk's
//! length, big-endian — so one connection carries stdout and stderr apart.

/// Stream number of stdout.
pub const STDOUT: u8 = 1;
/// Stream number of stderr.
pub const STDERR: u8 = 2;

/// The frame header of a chunk of `len` bytes on `stream`.
pub fn header(stream: u8, len: usize) -> [u8; 8] {
    let mut h = [stream, 0, 0, 0, 0, 0, 0, 0];
    h[4..].copy_from_slice(&(len as u32).to_be_bytes());
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn headers_carry_stream_and_big_endian_length() {
        assert_eq!(super::header(2, 0x0102_0304), [2, 0, 0, 0, 1, 2, 3, 4]);
    }
}
