//! Signatures after the Standard Webhooks specification: `webhook-signature` holds
//! `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret that signs
//! (the current one, and the previous one while a rotation overlaps), separated by
//! spaces. Secrets are `whsec_` and the base64 of 32 random bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a delivery could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the endpoint's secret is unreadable")]
    Secret,
    #[error("the body is not UTF-8")]
    Body,
}

/// A new secret.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)?;
    Ok(format!("whsec_{}", STANDARD.encode(key)))
}

/// The `webhook-signature` header of a delivery, signed with each of `secrets`.
pub fn signature(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignError> {
    let mut out = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let webhook = standardwebhooks::Webhook::new(secret).map_err(|_| SignError::Secret)?;
        out.push(
            webhook
                .sign(id, timestamp, body)
                .map_err(|_| SignError::Body)?,
        );
    }
    Ok(out.join(" "))
}

/// The last four characters of a secret, for showing it.
pub fn masked(secret: &str) -> String {
    format!("whsec_…{}", crate::directory::last_four(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_example_signs_as_published() {
        // The example of the Standard Webhooks specification.
        let sig = signature(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap_or_default();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_sign_side_by_side() {
        let a = new_secret().unwrap_or_default();
        let b = new_secret().unwrap_or_default();
        assert!(a.starts_with("whsec_") && a != b);
        let both = signature(&[&a, &b], "id", 1, b"{}").unwrap_or_default();
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert!(masked(&a).ends_with(&a[a.len() - 4..]));
    }
}
