//! When each counter is usually not open: its lunch break, its late opening, read from the days of
//! the same weekday on which it changed state. The wait estimate sees a counter's break coming
//! and the counter coming back from it, instead of counting on it all afternoon or not at all.
//!
//! A counter is usually open at a minute of the day when it was open then on more than half of
//! the weekday's days. Looked at in slots of [`SLOT_MIN`] minutes; a run of slots in which it usually
//! is not open is one of its usual breaks. The last run of the day (after it usually closes) is
//! not a break: the wait estimate does not model the end of the day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};

use crate::hall::CounterId;

/// The slot in which the days are compared, minutes.
pub const SLOT_MIN: u32 = 5;
const DAY_MIN: u32 = 24 * 60;

/// One counter's state changes on one business day: (local minute of the day, open after it),
/// in the order they happened. Before the first, the counter is closed (the day starts so).
pub type DayChanges = Vec<(u16, bool)>;

/// A counter's usual breaks: local minutes of the day `[from, to)`, in order.
pub type Breaks = Vec<(u32, u32)>;

/// Whether a counter with `changes` was open at `minute`.
fn open_at(changes: &DayChanges, minute: u32) -> bool {
    changes
        .iter()
        .take_while(|(m, _)| u32::from(*m) <= minute)
        .last()
        .is_some_and(|(_, open)| *open)
}

/// Each counter's usual breaks over `days` (the business days to compare, all of one weekday),
/// from the counters' changes on those days (`changes`, by counter and day; a day without an entry
/// for a counter is a day it stayed closed).
pub fn usual_breaks(
    changes: &BTreeMap<(CounterId, NaiveDate), DayChanges>,
    days: &BTreeSet<NaiveDate>,
) -> BTreeMap<CounterId, Breaks> {
    let counters: BTreeSet<CounterId> = changes.keys().map(|(c, _)| *c).collect();
    let none = DayChanges::new();
    let mut out = BTreeMap::new();
    if days.is_empty() {
        return out;
    }
    for c in counters {
        let mut breaks = Breaks::new();
        let mut run: Option<u32> = None;
        let mut ever_open = false;
        for slot in 0..DAY_MIN / SLOT_MIN {
            let from = slot * SLOT_MIN;
            let middle = from + SLOT_MIN / 2;
            let open_days = days
                .iter()
                .filter(|d| open_at(changes.get(&(c, **d)).unwrap_or(&none), middle))
                .count();
            // A tie is not open: a break's start is then the earlier one seen and its end the
            // later one, which keeps a promise rather than breaks it.
            let usually_open = 2 * open_days > days.len();
            match (usually_open, run) {
                (false, None) => run = Some(from),
                (true, Some(start)) => {
                    breaks.push((start, from));
                    run = None;
                }
                _ => {}
            }
            ever_open |= usually_open;
        }
        // The run still going at midnight is the evening, not a break.
        if ever_open && !breaks.is_empty() {
            out.insert(c, breaks);
        }
    }
    out
}

/// The days of `weekday` among `days`.
pub fn of_weekday(days: impl Iterator<Item = NaiveDate>, weekday: Weekday) -> BTreeSet<NaiveDate> {
    days.filter(|d| d.weekday() == weekday).collect()
}

/// How long before a usual break's start a pause still counts as that break taken early.
const EARLY_MIN: f64 = 30.0;

/// A counter's state now, as its windows need it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Now {
    /// Open, since this local minute of the day if it opened today.
    Open(Option<f64>),
    /// Paused or closed since this local minute of the day.
    NotOpenSince(f64),
    /// Not open at any time today.
    NotOpenYet,
}

