//! Simulated business days through the engine: how far the printed waits are from the waits that
//! followed, for the hall's estimator and for the estimator that knows the true service time.
//!
//! `cargo run --release -p hallq-shared --example day_sim -- [--seeds N] [--hours] [--unseen]
//! [--after] [--means] [--spread] [--services] [--declared M] [--only TEXT]
//! [--priority SHARE] [--no-shows SHARE] [--first-seed N] [--slowdown MIN FACTOR]`
//!
//! `--slowdown MIN FACTOR`: every day's services take FACTOR times as long from MIN minutes after
//! opening (a day's own slowdown is replaced).
//!
//! `--first-seed N`: the days are seeds N to N + seeds − 1 (1 by default), to check a figure on
//! days it was not looked at on.
//!
//! `--only TEXT`: only the days whose name holds TEXT.
//!
//! `--declared M`: on the days with a slowdown, a clerk says the business system is slow M minutes
//! after it begins.
//!
//! `--priority SHARE`: every day issues this share of priority tickets (0.15: 15 %), and each day's
//! row is followed by its tickets without and with priority.
//!
//! `--no-shows SHARE`: every day's called customers fail to come with this share (0.1: 10 %).
//!
//! `--services --hours`: each service's tickets by hour of issue as well.

use std::time::Instant;

use hallq_shared::sim::{self, Comparison, DayResult, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args
        .iter()
        .position(|a| a == "--seeds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let first: u64 = args
        .iter()
        .position(|a| a == "--first-seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let hours = args.iter().any(|a| a == "--hours");
    let mut scenarios = sim::scenario::scenarios();
    if args.iter().any(|a| a == "--unseen") {
        scenarios.extend(sim::scenario::unseen());
    }
    if let Some(only) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        scenarios.retain(|s| s.name.contains(only.as_str()));
    }
    let declared: Option<u32> = args
        .iter()
        .position(|a| a == "--declared")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let priority: Option<f64> = args
        .iter()
        .position(|a| a == "--priority")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let no_shows: Option<f64> = args
        .iter()
        .position(|a| a == "--no-shows")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let slowdown: Option<(u32, f64)> = args.iter().position(|a| a == "--slowdown").and_then(|i| {
        Some((
            args.get(i + 1)?.parse().ok()?,
            args.get(i + 2)?.parse().ok()?,
        ))
    });
    for s in &mut scenarios {
        if let Some((after_min, factor)) = slowdown {
            s.slowdown = Some(sim::Slowdown {
                after_min,
                factor,
                declared_after_min: None,
            });
            s.steady = false;
        }
        if let Some(share) = no_shows {
            s.no_show_share = share;
        }
        if let Some(slow) = &mut s.slowdown {
            slow.declared_after_min = declared;
        }
        if let Some(share) = priority {
            s.priority_share = share;
        }
    }
    if let Some(after) = declared {
        // A false alarm: a clerk says the system is slow at 12:00 and it is not.
        let mut s = sim::scenario::scenarios()[0].clone();
        s.name = "steady, 3 counters: a clerk says at 12:00 the system is slow; it is not";
        s.steady = false;
        s.slowdown = Some(sim::Slowdown {
            after_min: 180 - after,
            factor: 1.0,
            declared_after_min: Some(after),
        });
        scenarios.push(s);
    }
    let started = Instant::now();
    println!(
        "{seeds} seeds per scenario; errors are actual − printed wait, in minutes; \
         late = called more than 5 min after the printed wait"
    );
    println!(
        "| day | tickets | RMSE hallq | RMSE known-μ | ratio | mean err hallq | mean err known-μ | late hallq | late known-μ |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for s in &scenarios {
        let days = sim::run_seeds(s, first..first + seeds);
        row(s.name, &sim::pooled(&days));
        if args.iter().any(|a| a == "--means") {
            let t: Vec<&sim::TicketRecord> = days.iter().flat_map(|d| &d.tickets).collect();
            let ratio: Vec<f64> = t.iter().map(|t| t.mean_s / t.true_mean_s).collect();
            let m = ratio.iter().sum::<f64>() / ratio.len() as f64;
            let sd =
                (ratio.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / ratio.len() as f64).sqrt();
            println!("|   mean service estimate / true: {m:.3} ± {sd:.3} | | | | | | | | |");
        }
        if s.services.len() > 1 && args.iter().any(|a| a == "--services") {
            for service in &s.services {
                let t: Vec<sim::TicketRecord> = days
                    .iter()
                    .flat_map(|d| &d.tickets)
                    .filter(|t| t.service == service.id)
                    .cloned()
                    .collect();
                row(&format!("  {}", service.id), &Comparison::of(&t));
                if hours {
                    by_hour_of(&format!("    {}", service.id), &t);
                }
            }
        }
        if priority.is_some() {
            for (kind, with) in [("without", false), ("with", true)] {
                let t = days
                    .iter()
                    .flat_map(|d| &d.tickets)
                    .filter(|t| t.priority == with);
                row(&format!("  tickets {kind} priority"), &Comparison::of(t));
            }
        }
        if s.slowdown.is_some() {
            recovery(s, &days);
            paces(s, &days);
            if declared.is_some() {
                end_proposals(s, &days);
            }
        }
        if let Some(o) = s.outage {
            outage(s, o, &days);
        }
        if hours {
            by_hour(&days);
        }
    }
    if args.iter().any(|a| a == "--spread") {
        spread(&scenarios, first..first + seeds);
    }
    eprintln!("{:.1} s", started.elapsed().as_secs_f64());
}

fn row(name: &str, c: &Comparison) {
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2}× | {:+.2} | {:+.2} | {:.1} % | {:.1} % |",
        c.hall.count,
        c.hall.rmse_s / 60.0,
        c.reference.rmse_s / 60.0,
        c.rmse_ratio(),
        c.hall.mean_s / 60.0,
        c.reference.mean_s / 60.0,
        c.hall.late_share * 100.0,
        c.reference.late_share * 100.0,
    );
}

