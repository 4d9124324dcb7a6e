//! Any workflow file: read within its bounds, never a panic, never a blow-up.
#![no_main]

use heartbeat_monitor::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = fuzzing::workflow_file(text);
});
