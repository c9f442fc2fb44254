//! `dnslab trace`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct TraceArgs {}

pub fn run(_args: TraceArgs) -> ExitCode {
    eprintln!("dnslab trace: not implemented yet");
    ExitCode::FAILURE
}
