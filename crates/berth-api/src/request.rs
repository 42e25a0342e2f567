//! What a handler gets and gives: the request's version, query and body, and answers in Docker's
//! shapes — JSON bodies, `{"message": ...}` errors with the status of the error's class.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_engine::filters::Filters;
use berth_engine::EngineError;
use berth_volume::mount_spec::ApiVersion;
use serde::Serialize;

/// One API request, routed.
#[derive(Debug)]
pub struct Request {
    /// The version its path selected.
    pub version: ApiVersion,
    /// Query parameters (the last value wins, as in Go's `Form.Get`).
    pub query: BTreeMap<String, String>,
    /// The body.
    pub body: Bytes,
}

impl Request {
    /// A boolean query parameter the way Docker reads one: absent, empty, `0`, `no`, `false`
    /// and `none` are false.
    pub fn flag(&self, name: &str) -> bool {
        self.query.get(name).is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "" | "0" | "no" | "false" | "none"
            )
        })
    }

    /// The `h` and `w` parameters of a resize: rows and columns.
    pub fn terminal_size(&self) -> Result<(u16, u16), ApiError> {
        let dim = |k: &str| self.query.get(k).and_then(|v| v.parse::<u16>().ok());
        match (dim("h"), dim("w")) {
            (Some(rows), Some(cols)) => Ok((rows, cols)),
            _ => Err(ApiError::bad_request("h and w must be terminal sizes")),
        }
    }

    /// The `filters` parameter (`{"key":{"value":true}}` or the older `{"key":["value"]}`).
    pub fn filters(&self) -> Result<Filters, ApiError> {
        let raw = self.query.get("filters").map(String::as_str).unwrap_or("");
        Filters::from_json(raw).map_err(|e| ApiError::from(EngineError::from(e)))
    }

    /// The body as JSON of type `T`; an empty body is `T::default()`. Go clients send `null`
    /// for every unset slice and map; like Go's decoder, berth reads those as absent.
    pub fn json<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        let bad = |e: serde_json::Error| ApiError::bad_request(e.to_string());
        let mut value: serde_json::Value = serde_json::from_slice(&self.body).map_err(bad)?;
        drop_nulls(&mut value);
        serde_json::from_value(value).map_err(bad)
    }
}

/// Removes every `"key": null` member, at any depth.
fn drop_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// An error answer: Docker's `{"message": ...}` body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 500 with `message`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }

    /// 404 for a path nothing serves.
    pub fn page_not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: "page not found".into(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError {
            status: StatusCode::from_u16(e.kind().http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json(self.status, &serde_json::json!({ "message": self.message }))
    }
}

/// `value` as a JSON answer with `status`.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let mut body = serde_json::to_vec(value).expect("API values serialize");
    body.push(b'\n');
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// An answer without a body.
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// What a handler returns.
pub type ApiResult = Result<Response, ApiError>;
