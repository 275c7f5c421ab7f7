//! Tencent Cloud IM UserSig (TLSSigAPIv2): making and checking the signature an IM
//! account presents, so that a UserSig from Tencent's own libraries (or their console)
//! verifies here and one made here verifies at Tencent.
//!
//! A UserSig is a small JSON document
//! `{"TLS.ver":"2.0","TLS.identifier":..,"TLS.sdkappid":..,"TLS.expire":..,"TLS.time":..,"TLS.sig":..}`
//! (plus `"TLS.userbuf"` when the signer attached bytes), zlib-compressed, base64-encoded
//! with `+/=` replaced by `*-_` so that it travels in a URL untouched. `TLS.sig` is the
//! standard base64 of HMAC-SHA256 under the application's secret key (its text, as bytes)
//! over the lines `TLS.identifier:…`, `TLS.sdkappid:…`, `TLS.time:…`, `TLS.expire:…`
//! (and `TLS.userbuf:<base64>`), each ending in `\n`.
//!
//! Inputs are bounded before any work: a UserSig longer than [`MAX_USERSIG_LEN`] or one
//! that inflates past [`MAX_DOCUMENT_LEN`] is refused without being decoded further.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The longest UserSig accepted, in characters. Tencent's are about 200; one with a
/// user buffer a few hundred.
pub const MAX_USERSIG_LEN: usize = 4096;

/// The largest decompressed sig document accepted, in bytes.
pub const MAX_DOCUMENT_LEN: usize = 16 * 1024;

/// How far in the future a UserSig's `TLS.time` may lie and still be accepted: the
/// signer's clock may run ahead of ours, but not by much.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// The validity Tencent's libraries use when none is given: 180 days.
pub const DEFAULT_EXPIRE_SECS: u64 = 180 * 86_400;

/// The signature version this module makes and reads.
const VERSION: &str = "2.0";

/// What a valid UserSig says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The account the UserSig was made for (`TLS.identifier`).
    pub identifier: String,
    /// The application it was made for (`TLS.sdkappid`).
    pub sdkappid: u64,
    /// When it was made, in Unix seconds (`TLS.time`).
    pub issued_at: u64,
    /// How long it is valid from `issued_at`, in seconds (`TLS.expire`).
    pub expire_secs: u64,
    /// The bytes the signer attached (`TLS.userbuf`), if any.
    pub userbuf: Option<Vec<u8>>,
}

impl Verified {
    /// The last Unix second at which the UserSig is still valid.
    pub fn expires_at(&self) -> u64 {
        self.issued_at.saturating_add(self.expire_secs)
    }
}

/// Why a UserSig was refused. Each maps to the error code Tencent IM answers with
/// ([`UserSigError::im_error_code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserSigError {
    /// No UserSig was given.
    #[error("the UserSig is empty")]
    Empty,
    /// The UserSig is longer than [`MAX_USERSIG_LEN`].
    #[error("the UserSig is longer than {MAX_USERSIG_LEN} characters")]
    TooLong,
    /// The UserSig is not base64 in Tencent's URL alphabet.
    #[error("the UserSig is not valid base64")]
    Encoding,
    /// The decoded UserSig is not a zlib stream.
    #[error("the UserSig does not decompress")]
    Compression,
    /// The UserSig inflates past [`MAX_DOCUMENT_LEN`].
    #[error("the UserSig document is larger than {MAX_DOCUMENT_LEN} bytes")]
    DocumentTooLarge,
    /// The document is not the JSON a UserSig holds, or lacks a field.
    #[error("the UserSig document is malformed: {0}")]
    Document(String),
    /// The UserSig was made for another application.
    #[error("the UserSig was made for SDKAppID {found}, not {expected}")]
    SdkAppIdMismatch {
        /// The application the caller checked for.
        expected: u64,
        /// The application in the UserSig.
        found: u64,
    },
    /// The UserSig was made for another account.
    #[error("the UserSig was made for identifier {found:?}, not {expected:?}")]
    IdentifierMismatch {
        /// The account the caller checked for.
        expected: String,
        /// The account in the UserSig.
        found: String,
    },
    /// The UserSig's validity ended before now.
    #[error("the UserSig expired at {expired_at} (now is {now})")]
    Expired {
        /// The last second it was valid.
        expired_at: u64,
        /// The time it was checked at.
        now: u64,
    },
    /// The UserSig claims to be made later than now plus [`MAX_CLOCK_SKEW_SECS`].
    #[error("the UserSig was issued at {issued_at}, too far after now ({now})")]
    IssuedInFuture {
        /// Its `TLS.time`.
        issued_at: u64,
        /// The time it was checked at.
        now: u64,
    },
    /// The signature was not made with this application's secret key.
    #[error("the UserSig signature does not match the application's secret key")]
    SignatureMismatch,
}

