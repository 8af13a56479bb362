//! What the web UI tests start from: a real server on loopback, a team with real passwords
//! (owner, editor, viewer, stranger, administrator) in a project `sales` with a bundle whose
//! notebook has a parameters cell and a scheduled workflow `report`, and a browser-like client
//! (a cookie store, no automatic redirects) that logs in through the login form.
#![allow(dead_code)]

use nbw_core::api::CreateUser;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::support::{Backend, TestServer};

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// The notebook of the test bundle: a parameters cell declaring an int, a string, a bool and a
/// list, then one code cell.
pub fn notebook() -> Value {
    json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": null, "outputs": [],
             "source": "n = 3  # how many rows\nname = 'world'\nflag = True\nxs = [1, 2]\n"},
            {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": "print(n)"}
        ]
    })
}

/// A tar archive holding `files`.
pub fn tar_bundle(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, content.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap()
}

/// The server and its people.
pub struct Team {
    /// The server.
    pub server: TestServer,
    /// An access token of the project's owner (`olga`), for the API.
    pub owner_token: String,
    /// An administrator's access token (`root`), for the API.
    pub admin_token: String,
}

async fn create_user(server: &TestServer, username: &str, is_admin: bool) -> String {
    let input = CreateUser { username: username.into(), password: PASSWORD.into(), is_admin };
    let row = nbw_server::auth::accounts::create_user(&server.state.db, input).await.expect("create user");
    nbw_server::auth::token::issue(&server.state.keys, &row.id, is_admin, chrono::Duration::minutes(30)).0
}

impl Team {
    /// A server on `backend` with the team, the project `sales`, its bundle and workflow.
    pub async fn new(backend: Backend) -> Team {
        Self::with(backend, |_| {}).await
    }

    /// Like [`Team::new`], with a configuration change.
    pub async fn with(backend: Backend, configure: impl FnOnce(&mut nbw_server::Config)) -> Team {
        let server = TestServer::start_with(backend, configure).await;
        let owner_token = create_user(&server, "olga", false).await;
        let admin_token = create_user(&server, "root", true).await;
        for name in ["ed", "vic", "sam"] {
            create_user(&server, name, false).await;
        }
        let team = Team { server, owner_token, admin_token };
        team.api_post("/v1/projects", json!({"name": "sales", "description": "Sales reports"})).await;
        team.api("PUT", "/v1/projects/sales/members/ed", json!({"role": "editor"})).await;
        team.api("PUT", "/v1/projects/sales/members/vic", json!({"role": "viewer"})).await;
        let archive = tar_bundle(&[("nbw.yaml", "name: sales\n"), ("report.ipynb", &notebook().to_string())]);
        let response = team
            .server
            .http
            .post(format!("{}/v1/projects/sales/bundles?version=v1", team.server.base))
            .bearer_auth(&team.owner_token)
            .body(archive)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let workflow = json!({"name": "report", "enabled": true, "notebook": "report.ipynb",
            "schedule": {"cron": "0 6 * * *", "timezone": "Europe/Madrid"}});
        team.api_post("/v1/projects/sales/workflows", workflow).await;
        team
    }

