//! The leaf layer: helpers every other layer may use, importing nothing of the crate.

pub mod fs;
pub mod par;
pub mod text;
pub mod time;
