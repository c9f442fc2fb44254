//! `dnslab check`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs) -> ExitCode {
    eprintln!("dnslab check: not implemented yet");
    ExitCode::FAILURE
}