/// What the clerk's alert says of the services since a declared slowdown ("用时约为标记前的 X
/// 倍"), read at some minutes after the declaration: the median ratio with its 10th and 90th
/// percentiles over the days, and the median count of services it rests on.
fn paces(s: &Scenario, days: &[DayResult]) {
    for look in sim::PACE_LOOKS_MIN {
        let mut seen: Vec<(f64, u32)> = days
            .iter()
            .flat_map(|d| &d.slow_paces)
            .filter(|(at, _)| *at == look)
            .filter_map(|(_, p)| Some((p.ratio?, p.services)))
            .collect();
        if seen.is_empty() {
            continue;
        }
        seen.sort_by(|a, b| a.0.total_cmp(&b.0));
        let q = |p: f64| seen[((seen.len() - 1) as f64 * p).round() as usize].0;
        let mut n: Vec<u32> = seen.iter().map(|s| s.1).collect();
        n.sort_unstable();
        println!(
            "| ↳ {}: the pace {look} min after the mark: ×{:.2} (p10 ×{:.2}, p90 ×{:.2}) over {} services, {} of {} days | | | | | | | | |",
            s.name,
            q(0.5),
            q(0.1),
            q(0.9),
            n[n.len() / 2],
            seen.len(),
            days.len()
        );
    }
}

/// When the newest services since a declared slowdown first read as quick as before it, so that
/// ending the mark is proposed ([`hallq_shared::estimate::SlowPace::usual_again`]): on how many
/// days, and after how many minutes (median, and the 10th percentile: the early ones).
fn end_proposals(s: &Scenario, days: &[DayResult]) {
    let mut first: Vec<u32> = days
        .iter()
        .filter_map(|d| {
            d.slow_paces
                .iter()
                .find(|(_, p)| p.usual_again)
                .map(|(at, _)| *at)
        })
        .collect();
    first.sort_unstable();
    let looked = days
        .iter()
        .map(|d| d.slow_paces.last().map_or(0, |l| l.0))
        .min()
        .unwrap_or(0);
    let at = |q: f64| {
        first
            .get(((first.len().max(1) - 1) as f64 * q).round() as usize)
            .map_or("–".to_string(), |m| format!("+{m} min"))
    };
    println!(
        "| ↳ {}: ending the mark proposed (the newest {} services at most ×{} their usual) on {} of {} days within +{looked} min, first at {} (p10 {}) | | | | | | | | |",
        s.name,
        hallq_shared::estimate::RECENT_SERVICES,
        hallq_shared::estimate::RECENT_USUAL_RATIO,
        first.len(),
        days.len(),
        at(0.5),
        at(0.1),
    );
}

fn recovery(s: &Scenario, days: &[DayResult]) {
    let back = sim::recovery_minutes(days, 60.0);
    let first = sim::after_slowdown(days, 0.0, 15.0);
    let next = sim::after_slowdown(days, 15.0, 75.0);
    println!(
        "| ↳ {}: mean err of tickets issued 0–15 min after: {:+.2} (known-μ {:+.2}); 15–75 min after: {:+.2} ({:+.2}); within ±1 min from {} | | | | | | | | |",
        s.name,
        first.hall.mean_s / 60.0,
        first.reference.mean_s / 60.0,
        next.hall.mean_s / 60.0,
        next.reference.mean_s / 60.0,
        back.map_or("never".to_string(), |m| format!("+{m} min")),
    );
    if std::env::args().any(|a| a == "--after") {
        let mut line = String::from("|   mean err by 10 min after:");
        for m in (-10..90).step_by(10) {
            let c = sim::after_slowdown(days, f64::from(m), f64::from(m + 10));
            line += &format!(
                " {m:+}:{:+.1}/{:+.1}",
                c.hall.mean_s / 60.0,
                c.reference.mean_s / 60.0
            );
        }
        println!("{line}");
        let mut line = String::from("|   mean service estimate / true by 10 min after:");
        for m in (-10..90).step_by(10) {
            let r: Vec<f64> = sim::issued_after_slowdown(days, f64::from(m), f64::from(m + 10))
                .map(|t| t.mean_s / t.true_mean_s)
                .collect();
            line += &format!(
                " {m:+}:{:.2}",
                r.iter().sum::<f64>() / r.len().max(1) as f64
            );
        }
        println!("{line}");
    }
}

