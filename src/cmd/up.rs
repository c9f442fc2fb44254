//! `dnslab up`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct UpArgs {}

pub fn run(_args: UpArgs) -> ExitCode {
    eprintln!("dnslab up: not implemented yet");
    ExitCode::FAILURE
}
