//! The binary: wiring only. Everything else lives in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    // One process-wide TLS provider, so no dependency can pick another (rustls panics when
    // it cannot tell which to use).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let env = heartbeat_monitor::Env::from_process();
    let color = std::io::stdout().is_terminal();
    let code = heartbeat_monitor::run(&args, &env, color);
    ExitCode::from(code)
}
