//! Login, token refresh and logout: the flows that tie passwords, tokens, the throttle
//! and the store together.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::throttle::LoginThrottle;
use super::{TokenKeys, password};
use crate::directory::Role;
use crate::store::auth_sessions::{self, Origin, Rotation};
use crate::store::{StoreError, TenantId, agents, tenants};

/// What a successful login or refresh returns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPair {
    /// A JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Exchange at `/api/v1/auth/refresh` for a new pair; valid once.
    pub refresh_token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong tenant, e-mail or password")]
    InvalidCredentials,
    #[error("too many failed logins; try again later")]
    Throttled(Duration),
    /// Too many password checks are running; the client may retry shortly.
    #[error("the server is busy checking other logins; try again in a moment")]
    Busy,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; the sign-in session has been revoked")]
    RefreshTokenReused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Issues and revokes credentials.
#[derive(Debug)]
pub struct Authenticator {
    db: DatabaseConnection,
    keys: TokenKeys,
    throttle: LoginThrottle,
    session_lifetime: chrono::Duration,
    /// Password checks running at once: each Argon2 hash takes ~19 MiB and tens of
    /// milliseconds of a blocking thread.
    hashing: tokio::sync::Semaphore,
}

/// How long a login waits for a password check to be free before it is answered 503.
const HASH_WAIT: Duration = Duration::from_secs(5);

/// Longest tenant, e-mail and password inputs looked at; longer ones fail fast.
const MAX_INPUT: usize = 256;

impl Authenticator {
    pub fn new(
        db: DatabaseConnection,
        keys: TokenKeys,
        throttle: LoginThrottle,
        session_lifetime: Duration,
        max_concurrent_logins: u32,
    ) -> Self {
        let session_lifetime =
            chrono::Duration::from_std(session_lifetime).unwrap_or(chrono::Duration::days(30));
        Self {
            db,
            keys,
            throttle,
            session_lifetime,
            hashing: tokio::sync::Semaphore::new(max_concurrent_logins.max(1) as usize),
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    #[tracing::instrument(skip(self, password, origin), fields(tenant = %tenant_slug))]
    pub async fn login(
        &self,
        tenant_slug: &str,
        email: &str,
        password: &str,
        origin: Origin,
    ) -> Result<TokenPair, AuthError> {
        let address = origin.client_ip.clone();
        let attempt = self
            .throttle
            .begin(tenant_slug, email, address.as_deref())
            .map_err(AuthError::Throttled)?;
        let checked = {
            let _hashing = tokio::time::timeout(HASH_WAIT, self.hashing.acquire())
                .await
                .map_err(|_| AuthError::Busy)?
                .map_err(|_| AuthError::Busy)?;
            self.check_password(tenant_slug, email, password).await?
        };
        match checked {
            Some((tenant, agent_id, role)) => {
                attempt.succeeded();
                let refresh = new_refresh_token()?;
                let session = auth_sessions::open(
                    &self.db,
                    tenant,
                    agent_id,
                    origin,
                    hash_refresh_token(&refresh),
                    self.session_lifetime,
                )
                .await?;
                tracing::info!(%agent_id, "login");
                self.pair(agent_id, tenant, role, session, refresh)
            }
            None => {
                attempt.failed();
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Returns the account when the password matches an active agent of an active
    /// tenant. Unknown accounts cost as much time as wrong passwords.
    async fn check_password(
        &self,
        tenant_slug: &str,
        email: &str,
        password: &str,
    ) -> Result<Option<(TenantId, Uuid, Role)>, AuthError> {
        let email = email.trim().to_lowercase();
        let too_long =
            tenant_slug.len() > MAX_INPUT || email.len() > MAX_INPUT || password.len() > MAX_INPUT;
        let account = if too_long {
            None
        } else {
            match tenants::find_by_slug(&self.db, tenant_slug.trim()).await? {
                Some(t) if t.active => agents::credentials(&self.db, t.id, &email)
                    .await?
                    .map(|c| (t.id, c)),
                _ => None,
            }
        };
        let (stored, who) = match account {
            Some((tenant, creds)) => (
                Some(creds.password_hash),
                Some((tenant, creds.agent_id, creds.role, creds.active)),
            ),
            None => (None, None),
        };
        let ok = password::verify_blocking(password.to_owned(), stored).await?;
        let verified = who
            .filter(|(_, _, _, active)| ok && *active)
            .map(|(tenant, agent, role, _)| (tenant, agent, role));
        Ok(verified)
    }

    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, presented: &str) -> Result<TokenPair, AuthError> {
        if presented.is_empty() || presented.len() > MAX_INPUT {
            return Err(AuthError::InvalidRefreshToken);
        }
        let replacement = new_refresh_token()?;
        match auth_sessions::rotate(
            &self.db,
            &hash_refresh_token(presented),
            hash_refresh_token(&replacement),
        )
        .await?
        {
            Rotation::Rotated {
                tenant,
                agent_id,
                session_id,
                role,
            } => self.pair(agent_id, tenant, role, session_id, replacement),
            Rotation::Invalid => Err(AuthError::InvalidRefreshToken),
            Rotation::Reused => {
                tracing::warn!("refresh token replayed; session revoked");
                Err(AuthError::RefreshTokenReused)
            }
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn logout(&self, tenant: TenantId, session: Uuid) -> Result<(), AuthError> {
        auth_sessions::revoke(&self.db, tenant, session).await?;
        Ok(())
    }

    fn pair(
        &self,
        agent: Uuid,
        tenant: TenantId,
        role: Role,
        session: Uuid,
        refresh_token: String,
    ) -> Result<TokenPair, AuthError> {
        let access_token = self
            .keys
            .issue(agent, tenant, role, session)
            .map_err(|e| AuthError::Internal(anyhow::anyhow!("issuing token: {e}")))?;
        Ok(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in: self.keys.ttl().as_secs(),
            refresh_token,
        })
    }
}

/// A fresh refresh token: 256 random bits, URL-safe.
fn new_refresh_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Internal(anyhow::anyhow!("random: {e}")))?;
    Ok(format!("kefu_rt_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Refresh tokens are stored as SHA-256 digests: a leaked table lets nobody sign in.
/// (A slow hash is unnecessary: the token has 256 bits of entropy.)
fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random secret of `bytes` bytes, URL-safe base64 encoded.
/// A random 32-bit number (IM's `MsgRandom` and `random`); the clock's nanoseconds
/// if the system has no randomness to give.
pub fn random_u32() -> u32 {
    let mut buf = [0u8; 4];
    if getrandom::fill(&mut buf).is_err() {
        return chrono::Utc::now().timestamp_subsec_nanos();
    }
    u32::from_le_bytes(buf)
}

pub fn random_secret(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}
