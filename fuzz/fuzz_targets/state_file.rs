//! Any state file.
#![no_main]

use heartbeat_monitor::untrusted;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = untrusted::state_file(text);
});