    /// An API call as the owner; panics unless it succeeds.
    pub async fn api(&self, method: &str, path: &str, body: Value) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, value) = self.server.call(method, path, Some(&self.owner_token), Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    /// A POST as the owner.
    pub async fn api_post(&self, path: &str, body: Value) -> Value {
        self.api("POST", path, body).await
    }

    /// Queues a run of `report` through the API; its id.
    pub async fn run_report(&self) -> String {
        let execution = self.api_post("/v1/projects/sales/workflows/report/run", json!({})).await;
        execution["id"].as_str().unwrap().to_owned()
    }

    /// Runs `report` to the end as an agent would: claimed, `notebook` stored as its output,
    /// completed in `state`. Its id.
    pub async fn finished_run(&self, notebook: &Value, state: &str) -> String {
        let id = self.run_report().await;
        let (status, agent) = self
            .server
            .post("/v1/agents", &self.admin_token, json!({"name": format!("agent-{id}"), "labels": {}}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        let token = agent["token"].as_str().unwrap();
        let (status, claim) = self.server.post("/v1/agent/claim", token, json!({"wait_secs": 0})).await;
        assert_eq!(claim["claim"]["execution"]["id"], id.as_str(), "{status} {claim}");
        let response = self
            .server
            .http
            .put(format!("{}/v1/agent/executions/{id}/output", self.server.base))
            .bearer_auth(token)
            .body(notebook.to_string())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "output: {}", response.status());
        let path = format!("/v1/agent/executions/{id}/complete");
        let (status, body) = self.server.post(&path, token, json!({"result": {"state": state}})).await;
        assert!(status.is_success(), "complete: {status} {body}");
        id
    }

    /// Claims `id` as a new agent and posts `events` (`(kind, payload)`, numbered from 1) for
    /// it, as a running agent would.
    pub async fn running_with_events(&self, id: &str, events: &[(&str, Value)]) {
        let (status, agent) =
            self.server.post("/v1/agents", &self.admin_token, json!({"name": "live", "labels": {}})).await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        let token = agent["token"].as_str().unwrap();
        let (_, claim) = self.server.post("/v1/agent/claim", token, json!({"wait_secs": 0})).await;
        assert_eq!(claim["claim"]["execution"]["id"], id);
        let events: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, (kind, payload))| {
                json!({"seq": i + 1, "kind": kind, "payload": payload, "time": chrono::Utc::now()})
            })
            .collect();
        let path = format!("/v1/agent/executions/{id}/events");
        let (status, body) = self.server.post(&path, token, json!({"events": events})).await;
        assert!(status.is_success(), "{status} {body}");
    }

    /// Puts the pipeline `daily` of `report.ipynb` steps: `extract`, then `emea` and `apac`,
    /// then `report` needing both; scheduled, with a shared volume.
    pub async fn define_daily(&self) {
        let step =
            |name: &str, needs: &[&str]| json!({"name": name, "notebook": "report.ipynb", "needs": needs});
        let spec = json!({
            "schedule": {"cron": "0 6 * * *", "timezone": "Europe/Madrid"},
            "shared_volume": true,
            "max_parallel": 2,
            "steps": [step("extract", &[]), step("emea", &["extract"]), step("apac", &["extract"]),
                      step("report", &["emea", "apac"])]
        });
        self.api("PUT", "/v1/projects/sales/pipelines/daily", json!({"spec": spec})).await;
    }

    /// Runs the pipeline `daily` through the API; the run.
    pub async fn run_daily(&self) -> Value {
        let (status, run) =
            self.server.post("/v1/projects/sales/pipelines/daily/runs", &self.owner_token, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        run
    }

    /// The pipeline run `id` as the API shows it.
    pub async fn pipeline_run(&self, id: &str) -> Value {
        let (status, run) =
            self.server.get(&format!("/v1/projects/sales/pipeline-runs/{id}"), &self.owner_token).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        run
    }

    /// How many runs the pipeline `daily` has.
    pub async fn daily_run_count(&self) -> usize {
        let (_, page) =
            self.server.get("/v1/projects/sales/pipelines/daily/runs?limit=500", &self.owner_token).await;
        page["items"].as_array().map_or(0, Vec::len)
    }

    /// A new agent's token.
    pub async fn agent_token(&self, name: &str) -> String {
        let (status, agent) =
            self.server.post("/v1/agents", &self.admin_token, json!({"name": name, "labels": {}})).await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        agent["token"].as_str().unwrap().to_owned()
    }

    /// Claims the next queued execution as the agent of `token` and ends it in `state`; its id.
    pub async fn claim_and_end(&self, token: &str, state: &str) -> String {
        let (status, claim) = self.server.post("/v1/agent/claim", token, json!({"wait_secs": 0})).await;
        let id = claim["claim"]["execution"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{status} {claim}"))
            .to_owned();
        let path = format!("/v1/agent/executions/{id}/complete");
        let (status, body) = self.server.post(&path, token, json!({"result": {"state": state}})).await;
        assert!(status.is_success(), "complete: {status} {body}");
        id
    }

    /// A browser for this server.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.server.base)
    }

    /// A browser logged in as `username`.
    pub async fn logged_in(&self, username: &str) -> Browser {
        let browser = self.browser();
        assert_eq!(browser.login(username, PASSWORD).await.status, StatusCode::SEE_OTHER);
        browser
    }

    /// How many executions exist.
    pub async fn execution_count(&self) -> usize {
        let (_, page) = self.server.get("/v1/projects/sales/executions?limit=500", &self.owner_token).await;
        page["items"].as_array().map_or(0, Vec::len)
    }
}

/// A page as a browser got it.
pub struct Page {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: String,
}

impl Page {
    /// Where a redirect goes.
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The value of the first `name="csrf"` field.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a form with a CSRF token") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// A browser-like client: cookies kept, redirects not followed (the tests look at them).
pub struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    /// A fresh browser (no cookies).
    pub fn new(base: &str) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { http, base: base.to_owned() }
    }

    async fn page(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.http.get(format!("{}{path}", self.base)).send().await.unwrap()).await
    }

    /// POST a form to `path`.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::page(self.http.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap()).await
    }

    /// Opens the event stream at `path` without reading it: its status and content type.
    pub async fn open_stream(&self, path: &str) -> (StatusCode, String) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        (response.status(), kind.unwrap_or_default())
    }

    /// Reads the event stream at `path` (resuming after `last_event_id`) until its text holds
    /// `until`, or 5 s pass; the text read.
    pub async fn read_stream(&self, path: &str, last_event_id: &str, until: &str) -> String {
        let mut response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Last-Event-ID", last_event_id)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut text = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while !text.contains(until) {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
        text
    }

    /// Logs in through the form; the answer to the POST.
    pub async fn login(&self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post("/login", &[("username", username), ("password", password), ("csrf", &csrf), ("next", "/")])
            .await
    }

    /// The CSRF token of the session (read off the home page).
    pub async fn csrf(&self) -> String {
        self.get("/").await.csrf()
    }
}
