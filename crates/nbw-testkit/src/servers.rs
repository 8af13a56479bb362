//! Servers on a free loopback port, killed when dropped: a local S3-compatible server (moto in
//! server mode, `moto_server`, installed in the project's venv by `scripts/setup-python.sh`) and
//! a static HTTP file server (Python's `http.server`). moto checks no signature, so the helpers
//! here speak plain HTTP to it with a dummy one; the code under test signs its requests as it
//! would for AWS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process serving on a loopback port, killed when dropped.
struct Listening {
    child: Child,
    port: u16,
}

impl Listening {
    /// Starts `command` with `args` followed by a free port, and waits until the port answers.
    fn start(command: &Path, args: &[&str], cwd: &Path) -> Listening {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(command)
            .args(args)
            .arg(port.to_string())
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", command.display()));
        let server = Listening { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not listen on port {port} within 60 s",
                command.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A static HTTP server for the files of a directory.
pub struct FileServer {
    server: Listening,
}

impl FileServer {
    /// Serves `dir` over plain HTTP with the venv's Python.
    pub fn start(dir: &Path) -> FileServer {
        FileServer {
            server: Listening::start(&crate::python(), &["-m", "http.server", "-b", "127.0.0.1"], dir),
        }
    }

    /// The URL of `name` in the served directory.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.server.port)
    }
}

/// A running moto server.
pub struct S3Server {
    server: Listening,
}

impl S3Server {
    /// Starts moto, or returns `None` with a notice when the venv has no `moto_server`; with
    /// `CI` set a missing moto fails the test instead, so CI never skips it.
    pub fn start_or_skip() -> Option<S3Server> {
        let bin = crate::venv().join("bin/moto_server");
        if !bin.exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing (CI is set): run scripts/setup-python.sh",
                bin.display()
            );
            eprintln!("skipped: {} is missing; run scripts/setup-python.sh", bin.display());
            return None;
        }
        Some(S3Server { server: Listening::start(&bin, &["-H", "127.0.0.1", "-p"], &std::env::temp_dir()) })
    }

    /// The server's address, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// The environment under which an AWS client reaches this server with test credentials.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint().as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self.request("PUT", &format!("/{bucket}"), b"");
        assert_eq!(status, 200, "creating bucket {bucket}: {}", String::from_utf8_lossy(&body));
    }

    /// Stores an object.
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let (status, body) = self.request("PUT", &format!("/{bucket}/{key}"), bytes);
        assert_eq!(status, 200, "storing {bucket}/{key}: {}", String::from_utf8_lossy(&body));
    }

    /// An object's bytes, or `None` when it does not exist.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let (status, body) = self.request("GET", &format!("/{bucket}/{key}"), b"");
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("reading {bucket}/{key}: HTTP {other}: {}", String::from_utf8_lossy(&body)),
        }
    }

    /// One HTTP/1.0 request (so the answer is never chunked): its status and body. moto answers
    /// an unsigned request as an anonymous one (403 on a private bucket), so it carries an
    /// authorization header, which moto reads for the key id and does not verify.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let port = self.server.port;
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n\
             Content-Type: application/octet-stream\r\nAuthorization: {DUMMY_AUTHORIZATION}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer has a head");
        let status = String::from_utf8_lossy(&answer[..split])
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("an HTTP status line");
        (status, answer[split + 4..].to_vec())
    }
}

const DUMMY_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, \
     SignedHeaders=host, Signature=00";
