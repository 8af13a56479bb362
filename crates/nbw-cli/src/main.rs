//! `nbw`: the one binary of NB Workflows. It parses flags, wires the library crates together and
//! prints; the work itself lives in `nbw-engine` (and, later, the server and agent crates).

mod agent;
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
}

fn main() {
    // zeromq logs a warning for every reconnect attempt while a kernel boots: expected noise.
    let filter = tracing_subscriber::EnvFilter::try_from_env("NBW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        .add_directive("zeromq=error".parse().expect("a valid directive"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run::main(*args),
        Command::Inspect(args) => inspect::main(args),
        Command::Server(args) => server::main(args),
        Command::Agent(args) => agent::main(args),
        Command::Standalone(args) => standalone::main(args),
    };
    std::process::exit(code);
}
