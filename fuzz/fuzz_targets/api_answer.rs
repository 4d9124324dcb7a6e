//! Any API answer: byte 0 picks the reader, bytes 1–2 the status, then header lines
//! (`name: value`) up to a blank line, then the body.
#![no_main]

use heartbeat_monitor::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let reader = data[0];
    let status = 100 + u16::from_be_bytes([data[1], data[2]]) % 500;
    let rest = &data[3..];
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&rest[..0], rest),
    };
    let headers: Vec<(String, String)> = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let _ = fuzzing::api_answer(reader, status, &headers, body);
});
