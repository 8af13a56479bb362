//! The queue benchmark's helper (driven by `scripts/bench-server.sh`): prepares a database, and
//! plays no-op agents against a running `nbw server`.
//!
//! ```text
//! bench_queue setup --database-url URL --data-dir DIR
//!     migrates, creates an administrator, project `bench` with a bundle, and an agent;
//!     prints `agent_token=...` and `user_token=...` (signed with DIR's server key)
//! bench_queue throughput --database-url URL --server http://HOST:PORT --agent-token T --count M --claimers N
//!     queues M executions directly in the database, then N agents claim and complete until
//!     the queue is empty; prints `completed=`, `seconds=`, `per_second=`
//! bench_queue latency --server http://HOST:PORT --agent-token T --user-token U --count K --rate R --claimers N
//!     N agents long-poll while K executions are created through the API at R per second;
//!     prints the dispatch latency (created_at to claim received) `p50_ms=`, `p99_ms=`, `max_ms=`
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nbw_core::api::{ExecutionSpec, Origin};
use nbw_server::artifacts::{ArtifactKey, Artifacts};
use nbw_server::auth::Keys;
use nbw_server::auth::caller::{AGENT_TOKEN_PREFIX, token_hash};
use nbw_server::db::{Db, now_ms};
use nbw_server::store::executions::NewExecution;
use nbw_server::store::{agents, bundles, executions, projects, users};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PROJECT: &str = "bench";

fn flags() -> (String, HashMap<String, String>) {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut flags = HashMap::new();
    while let Some(flag) = args.next() {
        let name = flag.trim_start_matches("--").to_owned();
        flags.insert(name, args.next().unwrap_or_default());
    }
    (command, flags)
}

fn flag<'a>(flags: &'a HashMap<String, String>, name: &str) -> anyhow::Result<&'a str> {
    flags.get(name).map(String::as_str).with_context(|| format!("--{name} is required"))
}

