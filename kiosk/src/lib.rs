pub mod gpio;
pub mod printer;
