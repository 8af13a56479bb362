//! The exit codes of `nbw`, one per way a command can end, documented in the README.
//!
//! A run's own outcome maps through `nbw_engine::RunStatus::exit_code` (0 success, 1 a cell
//! raised, 3 timeout, 4 kernel died, 5 output incomplete, 6 cancelled); the codes below are the
//! ones that happen before or around a run.

/// Bad input: a malformed notebook or parameter, an unknown kernel, an unwritable output. It is
/// also clap's code for a bad command line, so every "you asked for something wrong" is 2.
pub const BAD_INPUT: i32 = 2;

/// Prints a one-line error for bad input and returns its exit code.
pub fn bad_input(error: impl std::fmt::Display) -> i32 {
    eprintln!("error: {error}");
    BAD_INPUT
}
