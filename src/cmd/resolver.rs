//! `dnslab resolver`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ResolverArgs {}

pub fn run(_args: ResolverArgs) -> ExitCode {
    eprintln!("dnslab resolver: not implemented yet");
    ExitCode::FAILURE
}
