//! `nbw server`: the control plane, and its maintenance commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use nbw_server::{Config, Server};
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
    /// Maintenance on the server's database (users), without going through the API.
    #[command(subcommand)]
    Admin(AdminAction),
}

#[derive(Subcommand, Debug)]
enum AdminAction {
    /// Create a user, e.g. the first administrator.
    #[command(
        after_help = "The password comes from stdin (--password-stdin), else from NBW_ADMIN_PASSWORD, \
else a random one is generated and printed once.

Examples:
  nbw server admin create-user alice --admin
  printf '%s' \"$PW\" | nbw server admin create-user bob --password-stdin"
    )]
    CreateUser(CreateUserArgs),
}

#[derive(Args, Debug)]
struct CreateUserArgs {
    /// Login name: 1 to 64 of A-Za-z0-9_.-@.
    username: String,
    /// Make the user a server administrator.
    #[arg(long)]
    admin: bool,
    /// Read the password from standard input (one line; at least 8 characters).
    #[arg(long)]
    password_stdin: bool,
}

pub fn main(args: ServerArgs) -> i32 {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    crate::exit::service(runtime.block_on(run(args)))
}

/// The configuration from file, environment and flags.
fn config(flags: &Flags) -> anyhow::Result<Config> {
    Config::load(flags.config.as_deref(), flags).context("reading the configuration")
}

async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let config = config(&args.flags)?;
    match args.action {
        Some(Action::Migrate) => {
            Server::builder().config(config).open().await?.close().await;
            println!("migrations applied");
            Ok(())
        }
        Some(Action::Admin(AdminAction::CreateUser(user))) => create_user(config, user).await,
        None => {
            let shutdown = CancellationToken::new();
            nbw_server::cancel_on_signals(shutdown.clone());
            Server::builder().config(config).start(shutdown).await?.wait().await
        }
    }
}

/// The password of a new user, and whether it was generated (and so must be shown).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("reading the password from stdin")?;
        let line = text.strip_suffix('\n').unwrap_or(&text);
        let line = line.strip_suffix('\r').unwrap_or(line);
        return Ok((line.to_owned(), false));
    }
    match std::env::var("NBW_ADMIN_PASSWORD") {
        Ok(password) if !password.is_empty() => Ok((password, false)),
        _ => Ok((nbw_core::ids::random_token(), true)),
    }
}

async fn create_user(config: Config, args: CreateUserArgs) -> anyhow::Result<()> {
    let (password, generated) = new_password(args.password_stdin)?;
    let server = Server::builder().config(config).open().await?;
    let input = nbw_core::api::CreateUser {
        username: args.username,
        password: password.clone(),
        is_admin: args.admin,
    };
    let created = server.admin().create_user(input).await;
    server.close().await;
    let user = created?;
    let role = if user.is_admin { "administrator" } else { "user" };
    println!("created {role} {}", user.username);
    if generated {
        println!("password: {password}");
        println!("(generated; it is shown only this once)");
    }
    Ok(())
}
