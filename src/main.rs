//! The `keysweep` binary: parse arguments, run, map the outcome to an exit
//! code. Everything else lives in the library.

use clap::Parser;
use keysweep::app::{self, Exit};
use keysweep::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match app::run(cli.command) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            // A closed pipe (`keysweep scan | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(Exit::Clean as u8);
            }
            // An error may quote scanned data (a path, a ref, a report field).
            let medium = keysweep::term::Medium::from_env();
            eprintln!("{}", medium.clean_message(&format!("error: {err:#}")));
            ExitCode::from(Exit::Error as u8)
        }
    }
}