/// A counter's windows without calls, in seconds from now (`now_min`: local minutes of the day,
/// with their fraction), for the wait estimate's replay ([`Desk::off`](super::replay::Desk)):
/// its usual breaks still to come, each as long as usual, and its return from the one it is on.
///
/// - An open counter in the first half of a usual break, that has not come back from a break
///   since half an hour before it began, is finishing a customer first: the break begins when it
///   frees up. Later in the break, it has skipped it today: that break is left out.
/// - A counter that paused within a usual break (or up to half an hour before it) is back after the
///   break's usual length from its pause, and not before the break usually ends. Overdue, or
///   paused outside its usual breaks, it is not expected back (`None`).
/// - A counter not open yet today is expected at the end of the usual break it is in (its late
///   opening), and not at all outside one.
pub fn windows(breaks: &[(u32, u32)], now_min: f64, now: Now) -> Option<Vec<(f64, f64)>> {
    let secs = |m: f64| (m - now_min) * 60.0;
    let mut out: Vec<(f64, f64)> = Vec::new();
    let back = match now {
        Now::Open(_) => None,
        Now::NotOpenSince(since) => {
            let &(from, to) = breaks.iter().find(|&&(from, to)| {
                f64::from(from) - EARLY_MIN <= since && since < f64::from(to)
            })?;
            Some(f64::from(to).max(since + f64::from(to - from)))
        }
        Now::NotOpenYet => breaks
            .iter()
            .find(|&&(from, to)| f64::from(from) <= now_min && now_min < f64::from(to))
            .map(|&(_, to)| f64::from(to)),
    };
    if let Now::Open(since) = now {
        let delayed = breaks.iter().find(|&&(from, to)| {
            let (from, to) = (f64::from(from), f64::from(to));
            from <= now_min
                && now_min < from + (to - from) / 2.0
                && since.is_none_or(|s| s < from - EARLY_MIN)
        });
        if let Some(&(from, to)) = delayed {
            out.push((secs(f64::from(from)), secs(f64::from(to))));
        }
    } else {
        let back = back.filter(|&b| b > now_min)?;
        out.push((0.0, secs(back)));
    }
    let after = match now {
        Now::Open(_) => now_min,
        _ => back.unwrap_or(now_min),
    };
    out.extend(
        breaks
            .iter()
            .filter(|(from, _)| f64::from(*from) > after)
            .map(|&(from, to)| (secs(f64::from(from)), secs(f64::from(to)))),
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        // Wednesdays.
        NaiveDate::from_ymd_opt(2026, 11, 4).unwrap() + chrono::Duration::days(7 * i64::from(n))
    }

    fn hm(h: u16, m: u16) -> u16 {
        h * 60 + m
    }

    #[test]
    fn a_lunch_and_a_late_opening_taken_most_days_are_usual() {
        let mut changes = BTreeMap::new();
        for n in 0..3 {
            // Counter 1 opens at 9:00, lunches 12:00–12:45 (12:10–13:00 on the third day).
            let lunch = if n == 2 {
                (hm(12, 10), hm(13, 0))
            } else {
                (hm(12, 0), hm(12, 45))
            };
            changes.insert(
                (1, day(n)),
                vec![
                    (hm(9, 0), true),
                    (lunch.0, false),
                    (lunch.1, true),
                    (hm(17, 0), false),
                ],
            );
            // Counter 2 opens at 9:20.
            changes.insert((2, day(n)), vec![(hm(9, 20), true), (hm(17, 0), false)]);
        }
        // Counter 3 opened on one day of three: never usually open, so no breaks either.
        changes.insert((3, day(0)), vec![(hm(9, 0), true)]);
        let days: BTreeSet<NaiveDate> = (0..3).map(day).collect();
        let usual = usual_breaks(&changes, &days);
        assert_eq!(usual[&1], vec![(0, 540), (720, 765)]);
        assert_eq!(usual[&2], vec![(0, 560)]);
        assert!(!usual.contains_key(&3));
    }

    #[test]
    fn windows_are_the_breaks_to_come_and_the_return_from_this_one() {
        let breaks = [(0, 540), (720, 765)];
        // 11:00, open: the lunch an hour from now, for 45 minutes.
        assert_eq!(
            windows(&breaks, 660.0, Now::Open(Some(540.0))),
            Some(vec![(3600.0, 6300.0)])
        );
        // 12:10, paused at 12:02: back at 12:47, 45 minutes after.
        assert_eq!(
            windows(&breaks, 730.0, Now::NotOpenSince(722.0)),
            Some(vec![(0.0, 2220.0)])
        );
        // Paused at 11:50: back when the lunch usually ends, 12:45.
        assert_eq!(
            windows(&breaks, 730.0, Now::NotOpenSince(710.0)),
            Some(vec![(0.0, 2100.0)])
        );
        // 12:10 and still open since 9:00: finishing a customer, then lunch (the window began
        // 10 minutes ago; the replay starts the 45 minutes when the counter frees up).
        assert_eq!(
            windows(&breaks, 730.0, Now::Open(Some(540.0))),
            Some(vec![(-600.0, 2100.0)])
        );
        // Back at 12:05 from a lunch taken at 11:35: no second one.
        assert_eq!(
            windows(&breaks, 730.0, Now::Open(Some(725.0))),
            Some(vec![])
        );
        // 12:30 and still open: skipped today.
        assert_eq!(
            windows(&breaks, 750.0, Now::Open(Some(540.0))),
            Some(vec![])
        );
        // 14:00, paused since 13:30, out of the usual: not expected back; nor at 13:00 after a
        // pause at 12:05 (overdue).
        assert_eq!(windows(&breaks, 840.0, Now::NotOpenSince(810.0)), None);
        assert_eq!(windows(&breaks, 780.0, Now::NotOpenSince(725.0)), None);
        // 8:50, not open yet: opens at 9:00, lunches at 12:00.
        assert_eq!(
            windows(&breaks, 530.0, Now::NotOpenYet),
            Some(vec![(0.0, 600.0), (11_400.0, 14_100.0)])
        );
        // 9:30 and still not open: late beyond the usual, not expected.
        assert_eq!(windows(&breaks, 570.0, Now::NotOpenYet), None);
    }
}
