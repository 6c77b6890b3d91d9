//! The pengwang-server command line, built inside the e2e crate so crash tests can run the real
//! server as a separate process (`CARGO_BIN_EXE_pengwang-test-server`) and kill it.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match pengwang_server::cli::run(pengwang_server::cli::Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
