//! A WebSocket as a byte stream, for `GET /containers/{id}/attach/ws`: what the client sends in
//! its messages is read from the stream, and each write to the stream goes to the client as one
//! message — binary, or text for clients older than API 1.28, as dockerd sends. The protocol
//! itself (handshake, framing, masking, ping and close) is tungstenite's, through axum.

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// The stream that carries `socket`'s messages, relayed by a task until either side ends. The
/// client's close (or its connection dropping) closes the stream, so writes to it fail; the end
/// of what is written closes the WebSocket.
pub fn byte_stream(socket: WebSocket, binary: bool) -> DuplexStream {
    let (near, far) = tokio::io::duplex(64 * 1024);
    tokio::spawn(relay(socket, far, binary));
    near
}

async fn relay(socket: WebSocket, far: DuplexStream, binary: bool) {
    let (mut to_client, mut from_client) = socket.split();
    let (mut output, mut input) = tokio::io::split(far);
    let outgoing = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match output.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let message = if binary {
                Message::Binary(Bytes::copy_from_slice(&buf[..n]))
            } else {
                Message::Text(String::from_utf8_lossy(&buf[..n]).into_owned().into())
            };
            if to_client.send(message).await.is_err() {
                return;
            }
        }
    };
    let incoming = async {
        while let Some(Ok(message)) = from_client.next().await {
            let data = match message {
                Message::Binary(b) => b,
                Message::Text(t) => Bytes::copy_from_slice(t.as_bytes()),
                Message::Close(_) => break,
                // Pings are answered by tungstenite.
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if input.write_all(&data).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        () = outgoing => {}
        () = incoming => {}
    }
    // Either way the attach is over: the close handshake. Ours goes (or answers the client's),
    // and the connection stays until the client's answer comes, so the client's answer does
    // not meet a closed socket (a few seconds at most).
    if to_client.close().await.is_ok() {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(message)) = from_client.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// How long the client's answer to our close is waited for.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
