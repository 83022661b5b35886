#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    hardbase::app::run(hardbase::cli::Cli::parse())
}
