//! [`decompress`] sniffs a layer stream's first bytes and puts the matching streaming decoder
//! (gzip, zstd or none) in front of it.

use std::io::{self, Cursor, Read};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// The compression a layer stream was found to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

pub(crate) fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

pub(crate) fn decompress<'a, R: Read + 'a>(mut r: R) -> io::Result<Box<dyn Read + 'a>> {
    // Peek at up to four bytes without losing them: short reads (pipes) are retried.
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let kind = sniff(&head[..got]);
    let stream = Cursor::new(head).take(got as u64).chain(r);
    Ok(match kind {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(super::buffered(stream))),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(super::buffered(
            stream,
        ))?),
        Compression::None => Box::new(stream),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn payload() -> Vec<u8> {
        (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    fn read_all(r: &mut dyn Read) -> Vec<u8> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn plain_passes_through_untouched() {
        let data = payload();
        assert_eq!(read_all(&mut decompress(&data[..]).unwrap()), data);
        assert_eq!(read_all(&mut decompress(&b"ab"[..]).unwrap()), b"ab");
        assert!(read_all(&mut decompress(&b""[..]).unwrap()).is_empty());
    }

    #[test]
    fn gzip_is_sniffed_and_decoded() {
        let data = payload();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(sniff(&gz), Compression::Gzip);
        assert_eq!(read_all(&mut decompress(&gz[..]).unwrap()), data);
    }

    #[test]
    fn zstd_is_sniffed_and_decoded() {
        let data = payload();
        let z = zstd::encode_all(&data[..], 3).unwrap();
        assert_eq!(sniff(&z), Compression::Zstd);
        assert_eq!(read_all(&mut decompress(&z[..]).unwrap()), data);
    }

    /// A reader that hands out one byte per call, like a slow pipe.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn short_reads_do_not_defeat_sniffing() {
        let data = payload();
        let z = zstd::encode_all(&data[..], 1).unwrap();
        assert_eq!(read_all(&mut decompress(Trickle(&z)).unwrap()), data);
    }
}
