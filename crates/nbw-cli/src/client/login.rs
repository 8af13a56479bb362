//! `nbw login` and `nbw logout`.

use std::io::Read;

use clap::Args;
use nbw_client::{ClientError, UserClient};

use super::credentials::{self, Store};
use super::{CliError, CliResult, LOGIN, OK, exit_codes, interactive, prompt_line};

/// Log in to an nbw server and keep the login (per server) for the other commands.
///
/// The login is stored in the config folder (NBW_CONFIG_DIR, else ~/.config/nbw) with mode 0600.
/// The server becomes the default of later commands; --server or NBW_SERVER picks another.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw login http://127.0.0.1:8080
  nbw login https://nbw.example.com --username alice
  echo \"$PASSWORD\" | nbw login https://nbw.example.com --username ci --password-stdin

", exit_codes!()))]
pub struct LoginArgs {
    /// The server's URL (default: --server, NBW_SERVER, the last login, or http://127.0.0.1:8080).
    url: Option<String>,
    /// The server's URL (URL wins when both are given).
    #[arg(long, env = "NBW_SERVER")]
    server: Option<String>,
    /// The user name (asked for when missing).
    #[arg(short, long, env = "NBW_USERNAME")]
    username: Option<String>,
    /// Read the password from standard input (one line) instead of asking.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn login(args: LoginArgs) -> CliResult {
    let dir = credentials::config_dir()?;
    let store = Store::read(&dir)?;
    let server = store.pick_server(args.url.as_deref().or(args.server.as_deref()));
    let known = store.servers.get(&server).map(|p| p.username.clone());
    let username = match args.username {
        Some(name) => name,
        None if interactive() => {
            let default = known.or_else(|| std::env::var("USER").ok());
            prompt_line(&format!("Username for {server}"), default.as_deref())?
        }
        None => return Err(CliError::bad_input("no terminal to ask for a user name: pass --username")),
    };
    if username.is_empty() {
        return Err(CliError::bad_input("the user name is empty"));
    }
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::bad_input(format!("reading the password from standard input: {e}")))?;
        text.lines().next().unwrap_or_default().to_owned()
    } else if interactive() {
        rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| CliError::bad_input(format!("reading the password: {e}")))?
    } else {
        return Err(CliError::bad_input(
            "no terminal to ask for the password: pipe it in with --password-stdin",
        ));
    };
    let client = UserClient::new(&server, "")?;
    let tokens = match client.login(&username, &password).await {
        Ok(tokens) => tokens,
        Err(ClientError::Api { status: 401, .. }) => {
            return Err(CliError::new(LOGIN, format!("wrong user name or password for {server}")));
        }
        Err(e) => return Err(e.into()),
    };
    credentials::save_login(&server, &username, tokens)?;
    eprintln!("Logged in to {server} as {username}.");
    Ok(OK)
}

/// Log out: revoke the stored login on the server and forget it here.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw logout
  nbw logout --server https://nbw.example.com

", exit_codes!()))]
pub struct LogoutArgs {
    #[command(flatten)]
    server: super::ServerArg,
}

pub async fn logout(args: LogoutArgs) -> CliResult {
    let dir = credentials::config_dir()?;
    let server = Store::read(&dir)?.pick_server(args.server.server.as_deref());
    let Some(profile) = credentials::forget(&server)? else {
        eprintln!("Not logged in to {server}; nothing to do.");
        return Ok(OK);
    };
    // Revoking is a courtesy to the server: the login is forgotten here whatever it says.
    let revoked = match UserClient::new(&server, "") {
        Ok(client) => client.logout(&profile.tokens.refresh_token).await,
        Err(e) => Err(e),
    };
    match revoked {
        Ok(()) | Err(ClientError::Api { status: 401, .. }) => {
            eprintln!("Logged out of {server} ({}).", profile.username);
        }
        Err(e) => eprintln!("Logged out of {server} here; the server could not be told ({e})."),
    }
    Ok(OK)
}
