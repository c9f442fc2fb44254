//! `dnslab trace`: one resolution from the root with an empty cache,
//! printed step by step like `dig +trace`, or as JSON lines.

use std::process::ExitCode;
use std::str::FromStr;

use dnslab_resolver::events::{rcode_name, Kind, Role};
use dnslab_resolver::{trace, Trace};
use dnslab_wire::absolute_name;
use hickory_proto::rr::{Name, RecordType};

use super::resolver::UpstreamArgs;

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The name to resolve.
    name: String,
    /// The record type (A, AAAA, MX, ...).
    #[arg(default_value = "A")]
    rtype: String,
    #[command(flatten)]
    upstream: UpstreamArgs,
    /// One JSON object per line: each message of the walk, as the live
    /// page's events (`/api/events`), the answer last.
    #[arg(long)]
    json: bool,
}

pub fn run(args: TraceArgs) -> ExitCode {
    // ASCII names with master-file escapes, or an internationalised name
    // (IDNA, as dig takes it).
    let name = if args.name.is_ascii() {
        absolute_name(&args.name)
    } else {
        Name::from_utf8(&args.name)
            .map(|mut name| {
                name.set_fqdn(true);
                name
            })
            .map_err(|e| e.to_string())
    };
    let name = match name {
        Ok(name) => name,
        Err(e) => {
            eprintln!("dnslab trace: {:?} is not a domain name: {e}", args.name);
            return ExitCode::FAILURE;
        }
    };
    let rtype = match RecordType::from_str(&args.rtype.to_ascii_uppercase()) {
        Ok(rtype) => rtype,
        Err(_) => {
            eprintln!("dnslab trace: unknown record type {:?}", args.rtype);
            return ExitCode::FAILURE;
        }
    };
    let config = match args.upstream.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("dnslab trace: {e}");
            return ExitCode::FAILURE;
        }
    };
    super::block_on("trace", async move {
        let traced = trace(config, name.clone(), rtype).await;
        if args.json {
            print_json(&traced);
        } else {
            print_text(&name, rtype, &traced);
        }
        if traced.result.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

fn print_text(name: &Name, rtype: RecordType, traced: &Trace) {
    println!("; dnslab trace {name} {rtype}");
    for event in &traced.events {
        println!("{event}");
        // What the servers answered; the client's answer is printed below.
        if event.kind == Kind::Answer && event.to.role == Role::Resolver {
            for record in &event.records {
                println!("      {record}");
            }
        }
    }
    println!();
    match &traced.result {
        Ok(resolution) => {
            println!(";; status: {}", rcode_name(resolution.rcode));
            for record in resolution.answers.iter().chain(&resolution.authorities) {
                println!("{record}");
            }
        }
        Err(error) => println!(";; status: SERVFAIL ({error})"),
    }
    println!(";; {} queries sent", traced.queries);
}

/// One walk event per line, the schema of `/api/events`; the last one is
/// the answer (its `records` the answer and authority sections).
fn print_json(traced: &Trace) {
    for event in &traced.events {
        match serde_json::to_string(event) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("dnslab trace: cannot write an event as JSON: {e}"),
        }
    }
}
