//! Gzip for the files pages load: each version of a file is compressed once, then
//! served from memory.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use axum::http::{HeaderMap, header};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Files smaller than this go out as they are: gzip's framing would eat the gain.
const MIN_BYTES: usize = 512;
/// Versions kept: every file of a few releases (debug builds make a new one per edit).
const MAX_KEPT: usize = 512;

static KEPT: Mutex<Option<HashMap<String, Bytes>>> = Mutex::new(None);

/// Whether the request's `Accept-Encoding` takes gzip (and not with `q=0`).
pub fn accepted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The gzipped bytes of the file whose version is `tag`; none when too small to gain.
pub fn compressed(tag: &str, data: &[u8]) -> Option<Bytes> {
    if data.len() < MIN_BYTES {
        return None;
    }
    if let Some(z) = kept().as_ref().and_then(|m| m.get(tag)) {
        return Some(z.clone());
    }
    let z = Bytes::from(compress(data)?);
    let mut kept = kept();
    let map = kept.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_KEPT {
        map.clear();
    }
    map.insert(tag.to_owned(), z.clone());
    Some(z)
}

fn kept() -> std::sync::MutexGuard<'static, Option<HashMap<String, Bytes>>> {
    KEPT.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Gzip at the best ratio: it is paid once per file.
pub fn compress(data: &[u8]) -> Option<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 3), Compression::best());
    enc.write_all(data).ok()?;
    enc.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepted(&with("gzip, deflate, br")));
        assert!(accepted(&with("br;q=1.0, gzip;q=0.5")));
        assert!(accepted(&with("*")));
        assert!(!accepted(&with("gzip;q=0")));
        assert!(!accepted(&with("br")));
        assert!(!accepted(&HeaderMap::new()));
    }

    #[test]
    fn a_file_is_compressed_once_and_decompresses_to_itself() {
        let data = "kefu 客服 ".repeat(200);
        let a = compressed("\"t1\"", data.as_bytes()).unwrap();
        let b = compressed("\"t1\"", data.as_bytes()).unwrap();
        assert_eq!(a, b);
        assert!(a.len() < data.len() / 5);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&a[..]), &mut out).unwrap();
        assert_eq!(out, data);
        assert!(compressed("\"t2\"", b"tiny").is_none());
    }
}
