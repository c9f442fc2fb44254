//! `dnslab auth`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct AuthArgs {}

pub fn run(_args: AuthArgs) -> ExitCode {
    eprintln!("dnslab auth: not implemented yet");
    ExitCode::FAILURE
}
