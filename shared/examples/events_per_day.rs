//! Events a simulated business day records per scenario (what a hub ships to central for it), and
//! per ticket: the figure behind the plan for 2,000 halls in docs/central.md.
//!
//! `cargo run --release -p hallq-shared --example events_per_day`

use hallq_shared::sim::{run_seeds, scenario::scenarios};

fn main() {
    println!("| scenario | tickets a day | events a day | events per ticket |");
    println!("|---|---:|---:|---:|");
    let (mut all_tickets, mut all_events) = (0u64, 0u64);
    for s in scenarios() {
        let days = run_seeds(&s, 1..=5);
        let tickets: u64 = days.iter().map(|d| d.tickets.len() as u64).sum();
        let events: u64 = days.iter().map(|d| d.events).sum();
        all_tickets += tickets;
        all_events += events;
        println!(
            "| {} | {:.0} | {:.0} | {:.2} |",
            s.name,
            tickets as f64 / days.len() as f64,
            events as f64 / days.len() as f64,
            events as f64 / tickets.max(1) as f64
        );
    }
    println!(
        "| all | | | {:.2} |",
        all_events as f64 / all_tickets.max(1) as f64
    );
}
