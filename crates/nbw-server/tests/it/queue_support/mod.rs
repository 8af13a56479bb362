//! What the queue and event-stream tests start from: a server with an administrator, agents
//! registered through the API, and projects with a bundle whose executions are queued through
//! `runs::enqueue`, as the API and the scheduler queue them.
#![allow(dead_code)]

use std::collections::BTreeMap;

use bytes::Bytes;
use nbw_core::api::{Execution, ExecutionSpec, Origin, RetryPolicy};
use nbw_server::Config;
use nbw_server::artifacts::ArtifactKey;
use nbw_server::runs::{Enqueue, enqueue};
use nbw_server::store::bundles::BundleRow;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Backend, TestServer};

/// A server, its administrator, and a project owner.
pub struct Fixture {
    /// The server.
    pub server: TestServer,
    /// An administrator's access token.
    pub admin: String,
    /// The project owner's id.
    pub owner_id: String,
    /// The project owner's access token.
    pub owner: String,
}

/// A project with one bundle.
pub struct Project {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its bundle.
    pub bundle: BundleRow,
    /// The bundle's archive bytes.
    pub archive: Bytes,
}

/// A registered agent.
pub struct TestAgent {
    /// Id.
    pub id: String,
    /// Its token.
    pub token: String,
}

impl Fixture {
    /// A fresh server on `backend`.
    pub async fn new(backend: Backend) -> Fixture {
        Self::with(backend, |_| {}).await
    }

    /// A fresh server on `backend`, with a configuration change.
    pub async fn with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Fixture {
        let server = TestServer::start_with(backend, configure).await;
        let admin = server.user("root", true).await;
        let owner_row = nbw_server::store::users::insert(&server.state.db, "olga", "not-a-real-hash", false)
            .await
            .expect("insert owner");
        let owner = nbw_server::auth::token::issue(
            &server.state.keys,
            &owner_row.id,
            false,
            chrono::Duration::minutes(30),
        )
        .0;
        Fixture { server, admin, owner_id: owner_row.id, owner }
    }

    /// Registers an agent with `labels` through the API.
    pub async fn agent(&self, name: &str, labels: Value) -> TestAgent {
        let (status, body) =
            self.server.post("/v1/agents", &self.admin, json!({"name": name, "labels": labels})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        TestAgent {
            id: body["agent"]["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// A project owned by the fixture's owner, with a bundle `v1` holding `main.ipynb`.
    pub async fn project(&self, name: &str) -> Project {
        let db = &self.server.state.db;
        let project = nbw_server::store::projects::create(db, name, "", &self.owner_id)
            .await
            .expect("create project")
            .expect("a new name");
        let archive = Bytes::from(format!("bundle of {name}").into_bytes());
        let digest = format!("sha256:{:x}", Sha256::digest(&archive));
        self.server
            .state
            .artifacts
            .put(&ArtifactKey::Bundle(digest.clone()), archive.clone())
            .await
            .expect("store bundle");
        let bundle = nbw_server::store::bundles::insert(
            db,
            &project.id,
            "v1",
            &digest,
            "tar.gz",
            archive.len() as u64,
            &["main.ipynb".to_owned()],
            &self.owner_id,
        )
        .await
        .expect("insert bundle");
        Project { id: project.id, name: project.name, bundle, archive }
    }

    /// Queues a run of the project's notebook needing `labels`, with `retries`.
    pub async fn enqueue(
        &self,
        project: &Project,
        labels: &[(&str, &str)],
        retries: RetryPolicy,
    ) -> Execution {
        let spec = ExecutionSpec {
            notebook: "main.ipynb".into(),
            parameters: Default::default(),
            bundle_id: project.bundle.id.clone(),
            bundle_version: project.bundle.version.clone(),
            bundle_digest: project.bundle.digest.clone(),
            runtime: None,
            runtime_version: None,
            container: None,
            build: None,
            volumes: Vec::new(),
            timeout_secs: None,
            cell_timeout_secs: None,
            max_queue_secs: None,
            retries,
            notifications: Vec::new(),
            step: None,
        };
        let labels: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let request = Enqueue {
            project_id: project.id.clone(),
            origin: Origin::Web,
            spec,
            labels,
            workflow_id: None,
            created_by: Some(self.owner_id.clone()),
            fire_at: None,
        };
        enqueue(&self.server.state, request).await.expect("enqueue").expect("not a schedule fire")
    }

    /// A run without labels or retries.
    pub async fn run(&self, project: &Project) -> Execution {
        self.enqueue(project, &[], RetryPolicy::default()).await
    }

    /// Claims with `wait_secs`; the claim, or `Value::Null`.
    pub async fn claim(&self, agent: &TestAgent, wait_secs: u64) -> Value {
        let (status, body) =
            self.server.post("/v1/agent/claim", &agent.token, json!({"wait_secs": wait_secs})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["claim"].clone()
    }

    /// Posts events `seqs` (kind `output`, payload `{"text": "line <seq>"}`).
    pub async fn events(
        &self,
        agent: &TestAgent,
        id: &str,
        seqs: std::ops::RangeInclusive<u64>,
    ) -> (StatusCode, Value) {
        let events: Vec<Value> = seqs
            .map(|seq| {
                json!({"seq": seq, "kind": "output", "payload": {"text": format!("line {seq}")}, "time": chrono::Utc::now()})
            })
            .collect();
        self.server
            .post(&format!("/v1/agent/executions/{id}/events"), &agent.token, json!({"events": events}))
            .await
    }

    /// Completes with `state`.
    pub async fn complete(&self, agent: &TestAgent, id: &str, state: &str) -> (StatusCode, Value) {
        self.server
            .post(
                &format!("/v1/agent/executions/{id}/complete"),
                &agent.token,
                json!({"result": {"state": state}}),
            )
            .await
    }

    /// The execution as its owner sees it.
    pub async fn execution(&self, id: &str) -> Value {
        let row = nbw_server::store::executions::get(&self.server.state.db, id)
            .await
            .unwrap()
            .expect("execution exists");
        serde_json::to_value(row.to_api()).unwrap()
    }
}
