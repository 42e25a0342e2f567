//! `Frame` is one message of the attach protocol; `FrameDecoder` reassembles frames from the
//! byte stream of the attach socket.
//!
//! Each frame is a 5-byte header, the frame type (one byte) and the payload length (u32,
//! big-endian), followed by the payload. A client opens with `Hello` naming the streams it
//! wants; the shim sends output frames for those streams, `Started` or `StartFailed` after a
//! `Start` request, and `Exit` when the container's process is gone and its exit recorded.

use crate::runtime::StartFailure;
use crate::term::WinSize;

/// Largest payload accepted; larger frames are a protocol error.
pub const MAX_PAYLOAD: usize = 1 << 20;

const T_HELLO: u8 = 0x01;
const T_STDIN: u8 = 0x02;
const T_CLOSE_STDIN: u8 = 0x03;
const T_RESIZE: u8 = 0x04;
const T_START: u8 = 0x05;
const T_STDOUT: u8 = 0x11;
const T_STDERR: u8 = 0x12;
const T_EXIT: u8 = 0x13;
const T_STARTED: u8 = 0x14;
const T_START_FAILED: u8 = 0x15;

/// One attach-protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Client → shim, first frame: the streams this client attaches to.
    Hello {
        /// The client sends stdin.
        stdin: bool,
        /// The client wants stdout (with a tty: all output).
        stdout: bool,
        /// The client wants stderr.
        stderr: bool,
    },
    /// Client → shim: bytes for the container's stdin.
    Stdin(Vec<u8>),
    /// Client → shim: the client's stdin reached end of file.
    CloseStdin,
    /// Client → shim: the client's terminal size.
    Resize(WinSize),
    /// Client → shim: start the container if it waits for its first attach.
    Start,
    /// Shim → client: container stdout (with a tty: the terminal's output).
    Stdout(Vec<u8>),
    /// Shim → client: container stderr.
    Stderr(Vec<u8>),
    /// Shim → client: the container's process exited with this code (128+n for signal n).
    Exit(i32),
    /// Shim → client: the container is running (answer to `Start`).
    Started,
    /// Shim → client: the runtime failed to start the container.
    StartFailed(StartFailure),
}

/// A malformed frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    /// Unknown frame type.
    #[error("attach protocol: unknown frame type {0:#04x}")]
    UnknownType(u8),
    /// Payload over [`MAX_PAYLOAD`].
    #[error("attach protocol: frame of {0} bytes is too large")]
    TooLarge(usize),
    /// Payload of the wrong size or content for its type.
    #[error("attach protocol: bad payload for frame type {0:#04x}")]
    BadPayload(u8),
}

