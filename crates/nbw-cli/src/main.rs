//! `nbw`: the one binary of NB Workflows. It parses flags, wires the library crates together and
//! prints; the work itself lives in `nbw-engine` (and, later, the server and agent crates).

mod agent;
mod client;
mod exit;
mod inspect;
mod progress;
mod run;
mod server;
mod standalone;

use clap::{Parser, Subcommand};

/// Run parameterized Jupyter notebooks as production workflows.
#[derive(Parser)]
#[command(name = "nbw", version, about, long_about = None)]
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
    Exec(Box<client::executions::ExecArgs>),
    Cancel(client::executions::CancelArgs),
    History(client::executions::HistoryArgs),
    Logs(client::executions::LogsArgs),
    Outputs(client::executions::OutputsArgs),
    Secrets(client::secrets::SecretsArgs),
    Runtime(client::runtime::RuntimeArgs),
    Import(client::import::ImportArgs),
    Completions(client::CompletionsArgs),
}

fn main() {
    // zeromq logs a warning for every reconnect attempt while a kernel boots: expected noise.
    let filter = tracing_subscriber::EnvFilter::try_from_env("NBW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        .add_directive("zeromq=error".parse().expect("a valid directive"));
    // NBW_LOG_FORMAT=json: one JSON object per line, for log collectors.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("NBW_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
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
        Command::Exec(args) => client::executions::exec_main(*args),
        Command::Cancel(args) => client::block_on(client::executions::cancel(args)),
        Command::History(args) => client::block_on(client::executions::history(args)),
        Command::Logs(args) => client::block_on(client::executions::logs(args)),
        Command::Outputs(args) => client::block_on(client::executions::outputs(args)),
        Command::Secrets(args) => client::block_on(client::secrets::secrets(args)),
        Command::Runtime(args) => client::block_on(client::runtime::runtime(args)),
        Command::Import(args) => client::finish(client::import::import(args)),
        Command::Completions(args) => client::completions::<Cli>(args),
    };
    std::process::exit(code);
}
