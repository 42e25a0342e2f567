//! `/images`: list, inspect, history, remove, tag, prune, save (`get`), load, pull and import
//! (`create?fromImage=` / `create?fromSrc=`), push, `/distribution`, and `POST /commit`. An image
//! name may contain `/` (`a/b:1`), so these routes take the whole rest of the path as the name.
//! Pulls and pushes take their credentials from `X-Registry-Auth` only, as Docker's daemon does,
//! and stream Docker's JSON progress messages.

use axum::http::StatusCode;
use berth_engine::container::CommitRequest;
use berth_engine::image::SaveFormat;
use berth_image::import::ImportOptions;
use berth_image::progress::NoProgress;
use serde_json::json;

use berth_engine::image::{PullOptions, PushOptions, RegistryAuth};

use super::Ctx;
use crate::body;
use crate::progress::progress_stream;
use crate::request::{json, ApiError, ApiResult};

/// Answers a JSON message per line (`application/json`), as Docker's load and import do.
fn messages(lines: &[serde_json::Value]) -> ApiResult {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.to_string().as_bytes());
        out.push(b'\n');
    }
    let mut r = axum::response::IntoResponse::into_response((StatusCode::OK, out));
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// The `repo` and `tag` parameters of an import or a commit as one reference, if given.
fn repo_tag(ctx: &Ctx) -> Option<String> {
    let repo = ctx.req.nonempty("repo")?;
    Some(match ctx.req.nonempty("tag") {
        Some(tag) => format!("{repo}:{tag}"),
        None => repo,
    })
}

/// `GET /images/{name}/get`: the image as `docker save` writes it.
pub fn get(ctx: &mut Ctx) -> ApiResult {
    let name = ctx.param.clone();
    save(ctx, vec![name])
}

/// `GET /images/get?names=a&names=b`: several images in one archive.
pub fn get_many(ctx: &mut Ctx) -> ApiResult {
    let names = ctx.req.all("names");
    if names.is_empty() {
        return Err(ApiError::bad_request("no images given: names is required"));
    }
    save(ctx, names)
}

fn save(ctx: &mut Ctx, names: Vec<String>) -> ApiResult {
    // Unknown names are a 404 before the archive starts.
    ctx.engine()?.check_saveable(&names)?;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/x-tar",
        move |engine, w| {
            if let Err(e) = engine.save_images(&names, SaveFormat::Docker, w, &NoProgress) {
                log::debug!("save of {names:?}: {e}");
            }
        },
    ))
}

/// `POST /images/load?quiet=`: loads the archive in the body; one `stream` message per image
/// loaded, as Docker's (berth reports no progress bars, quiet or not). A failed load is a 200
/// whose stream ends in an `errorDetail` message, as dockerd answers once it reads the body
/// (clients such as docker-py raise their load error from that message).
pub fn load(ctx: &mut Ctx) -> ApiResult {
    let mut tar = ctx.req.take_upload()?;
    let loaded = match ctx.engine()?.load_images(&mut tar, &NoProgress) {
        Ok(loaded) => loaded,
        Err(e) => {
            let message = e.to_string();
            return messages(&[json!({"errorDetail": {"message": message}, "error": message})]);
        }
    };
    let mut lines = Vec::new();
    for image in loaded {
        for (tag, old) in &image.replaced {
            lines.push(json!({"stream": format!(
                "The image {tag} already exists, renaming the old one with ID {old} to empty string\n"
            )}));
        }
        if image.tags.is_empty() {
            lines.push(json!({"stream": format!("Loaded image ID: {}\n", image.id)}));
        }
        for tag in &image.tags {
            lines.push(json!({"stream": format!("Loaded image: {tag}\n")}));
        }
    }
    messages(&lines)
}