fn number(flags: &HashMap<String, String>, name: &str) -> anyhow::Result<usize> {
    flag(flags, name)?.parse().with_context(|| format!("--{name} must be a number"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (command, flags) = flags();
    match command.as_str() {
        "setup" => setup(flag(&flags, "database-url")?, PathBuf::from(flag(&flags, "data-dir")?)).await,
        "throughput" => {
            let db = Db::connect(flag(&flags, "database-url")?).await?;
            let count = number(&flags, "count")?;
            let queued = Instant::now();
            fill(&db, count).await?;
            eprintln!("bench_queue: queued {count} executions in {:.1} s", queued.elapsed().as_secs_f64());
            db.close().await;
            throughput(flag(&flags, "server")?, flag(&flags, "agent-token")?, number(&flags, "claimers")?)
                .await
        }
        "latency" => {
            latency(
                flag(&flags, "server")?,
                flag(&flags, "agent-token")?,
                flag(&flags, "user-token")?,
                number(&flags, "count")?,
                number(&flags, "rate")?,
                number(&flags, "claimers")?,
            )
            .await
        }
        _ => bail!("usage: bench_queue setup|throughput|latency --flag value ... (see the source's header)"),
    }
}

async fn setup(url: &str, data_dir: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data_dir)?;
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let keys = Keys::load(std::env::var("NBW_SECRET_KEY").ok().as_deref(), &data_dir)?;
    let admin = users::insert(&db, "bench-admin", "no-login", true).await?;
    let project = projects::create(&db, PROJECT, "queue benchmark", &admin.id)
        .await?
        .context("project bench exists")?;
    let archive = bytes::Bytes::from_static(b"a bundle the no-op agents never open");
    let digest = format!("sha256:{:x}", Sha256::digest(&archive));
    Artifacts::open(&data_dir.join("artifacts").display().to_string())?
        .put(&ArtifactKey::Bundle(digest.clone()), archive.clone())
        .await?;
    let notebooks = ["main.ipynb".to_owned()];
    bundles::insert(&db, &project.id, "v1", &digest, "tar.gz", archive.len() as u64, &notebooks, &admin.id)
        .await?;
    let agent_token = format!("{AGENT_TOKEN_PREFIX}{}", nbw_core::ids::random_token());
    agents::insert_agent(&db, "bench", &Default::default(), &token_hash(&agent_token), &admin.id).await?;
    let user_token = nbw_server::auth::token::issue(&keys, &admin.id, true, chrono::Duration::hours(6)).0;
    db.close().await;
    println!("agent_token={agent_token}");
    println!("user_token={user_token}");
    Ok(())
}

/// Queues `count` executions of project `bench` straight into the database.
async fn fill(db: &Db, count: usize) -> anyhow::Result<()> {
    let sql = "SELECT id FROM projects WHERE name = $1";
    let (project_id,): (String,) =
        nbw_server::on_db!(db, pool => sqlx::query_as(sql).bind(PROJECT).fetch_one(pool).await)?;
    let bundle = bundles::latest(db, &project_id).await?.context("the bench project has a bundle")?;
    let spec = ExecutionSpec {
        notebook: "main.ipynb".into(),
        parameters: Default::default(),
        bundle_id: bundle.id,
        bundle_version: bundle.version,
        bundle_digest: bundle.digest,
        runtime: None,
        runtime_version: None,
        container: None,
        build: None,
        volumes: Vec::new(),
        timeout_secs: None,
        cell_timeout_secs: None,
        max_queue_secs: None,
        retries: Default::default(),
        notifications: Vec::new(),
        step: None,
    };
    for _ in 0..count {
        let new = NewExecution {
            id: Origin::Cli.new_id(),
            project_id: project_id.clone(),
            workflow_id: None,
            spec: spec.clone(),
            labels: Default::default(),
            attempt: 1,
            first_attempt_id: None,
            previous_attempt_id: None,
            fire: None,
            not_before: now_ms(),
            created_by: None,
        };
        executions::insert(db, &new).await?;
    }
    Ok(())
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: Value) -> anyhow::Result<Value> {
    let response = client.post(&url).bearer_auth(token).json(&body).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("POST {url}: {status}: {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

/// One no-op agent's cycle: claim (waiting `wait` seconds), then complete at once.
async fn claim_and_complete(
    client: &reqwest::Client,
    server: &str,
    token: &str,
    wait: u64,
) -> anyhow::Result<Option<Value>> {
    let claim = post(client, format!("{server}/v1/agent/claim"), token, json!({"wait_secs": wait})).await?;
    let received = chrono::Utc::now();
    let claim = claim["claim"].clone();
    if claim.is_null() {
        return Ok(None);
    }
    let id = claim["execution"]["id"].as_str().context("a claim has an execution id")?;
    let complete = json!({"result": {"state": "succeeded", "duration_ms": 0.0}});
    post(client, format!("{server}/v1/agent/executions/{id}/complete"), token, complete).await?;
    let created: chrono::DateTime<chrono::Utc> =
        claim["execution"]["created_at"].as_str().context("created_at")?.parse()?;
    Ok(Some(json!({"latency_ms": (received - created).num_microseconds().unwrap_or(0) as f64 / 1000.0})))
}

async fn throughput(server: &str, token: &str, claimers: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(claimers).build()?;
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..claimers)
        .map(|_| {
            let (client, server, token, done) =
                (client.clone(), server.to_owned(), token.to_owned(), done.clone());
            tokio::spawn(async move {
                while claim_and_complete(&client, &server, &token, 0).await?.is_some() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let completed = done.load(Ordering::Relaxed);
    println!("completed={completed}");
    println!("seconds={seconds:.3}");
    println!("per_second={:.0}", completed as f64 / seconds);
    Ok(())
}

/// An agent that long-polls for ever, sending each claim's dispatch latency.
async fn long_poller(
    client: reqwest::Client,
    server: String,
    token: String,
    sender: tokio::sync::mpsc::UnboundedSender<f64>,
) -> anyhow::Result<()> {
    loop {
        if let Some(sample) = claim_and_complete(&client, &server, &token, 30).await? {
            let _ = sender.send(sample["latency_ms"].as_f64().unwrap_or(f64::NAN));
        }
    }
}

async fn latency(
    server: &str,
    agent_token: &str,
    user_token: &str,
    count: usize,
    rate: usize,
    claimers: usize,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(claimers + 4).build()?;
    let (sender, mut samples) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let agents: Vec<_> = (0..claimers)
        .map(|_| {
            let (client, server, token, sender) =
                (client.clone(), server.to_owned(), agent_token.to_owned(), sender.clone());
            tokio::spawn(async move { long_poller(client, server, token, sender).await })
        })
        .collect();
    // Let every agent reach its long poll.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let every = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tick = tokio::time::interval(every);
    let create = format!("{server}/v1/projects/{PROJECT}/executions");
    for _ in 0..count {
        tick.tick().await;
        post(&client, create.clone(), user_token, json!({"notebook": "main.ipynb"})).await?;
    }
    let mut latencies = Vec::with_capacity(count);
    while latencies.len() < count {
        match tokio::time::timeout(Duration::from_secs(35), samples.recv()).await {
            Ok(Some(sample)) => latencies.push(sample),
            _ => bail!("only {} of {count} executions were claimed", latencies.len()),
        }
    }
    for agent in agents {
        agent.abort();
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1];
    println!("samples={}", latencies.len());
    println!("p50_ms={:.1}", at(0.50));
    println!("p99_ms={:.1}", at(0.99));
    println!("max_ms={:.1}", latencies[latencies.len() - 1]);
    Ok(())
}
