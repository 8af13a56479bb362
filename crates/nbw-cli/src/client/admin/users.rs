//! `nbw admin user`: create, list, disable, enable and reset the password of user accounts.
//!
//! A new password comes from standard input (`--password-stdin`), or is generated and printed
//! once: typing one on the command line would leave it in the shell's history.

use std::io::Read;

use clap::Subcommand;
use nbw_client::UserClient;
use nbw_core::api::{CreateUser, User};
use serde::Serialize;

use crate::client::output::{self, Format};
use crate::client::{CliError, CliResult, OK};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user account.
    Create {
        /// Login name: 1 to 64 of A-Za-z0-9_.-@.
        username: String,
        /// Make the user a server administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (one line; at least 8 characters) instead of
        /// generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Every user account.
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Disable an account: it can no longer log in, and its logins and tokens stop working.
    Disable {
        /// Login name.
        username: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Enable a disabled account again.
    Enable {
        /// Login name.
        username: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Set a new password (generated and printed once, or from standard input); every login
    /// of the account ends.
    ResetPassword {
        /// Login name.
        username: String,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
}

/// A user and, when nbw generated it, the password to hand over (`-o json` shows both).
#[derive(Serialize)]
struct WithPassword {
    #[serde(flatten)]
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// A new password: one line of standard input, or a generated one (then `Some` of it, to show).
fn new_password(from_stdin: bool) -> CliResult<(String, Option<String>)> {
    if !from_stdin {
        let password = nbw_core::ids::random_token();
        return Ok((password.clone(), Some(password)));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::bad_input(format!("reading the password from standard input: {e}")))?;
    Ok((text.lines().next().unwrap_or_default().to_owned(), None))
}

pub async fn run(client: &UserClient, command: UserCommand) -> CliResult {
    match command {
        UserCommand::Create { username, admin, password_stdin, format } => {
            let (password, generated) = new_password(password_stdin)?;
            let input = CreateUser { username: username.clone(), password, is_admin: admin };
            let user = client
                .create_user(&input)
                .await
                .map_err(|e| CliError::from_client(e, &format!("creating user {username}")))?;
            let kind = if user.is_admin { "administrator" } else { "user" };
            show_with_password(format, user, generated, &format!("created {kind} {username}"));
        }
        UserCommand::List { format } => {
            let users = client.users().await.map_err(|e| CliError::from_client(e, "listing users"))?;
            output::print(format, &users, || users_table(&users));
        }
        UserCommand::Disable { username, format } => set_disabled(client, &username, true, format).await?,
        UserCommand::Enable { username, format } => set_disabled(client, &username, false, format).await?,
        UserCommand::ResetPassword { username, password_stdin, format } => {
            let (password, generated) = new_password(password_stdin)?;
            let user = client
                .reset_password(&username, &password)
                .await
                .map_err(|e| CliError::from_client(e, &format!("resetting the password of {username}")))?;
            show_with_password(
                format,
                user,
                generated,
                &format!("new password set for {username}; their logins ended"),
            );
        }
    }
    Ok(OK)
}

async fn set_disabled(client: &UserClient, username: &str, disabled: bool, format: Format) -> CliResult<()> {
    let doing = if disabled { "disabling" } else { "enabling" };
    let user = client
        .set_user_disabled(username, disabled)
        .await
        .map_err(|e| CliError::from_client(e, &format!("{doing} user {username}")))?;
    output::print(format, &user, || {
        let done = if disabled { "disabled: its logins and tokens no longer work" } else { "enabled" };
        format!("{} user {username} {done}", output::ok_mark())
    });
    Ok(())
}

/// Prints a user; a generated password goes to standard output (in the JSON too), said once.
fn show_with_password(format: Format, user: User, generated: Option<String>, done: &str) {
    let shown = WithPassword { user, password: generated };
    output::print(format, &shown, || {
        eprintln!("{} {done}", output::ok_mark().for_stderr());
        match &shown.password {
            Some(password) => {
                eprintln!("Generated password, shown only this once (hand it over safely):");
                password.clone()
            }
            None => String::new(),
        }
    });
}

fn users_table(users: &[User]) -> String {
    let mut table = output::table(["username", "administrator", "state", "created"]);
    for user in users {
        let state = if user.disabled { "disabled" } else { "active" };
        let admin = if user.is_admin { "yes" } else { "no" };
        table.add_row([
            user.username.clone(),
            admin.to_owned(),
            state.to_owned(),
            output::ago(user.created_at),
        ]);
    }
    table.to_string()
}
