//! The client commands: what a data scientist types in a project folder. `init` and `import`
//! make a project file, `login` keeps credentials per server, `push` makes the server match
//! `nbw.yaml`, `wf`, `pipe`, `exec`, `history`, `logs`, `outputs`, `cancel` and `secrets` work with
//! what is on the server; `runtime` builds runtime images (here, recording them on the server,
//! or on an agent) and lists the versions the server recorded; `project`, `members` and
//! `admin` set up a team (projects, roles, user accounts, agents) over the API.
//!
//! Every command ends with one of the documented exit codes of [`crate::exit`]; errors are one
//! [`CliError`] each, printed once by [`finish`]. The exit codes are listed in `exit_codes!` and
//! shown in every client command's `--help`.

pub mod admin;
pub mod credentials;
pub mod executions;
pub mod import;
pub mod init;
pub mod login;
pub mod members;
pub mod output;
pub mod pipe_watch;
pub mod pipelines;
pub mod projects;
pub mod push;
pub mod runtime;
pub mod secrets;
pub mod workflows;

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use nbw_client::ClientError;
use nbw_core::project::{self, LocalProject};

pub(crate) use crate::exit::exit_codes;
pub use crate::exit::{BAD_INPUT, FAILED, LOGIN, NOT_CONFIRMED, OK, REFUSED, SERVER, UNREACHABLE};

/// A failed command: its exit code and what to tell the person.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: i32,
    /// The message, without the `error: ` prefix.
    pub message: String,
}

/// A name or label that breaks its rule is bad input; the rule's message says what it allows.
impl From<nbw_core::names::NameError> for CliError {
    fn from(error: nbw_core::names::NameError) -> Self {
        CliError::bad_input(error.to_string())
    }
}

impl CliError {
    /// An error with `code`.
    pub fn new(code: i32, message: impl Into<String>) -> CliError {
        CliError { code, message: message.into() }
    }

    /// Bad input.
    pub fn bad_input(message: impl Into<String>) -> CliError {
        CliError::new(BAD_INPUT, message)
    }

    /// A server error, said with what was being done.
    pub fn from_client(error: ClientError, doing: &str) -> CliError {
        let mut e = CliError::from(error);
        if e.code != UNREACHABLE && e.code != LOGIN {
            e.message = format!("{doing}: {}", e.message);
        }
        e
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> CliError {
        match &error {
            ClientError::Transport { url, reason } => CliError::new(
                UNREACHABLE,
                format!(
                    "cannot reach the nbw server at {url} ({reason}).\n  Is it running, and is the address right? Pick the server with --server URL or NBW_SERVER."
                ),
            ),
            ClientError::Api { status: 401, message, .. } => CliError::new(
                LOGIN,
                format!("the server did not accept the login ({message}): log in again with `nbw login`"),
            ),
            ClientError::Api { status: 403 | 409 | 429, message, .. } => {
                CliError::new(REFUSED, message.clone())
            }
            ClientError::Api { status, message, .. } if *status >= 500 => {
                CliError::new(SERVER, format!("the server failed ({status}): {message}"))
            }
            ClientError::Api { message, .. } => CliError::new(BAD_INPUT, message.clone()),
            ClientError::Decode(_) => CliError::new(SERVER, error.to_string()),
        }
    }
}

impl From<crate::params::ParamFlagError> for CliError {
    fn from(error: crate::params::ParamFlagError) -> CliError {
        CliError::bad_input(error.to_string())
    }
}

impl From<project::ProjectError> for CliError {
    fn from(error: project::ProjectError) -> CliError {
        CliError::bad_input(format!("the project file is not valid:\n{error}"))
    }
}

/// A command's result.
pub type CliResult<T = i32> = Result<T, CliError>;

/// Prints the error, if any, and returns the exit code.
pub fn finish(result: CliResult) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            let label = console::style("error:").red().bold().for_stderr();
            eprintln!("{label} {}", e.message);
            e.code
        }
    }
}

/// Runs an async command on a runtime of its own.
pub fn block_on(future: impl Future<Output = CliResult>) -> i32 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    finish(runtime.block_on(future))
}

/// `--server`: which server (and so which stored login) a command talks to.
#[derive(Args, Debug, Clone)]
pub struct ServerArg {
    /// The server's URL (default: the one you logged in to last).
    #[arg(long, env = "NBW_SERVER", global = true)]
    pub server: Option<String>,
}

