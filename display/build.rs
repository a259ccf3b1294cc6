//! Compiles the board's .slint files. Debug info stays on so that UI tests can find elements by
//! id and accessible label; it costs nothing measurable at run time.

fn main() {
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    if let Err(e) = slint_build::compile_with_config("ui/board.slint", config) {
        panic!("the board's .slint files do not compile: {e}");
    }
}
