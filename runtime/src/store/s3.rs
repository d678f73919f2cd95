//! S3-compatible object storage (AWS S3, MinIO, …) through the `object_store` crate: the
//! client of a store at `s3://BUCKET/PREFIX` and of the `s3://` URLs the standard library's I/O
//! steps read and write.
//!
//! Everything here is blocking: each client owns a small tokio runtime (two worker threads)
//! and waits for its requests, so the rest of the runtime stays free of async code.
//!
//! Configuration comes from the environment, as the AWS tools read it (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP`, `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`, web identity and container
//! credentials, then the instance metadata service); `AWS_PROFILE` (or `default`) is read from
//! `~/.aws/credentials` when no key is set. An `http://` endpoint allows plain HTTP, and
//! requests use path-style addressing unless virtual-hosted style is asked for (what MinIO
//! needs). Every request has a deadline ([`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`], at most
//! [`RETRIES`] retries within [`RETRY_TIMEOUT`]), so an unreachable endpoint fails with `R020`
//! and never hangs; refused credentials are `R021` and a missing bucket `R022`.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
    WriteMultipart,
};

use crate::error::{RunCode, RunError};

/// Longest wait for a connection to the endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for one request (one part of a large upload) to complete.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Retries of a failed request (server errors, dropped connections).
pub const RETRIES: usize = 3;
/// Longest time spent retrying one request.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(20);
/// Files up to this size are sent in one `PUT`; larger ones in parts of this size (a multipart
/// upload, which S3 shows only once it is completed).
pub const PART_BYTES: usize = 8 << 20;

/// An `s3://BUCKET/KEY` URL, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key (or key prefix), without a leading or trailing `/`.
    pub key: String,
}

impl S3Url {
    /// Whether `text` is an object storage URL (an `s3://` one).
    pub fn is_url(text: &str) -> bool {
        text.starts_with("s3://")
    }

    /// Splits `s3://BUCKET/KEY`; anything else is an `R023` error.
    pub fn parse(text: &str) -> Result<S3Url, RunError> {
        let bad = || {
            RunError::new(
                RunCode::StoreUrl,
                format!("`{text}` is not an object storage URL"),
            )
            .hint("write `s3://BUCKET` or `s3://BUCKET/PREFIX`")
        };
        let rest = text.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c);
        if bucket.len() < 3 || !bucket.chars().all(valid) {
            return Err(bad());
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            key: key.trim_matches('/').to_string(),
        })
    }
}

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its key, relative to the client's prefix.
    pub key: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// When it was last written, in milliseconds since the Unix epoch (the server's clock).
    pub modified_ms: u64,
}

/// A client of one bucket, with keys under a prefix.
#[derive(Debug)]
pub struct S3 {
    client: AmazonS3,
    url: S3Url,
    /// Where requests go, for messages.
    endpoint: String,
    rt: tokio::runtime::Runtime,
}

