//! Any configuration file.
#![no_main]

use heartbeat_monitor::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = fuzzing::config_file(text);
});
