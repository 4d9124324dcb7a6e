//! Everything a person or a program reads: the console (the only writer of stdout and
//! stderr), the table, the step summary and annotations, the result file, and the redactor
//! every byte passes through.

pub mod console;
pub mod redact;
pub mod report;
pub mod result;
pub mod text;

pub use console::Console;
