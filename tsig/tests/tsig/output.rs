//! What dig and kdig print, read back: the status, the header ID, and the
//! TSIG records (`;; TSIG PSEUDOSECTION:`, or each message's TSIG in a
//! transfer), both tools using the same presentation format.

/// One TSIG record as printed:
/// `NAME TTL ANY TSIG ALG TIME FUDGE MACSIZE [MAC] ORIGID ERROR OTHERLEN [OTHER]`.
#[derive(Debug, PartialEq, Eq)]
pub struct TsigLine {
    pub key: String,
    pub algorithm: String,
    pub time_signed: u64,
    pub fudge: u16,
    pub mac_size: usize,
    pub original_id: u16,
    pub error: String,
    pub other_len: usize,
    /// Other Data as the tool shows it: base64 for dig, the time in
    /// decimal for kdig's BADTIME.
    pub other: Option<String>,
}

/// Every TSIG record in the output, in order.
pub fn tsig_lines(output: &str) -> Vec<TsigLine> {
    output.lines().filter_map(parse_tsig).collect()
}

fn parse_tsig(line: &str) -> Option<TsigLine> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [key, _ttl, "ANY", "TSIG", algorithm, time, fudge, mac_size, rest @ ..] = &fields[..]
    else {
        return None;
    };
    let mac_size: usize = mac_size.parse().ok()?;
    // The MAC in base64, which dig splits into words of 56 characters.
    let mut base64_left = mac_size.div_ceil(3) * 4;
    let mut rest = rest;
    while base64_left > 0 {
        let (word, after) = rest.split_first()?;
        base64_left = base64_left.checked_sub(word.len())?;
        rest = after;
    }
    let [original_id, error, other_len, other @ ..] = rest else {
        return None;
    };
    Some(TsigLine {
        key: key.to_string(),
        algorithm: algorithm.to_string(),
        time_signed: time.parse().ok()?,
        fudge: fudge.parse().ok()?,
        mac_size,
        original_id: original_id.parse().ok()?,
        error: error.to_string(),
        other_len: other_len.parse().ok()?,
        other: other.first().map(|s| s.to_string()),
    })
}

/// The status of the header line: `NOERROR`, `NOTAUTH`, or kdig's
/// extended `BADSIG`, `BADKEY`, `BADTIME`.
pub fn status(output: &str) -> Option<String> {
    let after = output.split("status: ").nth(1)?;
    let end = after.find([',', ';'])?;
    Some(after[..end].to_string())
}

/// The ID of the header line (`id: 1234`).
pub fn header_id(output: &str) -> Option<u16> {
    let after = output.split("id: ").nth(1)?;
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The one TSIG record of a single-message answer, with its ID checked
/// against the header's: the reply's Original ID is the request's ID.
pub fn single_tsig(output: &str) -> TsigLine {
    let mut lines = tsig_lines(output);
    assert_eq!(lines.len(), 1, "one TSIG record:\n{output}");
    let line = lines.remove(0);
    assert_eq!(Some(line.original_id), header_id(output), "{output}");
    line
}
