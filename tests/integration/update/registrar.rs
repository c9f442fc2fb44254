//! The registrar's story through `dnslab up`, as a user follows what it
//! prints: newstartup.com. is served but not delegated; the printed
//! nsupdate script, run with the printed key file, registers it with
//! com.; the walk then takes the new referral.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::run_script;
use crate::common::{
    dnslab, on_a_random_port, random_port, require, section_without_ttl, udp, udp_message, Ask,
    Process, ScratchDir,
};
use crate::up::{up_command, ANY_WEB_PORT};

/// What `dnslab up` printed so far, read on a thread of its own.
struct Printed(Arc<Mutex<String>>);

impl Printed {
    fn read_from(up: &mut Process) -> Printed {
        let mut stdout = up.child().stdout.take().expect("piped stdout");
        let text = Arc::new(Mutex::new(String::new()));
        let into = Arc::clone(&text);
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Printed(text)
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    /// Waits up to 10 s until the text contains `needle`.
    fn wait_for(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.text().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// The lines after `start` (trimmed) up to the line `end`.
fn block(text: &str, start: &str, end: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .skip_while(|line| !line.starts_with(start))
        .skip(1)
        .take_while(|line| *line != end)
        .map(str::to_string)
        .collect()
}

/// The story, as the README tells it: before the registration the
/// resolver answers NXDOMAIN for www.newstartup.com; the registrar runs
/// the nsupdate script `dnslab up` printed, with the key file it wrote,
/// which adds the NS and glue records to com. on a.gtld-servers.lab
/// (b.gtld follows by IXFR); after the printed `dnslab ctl flush-zone`,
/// the resolver finds the name, and the walk it printed shows com.'s
/// new referral to dns.newstartup.com.
#[test]
fn a_registrar_registers_newstartup_com_by_update_in_dnslab_up() {
    let Some(nsupdate) = require("nsupdate", "bind9-dnsutils") else {
        return;
    };
    let www = "www.newstartup.com.";
    // up's log goes to a file (a pipe nobody reads would fill and stop it).
    let logs = ScratchDir::new("registrar-up");
    let (port, resolver, mut up, printed) = on_a_random_port("dnslab up", |port| {
        let resolver = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), random_port());
        let log = logs.join(format!("up-{port}.log"));
        let stderr = std::fs::File::create(&log).expect("up's log");
        let mut up = Process::spawn(
            up_command(port, resolver, ANY_WEB_PORT)
                .stdout(Stdio::piped())
                .stderr(stderr),
        );
        let printed = Printed::read_from(&mut up);
        let ready = up.poll(Duration::from_secs(20), || {
            let query = Ask::new(www, RecordType::A).rd().to_message();
            udp_message(resolver, &query, Duration::from_millis(500))
        });
        if ready.is_none() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            // The port was taken: try another; anything else is a failure.
            assert!(log.contains("in use"), "dnslab up did not answer: {log}");
        }
        ready.map(|_| (port, resolver, up, printed))
    });
    assert!(
        printed.wait_for("Ctrl-C stops every server."),
        "{}",
        printed.text()
    );
    let before = udp(resolver, &Ask::new(www, RecordType::A).rd());
    assert_eq!(before.metadata.response_code, ResponseCode::NXDomain);

    // The script exactly as printed, with the key file it names.
    let text = printed.text();
    let command = text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("nsupdate -k "))
        .unwrap_or_else(|| panic!("no nsupdate line in:\n{text}"));
    let key_file = command
        .trim_start_matches("nsupdate -k ")
        .trim_end_matches(" <<'EOF'");
    let script = block(&text, "nsupdate -k ", "EOF").join("\n") + "\n";
    assert_eq!(
        script,
        format!(
            "server 127.0.0.4 {port}\nzone com.\n\
             update add newstartup.com. 86400 NS dns.newstartup.com.\n\
             update add dns.newstartup.com. 86400 A 127.0.0.16\nsend\n"
        )
    );
    let mut run = Command::new(nsupdate);
    run.args(["-k", key_file]);
    let ran = run_script(run, &script);
    assert!(ran.ok, "{}", ran.output);

    let flush = text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("dnslab ctl") && line.contains("flush-zone"))
        .unwrap_or_else(|| panic!("no flush-zone line in:\n{text}"));
    let args: Vec<&str> = flush
        .split('#')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .collect();
    let flushed = dnslab().args(&args).output().expect("dnslab ctl");
    assert!(flushed.status.success(), "{flushed:?}");
    // b.gtld-servers.lab follows by NOTIFY and IXFR; either may be asked.
    let b_gtld = SocketAddr::new(IpAddr::from([127, 0, 0, 5]), port);
    let deadline = Instant::now() + Duration::from_secs(10);
    let delegated = || {
        udp(b_gtld, &Ask::new(www, RecordType::A))
            .metadata
            .response_code
            == ResponseCode::NoError
    };
    while !delegated() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = udp(resolver, &Ask::new(www, RecordType::A).rd());
    assert_eq!(after.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        section_without_ttl(&after.answers),
        [format!("{www} A 192.0.2.160")]
    );

    up.signal("-TERM");
    assert!(up.wait_exit(Duration::from_secs(10)).is_some(), "up stops");
    let walk = printed.text();
    assert!(
        walk.contains("referral to newstartup.com. (dns.newstartup.com.)"),
        "the walk shows com.'s new referral:\n{walk}"
    );
}
