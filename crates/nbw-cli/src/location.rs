//! Where `nbw run` reads its notebook and writes the result: a local path, standard input or
//! output (`-`), or an object store URL: `s3://`, `gs://`, `az://` (and object_store's other
//! Azure spellings), or `http(s)://` for reading only. Credentials and endpoints come from each
//! cloud's usual environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`). A store is built only
//! for a URL, so a local run never pays for object_store's setup.

use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, ObjectStoreScheme, PutPayload};
use url::Url;

/// A notebook's place.
pub enum Location {
    /// `-`: standard input or standard output.
    Std,
    /// A local file.
    File(PathBuf),
    /// An object in a store.
    Remote(Remote),
}

impl Location {
    /// Reads `text` as a location. Builds the store of a URL but sends no request yet.
    pub fn parse(text: &str) -> anyhow::Result<Location> {
        if text == "-" {
            return Ok(Location::Std);
        }
        if !looks_like_url(text) {
            return Ok(Location::File(PathBuf::from(text)));
        }
        let url = Url::parse(text).with_context(|| format!("{text} is not a valid URL"))?;
        let (scheme, _) = ObjectStoreScheme::parse(&url).map_err(|_| unsupported(&url))?;
        match scheme {
            ObjectStoreScheme::Local => url
                .to_file_path()
                .map(Location::File)
                .map_err(|()| anyhow!("{text} is not a local file path")),
            ObjectStoreScheme::Memory => Err(unsupported(&url)),
            scheme => Remote::open(text, &url, scheme).map(Location::Remote),
        }
    }

    /// How the location was written (`-` for standard input or output).
    pub fn display(&self) -> String {
        match self {
            Location::Std => "-".to_owned(),
            Location::File(path) => path.display().to_string(),
            Location::Remote(remote) => remote.url.clone(),
        }
    }
}

/// `scheme://...`: a URL, where a local path would hold no `://`.
fn looks_like_url(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        scheme.len() > 1 && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    })
}

fn unsupported(url: &Url) -> anyhow::Error {
    anyhow!(
        "{url}: {}:// is not a supported location; use a local path, -, s3://, gs://, az://, or http(s):// to read",
        url.scheme()
    )
}

/// An object in S3, GCS, Azure Blob Storage, or behind a plain HTTP(S) address.
pub struct Remote {
    url: String,
    scheme: ObjectStoreScheme,
    store: Box<dyn ObjectStore>,
    path: StorePath,
}

impl Remote {
    fn open(text: &str, url: &Url, scheme: ObjectStoreScheme) -> anyhow::Result<Remote> {
        let (store, path) = object_store::parse_url_opts(url, store_options(&scheme, url))
            .map_err(|e| anyhow!("{text}: {}", describe(&scheme, &e)))?;
        if path.as_ref().is_empty() {
            bail!("{text} names no object; give the notebook's full key, e.g. {text}/report.ipynb");
        }
        Ok(Remote { url: text.to_owned(), scheme, store, path })
    }

    /// Refuses a destination that cannot be written, before anything runs.
    pub fn check_writable(&self) -> anyhow::Result<()> {
        if self.scheme == ObjectStoreScheme::Http {
            bail!(
                "{}: http(s) locations are read-only; write the output to a local path or to s3://, gs:// or az://",
                self.url
            );
        }
        Ok(())
    }

    /// The object's text.
    pub async fn read(&self) -> anyhow::Result<String> {
        let fail = |e: object_store::Error| anyhow!("reading {}: {}", self.url, describe(&self.scheme, &e));
        let bytes = self.store.get(&self.path).await.map_err(fail)?.bytes().await.map_err(fail)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| anyhow!("{} is not UTF-8 text", self.url))
    }

    /// Replaces the object with `text`.
    pub async fn write(&self, text: String) -> anyhow::Result<()> {
        self.check_writable()?;
        self.store
            .put(&self.path, PutPayload::from(text.into_bytes()))
            .await
            .map_err(|e| anyhow!("writing {}: {}", self.url, describe(&self.scheme, &e)))?;
        Ok(())
    }
}

