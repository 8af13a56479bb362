//! Real processes for end-to-end tests: an `nbw server` on a free loopback port with its own
//! data directory, an administrator, and `nbw agent`s with real kernels. Everything is killed
//! when the test's handles drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The administrator's password on every test server.
pub const PASSWORD: &str = "correct horse battery";

/// The `nbw` binary under test.
pub fn nbw_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("nbw")
}

/// An `nbw` command in `cwd` with its own config folder (so its own logins) and none of the
/// caller's NBW_* choices.
pub fn nbw(config: &Path, cwd: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(nbw_bin());
    cmd.current_dir(cwd)
        .env("NBW_CONFIG_DIR", config)
        .env("NO_COLOR", "1")
        .env("NBW_LOG", "warn")
        .env_remove("NBW_SERVER")
        .env_remove("NBW_PROJECT")
        .env_remove("NBW_FILE")
        .env_remove("NBW_USERNAME")
        // Long enough for an image build.
        .timeout(Duration::from_secs(300));
    cmd
}

/// Runs a command; returns its exit code, standard output and standard error.
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let output = cmd.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped.
pub struct Proc {
    /// The process.
    pub child: Child,
}

impl Proc {
    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGKILL, as a crash.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait up to `timeout` for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ =
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.terminate(Duration::from_secs(10)).is_none() {
            self.kill9();
        }
    }
}

/// A running server with an administrator.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The administrator's access token.
    pub admin: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The server process.
    pub process: Proc,
    http: reqwest::Client,
    port: u16,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

fn spawn_server(dir: &Path, data_dir: &Path, port: u16, env: &[(String, String)]) -> Proc {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
    let child = Command::new(nbw_bin())
        .args(["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .env("NBW_LOG", "info")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proc { child }
}

async fn wait_ready(http: &reqwest::Client, base: &str, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not become ready; see {}",
            dir.join("server.log").display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Server {
    /// Starts `nbw server` over a fresh SQLite data dir inside `dir`, with `env` added.
    pub async fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let data_dir = dir.join("server");
        std::fs::create_dir_all(&data_dir).unwrap();
        let status = Command::new(nbw_bin())
            .args(["server", "admin", "create-user", "admin", "--admin", "--data-dir"])
            .arg(&data_dir)
            .env("NBW_ADMIN_PASSWORD", PASSWORD)
            .envs(env.iter().copied())
            .status()
            .unwrap();
        assert!(status.success(), "create-user failed");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let process = spawn_server(dir, &data_dir, port, &env);
        let http = reqwest::Client::new();
        wait_ready(&http, &base, dir).await;
        let login = http
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), StatusCode::OK);
        let tokens: Value = login.json().await.unwrap();
        let admin = tokens["access_token"].as_str().unwrap().to_owned();
        Server { base, admin, data_dir, process, http, port, env, dir: dir.to_path_buf() }
    }

    /// `nbw login` as the administrator, keeping the login in config folder `config`.
    pub fn login(&self, config: &Path, cwd: &Path) {
        let (code, _, err) = run(nbw(config, cwd)
            .args(["login", &self.base, "--username", "admin", "--password-stdin"])
            .write_stdin(format!("{PASSWORD}\n")));
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("Logged in"), "{err}");
    }

    /// Kills the server as a crash would (SIGKILL), waits `down`, and starts it again on the
    /// same port and data.
    pub async fn crash_and_restart(&mut self, down: Duration) {
        self.process.kill9();
        tokio::time::sleep(down).await;
        self.process = spawn_server(&self.dir, &self.data_dir, self.port, &self.env);
        wait_ready(&self.http, &self.base, &self.dir).await;
    }

    /// A request with the administrator's token; returns status and JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// POST JSON, asserting success.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.call(Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "POST {path}: {status} {value}");
        value
    }

    /// GET, asserting success.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, value) = self.call(Method::GET, path, None).await;
        assert!(status.is_success(), "GET {path}: {status} {value}");
        value
    }

    /// Raw GET bytes, asserting success.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.admin).send().await.unwrap();
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.bytes().await.unwrap().to_vec()
    }

    /// Creates project `name` and uploads a bundle of `notebooks` (path, JSON) as version `v1`.
    pub async fn project_with(&self, name: &str, notebooks: &[(&str, Value)]) {
        self.post_ok("/v1/projects", json!({"name": name})).await;
        let files: Vec<(&str, Vec<u8>)> =
            notebooks.iter().map(|(path, nb)| (*path, serde_json::to_vec(nb).unwrap())).collect();
        self.upload_bundle(name, "v1", &files).await;
    }

    /// Uploads a bundle of `files` (path, content) to project `name` as `version`.
    pub async fn upload_bundle(&self, name: &str, version: &str, files: &[(&str, Vec<u8>)]) {
        let dir = nbw_testkit::tempdir();
        for (path, content) in files {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        let archive = nbw_bundle::build(dir.path()).unwrap();
        let response = self
            .http
            .post(format!("{}/v1/projects/{name}/bundles?version={version}", self.base))
            .bearer_auth(&self.admin)
            .body(archive.bytes)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "bundle upload: {}", response.status());
    }

    /// Registers an agent with `labels`; returns its token.
    pub async fn agent_token(&self, name: &str, labels: Value) -> String {
        let created = self.post_ok("/v1/agents", json!({"name": name, "labels": labels})).await;
        created["token"].as_str().unwrap().to_owned()
    }

    /// Starts an `nbw agent` process with real kernels.
    pub fn agent(&self, dir: &Path, token: &str, slots: usize, extra: &[&str]) -> Proc {
        let work = dir.join(format!("agent-{}", nbw_core::ids::random_id()));
        let log = std::fs::File::create(work.with_extension("log")).unwrap();
        let child = Command::new(nbw_bin())
            .args([
                "agent",
                "--server",
                &self.base,
                "--slots",
                &slots.to_string(),
                "--heartbeat-secs",
                "1",
                "--kill-grace-secs",
                "1",
            ])
            .arg("--work-dir")
            .arg(&work)
            .args(extra)
            .env("NBW_AGENT_TOKEN", token)
            .env("NBW_LOG", "info")
            .envs(nbw_testkit::kernel_env())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Proc { child }
    }

    /// Waits until execution `id` is in a final state; returns it.
    pub async fn wait_final(&self, id: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let execution = self.get_ok(&format!("/v1/executions/{id}")).await;
            let state = execution["state"].as_str().unwrap_or("");
            if !matches!(state, "queued" | "running") {
                return execution;
            }
            assert!(Instant::now() < deadline, "execution {id} still {state} after {timeout:?}: {execution}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until pipeline run `id` of `project` has ended; returns it.
    pub async fn wait_pipeline_run(&self, project: &str, id: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let run = self.get_ok(&format!("/v1/projects/{project}/pipeline-runs/{id}")).await;
            if run["state"] != "running" && run["state"] != "queued" {
                return run;
            }
            assert!(Instant::now() < deadline, "pipeline run {id} did not end in {timeout:?}: {run}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// All executions of a project (up to 500), newest first.
    pub async fn executions(&self, project: &str) -> Vec<Value> {
        let page = self.get_ok(&format!("/v1/projects/{project}/executions?limit=500")).await;
        page["items"].as_array().unwrap().clone()
    }
}

/// A notebook for the python3 kernel from (source, tags) cells.
pub fn notebook(cells: &[(&str, &[&str])]) -> Value {
    nbw_testkit::notebook(cells)
}
