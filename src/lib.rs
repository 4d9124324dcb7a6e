//! heartbeat-monitor: finds the silent failures of a small ops team and says so loudly.
//!
//! `run` is the whole program; `main.rs` only hands it the arguments and the environment, so
//! tests and the demo can call it with an environment of their own.

pub mod alerting;
pub mod checks;
pub mod clients;
pub mod config;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
#[cfg(test)]
mod layers;
pub mod model;
pub mod output;
pub mod redact;
pub mod run;
pub mod setup;
pub mod status;
pub mod util;

pub use config::env::Env;
pub use run::run;