/// The environment variables of the URL's cloud, under that cloud's prefix only (so an unrelated
/// variable such as `TOKEN` is never taken for a setting), and plain HTTP allowed where the user
/// named an `http://` address: the URL itself, or an endpoint such as a local S3 server's.
fn store_options(scheme: &ObjectStoreScheme, url: &Url) -> Vec<(String, String)> {
    let prefix = match scheme {
        ObjectStoreScheme::AmazonS3 => "AWS_",
        ObjectStoreScheme::GoogleCloudStorage => "GOOGLE_",
        ObjectStoreScheme::MicrosoftAzure => "AZURE_",
        _ => return http_allowed(url.scheme() == "http"),
    };
    let mut options: Vec<(String, String)> =
        std::env::vars().filter(|(key, _)| key.starts_with(prefix)).collect();
    let http_endpoint = options
        .iter()
        .any(|(key, value)| key.to_ascii_lowercase().contains("endpoint") && value.starts_with("http://"));
    options.extend(http_allowed(http_endpoint));
    options
}

fn http_allowed(allowed: bool) -> Vec<(String, String)> {
    if allowed { vec![("allow_http".to_owned(), "true".to_owned())] } else { Vec::new() }
}

/// object_store's error, with what to check for the two a user meets most: a missing object or
/// bucket, and missing credentials.
fn describe(scheme: &ObjectStoreScheme, error: &object_store::Error) -> String {
    let text = error.to_string();
    if text.contains("NoSuchBucket") {
        return format!("no such bucket ({text}); check the bucket's name");
    }
    if matches!(error, object_store::Error::NotFound { .. }) {
        return format!("no such object ({text}); check the URL");
    }
    let credentials = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN for temporary ones), AWS_REGION, and AWS_ENDPOINT_URL for an S3-compatible server"
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            "set GOOGLE_APPLICATION_CREDENTIALS (or GOOGLE_SERVICE_ACCOUNT) to a service account key file"
        }
        ObjectStoreScheme::MicrosoftAzure => {
            "set AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_TOKEN)"
        }
        _ => return text,
    };
    let lower = text.to_ascii_lowercase();
    // Without credentials in the environment the stores ask the cloud's instance metadata
    // service (`latest/api/token`, `computeMetadata`), which off that cloud fails.
    let signs = ["credential", "account", "accessdenied", "forbidden", "signature", "403", "401"];
    let metadata = ["latest/api/token", "latest/meta-data", "computemetadata"];
    if signs.iter().chain(&metadata).any(|word| lower.contains(word)) {
        return format!("no usable credentials ({text}); {credentials}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn paths_and_dashes_are_not_urls() {
        assert!(matches!(Location::parse("-").unwrap(), Location::Std));
        assert!(matches!(Location::parse("a/b.ipynb").unwrap(), Location::File(_)));
        assert!(matches!(Location::parse("weird:name.ipynb").unwrap(), Location::File(_)));
        assert!(
            matches!(Location::parse("file:///tmp/a.ipynb").unwrap(), Location::File(p) if p == Path::new("/tmp/a.ipynb"))
        );
    }

    #[test]
    fn unknown_schemes_and_bare_buckets_are_refused() {
        let error = Location::parse("ftp://host/a.ipynb").err().unwrap().to_string();
        assert!(error.contains("ftp:// is not a supported location"), "{error}");
        let error = Location::parse("s3://bucket").err().unwrap().to_string();
        assert!(error.contains("names no object"), "{error}");
    }

    #[test]
    fn http_is_read_only() {
        let Location::Remote(remote) = Location::parse("https://example.com/a.ipynb").unwrap() else {
            panic!("an https URL is remote");
        };
        let error = remote.check_writable().unwrap_err().to_string();
        assert!(error.contains("read-only"), "{error}");
    }
}
