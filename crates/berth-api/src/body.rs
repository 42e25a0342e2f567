//! Answers whose body is written while the client reads it: a followed log, or a `wait` whose
//! headers must go out at once (the docker CLI starts the container only after it has them).
//! A thread with its own engine writes into a [`BodyWriter`]; the response streams from it.

use std::convert::Infallible;
use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use berth_engine::{Engine, EngineOptions};
use tokio::sync::mpsc;

use crate::mux;

/// Writes into a streamed body; with a stream number, each write becomes one multiplexed
/// frame. Writes fail once the client has gone away.
#[derive(Clone)]
pub struct BodyWriter {
    tx: mpsc::Sender<Bytes>,
    stream: Option<u8>,
}

impl BodyWriter {
    /// Whether the client has gone away (nothing written will reach it).
    pub fn client_gone(&self) -> bool {
        self.tx.is_closed()
    }

    /// This writer framing its writes as `stream` (`None`: raw).
    pub fn framed(&self, stream: Option<u8>) -> BodyWriter {
        BodyWriter {
            tx: self.tx.clone(),
            stream,
        }
    }
}

impl Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut chunk = Vec::with_capacity(buf.len() + 8);
        if let Some(stream) = self.stream {
            chunk.extend_from_slice(&mux::header(stream, buf.len()));
        }
        chunk.extend_from_slice(buf);
        self.tx
            .blocking_send(Bytes::from(chunk))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The name of the threads that write streamed answers.
pub const PRODUCER_THREAD: &str = "berth-stream";

/// A 200 answer of `content_type` whose body `produce` writes from a thread of its own, with
/// an engine of its own on the data root of `opts`.
pub fn streamed(
    opts: EngineOptions,
    content_type: &'static str,
    produce: impl FnOnce(&mut Engine, BodyWriter) + Send + 'static,
) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let producer = move || match Engine::open(opts) {
        Ok(mut engine) => produce(&mut engine, BodyWriter { tx, stream: None }),
        Err(e) => log::debug!("streamed answer: {e}"),
    };
    if let Err(e) = std::thread::Builder::new()
        .name(PRODUCER_THREAD.into())
        .spawn(producer)
    {
        log::debug!("streamed answer: no thread: {e}");
    }
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
