//! Passwords: argon2id, stored as PHC strings (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`),
//! so the parameters travel with each hash and can be raised later without a migration.
//!
//! Hashing costs tens of milliseconds of CPU on purpose: the async callers run it on the
//! blocking pool ([`hash_blocking`], [`verify_blocking`]) so it never stalls the runtime.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// The shortest password accepted.
pub const MIN_LEN: usize = 8;
/// The longest password accepted (in bytes): hashing is linear in the input, so a cap keeps one
/// login from being a denial of service.
pub const MAX_LEN: usize = 1024;

/// argon2id with the parameters OWASP recommends as a baseline (19 MiB, 2 passes, 1 lane),
/// which are argon2's defaults.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes `password` with a fresh random salt; returns the PHC string.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("encoding a salt: {e}"))?;
    let phc = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`. A malformed or foreign hash never matches
/// (and is not an error: the account simply cannot log in with a password).
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        // The parameters come from the stored hash; only argon2 variants are accepted.
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A valid hash of a password nobody knows. A login for an unknown user verifies against it,
/// so the answer takes as long as for a known user with a wrong password and timing does not
/// tell which usernames exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let random = nbw_core::ids::random_token();
        hash(&random).expect("hashing a random password does not fail")
    });
    &DUMMY
}

/// [`hash`] on the blocking thread pool.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password)).await.context("the hashing task failed")?
}

/// [`verify`] on the blocking thread pool; `None` as the hash verifies against
/// [`dummy_hash`] and returns false, taking the same time as a real check.
pub async fn verify_blocking(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            let _ = verify(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_phc_strings_that_verify() {
        let a = hash("correct horse").unwrap();
        let b = hash("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse", &a));
        assert!(verify("correct horse", &b));
        assert!(!verify("correct horsE", &a));
        assert!(!verify("", &a));
    }

    #[test]
    fn malformed_hashes_never_match() {
        assert!(!verify("anything", "not-a-real-hash"));
        assert!(!verify("anything", ""));
        assert!(!verify("anything", "$argon2id$v=19$m=19456,t=2,p=1$bad"));
    }

    #[tokio::test]
    async fn an_unknown_user_costs_a_verification_and_fails() {
        assert!(!verify_blocking("x".repeat(12), None).await);
        let phc = hash_blocking("password1".into()).await.unwrap();
        assert!(verify_blocking("password1".into(), Some(phc)).await);
    }
}
