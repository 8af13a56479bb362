//! The exit codes of `nbw`: the one table of them, documented in the README. A run's outcome
//! (`nbw run`, `nbw exec --local`), a server-side execution's final state (`nbw exec --watch`,
//! `nbw logs -f`) and a client command's failure all map here, so a code means one thing
//! whichever command ends with it. The engine and the server know nothing of them.

use nbw_core::api::{ExecutionState, PipelineRunState};
use nbw_engine::RunStatus;

/// Success.
pub const OK: i32 = 0;
/// The execution expired: it waited in the queue longer than its `max_queue`, never ran.
pub const EXPIRED: i32 = 13;
/// The run failed (a cell raised), or a service (`server`, `agent`, `standalone`) stopped on an
/// error. For an execution on an agent, also a dead kernel or an incomplete output: the server
/// records those as `failed`.
pub const FAILED: i32 = 1;
/// Bad input: a malformed notebook, parameter or project file, an unknown kernel, notebook or
/// execution, an unwritable output. It is also clap's code for a bad command line, so every "you
/// asked for something wrong" is 2.
pub const BAD_INPUT: i32 = 2;
/// The run (or one of its cells) timed out.
pub const TIMED_OUT: i32 = 3;
/// The kernel died, or could not start.
pub const KERNEL_DIED: i32 = 4;
/// The run ended but a cell's output may be incomplete.
pub const OUTPUT_INCOMPLETE: i32 = 5;
/// The run was cancelled (SIGINT / SIGTERM, or `nbw cancel`).
pub const CANCELLED: i32 = 6;
/// The execution was lost: its agent stopped answering.
pub const LOST: i32 = 7;
/// The server cannot be reached.
pub const UNREACHABLE: i32 = 8;
/// Not logged in, or the login expired.
pub const LOGIN: i32 = 9;
/// Refused by the server: no permission, a conflict, too many attempts.
pub const REFUSED: i32 = 10;
/// A question could not be asked (no terminal, no `--yes`), or was answered no.
pub const NOT_CONFIRMED: i32 = 11;
/// The server failed, or answered something unexpected.
pub const SERVER: i32 = 12;
/// Stopped following a run with Ctrl-C (the shell's code for SIGINT); the run goes on.
pub const INTERRUPTED: i32 = 130;

/// The exit code of a run of the engine here.
pub fn run_status(status: RunStatus) -> i32 {
    match status {
        RunStatus::Succeeded => OK,
        RunStatus::Failed => FAILED,
        RunStatus::TimedOut => TIMED_OUT,
        RunStatus::KernelDied => KERNEL_DIED,
        RunStatus::OutputIncomplete => OUTPUT_INCOMPLETE,
        RunStatus::Cancelled => CANCELLED,
    }
}

/// The exit code of an execution's state on the server (not final yet counts as success).
pub fn execution_state(state: ExecutionState) -> i32 {
    match state {
        ExecutionState::Succeeded | ExecutionState::Queued | ExecutionState::Running => OK,
        ExecutionState::Failed => FAILED,
        ExecutionState::TimedOut => TIMED_OUT,
        ExecutionState::Cancelled => CANCELLED,
        ExecutionState::Lost => LOST,
        ExecutionState::Expired => EXPIRED,
    }
}

/// The exit code of a pipeline run's state (not final yet counts as success), like an
/// execution's.
pub fn pipeline_state(state: PipelineRunState) -> i32 {
    match state {
        PipelineRunState::Succeeded | PipelineRunState::Queued | PipelineRunState::Running => OK,
        PipelineRunState::Failed => FAILED,
        PipelineRunState::TimedOut => TIMED_OUT,
        PipelineRunState::Cancelled => CANCELLED,
    }
}

/// The exit code of a service that ran until it stopped, printing its error if it failed.
pub fn service(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => OK,
        Err(e) => {
            eprintln!("error: {e:#}");
            FAILED
        }
    }
}

/// Prints a one-line error for bad input and returns its exit code.
pub fn bad_input(error: impl std::fmt::Display) -> i32 {
    eprintln!("error: {error}");
    BAD_INPUT
}

/// The exit codes of the client commands, shown in their `--help`.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0   success
  1   the execution failed (a cell raised, the kernel died, or its output is incomplete)
  2   bad input: command line, project file missing or invalid, local.nbvars, an unknown
      notebook, workflow or execution, a request the server refused as invalid
  3   the execution timed out
  6   the execution was cancelled
  7   the execution was lost (its agent stopped answering)
  8   the server cannot be reached
  9   not logged in, or the login expired: run `nbw login`
  10  refused: no permission in the project, a conflict, or too many attempts
  11  a question needed an answer: no terminal to ask on and no --yes (or the answer was no)
  12  the server failed, or answered something unexpected
  13  the execution expired: no agent claimed it within its max_queue"
    };
}
pub(crate) use exit_codes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_statuses_map_to_the_documented_codes() {
        assert_eq!(run_status(RunStatus::Succeeded), 0);
        assert_eq!(run_status(RunStatus::Failed), 1);
        assert_eq!(run_status(RunStatus::TimedOut), 3);
        assert_eq!(run_status(RunStatus::KernelDied), 4);
        assert_eq!(run_status(RunStatus::OutputIncomplete), 5);
        assert_eq!(run_status(RunStatus::Cancelled), 6);
    }

    #[test]
    fn states_map_to_exit_codes() {
        assert_eq!(execution_state(ExecutionState::Succeeded), 0);
        assert_eq!(execution_state(ExecutionState::Failed), 1);
        assert_eq!(execution_state(ExecutionState::TimedOut), 3);
        assert_eq!(execution_state(ExecutionState::Cancelled), 6);
        assert_eq!(execution_state(ExecutionState::Lost), 7);
        assert_eq!(execution_state(ExecutionState::Expired), 13);
        assert_eq!(pipeline_state(PipelineRunState::Succeeded), 0);
        assert_eq!(pipeline_state(PipelineRunState::Failed), 1);
        assert_eq!(pipeline_state(PipelineRunState::TimedOut), 3);
        assert_eq!(pipeline_state(PipelineRunState::Cancelled), 6);
    }

    #[test]
    fn the_help_lists_every_client_code() {
        for code in [
            OK,
            FAILED,
            BAD_INPUT,
            TIMED_OUT,
            CANCELLED,
            LOST,
            UNREACHABLE,
            LOGIN,
            REFUSED,
            NOT_CONFIRMED,
            SERVER,
        ] {
            assert!(exit_codes!().contains(&format!("\n  {code} ")), "{code} is not in the help");
        }
    }
}