impl S3 {
    /// A client of the bucket of `url` (no request is made), whose keys are under its path.
    pub fn connect(url: &str) -> Result<S3, RunError> {
        let url = S3Url::parse(url)?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&url.bucket);
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .or_else(|_| std::env::var("AWS_ENDPOINT"))
            .ok()
            .filter(|e| !e.is_empty());
        // Plain HTTP for an `http://` endpoint, or when AWS_ALLOW_HTTP says so (the client
        // options set below replace the ones `from_env` read).
        let allow_http = endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
            || std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            if let Some((id, secret, token)) = profile_credentials() {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
                if let Some(t) = token {
                    builder = builder.with_token(t);
                }
            }
        }
        let client = builder
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(REQUEST_TIMEOUT)
                    .with_allow_http(allow_http),
            )
            .with_retry(RetryConfig {
                max_retries: RETRIES,
                retry_timeout: RETRY_TIMEOUT,
                ..RetryConfig::default()
            })
            .build()
            .map_err(|e| {
                RunError::new(
                    RunCode::StoreUrl,
                    format!("cannot configure the client of `s3://{}`: {e}", url.bucket),
                )
                .hint("check the AWS_* variables (AWS_ENDPOINT_URL must be a URL)")
            })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("flowc-s3")
            .enable_all()
            .build()
            .map_err(|e| {
                RunError::new(
                    RunCode::StoreTransfer,
                    format!("cannot start the object storage client: {e}"),
                )
            })?;
        Ok(S3 {
            client,
            endpoint: endpoint.unwrap_or_else(|| "AWS S3".into()),
            url,
            rt,
        })
    }

    /// The URL of key `key` under the prefix.
    pub fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{}", self.url.bucket, self.full_key(key))
    }

    /// The client's URL, `s3://BUCKET/PREFIX`.
    pub fn url(&self) -> String {
        self.url_of("").trim_end_matches('/').to_string()
    }

    fn full_key(&self, key: &str) -> String {
        match (self.url.key.is_empty(), key.is_empty()) {
            (true, _) => key.to_string(),
            (false, true) => self.url.key.clone(),
            (false, false) => format!("{}/{key}", self.url.key),
        }
    }

    fn path(&self, key: &str) -> ObjectPath {
        ObjectPath::from(self.full_key(key))
    }

    /// Checks that the bucket exists and the credentials are accepted, by listing the prefix.
    pub fn probe(&self) -> Result<(), RunError> {
        let prefix = (!self.url.key.is_empty()).then(|| self.path(""));
        self.rt
            .block_on(self.client.list_with_delimiter(prefix.as_ref()))
            .map(|_| ())
            .map_err(|e| self.error("list", "", &e, true))
    }

    /// Whether `key` exists.
    pub fn exists(&self, key: &str) -> Result<bool, RunError> {
        match self.rt.block_on(self.client.head(&self.path(key))) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.error("look up", key, &e, false)),
        }
    }

    /// The bytes of `key`, or `None` when there is no such object.
    pub fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, RunError> {
        let path = self.path(key);
        let got = self.rt.block_on(async {
            match self.client.get(&path).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        got.map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| self.error("read", key, &e, false))
    }

    /// Streams `key` into the new file `dest`; `false` when there is no such object.
    pub fn get_file(&self, key: &str, dest: &Path) -> Result<bool, RunError> {
        let path = self.path(key);
        let io = |e: std::io::Error| {
            RunError::new(
                RunCode::StoreUnavailable,
                format!("cannot write `{}`: {e}", dest.display()),
            )
        };
        let mut file = std::fs::File::create(dest).map_err(io)?;
        let result: Result<bool, RunError> = self.rt.block_on(async {
            let r = match self.client.get(&path).await {
                Ok(r) => r,
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(self.error("read", key, &e, false)),
            };
            let mut stream = r.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.error("read", key, &e, false))?;
                file.write_all(&chunk).map_err(io)?;
            }
            Ok(true)
        });
        if !matches!(result, Ok(true)) {
            let _ = std::fs::remove_file(dest);
        }
        result
    }

    /// Writes `bytes` at `key`; with `if_absent`, only when no object is there (`false` when
    /// one was).
    pub fn put_bytes(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<bool, RunError> {
        let opts = PutOptions {
            mode: if if_absent {
                PutMode::Create
            } else {
                PutMode::Overwrite
            },
            ..PutOptions::default()
        };
        let path = self.path(key);
        match self
            .rt
            .block_on(self.client.put_opts(&path, PutPayload::from(bytes), opts))
        {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) if if_absent => Ok(false),
            Err(e) => Err(self.error("write", key, &e, false)),
        }
    }

    /// Uploads the file `src` to `key`: in one request up to [`PART_BYTES`], else as a
    /// multipart upload, which becomes visible only when it completes.
    pub fn put_file(&self, key: &str, src: &Path) -> Result<(), RunError> {
        let io = |e: std::io::Error| {
            RunError::new(
                RunCode::StoreUnavailable,
                format!("cannot read `{}`: {e}", src.display()),
            )
        };
        let mut file = std::fs::File::open(src).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).map_err(io)?;
            return self.put_bytes(key, bytes, false).map(|_| ());
        }
        let path = self.path(key);
        self.rt.block_on(async {
            let upload = self
                .client
                .put_multipart(&path)
                .await
                .map_err(|e| self.error("write", key, &e, false))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(io(e));
                    }
                };
                if let Err(e) = writer.wait_for_capacity(4).await {
                    return Err(self.error("write", key, &e, false));
                }
                writer.write(&buf[..n]);
            }
            writer
                .finish()
                .await
                .map(|_| ())
                .map_err(|e| self.error("write", key, &e, false))
        })
    }

    /// The keys under `prefix` (relative to this client's prefix), sorted.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, RunError> {
        Ok(self.list_meta(prefix)?.into_iter().map(|o| o.key).collect())
    }

    /// The objects under `prefix` (keys relative to this client's prefix), sorted by key.
    pub fn list_meta(&self, prefix: &str) -> Result<Vec<Listed>, RunError> {
        let path = self.path(prefix);
        let base = self.full_key("");
        let metas: Result<Vec<object_store::ObjectMeta>, object_store::Error> =
            self.rt.block_on(async {
                let mut out = Vec::new();
                let mut stream = self.client.list(Some(&path));
                while let Some(meta) = stream.next().await {
                    out.push(meta?);
                }
                Ok(out)
            });
        let mut listed: Vec<Listed> = metas
            .map_err(|e| self.error("list", prefix, &e, true))?
            .into_iter()
            .map(|m| {
                let k = m.location.to_string();
                Listed {
                    key: k
                        .strip_prefix(&base)
                        .map(|r| r.trim_start_matches('/').to_string())
                        .unwrap_or(k),
                    bytes: m.size,
                    modified_ms: m.last_modified.timestamp_millis().max(0) as u64,
                }
            })
            .collect();
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(listed)
    }

    /// Deletes `key` (nothing to do when it does not exist).
    pub fn delete(&self, key: &str) -> Result<(), RunError> {
        match self.rt.block_on(self.client.delete(&self.path(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", key, &e, false)),
        }
    }

    /// Copies `from` to `to` on the server (no bytes pass through this machine).
    pub fn copy(&self, from: &str, to: &str) -> Result<(), RunError> {
        self.rt
            .block_on(self.client.copy(&self.path(from), &self.path(to)))
            .map_err(|e| self.error("copy", from, &e, false))
    }

    /// The run error of a failed request: `R020` for an endpoint that does not answer, `R021`
    /// for refused credentials, `R022` for a missing bucket (or, for a listing, a not-found
    /// answer), `R024` otherwise.
    fn error(&self, what: &str, key: &str, e: &object_store::Error, listing: bool) -> RunError {
        let text = error_chain(e);
        let target = if key.is_empty() {
            self.url()
        } else {
            self.url_of(key)
        };
        let denied = matches!(
            e,
            object_store::Error::Unauthenticated { .. }
                | object_store::Error::PermissionDenied { .. }
        ) || [
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "AccessDenied",
        ]
        .iter()
        .any(|c| text.contains(c));
        if text.contains("NoSuchBucket")
            || (listing && matches!(e, object_store::Error::NotFound { .. }))
        {
            return RunError::new(
                RunCode::StoreNoBucket,
                format!(
                    "bucket `{}` does not exist at {}",
                    self.url.bucket, self.endpoint
                ),
            )
            .hint(format!(
                "create it (`aws s3 mb s3://{}`) or name an existing bucket",
                self.url.bucket
            ));
        }
        if denied {
            return RunError::new(
                RunCode::StoreCredentials,
                format!(
                    "{} refused the credentials to {what} `{target}`: {}",
                    self.endpoint,
                    first_line(&text)
                ),
            )
            .hint("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key allowed to read and write the bucket");
        }
        let lower = text.to_ascii_lowercase();
        if ["connect", "timed out", "timeout", "dns", "connection"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return RunError::new(
                RunCode::StoreUnreachable,
                format!(
                    "the object store at {} did not answer to {what} `{target}`: {}",
                    self.endpoint,
                    first_line(&text)
                ),
            )
            .hint(format!(
                "check that the server runs and AWS_ENDPOINT_URL names it (flowc waits {} s to connect and retries {} times within {} s)",
                CONNECT_TIMEOUT.as_secs(),
                RETRIES,
                RETRY_TIMEOUT.as_secs()
            ));
        }
        RunError::new(
            RunCode::StoreTransfer,
            format!("cannot {what} `{target}`: {}", first_line(&text)),
        )
    }
}

/// An error with its sources, joined by `: `.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The reason in an error's text: the S3 error code and message of the answer when there is
/// one (`InvalidAccessKeyId: The AWS Access Key Id you provided does not exist…`), else the
/// first line.
fn first_line(text: &str) -> String {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let (_, rest) = text.split_once(&open)?;
        rest.split_once(&format!("</{name}>"))
            .map(|(v, _)| v.to_string())
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => text.lines().next().unwrap_or(text).to_string(),
    }
}

