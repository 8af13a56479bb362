//! `nbw secrets`: the project's secrets (write-only on the server), and the local secrets file
//! `local.nbvars`.
//!
//! `local.nbvars` keeps NB Workflows' format, one `KEY=VALUE` per line split at the first `=`,
//! with three differences, on purpose: blank lines and `#` comments are allowed, a malformed
//! line is reported with its number (the original crashed), and only one pair of quotes
//! around the whole value is removed (the original removed every `"` in the value).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nbw_core::names::check_secret_name;
use nbw_core::project;

use super::credentials::Session;
use super::output::{self, Format};
use super::{CliError, CliResult, OK, ProjectArg, ServerArg, exit_codes};

/// Reads `local.nbvars`-style `KEY=VALUE` lines; every malformed line is reported with its
/// number.
pub fn parse_nbvars(text: &str) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            problems.push(format!("line {number}: {line:?} is not KEY=VALUE"));
            continue;
        };
        let key = key.trim();
        if check_secret_name(key).is_err() {
            problems.push(format!(
                "line {number}: {key:?} is not a valid name (letters, digits and '_', not starting with a digit)"
            ));
            continue;
        }
        let value = unquote(value.trim());
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => pairs.push((key.to_owned(), value)),
        }
    }
    if problems.is_empty() { Ok(pairs) } else { Err(problems) }
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return value[1..value.len() - 1].to_owned();
        }
    }
    value.to_owned()
}

/// Reads a `local.nbvars` file.
pub fn read_nbvars(path: &Path) -> CliResult<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::bad_input(format!("cannot read the secrets file {}: {e}", path.display())))?;
    parse_nbvars(&text).map_err(|problems| {
        CliError::bad_input(format!(
            "{} has lines that are not KEY=VALUE:\n  {}",
            path.display(),
            problems.join("\n  ")
        ))
    })
}

/// Manage the project's secrets: environment variables of its runs, stored encrypted on the
/// server and never shown again.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw secrets list
  nbw secrets set DB_PASSWORD              # asks for the value (hidden)
  printf %s \"$TOKEN\" | nbw secrets set API_TOKEN
  nbw secrets push                         # every KEY=VALUE of local.nbvars
  nbw secrets rm OLD_TOKEN

", exit_codes!()))]
pub struct SecretsArgs {
    #[command(subcommand)]
    command: SecretsCommand,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(Subcommand, Debug)]
enum SecretsCommand {
    /// The secrets' names and when they changed (values are never shown).
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Set a secret; the value is read from standard input, or asked for (hidden) on a terminal.
    Set {
        /// The name (an environment variable name).
        name: String,
        /// The value. Prefer standard input: a value here stays in the shell's history.
        value: Option<String>,
    },
    /// Delete a secret.
    #[command(visible_alias = "delete")]
    Rm {
        /// The name.
        name: String,
    },
    /// Set every secret of a KEY=VALUE file (default: local.nbvars next to nbw.yaml).
    Push {
        /// The file.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
}

pub async fn secrets(args: SecretsArgs) -> CliResult {
    let name = args.project.name()?;
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    match args.command {
        SecretsCommand::List { format } => {
            let list =
                client.secrets(&name).await.map_err(|e| CliError::from_client(e, "listing secrets"))?;
            output::print(format, &list, || {
                if list.is_empty() {
                    return format!("Project {name} has no secrets.");
                }
                let mut table = output::table(["name", "updated"]);
                for secret in &list {
                    table.add_row([secret.name.clone(), output::ago(secret.updated_at)]);
                }
                table.to_string()
            });
        }
        SecretsCommand::Set { name: key, value } => {
            if check_secret_name(&key).is_err() {
                return Err(CliError::bad_input(format!(
                    "{key:?} is not a valid secret name: letters, digits and '_', not starting with a digit"
                )));
            }
            let value = match value {
                Some(value) => value,
                None if std::io::stdin().is_terminal() => {
                    rpassword::prompt_password(format!("Value of {key}: "))
                        .map_err(|e| CliError::bad_input(format!("reading the value: {e}")))?
                }
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| CliError::bad_input(format!("reading standard input: {e}")))?;
                    text.strip_suffix('\n')
                        .map(|t| t.strip_suffix('\r').unwrap_or(t))
                        .unwrap_or(&text)
                        .to_owned()
                }
            };
            client
                .set_secret(&name, &key, &value)
                .await
                .map_err(|e| CliError::from_client(e, &format!("setting secret {key}")))?;
            eprintln!("{} secret {key} set in project {name}", output::ok_mark().for_stderr());
        }
        SecretsCommand::Rm { name: key } => {
            client
                .delete_secret(&name, &key)
                .await
                .map_err(|e| CliError::from_client(e, &format!("deleting secret {key}")))?;
            eprintln!("{} secret {key} deleted from project {name}", output::ok_mark().for_stderr());
        }
        SecretsCommand::Push { from } => {
            let path = match from {
                Some(path) => path,
                None => {
                    let file = args.project.find_file()?;
                    file.parent().unwrap_or(Path::new(".")).join(project::SECRETS_FILE)
                }
            };
            let pairs = read_nbvars(&path)?;
            for (key, value) in &pairs {
                client
                    .set_secret(&name, key, value)
                    .await
                    .map_err(|e| CliError::from_client(e, &format!("setting secret {key}")))?;
            }
            eprintln!(
                "{} {} secrets set in project {name} from {}",
                output::ok_mark().for_stderr(),
                pairs.len(),
                path.display()
            );
        }
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nbvars_allow_comments_and_report_bad_lines_by_number() {
        let pairs = parse_nbvars("# db\nA=1\n\nB=\"two words\"\nexport C=x=y\nA=3\n").unwrap();
        assert_eq!(
            pairs,
            vec![("A".into(), "3".into()), ("B".into(), "two words".into()), ("C".into(), "x=y".into())]
        );
        let problems = parse_nbvars("A=1\noops\n1B=2\n").unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("line 2:"), "{problems:?}");
        assert!(problems[1].starts_with("line 3:"), "{problems:?}");
    }
}
