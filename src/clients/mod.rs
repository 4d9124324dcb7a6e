//! Thin clients of the outside world: one HTTP layer, the error words every API shares, and
//! one module per API (GitHub, Heroku, Cloudflare) and for PostgreSQL. They fetch and parse;
//! they never decide whether something is healthy.

pub mod api;
pub mod budget;
pub mod cloudflare;
pub mod github;
pub mod heroku;
pub mod http;
pub mod postgres;
