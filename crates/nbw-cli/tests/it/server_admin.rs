//! `nbw server admin create-user`: creates accounts in the server's database (SQLite in a
//! temporary data directory here), and the account then logs in over HTTP on a real server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::{Value, json};

/// `nbw` with no `NBW_*` variable from the caller's environment (the test runner's
/// `NBW_TEST_DATABASE_URL` is not a server setting).
fn nbw() -> Command {
    let mut cmd = Command::cargo_bin("nbw").expect("nbw binary");
    for (name, _) in std::env::vars() {
        if name.starts_with("NBW_") {
            cmd.env_remove(name);
        }
    }
    cmd.timeout(Duration::from_secs(120));
    cmd
}

fn create_user(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = nbw();
    cmd.args(["server", "admin", "create-user"]).args(args).arg("--data-dir").arg(data_dir);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin);
    }
    cmd.output().expect("nbw runs")
}

/// A `nbw server` process, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("nbw"));
        for (name, _) in std::env::vars() {
            if name.starts_with("NBW_") {
                cmd.env_remove(name);
            }
        }
        let child = cmd
            .args(["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nbw server starts");
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.request("GET", "/healthz", None).is_none() {
            assert!(Instant::now() < deadline, "nbw server did not answer /healthz within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// One HTTP/1.1 request; `None` when nothing listens yet.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.split(' ').nth(1)?.parse().ok()?;
        let (_, body) = answer.split_once("\r\n\r\n")?;
        Some((status, serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()))))
    }

    fn login(&self, username: &str, password: &str) -> (u16, Value) {
        let body = json!({"username": username, "password": password});
        self.request("POST", "/v1/auth/login", Some(&body)).expect("the server answers")
    }
}

#[test]
fn created_users_log_in_over_http() {
    let dir = nbw_testkit::tempdir();
    let data = dir.path().join("data");

    let made = create_user(&data, &["alice", "--admin", "--password-stdin"], Some("correct horse battery\n"));
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(stdout.trim(), "created administrator alice");
    assert!(!stdout.contains("correct horse"), "a given password is never printed");

    // Without a password, one is generated and shown once.
    let made = create_user(&data, &["bob"], None);
    let stdout = String::from_utf8_lossy(&made.stdout).into_owned();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(stdout.starts_with("created user bob\n"), "{stdout}");
    let generated = stdout
        .lines()
        .find_map(|line| line.strip_prefix("password: "))
        .expect("the generated password is printed")
        .to_owned();
    assert!(generated.len() >= 32);

    // Mistakes are refused with a one-line reason and exit code 1.
    let again = create_user(&data, &["alice", "--password-stdin"], Some("another password\n"));
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let short = create_user(&data, &["carol", "--password-stdin"], Some("tiny\n"));
    assert_eq!(short.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("too short") && !stderr.contains("tiny"), "{stderr}");
    let bad = create_user(&data, &["not valid", "--password-stdin"], Some("long enough\n"));
    assert_eq!(bad.status.code(), Some(1));

    let server = Server::start(&data);
    let (status, tokens) = server.login("alice", "correct horse battery");
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    let (status, tokens) = server.login("bob", &generated);
    assert_eq!(status, 200, "{tokens}");
    let (status, refused) = server.login("alice", "wrong horse battery");
    assert_eq!(status, 401, "{refused}");
}
