//! [`progress_stream`] answers a pull or push the way Docker's daemon does: the verb runs on a
//! thread of its own with its own engine, and its [`ProgressMessage`]s stream to the client as
//! JSON lines. Until the first message the answer is not committed, so a failure that comes
//! first (an unknown tag, refused credentials) is a plain HTTP error with the error's status;
//! one that comes later is a last `{"errorDetail": …, "error": …}` line, as Docker sends it.

use std::convert::Infallible;
use std::sync::{mpsc as std_mpsc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use berth_engine::types::{ProgressMessage, ProgressSink};
use berth_engine::{Engine, EngineError, EngineOptions};
use tokio::sync::mpsc;

use crate::request::{ApiError, ApiResult};

/// What the handler waits for before it answers.
enum Start {
    /// The first message went out: stream.
    Streaming,
    /// The verb failed before saying anything.
    Failed(ApiError),
}

/// Sends messages as JSON lines; the first one commits the answer.
struct Sink {
    tx: mpsc::Sender<Bytes>,
    started: Mutex<Option<std_mpsc::SyncSender<Start>>>,
}

impl Sink {
    fn line(&self, value: &impl serde::Serialize) {
        if let Some(start) = self.started.lock().expect("start lock").take() {
            let _ = start.send(Start::Streaming);
        }
        let mut bytes = serde_json::to_vec(value).expect("messages serialize");
        bytes.extend_from_slice(b"\r\n");
        let _ = self.tx.blocking_send(Bytes::from(bytes));
    }
}

impl ProgressSink for Sink {
    fn send(&self, message: ProgressMessage) {
        self.line(&message);
    }
}

/// Runs `verb` with an engine on `opts`'s data root and streams what it reports.
pub fn progress_stream(
    opts: EngineOptions,
    verb: impl FnOnce(&mut Engine, &dyn ProgressSink) -> Result<(), EngineError> + Send + 'static,
) -> ApiResult {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let (start_tx, start_rx) = std_mpsc::sync_channel::<Start>(1);
    let sink = Sink {
        tx,
        started: Mutex::new(Some(start_tx)),
    };
    std::thread::Builder::new()
        .name(crate::body::PRODUCER_THREAD.into())
        .spawn(move || {
            let result = Engine::open(opts).and_then(|mut engine| verb(&mut engine, &sink));
            if let Err(e) = result {
                let not_started = sink.started.lock().expect("start lock").take();
                match not_started {
                    Some(start) => {
                        let _ = start.send(Start::Failed(e.into()));
                    }
                    None => {
                        let text = e.to_string();
                        sink.line(&serde_json::json!({
                            "errorDetail": {"message": text},
                            "error": text,
                        }));
                    }
                }
            }
        })
        .map_err(|e| ApiError::from(EngineError::Io(e)))?;
    match start_rx.recv() {
        Ok(Start::Failed(e)) => Err(e),
        // Streaming, or the verb ended without a word: answer with what there is.
        Ok(Start::Streaming) | Err(_) => {
            let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
            }));
            let mut response = Response::new(body);
            *response.status_mut() = StatusCode::OK;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
    }
}
