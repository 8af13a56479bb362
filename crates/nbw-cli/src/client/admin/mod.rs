//! `nbw admin`: what a server administrator does over the API, so it works against a remote
//! server with the caller's own login and role: user accounts (`user`) and agents (`agent`).
//! The server refuses these routes to anyone but an administrator (exit code 10).

pub mod agents;
pub mod users;

use clap::{Args, Subcommand};

use super::credentials::Session;
use super::{CliResult, ServerArg, exit_codes};

/// Manage the server's user accounts and agents (administrators only).
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw admin user create alice                       # a generated password, shown once
  printf %s \"$PW\" | nbw admin user create bob --password-stdin --admin
  nbw admin user list
  nbw admin user disable alice
  nbw admin agent register build-01 --labels docker=yes
  nbw admin agent list -o json
  nbw admin agent revoke build-01

", exit_codes!()))]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// User accounts: create, list, disable, enable, reset-password.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Agents: register (prints its token once), list, revoke.
    #[command(subcommand)]
    Agent(agents::AgentCommand),
}

pub async fn admin(args: AdminArgs) -> CliResult {
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    match args.command {
        AdminCommand::User(command) => users::run(&client, command).await,
        AdminCommand::Agent(command) => agents::run(&client, &session.server, command).await,
    }
}
