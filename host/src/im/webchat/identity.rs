//! Who a web chat visitor is.
//!
//! - An **anonymous visitor**'s browser keeps a random token (32 random bytes,
//!   base64url) that only it holds. kefu never stores or shows the token: the
//!   visitor's account on the channel is `web_` + the first 24 hex digits of
//!   SHA-256(channel id, token). Whoever sees that account id in a session list learns
//!   nothing that lets them read or write as the visitor.
//! - A **user of a signed-in site** that embeds the chat is vouched for by the site's
//!   server: an HS256 JWT signed with the channel's web chat identity key, with `sub`
//!   (the site's user id: 1–30 of `A–Z a–z 0–9 . _ @ -`), an optional `name`, and
//!   `exp` (at most 7 days ahead). Their account is `u_` + `sub`, the same on every
//!   device. A channel may accept only such users (`webchat_require_identity`).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::directory::Channel;

/// Longest nickname kept.
const NICKNAME_CHARS: usize = 32;
/// Longest `sub` of an identity token: `u_` + it fits IM's 32-byte account ids.
const SUB_MAX: usize = 30;
/// The furthest ahead an identity token may expire.
const MAX_LIFETIME_SECS: u64 = 7 * 24 * 3600;

/// Why a visitor was not admitted, as the page is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub message: &'static str,
}

const BAD_TOKEN: Refused = Refused {
    code: "invalid_visitor_token",
    message: "the visitor token must be 43 to 128 characters of A-Z a-z 0-9 - _",
};
const BAD_IDENTITY: Refused = Refused {
    code: "invalid_identity",
    message: "the site's identity token is not valid for this channel (signature, expiry or user id)",
};
const IDENTITY_REQUIRED: Refused = Refused {
    code: "identity_required",
    message: "this chat is only for signed-in users of the site",
};

/// A visitor as the chat knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    /// The account on the channel, shown to agents.
    pub user_id: String,
    pub nickname: String,
    /// Vouched for by the site.
    pub verified: bool,
}

#[derive(Debug, Deserialize)]
struct IdentityClaims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    exp: u64,
}

/// The visitor of a `hello`: from the site's identity token when there is one,
/// otherwise from the browser's own token.
pub fn identify(
    channel: &Channel,
    token: Option<&str>,
    identity: Option<&str>,
    nickname: &str,
    now_unix: u64,
) -> Result<Visitor, Refused> {
    if let Some(identity) = identity {
        return vouched(channel, identity, nickname, now_unix);
    }
    if channel.webchat_require_identity {
        return Err(IDENTITY_REQUIRED);
    }
    let token = token.ok_or(BAD_TOKEN)?;
    if !(43..=128).contains(&token.len())
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(BAD_TOKEN);
    }
    Ok(Visitor {
        user_id: anonymous_account(channel.id, token),
        nickname: clean_nickname(nickname),
        verified: false,
    })
}

/// `web_` + 24 hex digits of SHA-256 over the channel and the token.
pub fn anonymous_account(channel: Uuid, token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"kefu web chat visitor\0");
    h.update(channel.as_bytes());
    h.update(token.as_bytes());
    let digest = hex::encode(h.finalize());
    format!("web_{}", &digest[..24])
}

