//! Connections the API takes over (attach, exec start): the `101 UPGRADED` answer, and the pump
//! that copies the client's bytes to the process's stdin and the process's output to the
//! client — raw with a terminal, otherwise in Docker's multiplexed frames ([`crate::mux`]) —
//! and detaches the client on its detach keys.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use berth_engine::io::{DetachKeys, EscapeScanner, Scan};

use crate::mux;

/// The answer that hands the connection over; `tty` says which stream format follows.
pub fn upgraded(tty: bool) -> Response {
    let mut r = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = r.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    h.insert(header::CONTENT_TYPE, content_type(tty));
    r
}

/// A 200 answer whose body is what `from` yields until its end (the output of a [`pump`] into
/// one end of a duplex pipe, for a client that did not ask to take the connection over).
pub fn streamed_output<R: AsyncRead + Unpin + Send + 'static>(from: R, tty: bool) -> Response {
    let body =
        axum::body::Body::from_stream(futures_util::stream::unfold(from, |mut from| async move {
            let mut buf = vec![0u8; 32 * 1024];
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), from))
                }
            }
        }));
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, content_type(tty));
    r
}

fn content_type(tty: bool) -> HeaderValue {
    HeaderValue::from_static(if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    })
}

/// What the pump sends the client: the process's output as one stream (`err` `None`) or as
/// stdout and stderr apart, and whether each chunk goes in a multiplexed frame (by the
/// request's `Tty`, not the process's: an exec created with a terminal and started without
/// one is framed as stdout).
pub struct Output<O, E> {
    /// stdout, or the terminal's only stream.
    pub out: O,
    /// stderr, when the process has one apart.
    pub err: Option<E>,
    /// Multiplexed frames (else raw bytes).
    pub framed: bool,
}

/// Copies `conn` into `stdin` (when there is one) and the output into `conn` until the output
/// ends (end of file or an error such as a pty's EIO), then awaits `finish` (which records how
/// the process ended, so a client that asks right after the stream closes gets the answer) and
/// closes the client's read side.
///
/// With `detach` keys the client's input is scanned for them: once typed, the connection
/// closes at once while the process runs on, its output drained and its stdin kept open until
/// it ends, and `finish` runs then.
pub async fn pump<C, I, O, E, F>(
    conn: C,
    stdin: Option<I>,
    output: Output<O, E>,
    detach: Option<DetachKeys>,
    finish: F,
) where
    C: AsyncRead + AsyncWrite + Send + 'static,
    I: AsyncWrite + Unpin + Send + 'static,
    O: AsyncRead + Unpin + Send + 'static,
    E: AsyncRead + Unpin + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (from_client, mut to_client) = tokio::io::split(conn);
    let (detached_tx, detached) = tokio::sync::oneshot::channel::<Option<I>>();
    let input = stdin.map(|sink| tokio::spawn(copy_input(from_client, sink, detach, detached_tx)));
    let Output {
        mut out,
        mut err,
        framed,
    } = output;
    let sink = {
        let copied = copy_output(&mut out, err.as_mut(), framed, &mut to_client);
        tokio::pin!(copied);
        tokio::select! {
            _ = &mut copied => None,
            Ok(sink) = detached => Some(sink),
        }
    };
    let Some(sink) = sink else {
        finish.await;
        let _ = to_client.shutdown().await;
        if let Some(input) = input {
            input.abort();
        }
        return;
    };
    // Detached: the client goes; the process keeps its stdin and its output is read (and
    // dropped) until it ends, as dockerd's stream copier does.
    let _ = to_client.shutdown().await;
    drop(to_client);
    tokio::spawn(async move {
        let mut nowhere = tokio::io::sink();
        let _ = copy_output(&mut out, err.as_mut(), false, &mut nowhere).await;
        drop(sink);
        finish.await;
    });
}

/// Copies the client's bytes into `sink`, watching for `detach` keys: when they are typed the
/// sink is handed to `detached` (the process's stdin stays open); at the client's end of input
/// the sink is shut, which ends the process's stdin.
async fn copy_input<R, I>(
    mut from: R,
    mut sink: I,
    detach: Option<DetachKeys>,
    detached: tokio::sync::oneshot::Sender<Option<I>>,
) where
    R: AsyncRead + Unpin,
    I: AsyncWrite + Unpin,
{
    let mut scanner = detach.as_ref().map(EscapeScanner::new);
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let (bytes, detach) = match scanner.as_mut().map(|s| s.feed(&buf[..n])) {
            None => (buf[..n].to_vec(), false),
            Some(Scan::Forward(b)) => (b, false),
            Some(Scan::Detach(b)) => (b, true),
        };
        if sink.write_all(&bytes).await.is_err() {
            break;
        }
        if detach {
            let _ = sink.flush().await;
            let _ = detached.send(Some(sink));
            return;
        }
    }
    if let Some(held) = scanner.as_mut().map(EscapeScanner::flush) {
        let _ = sink.write_all(&held).await;
    }
    let _ = sink.shutdown().await;
    // Dropping `sink` ends the process's stdin.
}

async fn copy_output<O, E, W>(
    out: &mut O,
    mut err: Option<&mut E>,
    framed: bool,
    to: &mut W,
) -> std::io::Result<()>
where
    O: AsyncRead + Unpin,
    E: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut err_open = err.is_some();
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
