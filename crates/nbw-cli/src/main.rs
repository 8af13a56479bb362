//! `nbw`: the one binary of NB Workflows. It parses flags, wires the library crates together and
//! prints; the work itself lives in the library crates (`nbw-engine`, `nbw-server`,
//! `nbw-agent`, `nbw-client`). What is the CLI's alone stays here: the flags, the output, and
//! the exit codes (`exit.rs`).

mod agent;
mod client;
mod exit;
mod inspect;
mod location;
mod papermill;
mod params;
mod progress;
mod run;
mod server;
mod standalone;

use clap::{Parser, Subcommand};

/// Run parameterized Jupyter notebooks as production workflows.
///
/// A notebook is a function: its cell tagged `parameters` holds the defaults, a run overrides
/// them. Run a notebook here (`nbw run`), or push a project to a server (`nbw server`, or
/// `nbw standalone` for one process with an agent) and run it on demand or on a schedule (cron
/// with a time zone, or an interval) on agents spread over many machines (`nbw agent`); get
/// back the executed notebook, live events, history, retries, timeouts that really stop
/// things, and Slack, Discord or webhook notifications. One binary; only the kernel is Python.
#[derive(Parser)]
#[command(name = "nbw", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(Box<run::RunArgs>),
    Inspect(inspect::InspectArgs),
    Server(server::ServerArgs),
    Agent(agent::AgentArgs),
    Standalone(standalone::StandaloneArgs),
    Init(client::init::InitArgs),
    Login(client::login::LoginArgs),
    Logout(client::login::LogoutArgs),
    Push(Box<client::push::PushArgs>),
    Wf(client::workflows::WfArgs),
    Pipe(client::pipelines::PipeArgs),
    Exec(Box<client::executions::ExecArgs>),
    Cancel(client::executions::CancelArgs),
    History(client::executions::HistoryArgs),
    Logs(client::executions::LogsArgs),
    Outputs(client::executions::OutputsArgs),
    Secrets(client::secrets::SecretsArgs),
    Runtime(client::runtime::RuntimeArgs),
    Import(client::import::ImportArgs),
    Project(client::projects::ProjectArgs),
    Members(client::members::MembersArgs),
    Admin(client::admin::AdminArgs),
    Completions(client::CompletionsArgs),
}

fn main() {
    init_logs();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run::main(*args),
        Command::Inspect(args) => inspect::main(args),
        Command::Server(args) => server::main(args),
        Command::Agent(args) => agent::main(args),
        Command::Standalone(args) => standalone::main(args),
        Command::Init(args) => client::finish(client::init::init(args)),
        Command::Login(args) => client::block_on(client::login::login(args)),
        Command::Logout(args) => client::block_on(client::login::logout(args)),
        Command::Push(args) => client::block_on(client::push::push(*args)),
        Command::Wf(args) => client::block_on(client::workflows::wf(args)),
        Command::Pipe(args) => client::block_on(client::pipelines::pipe(args)),
        Command::Exec(args) => client::executions::exec_main(*args),
        Command::Cancel(args) => client::block_on(client::executions::cancel(args)),
        Command::History(args) => client::block_on(client::executions::history(args)),
        Command::Logs(args) => client::block_on(client::executions::logs(args)),
        Command::Outputs(args) => client::block_on(client::executions::outputs(args)),
        Command::Secrets(args) => client::block_on(client::secrets::secrets(args)),
        Command::Runtime(args) => client::block_on(client::runtime::runtime(args)),
        Command::Import(args) => client::finish(client::import::import(args)),
        Command::Project(args) => client::block_on(client::projects::project(args)),
        Command::Members(args) => client::block_on(client::members::members(args)),
        Command::Admin(args) => client::block_on(client::admin::admin(args)),
        Command::Completions(args) => client::completions::<Cli>(args),
    };
    std::process::exit(code);
}

/// Logs go to stderr, filtered by `NBW_LOG` (`LEVEL,TARGET=LEVEL,...`, default `info,sqlx=warn`);
/// `NBW_LOG_FORMAT=json` writes one JSON object per line, for log collectors. A `Targets` filter,
/// not an `EnvFilter`: the latter compiles its directives with `regex` at every start (`nbw
/// --version` took 6.4 MiB resident with it, 5.6 without), for span and field filters nobody
/// here needs.
fn init_logs() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;

    let default = || Targets::new().with_default(LevelFilter::INFO).with_target("sqlx", LevelFilter::WARN);
    let mut invalid = None;
    let targets = match std::env::var("NBW_LOG") {
        Ok(value) => value.parse::<Targets>().unwrap_or_else(|e| {
            invalid =
                Some(format!("NBW_LOG={value:?} is not LEVEL,TARGET=LEVEL,... ({e}); using the default"));
            default()
        }),
        Err(_) => default(),
    };
    // zeromq logs a warning for every reconnect attempt while a kernel boots: expected noise.
    let targets = targets.with_target("zeromq", LevelFilter::ERROR);
    // object_store logs each retry of a credential or request at info: the final error says it.
    let targets = targets.with_target("object_store", LevelFilter::WARN);
    let json = std::env::var("NBW_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let layer = if json { layer.json().boxed() } else { layer.boxed() };
    tracing_subscriber::registry().with(layer.with_filter(targets)).init();
    if let Some(message) = invalid {
        tracing::warn!("{message}");
    }
}
