//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes),
//! stored in PHC string format so that parameters can be raised later without
//! invalidating existing hashes.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes a password. CPU-heavy: call from a blocking thread.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored hash. A malformed hash never verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of nothing in particular, verified against when an account does not exist so
/// that a login for an unknown e-mail takes as long as one with a wrong password.
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| hash("kefu decoy password").ok());

pub fn verify_decoy(password: &str) {
    if let Some(decoy) = DECOY.as_deref() {
        let _ = verify(password, decoy);
    }
}

/// Hashes on tokio's blocking pool, so that a burst of logins never stalls the runtime.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    let hashed = tokio::task::spawn_blocking(move || hash(&password)).await?;
    hashed.map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("correct horse").unwrap();
        let b = super::hash("correct horse").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &a));
        assert!(!super::verify("battery staple", &a));
        assert!(!super::verify("correct horse", "not a hash"));
    }
}
