//! Build step of hallq-kiosk: compiles the touch-screen UI (`ui/kiosk.slint`) into Rust.

fn main() {
    // Debug info names elements so the UI tests can find buttons by id and accessible label;
    // without it every lookup silently finds nothing.
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("kiosk.slint compiles");
}
