//! The web UI's figures (its budgets: 50 ms, 100 ms, 50 KB): the executions page with 100,000
//! executions on SQLite (the store's keyset query alone, and the whole page over HTTP), the
//! execution page of a finished 200-cell output notebook through its handler, and the size of
//! the UI's script and stylesheet.
//!
//! `cargo run --release -p nbw-server --example bench_web`

use std::time::{Duration, Instant};

use anyhow::bail;
use nbw_core::api::{CreateUser, ExecutionSpec};
use nbw_server::Server;
use nbw_server::artifacts::ArtifactKey;
use nbw_server::db::{Db, now_ms};
use nbw_server::store::executions::{self, MemberFilter};
use nbw_server::store::projects;
use serde_json::{Value, json};

const ROWS: i64 = 100_000;
const RUNS: usize = 20;
const PASSWORD: &str = "bench-password";

/// Median of `RUNS` timings of `f`, in ms.
async fn median<F, Fut>(mut f: F) -> anyhow::Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        f().await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[RUNS / 2])
}

fn spec() -> String {
    let spec = ExecutionSpec {
        notebook: "report.ipynb".into(),
        parameters: Default::default(),
        bundle_id: "b".into(),
        bundle_version: "v1".into(),
        bundle_digest: "sha256:00".into(),
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
    serde_json::to_string(&spec).expect("specs serialize")
}

/// `ROWS` executions of `project_id` in one transaction, a second apart, states and origins
/// mixed; the last one is finished with an output notebook (its id is returned).
async fn fill(db: &Db, project_id: &str) -> anyhow::Result<String> {
    let Db::Sqlite(pool) = db else { bail!("the benchmark runs on SQLite") };
    let states = ["succeeded", "succeeded", "succeeded", "failed", "cancelled", "timed_out"];
    let origins = ["sch", "sch", "web", "cli", "rty", "pip"];
    let spec = spec();
    let start = now_ms() - ROWS * 1000;
    let mut tx = pool.begin().await?;
    let sql = "INSERT INTO executions (id, project_id, origin, state, spec, labels, not_before, created_at, \
               started_at, finished_at, output_key) VALUES ($1, $2, $3, $4, $5, '{}', $6, $6, $6, $7, $8)";
    let mut last = String::new();
    for i in 0..ROWS {
        let origin = origins[i as usize % origins.len()];
        let id = format!("{origin}.bench{i:07}");
        let at = start + i * 1000;
        let output = (i == ROWS - 1).then(|| "output".to_owned());
        sqlx::query(sql)
            .bind(&id)
            .bind(project_id)
            .bind(origin)
            .bind(states[i as usize % states.len()])
            .bind(&spec)
            .bind(at)
            .bind(at + 4200)
            .bind(output)
            .execute(&mut *tx)
            .await?;
        last = id;
    }
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(last)
}

/// A 200-cell notebook cycling through nbw-render's every-output fixture.
fn notebook_200() -> Value {
    let fixture: Value =
        serde_json::from_str(include_str!("../../nbw-render/tests/fixtures/every_output.ipynb"))
            .expect("JSON");
    let cells: Vec<Value> =
        fixture["cells"].as_array().expect("cells").iter().cycle().take(200).cloned().collect();
    json!({"nbformat": 4, "nbformat_minor": 5, "metadata": fixture["metadata"], "cells": cells})
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::builder()
        .data_dir(dir.path())
        .listen("127.0.0.1:0".parse()?)
        .secret_key([7; 32])
        .in_memory_artifacts()
        .without_background_loops()
        .start(tokio_util::sync::CancellationToken::new())
        .await?;
    let state = server.state().clone();
    let input = CreateUser { username: "bench".into(), password: PASSWORD.into(), is_admin: true };
    let user = nbw_server::auth::accounts::create_user(&state.db, input).await?;
    let project = projects::create(&state.db, "bench", "", &user.id).await?.expect("a new project");
    let filling = Instant::now();
    let finished = fill(&state.db, &project.id).await?;
    println!("inserted {ROWS} executions in {:.1} s", filling.elapsed().as_secs_f64());
    let notebook = serde_json::to_vec(&notebook_200())?;
    state.artifacts.put(&ArtifactKey::Output(finished.clone()), notebook.into()).await?;

    let page = MemberFilter { user_id: user.id.clone(), limit: 51, ..Default::default() };
    let deep = MemberFilter { after: Some((now_ms() - ROWS / 2 * 1000, "~".into())), ..page.clone() };
    let failed = MemberFilter { state: Some("failed".into()), origin: Some("sch".into()), ..page.clone() };
    for (name, filter) in
        [("first page", &page), ("page at row 50,000", &deep), ("state+origin filter", &failed)]
    {
        let ms = median(|| async {
            executions::list_for_member(&state.db, filter).await.map(|_| ()).map_err(Into::into)
        })
        .await?;
        println!("store: executions list, {name}, {ROWS} rows: median {ms:.2} ms");
    }

    let http = reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(30)).build()?;
    let base = server.url();
    let login = http.get(format!("{base}/login")).send().await?.text().await?;
    let csrf =
        login.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
    let form = [("username", "bench"), ("password", PASSWORD), ("csrf", csrf), ("next", "/")];
    let home = http.post(format!("{base}/login")).form(&form).send().await?.text().await?;
    for path in ["/executions", "/executions?state=failed&origin=sch", &format!("/executions/{finished}")] {
        let ms = median(|| async {
            let response = http.get(format!("{base}{path}")).send().await?;
            if !response.status().is_success() {
                bail!("{path}: {}", response.status());
            }
            response.bytes().await?;
            Ok(())
        })
        .await?;
        println!("http: GET {path}: median {ms:.2} ms");
    }
    let mut total = 0;
    for asset in home.split("=\"/assets/").skip(1).filter_map(|rest| rest.split('"').next()) {
        let bytes = http.get(format!("{base}/assets/{asset}")).send().await?.bytes().await?.len();
        println!("asset {asset}: {bytes} bytes");
        total += bytes;
    }
    println!("assets: {total} bytes in all (uncompressed)");
    server.stop().await
}