impl UserSigError {
    /// The Tencent IM error code for this failure (REST API account error codes):
    /// 70001 expired, 70003 cannot be parsed, 70009 verification failed (also used
    /// for a UserSig from the future, which Tencent documents no code for), 70013
    /// identifier mismatch, 70014 SDKAppID mismatch.
    pub fn im_error_code(&self) -> u32 {
        match self {
            Self::Expired { .. } => 70001,
            Self::Empty
            | Self::TooLong
            | Self::Encoding
            | Self::Compression
            | Self::DocumentTooLarge
            | Self::Document(_) => 70003,
            Self::IssuedInFuture { .. } | Self::SignatureMismatch => 70009,
            Self::IdentifierMismatch { .. } => 70013,
            Self::SdkAppIdMismatch { .. } => 70014,
        }
    }
}

/// Makes a UserSig for `identifier`, valid `expire_secs` from `now_unix`.
pub fn generate(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    expire_secs: u64,
    now_unix: u64,
) -> String {
    seal(sdkappid, key, identifier, expire_secs, now_unix, None)
}

/// Makes a UserSig carrying `userbuf` (as TRTC's PrivateMapKey does).
pub fn generate_with_userbuf(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    expire_secs: u64,
    now_unix: u64,
    userbuf: &[u8],
) -> String {
    let userbuf = STANDARD.encode(userbuf);
    seal(
        sdkappid,
        key,
        identifier,
        expire_secs,
        now_unix,
        Some(&userbuf),
    )
}

/// Checks that `sig` is a UserSig for `identifier` in application `sdkappid`, signed
/// with `key` and valid at `now_unix`. The checks run in the order Tencent's own
/// verifier uses: application, account, validity period, then the signature.
pub fn verify(
    sig: &str,
    sdkappid: u64,
    key: &str,
    identifier: &str,
    now_unix: u64,
) -> Result<Verified, UserSigError> {
    let doc = open(sig)?;
    if doc.sdkappid != sdkappid {
        return Err(UserSigError::SdkAppIdMismatch {
            expected: sdkappid,
            found: doc.sdkappid,
        });
    }
    if doc.identifier != identifier {
        return Err(UserSigError::IdentifierMismatch {
            expected: identifier.to_owned(),
            found: doc.identifier,
        });
    }
    let expired_at = doc.time.saturating_add(doc.expire);
    if now_unix > expired_at {
        return Err(UserSigError::Expired {
            expired_at,
            now: now_unix,
        });
    }
    if doc.time > now_unix.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(UserSigError::IssuedInFuture {
            issued_at: doc.time,
            now: now_unix,
        });
    }
    let userbuf = match &doc.userbuf {
        Some(b64) => Some(
            STANDARD
                .decode(b64)
                .map_err(|_| UserSigError::Document("TLS.userbuf is not base64".into()))?,
        ),
        None => None,
    };
    let claimed = STANDARD
        .decode(&doc.sig)
        .map_err(|_| UserSigError::Document("TLS.sig is not base64".into()))?;
    let content = content_to_sign(
        &doc.identifier,
        doc.sdkappid,
        doc.time,
        doc.expire,
        doc.userbuf.as_deref(),
    );
    let mut mac = keyed_mac(key);
    mac.update(content.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&claimed)
        .map_err(|_| UserSigError::SignatureMismatch)?;
    Ok(Verified {
        identifier: doc.identifier,
        sdkappid: doc.sdkappid,
        issued_at: doc.time,
        expire_secs: doc.expire,
        userbuf,
    })
}

