//! Random identifiers: 20 characters of lower-case base 32 (100 bits), safe in URLs, file
//! names and SQL, and short enough to read aloud.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new random id.
pub fn random_id() -> String {
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..32)] as char).collect()
}

/// A new random secret token (for agents and refresh tokens): 43 URL-safe characters, 256 bits.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_url_safe() {
        let a = random_id();
        assert_eq!(a.len(), 20);
        assert_ne!(a, random_id());
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(random_token().len(), 43);
    }
}
