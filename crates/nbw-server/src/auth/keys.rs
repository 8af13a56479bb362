//! The server's secret key. It is read from `NBW_SECRET_KEY` (64 hex characters) or from
//! `<data_dir>/server.key`, created with mode 0600 on first start. Servers sharing one
//! PostgreSQL must share the key (a JWT signed by one is checked by another, and secrets are
//! decrypted by whichever server hands them to an agent).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// Keys derived from the server secret, one per purpose.
#[derive(Clone)]
pub struct Keys {
    /// HMAC key for JWT access tokens.
    pub jwt: [u8; 32],
    /// Master key (version 1) for secrets at rest.
    pub secrets: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// Derives the keys from a 32-byte secret.
    pub fn from_secret(secret: &[u8; 32]) -> Keys {
        let derive = |purpose: &str| -> [u8; 32] {
            let mut hasher = Sha256::new();
            hasher.update(purpose.as_bytes());
            hasher.update(secret);
            hasher.finalize().into()
        };
        Keys { jwt: derive("nbw jwt v1"), secrets: derive("nbw secrets v1") }
    }

    /// Loads the secret from the environment value (hex) or the key file, creating the file
    /// when neither exists.
    pub fn load(env_value: Option<&str>, data_dir: &Path) -> anyhow::Result<Keys> {
        if let Some(hex) = env_value {
            return Ok(Keys::from_secret(&parse_hex(hex.trim()).context("NBW_SECRET_KEY")?));
        }
        let path = data_dir.join("server.key");
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return Ok(Keys::from_secret(
                &parse_hex(text.trim()).with_context(|| path.display().to_string())?,
            ));
        }
        let secret: [u8; 32] = rand::random();
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_0600()
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(hex.as_bytes())?;
        Ok(Keys::from_secret(&secret))
    }
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

fn parse_hex(text: &str) -> anyhow::Result<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("the server key must be 64 hexadecimal characters (32 bytes)");
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = Keys::load(None, dir.path()).unwrap();
        let b = Keys::load(None, dir.path()).unwrap();
        assert_eq!(a.jwt, b.jwt);
        assert_ne!(a.jwt, a.secrets);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("server.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(Keys::load(Some("zz"), dir.path()).is_err());
    }
}