/// UserSigs verified already, remembered until they expire: an administrator's
/// requests present the same UserSig for hours, and it is checked once. Remembered
/// under a digest of the UserSig with the application, account and key it was
/// checked against, so a changed key or another account checks afresh.
#[derive(Debug, Default)]
pub struct Remembered {
    kept: std::sync::Mutex<std::collections::HashMap<[u8; 32], u64>>,
}

/// UserSigs remembered at most; beyond that the memory starts over.
const REMEMBERED: usize = 10_000;

impl Remembered {
    /// [`verify`], answered from memory for a UserSig that passed it before and has
    /// not expired since.
    pub fn verify(
        &self,
        sig: &str,
        sdkappid: u64,
        key: &str,
        identifier: &str,
        now_unix: u64,
    ) -> Result<(), UserSigError> {
        let mut digest = Sha256::new();
        for part in [
            sig.as_bytes(),
            &sdkappid.to_be_bytes(),
            key.as_bytes(),
            identifier.as_bytes(),
        ] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
        let id: [u8; 32] = digest.finalize().into();
        let lock = || {
            self.kept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if lock().get(&id).is_some_and(|expires| now_unix <= *expires) {
            return Ok(());
        }
        let v = verify(sig, sdkappid, key, identifier, now_unix)?;
        let mut kept = lock();
        if kept.len() >= REMEMBERED {
            kept.clear();
        }
        kept.insert(id, v.issued_at.saturating_add(v.expire_secs));
        Ok(())
    }
}

/// The fields of a sig document. Numbers are accepted as JSON numbers or as decimal
/// strings, as lenient JSON libraries of other languages may have written them.
#[derive(Deserialize)]
struct SigDoc {
    #[serde(rename = "TLS.identifier")]
    identifier: String,
    #[serde(rename = "TLS.sdkappid", deserialize_with = "lenient_u64")]
    sdkappid: u64,
    #[serde(rename = "TLS.time", deserialize_with = "lenient_u64")]
    time: u64,
    #[serde(rename = "TLS.expire", deserialize_with = "lenient_u64")]
    expire: u64,
    #[serde(rename = "TLS.userbuf", default)]
    userbuf: Option<String>,
    #[serde(rename = "TLS.sig")]
    sig: String,
}

fn lenient_u64<'de, D: serde::Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u64),
        Text(String),
    }
    match NumberOrText::deserialize(de)? {
        NumberOrText::Number(n) => Ok(n),
        NumberOrText::Text(s) => s
            .parse()
            .map_err(|_| serde::de::Error::custom("not an unsigned integer")),
    }
}

/// The base64 engine for Tencent's URL alphabet after translation back to the standard
/// one: padding is expected but its absence is forgiven.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Undoes the transport encoding and the compression, then parses the document.
fn open(sig: &str) -> Result<SigDoc, UserSigError> {
    if sig.is_empty() {
        return Err(UserSigError::Empty);
    }
    if sig.len() > MAX_USERSIG_LEN {
        return Err(UserSigError::TooLong);
    }
    let compressed = LENIENT
        .decode(standard_alphabet(sig))
        .map_err(|_| UserSigError::Encoding)?;
    let document =
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, MAX_DOCUMENT_LEN)
            .map_err(|e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => UserSigError::DocumentTooLarge,
                _ => UserSigError::Compression,
            })?;
    serde_json::from_slice(&document).map_err(|e| UserSigError::Document(e.to_string()))
}

