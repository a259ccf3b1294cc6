//! The hall's durable store (SQLite).

pub mod backup;
