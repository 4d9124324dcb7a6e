//! Everything a person or a program reads: the console (the only writer of stdout and
//! stderr), the table, the step summary and annotations, and the result file. Every byte
//! passes through the redactor (`crate::redact`).

pub mod console;
pub mod report;
pub mod result;
pub mod text;

pub use console::Console;
