//! `dnslab trace`: one resolution from the root with an empty cache,
//! printed step by step like `dig +trace`, or as JSON lines.

use std::process::ExitCode;
use std::str::FromStr;

use dnslab_resolver::{trace, Step, StepOutcome, Trace};
use dnslab_wire::absolute_name;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use serde_json::json;

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
    /// One JSON object per line: each step, then the result.
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
    for step in &traced.steps {
        println!("{step}");
        if let StepOutcome::Answer { records } = &step.outcome {
            for record in records {
                println!("{}{record}", "  ".repeat(step.depth as usize + 1));
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

fn step_json(step: &Step) -> serde_json::Value {
    let mut value = json!({
        "server_name": step.server_name.to_string(),
        "server": step.server.to_string(),
        "qname": step.qname.to_string(),
        "qtype": step.qtype.to_string(),
        "zone": step.zone.to_string(),
        "kind": step.outcome.kind(),
        "detail": step.outcome.to_string(),
        "ms": step.elapsed.as_secs_f64() * 1000.0,
        "tcp": step.via_tcp,
        "depth": step.depth,
    });
    match &step.outcome {
        StepOutcome::Referral { zone, servers } => {
            value["referral_zone"] = json!(zone.to_string());
            value["servers"] = json!(servers.iter().map(Name::to_string).collect::<Vec<_>>());
        }
        StepOutcome::Answer { records } => {
            value["records"] = json!(records.iter().map(ToString::to_string).collect::<Vec<_>>());
        }
        StepOutcome::Cname { target } => value["target"] = json!(target.to_string()),
        _ => {}
    }
    value
}

fn print_json(traced: &Trace) {
    for step in &traced.steps {
        println!("{}", step_json(step));
    }
    let result = match &traced.result {
        Ok(resolution) => json!({
            "result": rcode_name(resolution.rcode),
            "answers": resolution.answers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "authorities": resolution.authorities.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "queries": traced.queries,
        }),
        Err(error) => {
            json!({ "result": "SERVFAIL", "error": error.to_string(), "queries": traced.queries })
        }
    };
    println!("{result}");
}

/// The rcode as dig prints it (NOERROR, NXDOMAIN, SERVFAIL).
fn rcode_name(rcode: ResponseCode) -> String {
    format!("{rcode:?}").to_uppercase()
}