impl Frame {
    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut put = |t: u8, payload: &[u8]| {
            out.push(t);
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            out.extend_from_slice(payload);
        };
        match self {
            Frame::Hello {
                stdin,
                stdout,
                stderr,
            } => put(
                T_HELLO,
                &[(*stdin as u8) | ((*stdout as u8) << 1) | ((*stderr as u8) << 2)],
            ),
            Frame::Stdin(d) => put(T_STDIN, d),
            Frame::CloseStdin => put(T_CLOSE_STDIN, &[]),
            Frame::Resize(ws) => {
                let mut p = [0u8; 4];
                p[..2].copy_from_slice(&ws.rows.to_be_bytes());
                p[2..].copy_from_slice(&ws.cols.to_be_bytes());
                put(T_RESIZE, &p)
            }
            Frame::Start => put(T_START, &[]),
            Frame::Stdout(d) => put(T_STDOUT, d),
            Frame::Stderr(d) => put(T_STDERR, d),
            Frame::Exit(code) => put(T_EXIT, &code.to_be_bytes()),
            Frame::Started => put(T_STARTED, &[]),
            Frame::StartFailed(f) => {
                let mut p = f.exit_code.to_be_bytes().to_vec();
                p.extend_from_slice(f.message.as_bytes());
                put(T_START_FAILED, &p)
            }
        }
    }

    /// The encoded frame.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    fn decode(t: u8, p: &[u8]) -> Result<Frame, ProtocolError> {
        let bad = || ProtocolError::BadPayload(t);
        let empty = |f: Frame| if p.is_empty() { Ok(f) } else { Err(bad()) };
        match t {
            T_HELLO => match p {
                [b] => Ok(Frame::Hello {
                    stdin: b & 1 != 0,
                    stdout: b & 2 != 0,
                    stderr: b & 4 != 0,
                }),
                _ => Err(bad()),
            },
            T_STDIN => Ok(Frame::Stdin(p.to_vec())),
            T_CLOSE_STDIN => empty(Frame::CloseStdin),
            T_RESIZE => match p {
                [a, b, c, d] => Ok(Frame::Resize(WinSize {
                    rows: u16::from_be_bytes([*a, *b]),
                    cols: u16::from_be_bytes([*c, *d]),
                })),
                _ => Err(bad()),
            },
            T_START => empty(Frame::Start),
            T_STDOUT => Ok(Frame::Stdout(p.to_vec())),
            T_STDERR => Ok(Frame::Stderr(p.to_vec())),
            T_EXIT => {
                let b: [u8; 4] = p.try_into().map_err(|_| bad())?;
                Ok(Frame::Exit(i32::from_be_bytes(b)))
            }
            T_STARTED => empty(Frame::Started),
            T_START_FAILED => {
                if p.len() < 4 {
                    return Err(bad());
                }
                let code = i32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                let message = String::from_utf8(p[4..].to_vec()).map_err(|_| bad())?;
                Ok(Frame::StartFailed(StartFailure {
                    message,
                    exit_code: code,
                }))
            }
            other => Err(ProtocolError::UnknownType(other)),
        }
    }
}

/// Reassembles frames from arbitrary chunks of the byte stream.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ProtocolError> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(ProtocolError::TooLarge(len));
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        let frame = Frame::decode(self.buf[0], &self.buf[5..5 + len]);
        self.buf.drain(..5 + len);
        frame.map(Some)
    }

    /// Bytes buffered but not yet decoded.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_round_trips_byte_by_byte() {
        let frames = vec![
            Frame::Hello {
                stdin: true,
                stdout: false,
                stderr: true,
            },
            Frame::Stdin(b"abc".to_vec()),
            Frame::CloseStdin,
            Frame::Resize(WinSize { rows: 24, cols: 80 }),
            Frame::Start,
            Frame::Stdout(vec![0, 1, 2, 255]),
            Frame::Stderr(Vec::new()),
            Frame::Exit(137),
            Frame::Exit(-1),
            Frame::Started,
            Frame::StartFailed(StartFailure {
                message: "exec: \"x\": executable file not found in $PATH".into(),
                exit_code: 127,
            }),
        ];
        let mut bytes = Vec::new();
        for f in &frames {
            f.encode(&mut bytes);
        }
        let mut dec = FrameDecoder::default();
        let mut got = Vec::new();
        for b in bytes {
            dec.push(&[b]);
            while let Some(f) = dec.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
        assert_eq!(dec.pending(), 0);
    }

    #[test]
    fn malformed_frames_are_errors() {
        let mut dec = FrameDecoder::default();
        dec.push(&[0x7f, 0, 0, 0, 0]);
        assert_eq!(dec.next_frame(), Err(ProtocolError::UnknownType(0x7f)));
        let mut dec = FrameDecoder::default();
        dec.push(&[T_STDOUT, 0xff, 0, 0, 0]);
        assert!(matches!(dec.next_frame(), Err(ProtocolError::TooLarge(_))));
        let mut dec = FrameDecoder::default();
        dec.push(&[T_EXIT, 0, 0, 0, 1, 7]);
        assert_eq!(dec.next_frame(), Err(ProtocolError::BadPayload(T_EXIT)));
    }
}