/// A UserSig in standard base64: Tencent writes `+`, `/` and `=` as `*`, `-` and `_`.
fn standard_alphabet(sig: &str) -> String {
    sig.chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            other => other,
        })
        .collect()
}

/// Signs, assembles, compresses and encodes a sig document.
fn seal(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    expire_secs: u64,
    now_unix: u64,
    userbuf_b64: Option<&str>,
) -> String {
    let content = content_to_sign(identifier, sdkappid, now_unix, expire_secs, userbuf_b64);
    let mut mac = keyed_mac(key);
    mac.update(content.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());

    let mut doc = json!({
        "TLS.ver": VERSION,
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire_secs,
        "TLS.time": now_unix,
        "TLS.sig": signature,
    });
    if let (Some(b64), Some(map)) = (userbuf_b64, doc.as_object_mut()) {
        map.insert("TLS.userbuf".into(), b64.into());
    }
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(doc.to_string().as_bytes(), 6);
    STANDARD
        .encode(compressed)
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            other => other,
        })
        .collect()
}

/// The text the HMAC covers. Field order and the trailing newline on each line are
/// part of the algorithm.
fn content_to_sign(
    identifier: &str,
    sdkappid: u64,
    time: u64,
    expire: u64,
    userbuf_b64: Option<&str>,
) -> String {
    let mut content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(b64) = userbuf_b64 {
        content.push_str("TLS.userbuf:");
        content.push_str(b64);
        content.push('\n');
    }
    content
}