fn vouched(
    channel: &Channel,
    identity: &str,
    nickname: &str,
    now_unix: u64,
) -> Result<Visitor, Refused> {
    let Some(secret) = &channel.webchat_identity_secret else {
        return Err(BAD_IDENTITY);
    };
    if identity.len() > 4096 {
        return Err(BAD_IDENTITY);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 60;
    let claims = jsonwebtoken::decode::<IdentityClaims>(
        identity,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|_| BAD_IDENTITY)?
    .claims;
    let sub_ok = !claims.sub.is_empty()
        && claims.sub.len() <= SUB_MAX
        && claims
            .sub
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if !sub_ok || claims.exp > now_unix + MAX_LIFETIME_SECS {
        return Err(BAD_IDENTITY);
    }
    let name = claims.name.as_deref().unwrap_or(nickname);
    let nickname = match clean_nickname(name) {
        n if n.is_empty() => claims.sub.clone(),
        n => n,
    };
    Ok(Visitor {
        user_id: format!("u_{}", claims.sub),
        nickname,
        verified: true,
    })
}

fn clean_nickname(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(NICKNAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    fn channel(require: bool) -> Channel {
        let now = chrono::Utc::now();
        Channel {
            id: Uuid::now_v7(),
            tenant_id: Uuid::now_v7(),
            name: "Shop".into(),
            account: "kefu".into(),
            sdkappid: 1,
            admin_identifier: "administrator".into(),
            secret_key: "k".repeat(16),
            callback_token: "t".repeat(16),
            flow_id: None,
            default_skill_group_id: None,
            im_base_url: None,
            webchat_enabled: true,
            idle_timeout_secs: 0,
            webchat_identity_secret: Some("the-site-shares-this-key-with-kefu".into()),
            webchat_require_identity: require,
            created_at: now,
            updated_at: now,
        }
    }

    fn sign(key: &str, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap_or_default()
    }

    const TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn an_anonymous_account_is_derived_from_the_secret_token_and_never_shows_it() {
        #[allow(non_snake_case)]
        let NOW = jsonwebtoken::get_current_timestamp();
        let c = channel(false);
        let v =
            identify(&c, Some(TOKEN), None, "  Alice\n", NOW).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(v.user_id.starts_with("web_") && v.user_id.len() == 28);
        assert!(!v.user_id.contains(&TOKEN[..8]));
        assert_eq!(v.nickname, "Alice");
        assert!(!v.verified);
        // The same token is the same visitor; another token or channel is another.
        assert_eq!(anonymous_account(c.id, TOKEN), v.user_id);
        assert_ne!(anonymous_account(c.id, &TOKEN.replace('A', "B")), v.user_id);
        assert_ne!(anonymous_account(Uuid::now_v7(), TOKEN), v.user_id);
        for bad in ["short", &"x".repeat(129), &format!("{}!", &TOKEN[..43])] {
            assert_eq!(identify(&c, Some(bad), None, "", NOW), Err(BAD_TOKEN));
        }
        assert_eq!(identify(&c, None, None, "", NOW), Err(BAD_TOKEN));
    }

    #[test]
    fn a_site_vouches_with_a_token_signed_by_the_channel_key() {
        #[allow(non_snake_case)]
        let NOW = jsonwebtoken::get_current_timestamp();
        let c = channel(true);
        let key = c.webchat_identity_secret.clone().unwrap_or_default();
        let good = sign(
            &key,
            serde_json::json!({"sub": "member.42", "name": "王小明", "exp": NOW + 600}),
        );
        let v = identify(&c, None, Some(&good), "ignored", NOW).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (v.user_id.as_str(), v.nickname.as_str(), v.verified),
            ("u_member.42", "王小明", true)
        );

        let refused = |token: &str| identify(&c, None, Some(token), "", NOW);
        assert_eq!(
            refused(&sign(
                "another-key-another-key-another",
                serde_json::json!({"sub": "a", "exp": NOW + 60})
            )),
            Err(BAD_IDENTITY)
        );
        assert_eq!(
            refused(&sign(
                &key,
                serde_json::json!({"sub": "a", "exp": NOW - 3600})
            )),
            Err(BAD_IDENTITY)
        );
        assert_eq!(
            refused(&sign(
                &key,
                serde_json::json!({"sub": "a b", "exp": NOW + 60})
            )),
            Err(BAD_IDENTITY)
        );
        assert_eq!(
            refused(&sign(
                &key,
                serde_json::json!({"sub": "a", "exp": NOW + 30 * 86400})
            )),
            Err(BAD_IDENTITY)
        );
        assert_eq!(
            refused(&sign(&key, serde_json::json!({"exp": NOW + 60}))),
            Err(BAD_IDENTITY)
        );
        assert_eq!(refused("not.a.jwt"), Err(BAD_IDENTITY));
        // Required: an anonymous visitor is turned away.
        assert_eq!(
            identify(&c, Some(TOKEN), None, "", NOW),
            Err(IDENTITY_REQUIRED)
        );
    }
}
