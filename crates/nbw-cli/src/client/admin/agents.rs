//! `nbw admin agent`: register an agent (its token is printed once), list agents (online or
//! not, version, labels, last seen), revoke one (its token stops working).

use clap::Subcommand;
use nbw_client::UserClient;
use nbw_core::api::{Agent, RegisterAgent};

use crate::client::output::{self, Format};
use crate::client::{BAD_INPUT, CliError, CliResult, OK};

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Register an agent and print its token, once: the server keeps only a hash of it.
    Register {
        /// A name for people (the agent is also known by its id).
        name: String,
        /// Labels, `k=v,k=v`: the agent runs only executions whose labels it has (`nbw agent
        /// --labels` replaces them when it starts).
        #[arg(long, value_delimiter = ',', value_parser = crate::agent::parse_label)]
        labels: Vec<(String, String)>,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Every agent: online or not, version, labels, last seen; revoked ones too.
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Revoke an agent: its token stops working; its running executions are retried elsewhere
    /// as their workflow allows.
    Revoke {
        /// The agent's id, or its name when one agent (not revoked) has it.
        agent: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn run(client: &UserClient, server: &str, command: AgentCommand) -> CliResult {
    match command {
        AgentCommand::Register { name, labels, format } => {
            let input = RegisterAgent { name: name.clone(), labels: labels.into_iter().collect() };
            let created = client
                .register_agent(&input)
                .await
                .map_err(|e| CliError::from_client(e, &format!("registering agent {name}")))?;
            // The token alone on standard output, so `$(nbw admin agent register ...)` keeps it.
            output::print(format, &created, || {
                eprintln!(
                    "{} agent {name} registered (id {}). Its token, shown only this once:",
                    output::ok_mark().for_stderr(),
                    created.agent.id
                );
                eprintln!("Start it with: NBW_AGENT_TOKEN=<token> nbw agent --server {server}");
                created.token.clone()
            });
        }
        AgentCommand::List { format } => {
            let agents = client.agents().await.map_err(|e| CliError::from_client(e, "listing agents"))?;
            output::print(format, &agents, || agents_table(&agents));
        }
        AgentCommand::Revoke { agent, format } => {
            let agents = client.agents().await.map_err(|e| CliError::from_client(e, "listing agents"))?;
            let found = find(&agents, &agent)?;
            client
                .revoke_agent(&found.id)
                .await
                .map_err(|e| CliError::from_client(e, &format!("revoking agent {agent}")))?;
            let revoked = Agent { revoked: true, online: false, ..found.clone() };
            output::print(format, &revoked, || {
                format!(
                    "{} agent {} ({}) revoked: its token no longer works",
                    output::ok_mark(),
                    found.name,
                    found.id
                )
            });
        }
    }
    Ok(OK)
}

/// The agent with id `wanted`, else the one agent not revoked named `wanted`.
fn find<'a>(agents: &'a [Agent], wanted: &str) -> CliResult<&'a Agent> {
    if let Some(agent) = agents.iter().find(|a| a.id == wanted) {
        return Ok(agent);
    }
    let named: Vec<&Agent> = agents.iter().filter(|a| a.name == wanted && !a.revoked).collect();
    match named.as_slice() {
        [one] => Ok(one),
        [] => Err(CliError::new(
            BAD_INPUT,
            format!("no agent has the id or name {wanted:?}: see `nbw admin agent list`"),
        )),
        many => Err(CliError::new(
            BAD_INPUT,
            format!(
                "{} agents are named {wanted:?}: revoke one by its id ({})",
                many.len(),
                many.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn agents_table(agents: &[Agent]) -> String {
    if agents.is_empty() {
        return "No agents yet: register one with `nbw admin agent register NAME`.".into();
    }
    let mut table = output::table(["name", "id", "state", "version", "labels", "last seen"]);
    for agent in agents {
        let state = match (agent.revoked, agent.online) {
            (true, _) => "revoked",
            (false, true) => "online",
            (false, false) => "offline",
        };
        let labels = agent.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        table.add_row([
            agent.name.clone(),
            agent.id.clone(),
            state.to_owned(),
            agent.version.clone().unwrap_or_else(|| "-".into()),
            labels,
            agent.last_heartbeat_at.map_or_else(|| "never".into(), output::ago),
        ]);
    }
    table.to_string()
}
