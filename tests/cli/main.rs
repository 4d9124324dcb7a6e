//! End-to-end: the compiled binary against loopback servers that answer like GitHub and
//! Postmark. Every run's result file is schema-checked and every output scanned for secrets
//! (see `support`).

// A test crate: the support helpers are `pub` for the test modules, and a panic is the report.
#![allow(unreachable_pub, clippy::unwrap_used)]

mod support;

mod action;
mod alerting;
mod channels;
mod config_vars;
mod conformance;
mod deploys;
mod discovery;
mod docs;
mod economy;
mod environments;
mod faults;
mod fixtures;
mod github_app;
mod github_reads;
mod hardening;
mod hardening_issues;
mod hardening_page;
mod hardening_secrets;
mod hardening_workflows;
mod healthy;
mod heroku;
mod issues;
mod matrix;
mod modes;
mod openapi;
mod promotions;
mod shards;
mod snapshots;
mod stale;
mod state_store;
mod status_page;
mod surfaces;
mod workflow_failures;

use std::time::Duration;

use fixtures::*;
use serde_json::Value;
use support::*;
