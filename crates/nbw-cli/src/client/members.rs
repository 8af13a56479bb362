//! `nbw members`: who may do what in a project. Owners manage members and secrets, editors
//! push, change workflows and run things, viewers read; a non-member sees nothing of it.

use clap::{Args, Subcommand};
use nbw_client::UserClient;
use nbw_core::api::{Member, Role};

use super::credentials::Session;
use super::output::{self, Format};
use super::{BAD_INPUT, CliError, CliResult, OK, ProjectArg, REFUSED, ServerArg, exit_codes};

/// Add, list, change and remove a project's members (changes: owners only).
#[derive(Args, Debug)]
#[command(after_help = concat!("Roles: owner (members, secrets, everything), editor (push, workflows, runs),
viewer (read only).

Examples:
  nbw members list --project sales
  nbw members add alice --role editor          # the project of ./nbw.yaml
  nbw members set-role alice owner
  nbw members rm alice

", exit_codes!()))]
pub struct MembersArgs {
    #[command(subcommand)]
    command: MembersCommand,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

/// A role on the command line.
fn role_parser() -> impl clap::builder::TypedValueParser<Value = Role> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["viewer", "editor", "owner"])
        .map(|name| Role::parse(&name).expect("one of the possible values"))
}

#[derive(Subcommand, Debug)]
enum MembersCommand {
    /// Add a user to the project with a role.
    Add {
        /// The user's login name.
        username: String,
        /// Their role.
        #[arg(long, value_parser = role_parser(), default_value = "viewer")]
        role: Role,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// The project's members and their roles.
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Change a member's role (a project keeps at least one owner).
    SetRole {
        /// The member's login name.
        username: String,
        /// The new role.
        #[arg(value_parser = role_parser())]
        role: Role,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Remove a member (a project keeps at least one owner).
    #[command(visible_alias = "delete")]
    Rm {
        /// The member's login name.
        username: String,
    },
}

pub async fn members(args: MembersArgs) -> CliResult {
    let project = args.project.name()?;
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    match args.command {
        MembersCommand::Add { username, role, format } => {
            if let Some(member) = find(&client, &project, &username).await? {
                return Err(CliError::new(
                    REFUSED,
                    format!(
                        "{username} is a member of {project} already ({}); change it with `nbw members set-role {username} {}`",
                        member.role.as_str(),
                        role.as_str()
                    ),
                ));
            }
            set(&client, &project, &username, role, format).await?;
        }
        MembersCommand::List { format } => {
            let members = list(&client, &project).await?;
            output::print(format, &members, || members_table(&members));
        }
        MembersCommand::SetRole { username, role, format } => {
            if find(&client, &project, &username).await?.is_none() {
                return Err(CliError::new(
                    BAD_INPUT,
                    format!(
                        "{username} is not a member of {project}: add them with `nbw members add {username} --role {}`",
                        role.as_str()
                    ),
                ));
            }
            set(&client, &project, &username, role, format).await?;
        }
        MembersCommand::Rm { username } => {
            client
                .remove_member(&project, &username)
                .await
                .map_err(|e| CliError::from_client(e, &format!("removing {username} from {project}")))?;
            eprintln!("{} {username} is no longer a member of {project}", output::ok_mark().for_stderr());
        }
    }
    Ok(OK)
}

async fn list(client: &UserClient, project: &str) -> CliResult<Vec<Member>> {
    client
        .members(project)
        .await
        .map_err(|e| CliError::from_client(e, &format!("listing the members of {project}")))
}

async fn find(client: &UserClient, project: &str, username: &str) -> CliResult<Option<Member>> {
    Ok(list(client, project).await?.into_iter().find(|m| m.username == username))
}

async fn set(
    client: &UserClient,
    project: &str,
    username: &str,
    role: Role,
    format: Format,
) -> CliResult<()> {
    let member = client.set_member(project, username, role).await.map_err(|e| {
        CliError::from_client(e, &format!("giving {username} the role {} in {project}", role.as_str()))
    })?;
    output::print(format, &member, || {
        format!("{} {username} is {} of {project}", output::ok_mark(), article(role))
    });
    Ok(())
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner",
        Role::Editor => "an editor",
        Role::Viewer => "a viewer",
    }
}

fn members_table(members: &[Member]) -> String {
    let mut table = output::table(["username", "role"]);
    for member in members {
        table.add_row([member.username.clone(), member.role.as_str().to_owned()]);
    }
    table.to_string()
}
