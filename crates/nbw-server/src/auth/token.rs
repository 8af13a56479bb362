//! Access tokens: HS256 JWTs naming the user, valid for a few minutes. They are checked
//! without a database read, which is why they are short-lived; refresh tokens (opaque, stored,
//! rotating) are how a client stays logged in.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Keys;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    adm: bool,
    iat: i64,
    exp: i64,
    typ: String,
}

/// A verified access token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The user id.
    pub user_id: String,
    /// Whether the user is an administrator.
    pub is_admin: bool,
}

/// Issues an access token for `user_id`, valid for `ttl`.
pub fn issue(keys: &Keys, user_id: &str, is_admin: bool, ttl: Duration) -> (String, DateTime<Utc>) {
    let now = Utc::now();
    let expires = now + ttl;
    let claims = Claims {
        sub: user_id.to_owned(),
        adm: is_admin,
        iat: now.timestamp(),
        exp: expires.timestamp(),
        typ: "access".into(),
    };
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&keys.jwt))
            .expect("HS256 signing does not fail");
    (token, expires)
}

/// Verifies an access token's signature, type and expiry.
pub fn verify(keys: &Keys, token: &str) -> Option<Subject> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&keys.jwt), &validation).ok()?;
    (data.claims.typ == "access").then_some(Subject { user_id: data.claims.sub, is_admin: data.claims.adm })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_key_only_and_expire() {
        let keys = Keys::from_secret(&[7; 32]);
        let (token, _) = issue(&keys, "u1", true, Duration::minutes(5));
        assert_eq!(verify(&keys, &token), Some(Subject { user_id: "u1".into(), is_admin: true }));
        assert_eq!(verify(&Keys::from_secret(&[8; 32]), &token), None);
        let (old, _) = issue(&keys, "u1", false, Duration::minutes(-5));
        assert_eq!(verify(&keys, &old), None);
        assert_eq!(verify(&keys, "not.a.token"), None);
    }
}
