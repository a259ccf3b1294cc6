//! `hallq-kiosk`: the hall hub and the ticket kiosk.

fn main() {
    println!("hallq-kiosk");
}
