//! `nbw standalone`: the server, the scheduler and one agent in one process, on SQLite, local
//! files and the local executor (and the Docker executor with `--docker`). The first start creates an administrator; `--example` loads a
//! project whose workflows fire every minute, one of them failing on purpose with a
//! notification to a webhook log in the data directory, so a newcomer sees runs appear.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use nbw_core::api::{CreateUser, WorkflowInput};
use nbw_server::{Admin, Config, Server};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Run everything in one process: server, scheduler and an agent (SQLite, local files).
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw standalone --example              # an example project with schedules firing every minute
  NBW_ADMIN_PASSWORD=... nbw standalone --data-dir /srv/nbw --slots 4")]
pub struct StandaloneArgs {
    /// Load the example project (welcome notebook, a workflow every minute, one failing on purpose).
    #[arg(long)]
    example: bool,
    /// Address to listen on.
    #[arg(long, env = "NBW_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory (SQLite file, artifacts, agent work dirs).
    #[arg(long, env = "NBW_DATA_DIR", default_value = "nbw-data")]
    data_dir: PathBuf,
    /// Executions the embedded agent runs at once.
    #[arg(long, default_value_t = 2)]
    slots: usize,
    /// Interpreter whose environment holds the kernels.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Python kernels the embedded agent keeps started ahead of time.
    #[arg(long, default_value_t = 1)]
    warm: usize,
    /// Let the embedded agent run executions in runtime images and build them (local Docker).
    #[arg(long, env = "NBW_AGENT_DOCKER")]
    docker: bool,
}

#[derive(Serialize)]
struct Overrides {
    listen: SocketAddr,
    data_dir: PathBuf,
}

pub fn main(args: StandaloneArgs) -> i32 {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    crate::exit::service(runtime.block_on(run(args)))
}

async fn run(args: StandaloneArgs) -> anyhow::Result<()> {
    let overrides = Overrides { listen: args.listen, data_dir: args.data_dir.clone() };
    let mut config = Config::load(None, overrides).context("reading the configuration")?;
    // Standalone is single-node by definition: the embedded SQLite file, whatever the environment says.
    config.database_url = None;
    let shutdown = CancellationToken::new();
    let opened = Server::builder().config(config).open().await?;
    let password = ensure_admin(opened.admin()).await?;
    nbw_server::cancel_on_signals(shutdown.clone());
    let server = opened.start(shutdown.clone()).await?;
    let url = server.url();
    let admin = server.admin();
    let admin_id = admin.user_id("admin").await?.context("the administrator is missing")?;
    if args.example {
        load_example(admin, &admin_id, &args.data_dir, &shutdown).await?;
    }
    let token = admin.replace_agent("standalone", &admin_id).await?;
    let mut agent = nbw_agent::AgentConfig::new(&url, &token, args.data_dir.join("agent"));
    agent.slots = args.slots;
    agent.python = args.python.clone();
    agent.warm = args.warm;
    agent.docker = args.docker;
    agent.shutdown_grace = Duration::from_secs(20);
    let agent = tokio::spawn(nbw_agent::run(agent, shutdown.clone()));
    announce(&url, password.as_deref(), args.example);
    agent.await.context("agent task")??;
    server.wait().await
}

/// Creates the administrator on first start; returns the password when it was generated (it
/// is printed once, never stored in clear).
async fn ensure_admin(admin: Admin<'_>) -> anyhow::Result<Option<String>> {
    if admin.has_users().await? {
        return Ok(None);
    }
    let (password, generated) = match std::env::var("NBW_ADMIN_PASSWORD") {
        Ok(password) => (password, false),
        Err(_) => (nbw_core::ids::random_token()[..20].to_owned(), true),
    };
    let input = CreateUser { username: "admin".into(), password: password.clone(), is_admin: true };
    admin.create_user(input).await.map_err(|e| anyhow::anyhow!("creating the administrator: {e}"))?;
    Ok(generated.then_some(password))
}

fn announce(url: &str, password: Option<&str>, example: bool) {
    println!();
    println!("nbw standalone is running at {url}");
    println!("  open {url} in a browser and log in (the web UI)");
    println!("  API and its documentation: {url}/v1/docs");
    match password {
        Some(password) => println!("  log in as admin with password {password}   (shown once: keep it)"),
        None => println!("  log in as admin (password from the first start, or NBW_ADMIN_PASSWORD)"),
    }
    println!("  from a terminal: nbw login {url}");
    if example {
        println!("  example project: workflows `welcome` and `fails-on-purpose` fire every minute;");
        println!("  its runs: {url}/projects/example");
    }
    println!("Stop with Ctrl-C.");
}

