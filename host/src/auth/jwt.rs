//! Access tokens: short-lived HS256 JWTs naming the agent (`sub`), the tenant, the role
//! and the sign-in session (`sid`) they belong to.
//!
//! Verification pins the algorithm (so `alg: none` and algorithm swaps fail), and
//! requires a valid signature, `exp`, `iat`, our audience and our issuer. The caller
//! still has to check that the session is live: see `http::extract`.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::directory::Role;
use crate::store::TenantId;

/// The claims kefu puts in an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The agent's id.
    pub sub: Uuid,
    /// The tenant's id.
    pub tenant: Uuid,
    pub role: Role,
    /// The sign-in session; logging out revokes it.
    pub sid: Uuid,
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: Uuid,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
}

/// Signs and verifies access tokens with one server secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
    issuer: String,
    ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

pub const ISSUER: &str = "kefu";

impl TokenKeys {
    pub fn new(secret: &[u8], audience: &str, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            audience: audience.to_owned(),
            issuer: ISSUER.to_owned(),
            ttl,
        }
    }

    /// Lifetime of the tokens this issues.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        agent: Uuid,
        tenant: TenantId,
        role: Role,
        session: Uuid,
    ) -> Result<String, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: agent,
            tenant: tenant.0,
            role,
            sid: session,
            aud: self.audience.clone(),
            iss: self.issuer.clone(),
            iat: now,
            exp: now + self.ttl.as_secs(),
            jti: Uuid::new_v4(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            "kefu-api",
            Duration::from_secs(60),
        )
    }

    #[test]
    fn round_trip() {
        let k = keys();
        let (a, t, s) = (Uuid::new_v4(), TenantId(Uuid::new_v4()), Uuid::new_v4());
        let c = k.verify(&k.issue(a, t, Role::Admin, s).unwrap()).unwrap();
        assert_eq!((c.sub, c.tenant, c.role, c.sid), (a, t.0, Role::Admin, s));
    }

    #[test]
    fn refuses_other_keys_audiences_and_unsigned_tokens() {
        let k = keys();
        let t = TenantId(Uuid::new_v4());
        let token = k
            .issue(Uuid::new_v4(), t, Role::Agent, Uuid::new_v4())
            .unwrap();
        let other_key = TokenKeys::new(
            b"another secret of enough length!",
            "kefu-api",
            Duration::from_secs(60),
        );
        assert_eq!(other_key.verify(&token).unwrap_err(), TokenError::Invalid);
        let other_aud = TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            "elsewhere",
            Duration::from_secs(60),
        );
        assert_eq!(other_aud.verify(&token).unwrap_err(), TokenError::Invalid);
        // Same claims, `alg: none`, no signature.
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            k.verify(&format!("{header}.{payload}.")).unwrap_err(),
            TokenError::Invalid
        );
    }
}
