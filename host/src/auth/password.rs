//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes),
//! stored in PHC string format so that parameters can be raised later without
//! invalidating existing hashes. Each hash runs in a work area kept for the next one,
//! so that the memory hashing holds stays bounded after any burst of sign-ins (their
//! number is bounded by `auth.max_concurrent_logins`; new passwords hash one per core
//! at a time).

use std::sync::{LazyLock, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Work areas bigger than this (in 1 KiB blocks) are not kept: a stored hash with a
/// larger memory cost is checked with an area of its own.
const KEPT_AREA_BLOCKS: usize = 64 * 1024;

/// Work areas kept at most (one for each hash running at once, up to this).
const KEPT_AREAS: usize = 16;

/// Argon2's memory (19 MiB a hash with the defaults), kept between hashes: allocated
/// and freed on every sign-in, the allocator would keep a copy for every thread that
/// ever hashed, which after a burst of sign-ins came to hundreds of MiB.
static AREAS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// New passwords hashed at once (sign-ins have their own bound).
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    )
});

/// Runs `f` with a work area of at least `blocks` blocks.
fn with_area<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let kept = blocks <= KEPT_AREA_BLOCKS;
    let mut area = if kept {
        AREAS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if area.len() < blocks {
        area.resize(blocks, Block::default());
    }
    let out = f(&mut area[..blocks]);
    if kept {
        let mut areas = AREAS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if areas.len() < KEPT_AREAS {
            areas.push(area);
        }
    }
    out
}

/// Hashes a password. CPU-heavy: call from a blocking thread.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    derive(
        Algorithm::default(),
        Version::default(),
        &params,
        password,
        salt.as_salt(),
        &mut out,
    )?;
    Ok(PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: (&params).try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    }
    .to_string())
}

/// Fills `out` with the Argon2 hash of `password` and `salt`, in a kept work area.
fn derive(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &str,
    salt: Salt<'_>,
    out: &mut [u8],
) -> Result<(), argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    with_area(params.block_count(), |area| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, area)
    })?;
    Ok(())
}

/// Checks a password against a stored hash. A malformed hash never verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    check(password, stored).unwrap_or(false)
}

fn check(password: &str, stored: &str) -> Result<bool, argon2::password_hash::Error> {
    let parsed = PasswordHash::new(stored)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let mut out = vec![0u8; expected.len()];
    derive(algorithm, version, &params, password, salt, &mut out)?;
    // `Output`'s equality takes the same time wherever the bytes differ.
    Ok(Output::new(&out)? == expected)
}

/// A hash of nothing in particular, verified against when an account does not exist so
/// that a login for an unknown e-mail takes as long as one with a wrong password.
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| hash("kefu decoy password").ok());

pub fn verify_decoy(password: &str) {
    if let Some(decoy) = DECOY.as_deref() {
        let _ = verify(password, decoy);
    }
}

/// Hashes a new password on tokio's blocking pool, one per core at a time, so that
/// creating many accounts at once never stalls the runtime.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    let _turn = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash(&password))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a stored hash, or against the decoy when there is none,
/// on tokio's blocking pool. The caller bounds how many run at once.
pub async fn verify_blocking(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    Ok(tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            verify_decoy(&password);
            false
        }
    })
    .await?)
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
        // A hash made by the library's own PHC code verifies here, and ours there.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let theirs = argon2::Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut super::OsRng))
            .unwrap()
            .to_string();
        assert!(super::verify("correct horse", &theirs));
        assert!(!super::verify("correct horsf", &theirs));
        let ours = argon2::password_hash::PasswordHash::new(&a).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(b"correct horse", &ours)
                .is_ok()
        );
    }
}