/// An HMAC-SHA256 keyed with the secret key's text. HMAC normalises any key to one
/// block (hashing a longer key, zero-padding a shorter one); doing that here lets the
/// infallible fixed-size constructor be used instead of the slice one, whose error
/// case cannot happen for HMAC but would still have to be handled.
fn keyed_mac(key: &str) -> HmacSha256 {
    let key = key.as_bytes();
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    if key.len() > block.len() {
        let hashed = Sha256::digest(key);
        block[..hashed.len()].copy_from_slice(&hashed);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <HmacSha256 as hmac::digest::KeyInit>::new(&block)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key, application and account Tencent's libraries use in their examples.
    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;
    const NOW: u64 = 1_700_000_000;

    /// Made by Tencent's `tls-sig-api-v2` 1.1 (PyPI) with the clock fixed at
    /// 1700000000: `gen_sig("xiaojun", 86400*180)`, `gen_sig_with_userbuf("xiaojun",
    /// 86400*180, b"abc")` and `gen_sig("administrator", 86400)`.
    const TENCENT_XIAOJUN: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpYJkTE1NjRDiJZm5YFFzNPXFmekgG3zKHM1T9D3LzdODi-OKs8vCqpxcAvydnV2SSv2cy03cPcpDnA2SMgu0nUxslWoBHdYzUg__";
    const TENCENT_XIAOJUN_USERBUF: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpYJkTE1NjRDiJZm5YFFzNPWlxalFSaVpIFsiw72y4FZkpoOEArNCjAwMKwKyI7L1E30NU7UrDcoSs6OSDLyNMgOK3EpTtbUNik0rzZLcfG2VagHdkjl6";
    const TENCENT_ADMIN: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-Myi0uKEkvyi2BKilOyEwsKMlOACgxNDKAAKpdaUZBZlAqUsTAzgQuWZOaChAzN0RQXZ6aDLKn0cUzVLjcPD00NLS1MCrPM0A*JMLcoNTLMD3HP1M60jCowLDUOKMiLNDOwVaoFAD4PNPI_";

    #[test]
    fn tencent_made_usersigs_verify() {
        let v = verify(TENCENT_XIAOJUN, APP, KEY, "xiaojun", NOW + 10).expect("valid");
        assert_eq!(v.identifier, "xiaojun");
        assert_eq!(v.sdkappid, APP);
        assert_eq!(v.issued_at, NOW);
        assert_eq!(v.expire_secs, DEFAULT_EXPIRE_SECS);
        assert_eq!(v.userbuf, None);

        let v = verify(TENCENT_XIAOJUN_USERBUF, APP, KEY, "xiaojun", NOW).expect("valid");
        assert_eq!(v.userbuf.as_deref(), Some(&b"abc"[..]));

        let v = verify(TENCENT_ADMIN, APP, KEY, "administrator", NOW + 86_400).expect("valid");
        assert_eq!(v.expires_at(), NOW + 86_400);
    }

    #[test]
    fn ours_carry_the_same_signature_as_tencents() {
        // The compressed bytes differ (JSON spacing, key order), the signed fields not:
        // the same inputs give the same TLS.sig.
        let ours = open(&generate(APP, KEY, "xiaojun", DEFAULT_EXPIRE_SECS, NOW)).expect("ours");
        let theirs = open(TENCENT_XIAOJUN).expect("theirs");
        assert_eq!(ours.sig, theirs.sig);
        assert_eq!(ours.sig, "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=");

        let ours = open(&generate_with_userbuf(
            APP,
            KEY,
            "xiaojun",
            DEFAULT_EXPIRE_SECS,
            NOW,
            b"abc",
        ))
        .expect("ours");
        let theirs = open(TENCENT_XIAOJUN_USERBUF).expect("theirs");
        assert_eq!(ours.sig, theirs.sig);
        assert_eq!(ours.userbuf.as_deref(), Some("YWJj"));
    }

    #[test]
    fn round_trip() {
        let sig = generate(1_400_123_456, "secret", "kefu_admin", 3600, NOW);
        assert!(
            sig.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*-_".contains(c))
        );
        let v = verify(&sig, 1_400_123_456, "secret", "kefu_admin", NOW + 3600).expect("valid");
        assert_eq!(v.expires_at(), NOW + 3600);

        // Accounts are UTF-8: the signed content carries them as they are.
        let sig = generate(1, "k", "用户_42", 60, NOW);
        assert!(verify(&sig, 1, "k", "用户_42", NOW).is_ok());
    }

    #[test]
    fn generated_document_has_tencents_shape() {
        let sig = generate(APP, KEY, "xiaojun", 86_400, NOW);
        let raw = compressed(&sig);
        assert_eq!(raw[0], 0x78, "zlib header");
        let doc = miniz_oxide::inflate::decompress_to_vec_zlib(&raw).expect("zlib");
        let doc: serde_json::Value = serde_json::from_slice(&doc).expect("json");
        assert_eq!(doc["TLS.ver"], "2.0");
        assert_eq!(doc["TLS.identifier"], "xiaojun");
        assert_eq!(doc["TLS.sdkappid"], APP);
        assert_eq!(doc["TLS.expire"], 86_400);
        assert_eq!(doc["TLS.time"], NOW);
        assert!(doc["TLS.sig"].is_string());
        assert!(doc.get("TLS.userbuf").is_none());
    }

    #[test]
    fn expiry_boundary() {
        let sig = generate(1, "k", "a", 100, NOW);
        assert!(
            verify(&sig, 1, "k", "a", NOW + 100).is_ok(),
            "valid through its last second"
        );
        assert_eq!(
            verify(&sig, 1, "k", "a", NOW + 101),
            Err(UserSigError::Expired {
                expired_at: NOW + 100,
                now: NOW + 101
            })
        );
        assert_eq!(
            verify(&sig, 1, "k", "a", NOW + 101).map_err(|e| e.im_error_code()),
            Err(70001)
        );
    }

    #[test]
    fn clock_skew_is_tolerated_but_not_far_future() {
        let sig = generate(1, "k", "a", 100, NOW + MAX_CLOCK_SKEW_SECS);
        assert!(verify(&sig, 1, "k", "a", NOW).is_ok());
        let sig = generate(1, "k", "a", 100_000, NOW + MAX_CLOCK_SKEW_SECS + 1);
        let err = verify(&sig, 1, "k", "a", NOW).expect_err("future");
        assert!(matches!(err, UserSigError::IssuedInFuture { .. }));
        assert_eq!(err.im_error_code(), 70009);
    }

    #[test]
    fn mismatches() {
        let sig = generate(1, "k", "alice", 100, NOW);
        let err = verify(&sig, 2, "k", "alice", NOW).expect_err("app");
        assert_eq!(
            err,
            UserSigError::SdkAppIdMismatch {
                expected: 2,
                found: 1
            }
        );
        assert_eq!(err.im_error_code(), 70014);

        let err = verify(&sig, 1, "k", "bob", NOW).expect_err("account");
        assert!(matches!(err, UserSigError::IdentifierMismatch { .. }));
        assert_eq!(err.im_error_code(), 70013);

        let err = verify(&sig, 1, "other key", "alice", NOW).expect_err("key");
        assert_eq!(err, UserSigError::SignatureMismatch);
        assert_eq!(err.im_error_code(), 70009);
    }

    /// The zlib stream a UserSig carries, its URL-safe base64 read back.
    fn compressed(sig: &str) -> Vec<u8> {
        STANDARD.decode(standard_alphabet(sig)).expect("base64")
    }

    /// Re-signs nothing: edits a field of a valid document and re-encodes it, as an
    /// attacker without the key would.
    fn tampered(sig: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let raw = compressed(sig);
        let doc = miniz_oxide::inflate::decompress_to_vec_zlib(&raw).expect("zlib");
        let mut doc: serde_json::Value = serde_json::from_slice(&doc).expect("json");
        edit(&mut doc);
        let out = miniz_oxide::deflate::compress_to_vec_zlib(doc.to_string().as_bytes(), 6);
        STANDARD
            .encode(out)
            .replace('+', "*")
            .replace('/', "-")
            .replace('=', "_")
    }

    #[test]
    fn tampering_is_detected() {
        let sig = generate(1, "k", "alice", 100, NOW);
        let longer = tampered(&sig, |d| d["TLS.expire"] = json!(1_000_000));
        assert_eq!(
            verify(&longer, 1, "k", "alice", NOW + 500),
            Err(UserSigError::SignatureMismatch)
        );

        let other = tampered(&sig, |d| d["TLS.identifier"] = json!("mallory"));
        assert_eq!(
            verify(&other, 1, "k", "mallory", NOW),
            Err(UserSigError::SignatureMismatch)
        );

        let later = tampered(&sig, |d| d["TLS.time"] = json!(NOW + 50));
        assert_eq!(
            verify(&later, 1, "k", "alice", NOW + 120),
            Err(UserSigError::SignatureMismatch)
        );

        let with_buf = tampered(&sig, |d| d["TLS.userbuf"] = json!("YWJj"));
        assert_eq!(
            verify(&with_buf, 1, "k", "alice", NOW),
            Err(UserSigError::SignatureMismatch)
        );

        let short_sig = tampered(&sig, |d| d["TLS.sig"] = json!("AAAA"));
        assert_eq!(
            verify(&short_sig, 1, "k", "alice", NOW),
            Err(UserSigError::SignatureMismatch)
        );

        // A flipped character of the transport encoding breaks the stream or the document.
        let mut flipped = sig.clone().into_bytes();
        flipped[20] = if flipped[20] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        let err = verify(&flipped, 1, "k", "alice", NOW).expect_err("flipped");
        assert_ne!(err.im_error_code(), 0);
    }

    #[test]
    fn string_numbers_are_read_like_numbers() {
        let sig = generate(7, "k", "alice", 100, NOW);
        let texty = tampered(&sig, |d| {
            d["TLS.sdkappid"] = json!("7");
            d["TLS.time"] = json!(NOW.to_string());
            d["TLS.expire"] = json!("100");
        });
        assert!(verify(&texty, 7, "k", "alice", NOW).is_ok());
    }

    #[test]
    fn malformed_input_is_invalid() {
        let code = |s: &str| verify(s, 1, "k", "a", NOW).map_err(|e| e.im_error_code());
        assert_eq!(verify("", 1, "k", "a", NOW), Err(UserSigError::Empty));
        assert_eq!(code("not base64 at all!"), Err(70003));
        assert_eq!(
            verify("not base64 at all!", 1, "k", "a", NOW),
            Err(UserSigError::Encoding)
        );
        // Valid base64, not zlib.
        assert_eq!(
            verify("aGVsbG8gd29ybGQ_", 1, "k", "a", NOW),
            Err(UserSigError::Compression)
        );
        // zlib, not JSON.
        let not_json = STANDARD.encode(miniz_oxide::deflate::compress_to_vec_zlib(b"hello", 6));
        assert!(matches!(
            verify(&not_json, 1, "k", "a", NOW),
            Err(UserSigError::Document(_))
        ));
        // JSON lacking the signature.
        let no_sig = tampered(&generate(1, "k", "a", 100, NOW), |d| {
            d.as_object_mut().map(|m| m.remove("TLS.sig"));
        });
        assert!(matches!(
            verify(&no_sig, 1, "k", "a", NOW),
            Err(UserSigError::Document(_))
        ));
        // A negative validity.
        let negative = tampered(&generate(1, "k", "a", 100, NOW), |d| {
            d["TLS.expire"] = json!(-5)
        });
        assert!(matches!(
            verify(&negative, 1, "k", "a", NOW),
            Err(UserSigError::Document(_))
        ));
        // A bad user buffer.
        let bad_buf = tampered(&generate(1, "k", "a", 100, NOW), |d| {
            d["TLS.userbuf"] = json!("@@")
        });
        assert!(matches!(
            verify(&bad_buf, 1, "k", "a", NOW),
            Err(UserSigError::Document(_))
        ));
    }

    #[test]
    fn sizes_are_bounded() {
        let long = "A".repeat(MAX_USERSIG_LEN + 1);
        assert_eq!(verify(&long, 1, "k", "a", NOW), Err(UserSigError::TooLong));

        // A small stream that inflates far past the limit is stopped at the limit.
        let bomb = vec![b' '; 1024 * 1024];
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&bomb, 9);
        let sig = STANDARD
            .encode(compressed)
            .replace('+', "*")
            .replace('/', "-")
            .replace('=', "_");
        assert!(
            sig.len() <= MAX_USERSIG_LEN,
            "the bomb fits in a UserSig: {}",
            sig.len()
        );
        assert_eq!(
            verify(&sig, 1, "k", "a", NOW),
            Err(UserSigError::DocumentTooLarge)
        );
    }

    #[test]
    fn keyed_mac_matches_hmac_for_any_key_length() {
        for len in [0, 1, 63, 64, 65, 200] {
            let key = "k".repeat(len);
            let mut ours = keyed_mac(&key);
            ours.update(b"content");
            let mut reference = HmacSha256::new_from_slice(key.as_bytes()).expect("any length");
            reference.update(b"content");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "len {len}"
            );
        }
    }

    #[test]
    fn real_world_usersigs_decode() {
        // Published in a public TRTC demo (its key is not): decodes, then fails only
        // where a wrong key must fail.
        let sig = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwoZQweKU7MSCgswUJStDEwMDYxNTY0MDiExqRUFmUSpQ3NTU1MjAACpakpkLFrMwtbQ0MDE1gpqSmQ40MyU9zCgi3yvDLzkv3bwwpCLSoyzJsMQvK8jNxNfXPze1KNwsy6jY1cey0MRWqRYAFy8vzw__";
        assert_eq!(
            verify(sig, 1_400_345_310, "not their key", "1", 1_585_990_452),
            Err(UserSigError::SignatureMismatch)
        );
    }
}
