//! `nbw server`: the control plane, and its maintenance commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use nbw_server::config::Config;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// Run the control plane: REST API /v1, scheduler, queue, auth, events.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw server                                  # SQLite in ./nbw-data, http://127.0.0.1:8080
  NBW_DATABASE_URL=postgres://nbw@db/nbw nbw server --listen 0.0.0.0:8080
  nbw server migrate")]
pub struct ServerArgs {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    flags: Flags,
}

/// Flags that override the configuration file and `NBW_*` variables.
#[derive(Args, Debug, Serialize)]
struct Flags {
    /// Configuration file (TOML).
    #[arg(long, global = true)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080; NBW_LISTEN).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    /// Data directory (default ./nbw-data; NBW_DATA_DIR).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// Database URL (default sqlite in the data dir; NBW_DATABASE_URL).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Apply the database migrations and exit.
    Migrate,
}

pub fn main(args: ServerArgs) -> i32 {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(run(args)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// The configuration from file, environment and flags.
fn config(flags: &Flags) -> anyhow::Result<Config> {
    Config::load(flags.config.as_deref(), flags).context("reading the configuration")
}

async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let config = config(&args.flags)?;
    match args.action {
        Some(Action::Migrate) => {
            nbw_server::server::open(config).await?;
            println!("migrations applied");
            Ok(())
        }
        None => {
            let state = nbw_server::server::open(config).await?;
            let shutdown = CancellationToken::new();
            nbw_server::server::cancel_on_signals(shutdown.clone());
            nbw_server::server::serve(state, shutdown).await
        }
    }
}
