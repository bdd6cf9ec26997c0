//! Tar entries over async I/O: the `tar` crate makes and reads the 512-byte headers; content
//! streams between them, so an archive of any size passes through bounded memory.

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const BLOCK: usize = 512;

fn padding(size: u64) -> usize {
    let rest = (size % BLOCK as u64) as usize;
    if rest == 0 {
        0
    } else {
        BLOCK - rest
    }
}

/// Writes the header of a regular file `name` of `size` bytes; its content must follow,
/// then [`finish_entry`].
pub async fn start_entry(
    out: &mut (impl AsyncWrite + Unpin),
    name: &str,
    size: u64,
    mtime_ms: i64,
) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name)?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(u64::try_from(mtime_ms / 1000).unwrap_or(0));
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    out.write_all(header.as_bytes()).await
}

pub async fn finish_entry(out: &mut (impl AsyncWrite + Unpin), size: u64) -> io::Result<()> {
    out.write_all(&[0u8; BLOCK][..padding(size)]).await
}

pub async fn entry(
    out: &mut (impl AsyncWrite + Unpin),
    name: &str,
    bytes: &[u8],
    mtime_ms: i64,
) -> io::Result<()> {
    start_entry(out, name, bytes.len() as u64, mtime_ms).await?;
    out.write_all(bytes).await?;
    finish_entry(out, bytes.len() as u64).await
}

/// The end-of-archive marker: two empty blocks.
pub async fn end(out: &mut (impl AsyncWrite + Unpin)) -> io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK]).await?;
    out.flush().await
}

/// The next regular file's name and size, skipping extended headers (pax, GNU) a repacking
/// tool may have added; `None` at the end of the archive. The caller must then read exactly
/// `size` bytes and call [`skip_padding`].
pub async fn next_entry(input: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<(String, u64)>> {
    loop {
        let mut block = [0u8; BLOCK];
        match input.read_exact(&mut block).await {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(invalid("the archive ends in the middle (truncated?)"))
            }
            Err(e) => return Err(e),
        }
        if block.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let header = tar::Header::from_byte_slice(&block);
        let stored: u32 = header.cksum()?;
        let computed: u32 = block
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(*b)
                }
            })
            .sum();
        if stored != computed {
            return Err(invalid("a tar header's checksum does not match"));
        }
        let size = header.entry_size()?;
        match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let name = header.path()?.to_string_lossy().into_owned();
                return Ok(Some((name, size)));
            }
            tar::EntryType::Directory => {}
            tar::EntryType::XHeader | tar::EntryType::XGlobalHeader => {
                skip(input, size).await?;
                skip_padding(input, size).await?;
            }
            other => {
                return Err(invalid(&format!(
                    "tar entries of type {other:?} are not part of a pod archive"
                )))
            }
        }
    }
}

pub async fn skip_padding(input: &mut (impl AsyncRead + Unpin), size: u64) -> io::Result<()> {
    skip(input, padding(size) as u64).await
}

async fn skip(input: &mut (impl AsyncRead + Unpin), n: u64) -> io::Result<()> {
    let copied = tokio::io::copy(&mut input.take(n), &mut tokio::io::sink()).await?;
    if copied != n {
        return Err(invalid("the archive ends in the middle (truncated?)"));
    }
    Ok(())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_round_trip_and_read_with_the_tar_crate() {
        let mut out = Vec::new();
        entry(&mut out, "pod.ttl", b"<> a <x>.", 1_000)
            .await
            .unwrap();
        entry(&mut out, "resources/00000001.data", &[7u8; 1000], 2_000)
            .await
            .unwrap();
        end(&mut out).await.unwrap();

        let mut names = Vec::new();
        for e in tar::Archive::new(out.as_slice()).entries().unwrap() {
            let e = e.unwrap();
            names.push((e.path().unwrap().display().to_string(), e.size()));
        }
        assert_eq!(
            names,
            [
                ("pod.ttl".into(), 9),
                ("resources/00000001.data".into(), 1000)
            ]
        );

        let mut input = out.as_slice();
        let (name, size) = next_entry(&mut input).await.unwrap().unwrap();
        assert_eq!((name.as_str(), size), ("pod.ttl", 9));
        let mut body = vec![0; 9];
        input.read_exact(&mut body).await.unwrap();
        skip_padding(&mut input, size).await.unwrap();
        let (_, size) = next_entry(&mut input).await.unwrap().unwrap();
        skip(&mut input, size).await.unwrap();
        skip_padding(&mut input, size).await.unwrap();
        assert!(next_entry(&mut input).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn truncated_and_corrupt_archives_are_errors() {
        let mut out = Vec::new();
        entry(&mut out, "pod.ttl", b"<> a <x>.", 1_000)
            .await
            .unwrap();
        let mut truncated = &out[..100];
        assert!(next_entry(&mut truncated).await.is_err());
        let mut corrupt = out.clone();
        corrupt[0] ^= 1;
        assert!(next_entry(&mut corrupt.as_slice()).await.is_err());
    }
}
