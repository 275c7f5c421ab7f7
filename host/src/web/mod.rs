//! Everything kefu serves to a browser: the files under `files/` (`shared/`, the core
//! every page uses; `workbench/`, the agent workbench; `admin/`, the admin console;
//! `chat/`, the end users' web chat), embedded in the binary by release builds and read from disk by debug builds,
//! so that a refresh shows an edit.
//!
//! - `GET /chat/{channel_id}`: the web chat page (it asks `/chat/{channel_id}/info`
//!   whether the channel exists; see `im::webchat`). Sites embed it in a frame, so it
//!   alone may be framed by any origin.
//! - `GET /workbench`: the workbench page. Its HTML names its assets under
//!   `/assets/<version>/…`, where the version is a digest of every file: a changed file
//!   is a new address, so assets of the current version are cached for a year and
//!   never asked for again, and the page itself is revalidated on every load.
//! - `GET /admin`: the admin console, served like the workbench (same assets, same
//!   policy); it signs in the same way and tells anyone but an admin it is not theirs.
//! - `GET /assets/<version>/<path>`: a file. Every file carries its SHA-256 as `ETag`
//!   (a revalidation answers 304) and goes out gzipped to a client that accepts it
//!   (each file compressed once and kept).
//!
//! Pages run under a Content-Security-Policy that allows script, style and
//! connections from kefu's own origin only, and no inline script. Pages use the public
//! JSON API and the workbench socket like any client: no route here answers data.
//! Must not contain API logic.

mod gzip;

use std::borrow::Cow;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "src/web/files/"]
struct Files;

/// The policy of every page: nothing but kefu's own origin, no inline script or
/// style, no framing. `connect-src 'self'` covers the page's WebSocket to kefu.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     media-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The web chat's policy: the same, except that any site may frame it (sites embed the
/// chat in their pages).
pub const CHAT_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     media-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors *";

/// Where the assets live; the version follows.
pub const ASSETS: &str = "/assets";
/// What a page's HTML writes where its asset version goes.
const VERSION_MARK: &str = "{{ASSETS}}";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workbench", get(workbench))
        .route(
            "/workbench/",
            get(|| async { Redirect::permanent("/workbench") }),
        )
        .route("/admin", get(admin))
        .route("/admin/", get(|| async { Redirect::permanent("/admin") }))
        .route("/chat/{channel_id}", get(chat))
        .route("/chat/{channel_id}/", get(chat))
        .route("/assets/{version}/{*path}", get(asset))
}

/// A digest of every file: the version in asset addresses.
fn version() -> String {
    let mut names: Vec<Cow<'static, str>> = Files::iter().collect();
    names.sort();
    let mut h = Sha256::new();
    for name in names {
        if let Some(f) = Files::get(&name) {
            h.update(name.as_bytes());
            h.update(f.metadata.sha256_hash());
        }
    }
    hex::encode(&h.finalize()[..8])
}

/// The asset version, computed once in release builds (the files cannot change) and
/// on every page load in debug builds (they are read from disk).
fn current_version() -> Cow<'static, str> {
    if cfg!(debug_assertions) {
        Cow::Owned(version())
    } else {
        static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        Cow::Borrowed(VERSION.get_or_init(version).as_str())
    }
}

async fn workbench(headers: HeaderMap) -> Response {
    page("workbench/index.html", &headers, CSP)
}

async fn admin(headers: HeaderMap) -> Response {
    page("admin/index.html", &headers, CSP)
}

async fn chat(Path(channel_id): Path<String>, headers: HeaderMap) -> Response {
    if uuid::Uuid::parse_str(&channel_id).is_err() {
        return crate::http::Error::NotFound("channel").into_response();
    }
    page("chat/index.html", &headers, CHAT_CSP)
}

/// An HTML page with its asset addresses filled in; revalidated on every load.
fn page(path: &str, headers: &HeaderMap, csp: &'static str) -> Response {
    let Some(file) = Files::get(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let prefix = format!("{ASSETS}/{}", current_version());
    let html = String::from_utf8_lossy(&file.data).replace(VERSION_MARK, &prefix);
    let tag = etag(&Sha256::digest(html.as_bytes()).into());
    let mut out = answer(
        headers,
        Cow::Owned(html.into_bytes()),
        &tag,
        "text/html; charset=utf-8",
    );
    let h = out.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    if csp == CSP {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    out
}

async fn asset(Path((version, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    // Only files under `files/`, by their plain relative names.
    if path
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
        || path.contains('\\')
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(file) = Files::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut out = answer(
        &headers,
        file.data,
        &etag(&file.metadata.sha256_hash()),
        content_type(&path),
    );
    // An old page may still ask for an old version: it gets today's file, which it
    // must not keep for a year.
    let cache = if version == current_version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out
}

fn etag(digest: &[u8; 32]) -> String {
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// The file's answer: 304 when the client holds this version, otherwise the bytes,
/// gzipped when the client takes gzip and the type compresses.
fn answer(headers: &HeaderMap, data: Cow<'static, [u8]>, tag: &str, kind: &str) -> Response {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if held {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(kind).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let body = if compresses(kind) && gzip::accepted(headers) {
        match gzip::compressed(tag, &data) {
            Some(z) => {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                Body::from(z)
            }
            None => Body::from(data.into_owned()),
        }
    } else {
        Body::from(data.into_owned())
    };
    (StatusCode::OK, h, body).into_response()
}

fn compresses(kind: &str) -> bool {
    kind.starts_with("text/")
        || kind.contains("javascript")
        || kind.contains("json")
        || kind.contains("svg")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
