//! `nbw project`: create, list and delete projects on the server. Pushing (`nbw push`) creates
//! a project too; this is for setting one up before anyone pushes, e.g. to add members first.

use clap::{Args, Subcommand};
use nbw_core::api::Project;

use super::credentials::Session;
use super::output::{self, Format};
use super::{CliError, CliResult, OK, ServerArg, confirm, exit_codes};

/// Create, list and delete projects.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw project create sales --description \"Sales reports\"
  nbw project list -o json
  nbw project rm sales          # asks first; --yes to skip the question (needed without a terminal)

", exit_codes!()))]
pub struct ProjectArgs {
    #[command(subcommand)]
    command: ProjectCommand,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(Subcommand, Debug)]
enum ProjectCommand {
    /// Create a project; you become its owner.
    Create {
        /// Name: 1 to 64 of a-z0-9_-, starting with a letter or digit.
        name: String,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Your projects, with your role in each.
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Delete a project and everything in it: workflows, bundles, secrets, history (owners
    /// only).
    #[command(visible_alias = "delete")]
    Rm {
        /// The project's name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        yes: bool,
    },
}

pub async fn project(args: ProjectArgs) -> CliResult {
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    match args.command {
        ProjectCommand::Create { name, description, format } => {
            nbw_core::names::check_project_name(&name)?;
            let project = client
                .create_project(&name, &description)
                .await
                .map_err(|e| CliError::from_client(e, &format!("creating project {name}")))?;
            output::print(format, &project, || {
                format!("{} project {name} created; you own it", output::ok_mark())
            });
        }
        ProjectCommand::List { format } => {
            let projects =
                client.projects().await.map_err(|e| CliError::from_client(e, "listing projects"))?;
            output::print(format, &projects, || projects_table(&projects));
        }
        ProjectCommand::Rm { name, yes } => {
            // Asked before anything is sent: a project that does not exist is said by the server.
            if !yes {
                confirm(
                    &format!(
                        "Delete project {name} on {} with its workflows, bundles, secrets and history?",
                        session.server
                    ),
                    "--yes",
                )?;
            }
            client
                .delete_project(&name)
                .await
                .map_err(|e| CliError::from_client(e, &format!("deleting project {name}")))?;
            eprintln!("{} project {name} deleted", output::ok_mark().for_stderr());
        }
    }
    Ok(OK)
}

fn projects_table(projects: &[Project]) -> String {
    if projects.is_empty() {
        return "You are a member of no project yet: `nbw project create NAME`, or `nbw push`.".into();
    }
    let mut table = output::table(["name", "role", "description", "created"]);
    for project in projects {
        table.add_row([
            project.name.clone(),
            project.role.as_str().to_owned(),
            project.description.clone(),
            output::ago(project.created_at),
        ]);
    }
    table.to_string()
}
