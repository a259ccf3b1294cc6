//! `hallq-display` as a library: the parts of the display board that tests and tools reach directly.

pub mod voice;
