//! The binary: wiring only. Everything else lives in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    few_malloc_arenas();
    // One process-wide TLS provider, so no dependency can pick another (rustls panics when
    // it cannot tell which to use).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let env = heartbeat_monitor::Env::from_process();
    let color = std::io::stdout().is_terminal();
    let code = heartbeat_monitor::run(&args, &env, color);
    ExitCode::from(code)
}

/// glibc gives each thread that allocates its own arena (up to 8 per core) and keeps what
/// they grew: with 64 threads that mostly wait on the network, that was a fifth of the peak
/// RSS of a 2,000-workflow run for no speed (benches/fleet.rs). Two arenas serve them.
/// musl, which the release binaries use, has no per-thread arenas.
#[allow(
    unsafe_code,
    reason = "the one FFI call of the binary, to a libc tunable"
)]
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
