//! What a handler gets and gives: the request's version, query and body, and answers in Docker's
//! shapes — JSON bodies, `{"message": ...}` errors with the status of the error's class.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_engine::error::ErrorKind;
use berth_engine::filters::Filters;
use berth_engine::io::ApiVersion;
use berth_engine::EngineError;
use serde::Serialize;

/// One API request, routed.
#[derive(Debug)]
pub struct Request {
    /// The version its path selected.
    pub version: ApiVersion,
    /// Query parameters (the last value wins, as in Go's `Form.Get`).
    pub query: BTreeMap<String, String>,
    /// The body (empty for the routes that stream theirs, see [`Request::upload`]).
    pub body: Bytes,
    /// The body as a stream, for the routes of [`crate::upload::streams_body`].
    pub upload: Option<crate::upload::BodyReader>,
    /// The query string as sent (for parameters given several times).
    pub raw_query: String,
    /// The `X-Registry-Auth` header (base64url JSON credentials), if sent.
    pub registry_auth: Option<String>,
}

/// `k=v` pairs of a query string, percent-decoded, in order.
pub fn url_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Request {
    /// The streamed body: taken once (an upload route's handler reads it).
    pub fn take_upload(&mut self) -> Result<crate::upload::BodyReader, ApiError> {
        self.upload
            .take()
            .ok_or_else(|| ApiError::internal("the request body was read already"))
    }

    /// Every value of query parameter `name`, in order (`names=a&names=b`).
    pub fn all(&self, name: &str) -> Vec<String> {
        url_pairs(&self.raw_query)
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// A query parameter that is present and not empty.
    pub fn nonempty(&self, name: &str) -> Option<String> {
        self.query.get(name).filter(|v| !v.is_empty()).cloned()
    }

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

    /// The credentials of `X-Registry-Auth`: base64url-encoded JSON (`username`, `password`,
    /// `serveraddress`, `identitytoken`); absent, empty or `{}` means anonymous.
    pub fn registry_auth(&self) -> Result<Option<berth_registry::AuthConfig>, ApiError> {
        let auth: Option<berth_registry::AuthConfig> =
            decode_header_json(self.registry_auth.as_deref(), "X-Registry-Auth")?;
        Ok(auth.filter(|a| !a.is_empty()))
    }

    /// The body as JSON of type `T`. An empty body is refused as Docker refuses it; a `null`
    /// body is `T::default()`. Go clients send `null` for every unset slice, map and pointer;
    /// like Go's decoder, berth reads those as absent (so every request type must default
    /// every field: `go_nulls` checks them against the Go client's real bodies).
    pub fn json<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("got EOF while reading request body"));
        }
        let bad = |e: serde_json::Error| ApiError::bad_request(e.to_string());
        let mut value: serde_json::Value = serde_json::from_slice(&self.body).map_err(bad)?;
        if value.is_null() {
            return Ok(T::default());
        }
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
    /// An error of class `kind`: its status comes from the one table, `ErrorKind::http_status`.
    fn of_kind(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(kind.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
        }
    }

    /// A malformed request (400) with `message`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::of_kind(ErrorKind::InvalidArgument, message)
    }

    /// A failure of the server (500) with `message`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::of_kind(ErrorKind::Internal, message)
    }

    /// 404 for a path nothing serves.
    pub fn page_not_found() -> ApiError {
        ApiError::of_kind(ErrorKind::NotFound, "page not found")
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError::of_kind(e.kind(), e.to_string())
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

/// A header holding base64url-encoded JSON (`X-Registry-Auth`, `X-Registry-Config`), decoded as
/// `T`; `None` when absent or blank. Padding is optional and standard base64 is accepted too,
/// as clients send either.
pub fn decode_header_json<T: serde::de::DeserializeOwned>(
    raw: Option<&str>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    use base64::Engine as _;
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(format!("invalid {name} header: not base64url JSON"));
    let trimmed = raw.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

/// What every request body type must accept, checked against the bodies moby's Go client
/// really sends (`src/testdata/go-bodies.json`, printed by `tests/goclient dump`).
#[cfg(test)]
pub(crate) mod go_nulls {
    use serde_json::Value;

    use super::Request;

    /// The body named `name` (`container_create_zero`, `container_create_full`...).
    pub(crate) fn go_body(name: &str) -> Value {
        let all: Value = serde_json::from_str(include_str!("testdata/go-bodies.json")).unwrap();
        all[name].clone()
    }

    /// Paths to every object member of `v`, at any depth.
    fn member_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    at.push(k.clone());
                    out.push(at.clone());
                    member_paths(child, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    at.push(format!("#{i}"));
                    member_paths(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    /// Applies `f` to the object holding the member at `path` and the member's key.
    fn edit(v: &mut Value, path: &[String], f: fn(&mut serde_json::Map<String, Value>, &str)) {
        let (last, parents) = path.split_last().expect("non-empty path");
        let mut cur = v;
        for p in parents {
            cur = match p.strip_prefix('#') {
                Some(i) => &mut cur[i.parse::<usize>().unwrap()],
                None => &mut cur[p.as_str()],
            };
        }
        f(cur.as_object_mut().expect("an object"), last);
    }

    fn parse<T: serde::de::DeserializeOwned + Default>(v: &Value) -> Result<T, String> {
        let req = Request {
            version: berth_engine::io::ApiVersion::V1_41,
            query: Default::default(),
            body: serde_json::to_vec(v).unwrap().into(),
            upload: None,
            raw_query: String::new(),
            registry_auth: None,
        };
        req.json::<T>().map_err(|e| format!("{e:?}"))
    }

    /// `T` reads `body` as it is, and with any one member at any depth `null` (Go's nil slice,
    /// map or pointer) or left out.
    pub(crate) fn assert_accepts_go_nulls<T: serde::de::DeserializeOwned + Default>(body: &Value) {
        parse::<T>(body).unwrap_or_else(|e| panic!("{e}\n{body:#}"));
        let mut paths = Vec::new();
        member_paths(body, &mut Vec::new(), &mut paths);
        assert!(!paths.is_empty());
        for path in paths {
            type Edit = fn(&mut serde_json::Map<String, Value>, &str);
            let null: Edit = |m, k| {
                m.insert(k.to_string(), Value::Null);
            };
            let absent: Edit = |m, k| {
                m.remove(k);
            };
            for (what, f) in [("null", null), ("absent", absent)] {
                let mut v = body.clone();
                edit(&mut v, &path, f);
                if let Err(e) = parse::<T>(&v) {
                    panic!("{} {what}: {e}", path.join("."));
                }
            }
        }
    }
}
