//! heartbeat-monitor: finds the silent failures of a small ops team and says so loudly.
//!
//! `run` is the whole program; `main.rs` only hands it the arguments and the environment, so
//! tests and the demo can call it with an environment of their own.

pub mod alerting;
pub mod api;
pub mod app;
pub mod checks;
pub mod cli;
pub mod cloudflare;
pub mod config;
pub mod db;
pub mod env;
pub mod github;
pub mod heroku;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod ping;
pub mod redact;
pub mod report;
pub mod result;
pub mod runner;
pub mod silence;
pub mod state;
pub mod time;
pub mod untrusted;

pub use app::run;
pub use env::Env;