/// `POST /images/create?fromSrc=-&repo=&tag=&message=&changes=`: imports the root filesystem
/// tar in the body. An import from a URL is refused (berth fetches nothing on the server's
/// behalf).
fn import(ctx: &mut Ctx, src: &str) -> ApiResult {
    if src != "-" {
        return Err(ApiError::bad_request(format!(
            "berth serve imports only from the request body (fromSrc=-), not from {src:?}"
        )));
    }
    if let Some(p) = ctx.req.nonempty("platform") {
        if !matches!(p.split('/').next(), Some("linux")) {
            return Err(ApiError::bad_request(format!(
                "berth imports linux images only, not {p:?}"
            )));
        }
    }
    let reference = repo_tag(ctx);
    let opts = ImportOptions {
        changes: ctx.req.all("changes"),
        message: ctx.req.nonempty("message"),
    };
    let mut tar = ctx.req.take_upload()?;
    let id = ctx
        .engine()?
        .import_image(&mut tar, reference.as_deref(), &opts)?;
    messages(&[json!({"status": id.to_string()})])
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`: 201 with the new
/// image's ID. A config in the body is refused unless empty: berth applies `changes` only.
pub fn commit(ctx: &mut Ctx) -> ApiResult {
    let body: serde_json::Value = if ctx.req.body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&ctx.req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?
    };
    let empty_config = match &body {
        serde_json::Value::Null => true,
        serde_json::Value::Object(m) => m.values().all(|v| match v {
            serde_json::Value::Null | serde_json::Value::Bool(false) => true,
            serde_json::Value::String(s) => s.is_empty(),
            serde_json::Value::Array(a) => a.is_empty(),
            serde_json::Value::Object(o) => o.is_empty(),
            serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
            _ => false,
        }),
        _ => false,
    };
    if !empty_config {
        return Err(ApiError::bad_request(
            "berth does not apply a container config sent with a commit: give the changes as `changes` instructions",
        ));
    }
    let container = ctx.req.query.get("container").cloned().unwrap_or_default();
    let reference = repo_tag(ctx);
    // `pause` defaults to true when absent (Docker reads it that way).
    let pause = !ctx.req.query.contains_key("pause") || ctx.req.flag("pause");
    let req = CommitRequest {
        reference,
        author: ctx.req.nonempty("author"),
        message: ctx.req.nonempty("comment"),
        changes: ctx.req.all("changes"),
        pause,
    };
    let id = ctx.engine()?.commit_container(&container, &req)?;
    Ok(json(StatusCode::CREATED, &json!({"Id": id.to_string()})))
}

/// `GET /images/json?all=&filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let all = ctx.req.flag("all");
    let mut filters = ctx.req.filters()?;
    if let Some(name) = ctx.req.query.get("filter").filter(|n| !n.is_empty()) {
        if crate::compat::images_filter_param(ctx.req.version) {
            filters.add("reference", name.clone());
        }
    }
    let images = ctx.engine()?.list_images(all, &filters)?;
    Ok(json(StatusCode::OK, &images))
}

/// `GET /images/{name}/json`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|e, name| e.inspect_image(name))
}

/// `GET /images/{name}/history`.
pub fn history(ctx: &mut Ctx) -> ApiResult {
    ctx.answer(|e, name| e.image_history(name))
}

/// `DELETE /images/{name}?force=`: what was untagged and deleted.
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let force = ctx.req.flag("force");
    ctx.answer(|e, name| e.remove_image(name, force))
}

/// `POST /images/{name}/tag?repo=&tag=`: 201.
pub fn tag(ctx: &mut Ctx) -> ApiResult {
    let name = ctx.param.clone();
    let repo = ctx.req.query.get("repo").cloned().unwrap_or_default();
    let target = match ctx.req.query.get("tag").filter(|t| !t.is_empty()) {
        Some(tag) => format!("{repo}:{tag}"),
        None => repo,
    };
    ctx.engine()?.tag_image(&name, &target)?;
    Ok(crate::request::empty(StatusCode::CREATED))
}

/// `POST /images/prune?filters=`: dangling images, or with `dangling=false` every image no
/// container uses, that the other filters (`until`, `label`, `label!`) select.
pub fn prune(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let report = ctx.engine()?.prune_images(&filters)?;
    Ok(json(StatusCode::OK, &report))
}