/// Tickets issued while the business system was down, and in the half hour after.
fn outage(s: &Scenario, o: sim::SimOutage, days: &[DayResult]) {
    let issued = |from: u32, to: u32| {
        Comparison::of(days.iter().flat_map(|d| &d.tickets).filter(move |t| {
            t.issued_s >= f64::from(from) * 60.0 && t.issued_s < f64::from(to) * 60.0
        }))
    };
    let end = o.at_min + o.lasts_min;
    let during = issued(o.at_min, end);
    let after = issued(end, end + 30);
    println!(
        "| ↳ {}: tickets issued while it was down: {} tickets, RMSE {:.2} ({:.2}), mean err {:+.2} ({:+.2}), late {:.1} % ({:.1} %); in the half hour after: mean err {:+.2} ({:+.2}) | | | | | | | | |",
        s.name,
        during.hall.count,
        during.hall.rmse_s / 60.0,
        during.reference.rmse_s / 60.0,
        during.hall.mean_s / 60.0,
        during.reference.mean_s / 60.0,
        during.hall.late_share * 100.0,
        during.reference.late_share * 100.0,
        after.hall.mean_s / 60.0,
        after.reference.mean_s / 60.0,
    );
}

fn by_hour(days: &[DayResult]) {
    let mut hours: std::collections::BTreeMap<u32, Vec<sim::TicketRecord>> = Default::default();
    for d in days {
        for (h, _) in d.by_hour() {
            let from = f64::from(h - sim::scenario::OPENING.0) * 3600.0;
            hours.entry(h).or_default().extend(
                d.tickets
                    .iter()
                    .filter(|t| t.issued_s >= from && t.issued_s < from + 3600.0)
                    .cloned(),
            );
        }
    }
    let means = std::env::args().any(|a| a == "--means");
    for (h, tickets) in hours {
        row(&format!("  {h:02}:00"), &Comparison::of(&tickets));
        if means {
            let r: Vec<f64> = tickets.iter().map(|t| t.mean_s / t.true_mean_s).collect();
            let ahead: Vec<f64> = tickets.iter().map(|t| f64::from(t.ahead)).collect();
            println!(
                "|     mean service estimate / true {:.3}; people ahead {:.1} | | | | | | | | |",
                r.iter().sum::<f64>() / r.len().max(1) as f64,
                ahead.iter().sum::<f64>() / ahead.len().max(1) as f64,
            );
        }
    }
}

/// How the actual wait spreads around the printed one, by people ahead: the figures the ranges
/// on tickets and screens are chosen from.
fn spread(scenarios: &[Scenario], seeds: std::ops::Range<u64>) {
    let mut by: std::collections::BTreeMap<u32, Vec<(f64, f64)>> = Default::default();
    for s in scenarios {
        for d in sim::run_seeds(s, seeds.clone()) {
            for t in &d.tickets {
                if let (Some(w), true) = (t.waited_s, t.printed_s >= 60.0) {
                    let bucket = match t.ahead {
                        0..=2 => 0,
                        3..=5 => 3,
                        6..=10 => 6,
                        11..=20 => 11,
                        _ => 21,
                    };
                    by.entry(bucket).or_default().push((t.printed_s, w));
                }
            }
        }
    }
    println!("| ahead from | tickets | actual/printed p10 | p25 | p50 | p75 | p90 |");
    println!("|---|---|---|---|---|---|---|");
    for (b, v) in by {
        let mut r: Vec<f64> = v.iter().map(|(p, w)| w / p).collect();
        r.sort_by(f64::total_cmp);
        let q = |p: f64| r[((r.len() - 1) as f64 * p) as usize];
        println!(
            "| {b} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.len(),
            q(0.1),
            q(0.25),
            q(0.5),
            q(0.75),
            q(0.9)
        );
    }
}

/// `tickets` by local hour of issue, each row named `name` and the hour.
fn by_hour_of(name: &str, tickets: &[sim::TicketRecord]) {
    let mut hours: std::collections::BTreeMap<u32, Vec<&sim::TicketRecord>> = Default::default();
    for t in tickets {
        let h = sim::scenario::OPENING.0 + (t.issued_s / 3600.0) as u32;
        hours.entry(h).or_default().push(t);
    }
    for (h, v) in hours {
        row(&format!("{name} {h:02}:00"), &Comparison::of(v));
    }
}
