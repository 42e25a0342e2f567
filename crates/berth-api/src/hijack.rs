//! Connections the API takes over (attach, exec start): the `101 UPGRADED` answer, and the pump
//! that copies the client's bytes to the process's stdin and the process's output to the
//! client — raw with a terminal, otherwise in Docker's multiplexed frames ([`crate::mux`]).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::mux;

/// The answer that hands the connection over; `tty` says which stream format follows.
pub fn upgraded(tty: bool) -> Response {
    let mut r = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = r.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if tty {
            "application/vnd.docker.raw-stream"
        } else {
            "application/vnd.docker.multiplexed-stream"
        }),
    );
    r
}

/// Copies `conn` into `stdin` (when there is one) and `out`/`err` into `conn` until the output
/// ends (end of file or an error such as a pty's EIO), then awaits `finish` (which records how
/// the process ended, so a client that asks right after the stream closes gets the answer) and
/// closes the client's read side. Without `err` the output is one raw stream.
pub async fn pump<C, I, O, E>(
    conn: C,
    stdin: Option<I>,
    out: O,
    err: Option<E>,
    finish: impl std::future::Future<Output = ()>,
) where
    C: AsyncRead + AsyncWrite + Send + 'static,
    I: AsyncWrite + Unpin + Send + 'static,
    O: AsyncRead + Unpin,
    E: AsyncRead + Unpin,
{
    let (mut from_client, mut to_client) = tokio::io::split(conn);
    let input = stdin.map(|mut sink| {
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_client, &mut sink).await;
            let _ = sink.shutdown().await;
            // Dropping `sink` ends the process's stdin.
        })
    });
    let _ = copy_output(out, err, &mut to_client).await;
    finish.await;
    let _ = to_client.shutdown().await;
    if let Some(input) = input {
        input.abort();
    }
}

async fn copy_output<O, E, W>(mut out: O, err: Option<E>, to: &mut W) -> std::io::Result<()>
where
    O: AsyncRead + Unpin,
    E: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let framed = err.is_some();
    let (mut err, mut err_open) = match err {
        Some(e) => (Some(e), true),
        None => (None, false),
    };
    let mut out_open = true;
    let (mut a, mut b) = (vec![0u8; 32 * 1024], vec![0u8; 32 * 1024]);
    while out_open || err_open {
        let (stream, n) = tokio::select! {
            n = out.read(&mut a), if out_open => (mux::STDOUT, n?),
            n = async { err.as_mut().expect("open").read(&mut b).await }, if err_open => (mux::STDERR, n?),
        };
        if n == 0 {
            if stream == mux::STDOUT {
                out_open = false;
            } else {
                err_open = false;
            }
            continue;
        }
        let data = if stream == mux::STDOUT {
            &a[..n]
        } else {
            &b[..n]
        };
        if framed {
            to.write_all(&mux::header(stream, n)).await?;
        }
        to.write_all(data).await?;
        to.flush().await?;
    }
    Ok(())
}