/// Where the project is: its file, or just its name.
#[derive(Args, Debug, Clone)]
pub struct ProjectArg {
    /// The project file (default: nbw.yaml in this folder or the nearest parent).
    #[arg(short = 'f', long = "file", env = "NBW_FILE", value_name = "NBW_YAML", global = true)]
    pub file: Option<PathBuf>,
    /// The project's name on the server, instead of reading it from nbw.yaml.
    #[arg(long, env = "NBW_PROJECT", global = true)]
    pub project: Option<String>,
}

impl ProjectArg {
    /// The project file's path: `--file`, or nbw.yaml in this folder or the nearest parent.
    pub fn find_file(&self) -> CliResult<PathBuf> {
        if let Some(file) = &self.file {
            if file.is_dir() {
                return self.check_exists(file.join(project::FILE_NAME));
            }
            return self.check_exists(file.clone());
        }
        let cwd =
            std::env::current_dir().map_err(|e| CliError::bad_input(format!("no current folder: {e}")))?;
        for dir in cwd.ancestors() {
            let candidate = dir.join(project::FILE_NAME);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        Err(missing_project_file(&cwd))
    }

    fn check_exists(&self, path: PathBuf) -> CliResult<PathBuf> {
        if path.is_file() {
            Ok(path)
        } else {
            Err(CliError::bad_input(format!(
                "no project file at {}: make one with `nbw init`, or convert an NB Workflows project with `nbw import`",
                path.display()
            )))
        }
    }

    /// The whole project, checked.
    pub fn load(&self) -> CliResult<LocalProject> {
        Ok(project::load(&self.find_file()?)?)
    }

    /// Only the project's name: `--project`, else `project:` of nbw.yaml (the rest of the
    /// file is not checked, so a half-edited file does not stop `nbw history`).
    pub fn name(&self) -> CliResult<String> {
        if let Some(name) = &self.project {
            return Ok(name.clone());
        }
        let file = self.find_file()?;
        let text = std::fs::read_to_string(&file)
            .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", file.display())))?;
        #[derive(serde::Deserialize)]
        struct NameOnly {
            project: String,
        }
        match serde_yaml::from_str::<NameOnly>(&text) {
            Ok(only) => Ok(only.project),
            // The full check says where and why.
            Err(_) => Ok(project::load(&file)?.spec.project),
        }
    }
}

fn missing_project_file(cwd: &Path) -> CliError {
    CliError::bad_input(format!(
        "no nbw.yaml in {} or its parent folders.\n  Make one with `nbw init`, convert an NB Workflows project with `nbw import`, \
         or name the project with --project NAME.",
        cwd.display()
    ))
}

/// Whether a person is at the keyboard: standard input and standard error are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks a yes/no question on the terminal (default no). Without a terminal, refuses with
/// [`NOT_CONFIRMED`] and says which flag answers it.
pub fn confirm(question: &str, flag: &str) -> CliResult<()> {
    if !interactive() {
        return Err(CliError::new(
            NOT_CONFIRMED,
            format!("cannot ask \"{question}\": there is no terminal to answer on; add {flag} to go ahead"),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| CliError::bad_input(e.to_string()))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CliError::new(NOT_CONFIRMED, "not confirmed; nothing was changed"))
    }
}

/// Reads one line from the terminal, showing `prompt` (and `default` when given).
pub fn prompt_line(prompt: &str, default: Option<&str>) -> CliResult<String> {
    match default {
        Some(default) => eprint!("{prompt} [{default}]: "),
        None => eprint!("{prompt}: "),
    }
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| CliError::bad_input(e.to_string()))?;
    let line = line.trim().to_owned();
    Ok(if line.is_empty() { default.unwrap_or_default().to_owned() } else { line })
}

/// Print the shell completion script of nbw (bash, zsh, fish, elvish, powershell).
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw completions bash > ~/.local/share/bash-completion/completions/nbw
  nbw completions zsh > ~/.zfunc/_nbw        # with fpath+=~/.zfunc in ~/.zshrc
  nbw completions fish > ~/.config/fish/completions/nbw.fish")]
pub struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Writes the completion script of `C` (the whole `nbw` command) for a shell.
pub fn completions<C: CommandFactory>(args: CompletionsArgs) -> i32 {
    let mut command = C::command();
    clap_complete::generate(args.shell, &mut command, "nbw", &mut std::io::stdout());
    OK
}
