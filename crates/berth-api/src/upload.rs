//! Request bodies read as they arrive: [`BodyReader`] turns the connection's body into a
//! blocking [`Read`] for a handler in the blocking pool, so an upload (an image archive, a tar
//! for a container, a build context) is never held in memory whole. [`streams_body`] names the
//! routes whose handlers read their body this way.

use std::io::{self, Read};

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// The request body as a blocking reader, fed by a task of the connection.
pub struct BodyReader {
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
    current: Bytes,
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyReader")
    }
}

impl BodyReader {
    /// Starts copying `body` into a new reader (call from within the server's runtime).
    pub fn spawn(body: Body) -> BodyReader {
        let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(16);
        tokio::runtime::Handle::current().spawn(async move {
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(io::Error::other);
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
        });
        BodyReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Whether the handler of `method` `path` (after the version prefix) reads its body as a
/// stream: `PUT /containers/{id}/archive`, `POST /images/load`, `POST /images/create` (an
/// import's tar).
pub fn streams_body(method: &axum::http::Method, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        (method.as_str(), segments.as_slice()),
        ("PUT", ["containers", _, "archive"])
            | ("POST", ["images", "load"])
            | ("POST", ["images", "create"])
    )
}
