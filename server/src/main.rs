//! `pengwang-server`: the command line around the library. See `cli.rs` for the commands.

use clap::Parser;
use pengwang_server::cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