/// The key, secret and token of profile `AWS_PROFILE` (or `default`) in the AWS credentials
/// file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`).
fn profile_credentials() -> Option<(String, String, Option<String>)> {
    let file = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".aws/credentials")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let values = ini_section(&text, &profile);
    let get = |k: &str| {
        values
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    Some((
        get("aws_access_key_id")?,
        get("aws_secret_access_key")?,
        get("aws_session_token"),
    ))
}

/// The `key = value` lines of section `[name]` of an INI text.
fn ini_section(text: &str, name: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = section.trim() == name;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_bucket_and_key() {
        assert_eq!(
            S3Url::parse("s3://my-bucket/team/store/"),
            Ok(S3Url {
                bucket: "my-bucket".into(),
                key: "team/store".into()
            })
        );
        assert_eq!(S3Url::parse("s3://bkt").map(|u| u.key), Ok(String::new()));
        for bad in ["s3://", "s3://a", "s3://Upper/x", "gs://bucket/x", "/tmp/x"] {
            assert_eq!(
                S3Url::parse(bad).map_err(|e| e.code),
                Err(RunCode::StoreUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn profiles_are_read_from_their_section() {
        let text = "[default]\naws_access_key_id = A\naws_secret_access_key=B\n\n[dev]\naws_access_key_id = C\n";
        assert_eq!(
            ini_section(text, "default"),
            vec![
                ("aws_access_key_id".into(), "A".into()),
                ("aws_secret_access_key".into(), "B".into())
            ]
        );
        assert_eq!(ini_section(text, "dev").len(), 1);
        assert!(ini_section(text, "prod").is_empty());
    }
}
