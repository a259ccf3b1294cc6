//! `hallq-display`: the hall's display board.

fn main() {
    println!("hallq-display");
}
