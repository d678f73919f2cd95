//! A real S3-compatible server on the loopback interface for the tests: the `moto` server of the
#![allow(dead_code)]
//! test virtualenv, started on a free port, waited for until it answers, and killed when the
//! guard drops (also when a test panics). Its HTTP API is read here with a few plain requests,
//! so what the tests check does not go through flowc's client: moto does not verify signatures
//! (unless told to check credentials), and an `Authorization` header naming the test key makes
//! a request the key owner's rather than an anonymous one.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The test credentials (moto accepts any unless told to check them).
pub const KEY_ID: &str = "testing-key";
/// The test secret.
pub const SECRET: &str = "testing-secret";

/// A running moto server; killed on drop.
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Moto {
    /// Starts a server (with `env` added to its environment) and waits until it answers.
    pub fn start_with(python: &Path, env: &[(&str, &str)]) -> Moto {
        let port = free_port();
        let child = Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the moto server starts (is moto[server] in the test virtualenv?)");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while moto.request("GET", "/moto-api/", &[]).is_none() {
            assert!(
                Instant::now() < deadline,
                "the moto server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Starts a server that accepts any credentials.
    pub fn start(python: &Path) -> Moto {
        Moto::start_with(python, &[])
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The variables that point flowc's client at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_ACCESS_KEY_ID".into(), KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET.into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }

    /// Creates bucket `name`.
    pub fn create_bucket(&self, name: &str) {
        let (status, body) = self
            .request("PUT", &format!("/{name}"), &[])
            .expect("moto answers");
        assert_eq!(status, 200, "create bucket {name}: {body:?}");
    }

    /// The keys under `prefix` in `bucket`, with their sizes, in key order.
    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let (status, body) = self
                .request(
                    "GET",
                    &format!("/{bucket}?list-type=2&prefix={prefix}{token}"),
                    &[],
                )
                .expect("moto answers");
            let text = String::from_utf8_lossy(&body).into_owned();
            assert_eq!(status, 200, "list {bucket}/{prefix}: {text}");
            for contents in text.split("<Contents>").skip(1) {
                let size = tag(contents, "Size").parse().unwrap_or(u64::MAX);
                out.push((tag(contents, "Key"), size));
            }
            let next = tag(&text, "NextContinuationToken");
            if next.is_empty() {
                break;
            }
            token = format!("&continuation-token={next}");
        }
        out
    }

    /// The bytes of `bucket/key`, if it exists.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        match self.request("GET", &format!("/{bucket}/{key}"), &[]) {
            Some((200, body)) => Some(body),
            _ => None,
        }
    }

    /// Writes `bytes` at `bucket/key`.
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let (status, body) = self
            .request("PUT", &format!("/{bucket}/{key}"), bytes)
            .expect("moto answers");
        assert_eq!(status, 200, "put {key}: {}", String::from_utf8_lossy(&body));
    }

    /// Deletes `bucket/key`.
    pub fn delete(&self, bucket: &str, key: &str) {
        let (status, body) = self
            .request("DELETE", &format!("/{bucket}/{key}"), &[])
            .expect("moto answers");
        assert_eq!(
            status,
            204,
            "delete {key}: {}",
            String::from_utf8_lossy(&body)
        );
    }

    /// How many multipart uploads to `bucket` are started and not completed.
    pub fn uploads_in_progress(&self, bucket: &str) -> usize {
        self.request("GET", &format!("/{bucket}?uploads"), &[])
            .map(|(_, body)| String::from_utf8_lossy(&body).matches("<UploadId>").count())
            .unwrap_or(0)
    }

    /// One HTTP/1.1 request; the status and body, or `None` when nothing answers.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 Credential={KEY_ID}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body).ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&response[..split]).into_owned();
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let body = response[split + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return Some((status, dechunk(&body)));
        }
        Some((status, body))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The text of the first `<name>` element of `xml`.
fn tag(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(v, _)| v.to_string())
        .unwrap_or_default()
}

/// The body of a chunked response.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}