/// `fromImage` plus `tag` (a tag, or a digest) as one reference; an empty tag means every tag.
fn pull_reference(from: &str, tag: &str) -> (String, bool) {
    if tag.is_empty() {
        return (
            from.to_string(),
            berth_image::reference::Reference::parse(from)
                .map(|r| r.is_name_only())
                .unwrap_or(false),
        );
    }
    let sep = if tag.contains(':') { '@' } else { ':' };
    (format!("{from}{sep}{tag}"), false)
}

/// `POST /images/create?fromImage=&tag=&platform=`: a pull; with `fromSrc`, an import.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    if let Some(src) = ctx.req.nonempty("fromSrc") {
        return import(ctx, &src);
    }
    let from = ctx.req.query.get("fromImage").cloned().unwrap_or_default();
    if from.is_empty() {
        return Err(ApiError::bad_request("fromImage is required"));
    }
    if ["repo", "changes", "message"]
        .iter()
        .any(|k| ctx.req.nonempty(k).is_some())
    {
        return Err(ApiError::bad_request(
            "repo, changes and message apply to imports (fromSrc), not to pulls (fromImage)",
        ));
    }
    let tag = ctx.req.query.get("tag").cloned().unwrap_or_default();
    let (name, all_tags) = pull_reference(&from, &tag);
    let opts = PullOptions {
        all_tags,
        platform: ctx.req.nonempty("platform"),
        auth: RegistryAuth::Given(ctx.req.registry_auth()?),
    };
    progress_stream(ctx.engine_options(), move |engine, sink| {
        engine.pull_image(&name, &opts, sink).map(|_| ())
    })
}

/// `POST /images/{name}/push?tag=`: a push; an empty tag pushes every tag of the repository.
pub fn push(ctx: &mut Ctx) -> ApiResult {
    let tag = ctx.req.query.get("tag").cloned().unwrap_or_default();
    let name = if tag.is_empty() {
        ctx.param.clone()
    } else {
        format!("{}:{tag}", ctx.param)
    };
    let all_tags = tag.is_empty()
        && berth_image::reference::Reference::parse(&ctx.param)
            .map(|r| r.is_name_only())
            .unwrap_or(false);
    let opts = PushOptions {
        all_tags,
        auth: RegistryAuth::Given(ctx.req.registry_auth()?),
    };
    progress_stream(ctx.engine_options(), move |engine, sink| {
        engine.push_image(&name, &opts, sink).map(|_| ())
    })
}

/// `POST /auth`: checks credentials with the registry; 200 `Login Succeeded` or 401.
pub fn auth(ctx: &mut Ctx) -> ApiResult {
    let auth: berth_registry::AuthConfig = ctx.req.json()?;
    let server = auth.server_address.clone();
    ctx.engine()?.login(&server, &auth)?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"Status": "Login Succeeded", "IdentityToken": ""}),
    ))
}

/// `GET /distribution/{name}/json`: the manifest's descriptor and platforms, from the registry.
pub fn distribution(ctx: &mut Ctx) -> ApiResult {
    let auth = RegistryAuth::Given(ctx.req.registry_auth()?);
    let name = ctx.param.clone();
    let info = ctx.engine()?.distribution_inspect(&name, &auth)?;
    Ok(json(StatusCode::OK, &info))
}

/// `GET /images/search?term=&limit=&filters=`: what the index the term names finds (see
/// [`berth_registry::search`]), as a JSON array; `limit` defaults to 25.
pub fn search(ctx: &mut Ctx) -> ApiResult {
    let limit = match ctx.req.nonempty("limit") {
        None => berth_engine::image::DEFAULT_SEARCH_LIMIT,
        Some(v) => v.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("strconv.Atoi: parsing {v:?}: invalid syntax"))
        })?,
    };
    let filters = ctx.req.filters()?;
    let term = ctx.req.query.get("term").cloned().unwrap_or_default();
    let auth = RegistryAuth::Given(ctx.req.registry_auth()?);
    let found = ctx.engine()?.search_images(&term, limit, &filters, &auth)?;
    Ok(crate::request::json(StatusCode::OK, &found))
}