const WELCOME: &[u8] = include_bytes!("../../../examples/project/notebooks/welcome.ipynb");
const FAILS: &[u8] = include_bytes!("../../../examples/project/notebooks/fails.ipynb");
const PROJECT_FILE: &[u8] = include_bytes!("../../../examples/project/nbw.yaml");
/// The notebooks of the example's pipeline, by their path in the project.
const PIPELINE_NOTEBOOKS: [(&str, &[u8]); 3] = [
    (
        "notebooks/pipeline/extract.ipynb",
        include_bytes!("../../../examples/project/notebooks/pipeline/extract.ipynb"),
    ),
    (
        "notebooks/pipeline/region.ipynb",
        include_bytes!("../../../examples/project/notebooks/pipeline/region.ipynb"),
    ),
    (
        "notebooks/pipeline/report.ipynb",
        include_bytes!("../../../examples/project/notebooks/pipeline/report.ipynb"),
    ),
];

/// Loads the example project once, and points its notification at this run's webhook log.
async fn load_example(
    admin: Admin<'_>,
    admin_id: &str,
    data_dir: &Path,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let webhook = start_webhook_log(data_dir.join("webhook.log"), shutdown.clone()).await?;
    let project = match admin.project_id("example").await? {
        Some(id) => id,
        None => create_example(admin, admin_id).await?,
    };
    admin.set_secret(&project, "EXAMPLE_WEBHOOK", &webhook).await?;
    Ok(())
}

async fn create_example(admin: Admin<'_>, admin_id: &str) -> anyhow::Result<String> {
    let project = admin
        .create_project("example", "the example project of nbw standalone", admin_id)
        .await
        .context("creating the example project")?;
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("notebooks"))?;
    std::fs::write(dir.path().join("notebooks/welcome.ipynb"), WELCOME)?;
    std::fs::write(dir.path().join("notebooks/fails.ipynb"), FAILS)?;
    std::fs::write(dir.path().join("nbw.yaml"), PROJECT_FILE)?;
    std::fs::create_dir_all(dir.path().join("notebooks/pipeline"))?;
    for (path, notebook) in PIPELINE_NOTEBOOKS {
        std::fs::write(dir.path().join(path), notebook)?;
    }
    let archive = nbw_bundle::build(dir.path())?;
    admin
        .store_bundle(&project, "example-1", archive.bytes.into(), admin_id)
        .await
        .map_err(|e| anyhow::anyhow!("storing the example bundle: {e}"))?;
    let workflows = [
        json!({"name": "welcome", "notebook": "notebooks/welcome.ipynb", "parameters": {"name": "nbw", "times": 2},
               "schedule": {"cron": "* * * * *"}}),
        json!({"name": "fails-on-purpose", "notebook": "notebooks/fails.ipynb", "schedule": {"cron": "* * * * *"},
               "notifications": [{"channel": "webhook", "url_secret": "EXAMPLE_WEBHOOK", "on": ["failure"]}]}),
    ];
    for workflow in workflows {
        let input: WorkflowInput = serde_json::from_value(workflow)?;
        admin
            .create_workflow(&project, input)
            .await
            .map_err(|e| anyhow::anyhow!("creating an example workflow: {e}"))?;
    }
    // The pipelines come from the example's nbw.yaml, as `nbw push` would send them.
    let text = std::str::from_utf8(PROJECT_FILE)?;
    let file = nbw_core::project::parse(text, Path::new("nbw.yaml"), None)?;
    for (name, pipeline) in &file.pipelines {
        admin
            .put_pipeline(&project, name, pipeline.to_input(None))
            .await
            .map_err(|e| anyhow::anyhow!("creating the example pipeline {name}: {e}"))?;
    }
    Ok(project)
}

/// A local receiver for the example's notifications: each POST body becomes a line of
/// `path`. Returns its URL.
async fn start_webhook_log(path: PathBuf, shutdown: CancellationToken) -> anyhow::Result<String> {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let path = path.clone();
            async move {
                use std::io::Write;
                let line = body.replace('\n', " ");
                if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
                    let _ = writeln!(file, "{line}");
                }
                tracing::info!(log = %path.display(), "example webhook received a notification");
                "ok"
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    Ok(url)
}
