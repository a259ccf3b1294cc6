//! How many of those called do not come, and how long a counter waits for one before it calls the
//! next: a customer ahead who does not come holds the counter for that wait, not a whole service.
//!
//! The share is today's no-shows over today's calls that ended, with the history's share (all its
//! days: whether a customer comes back for a number is a habit of the hall's customers more than
//! of a weekday) as a prior worth [`PRIOR_CALLS`] calls; a hall without history starts from
//! nobody failing to come. How long a counter waits for one pools every no-show seen, with
//! [`DEFAULT_HOLD_SECS`] as a prior worth [`HOLD_PRIOR`] no-shows.

use crate::hall::CallEnd;

/// What the prior share is worth, in calls: today's own share takes over after a few dozen calls,
/// so a rainy day with more no-shows than usual is followed within the morning.
pub const PRIOR_CALLS: f64 = 20.0;
/// How long a counter waits for someone who does not come, before any has been seen: a recall or
/// two and the mark.
pub const DEFAULT_HOLD_SECS: f64 = 60.0;
/// What [`DEFAULT_HOLD_SECS`] is worth, in no-shows.
const HOLD_PRIOR: f64 = 3.0;
/// A no-show's wait counts at most this long: a counter left on a call over a break would
/// otherwise say the next no-show holds it for an hour.
pub const MAX_HOLD_SECS: u32 = 10 * 60;

/// Calls that ended: the customer was served, or did not come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    pub served: u32,
    pub no_shows: u32,
    /// Seconds from the call to the no-show's mark, summed over the no-shows (each at most
    /// [`MAX_HOLD_SECS`]).
    pub hold_secs: u64,
}

impl Calls {
    /// One more call that ended.
    pub fn add(&mut self, end: CallEnd) {
        match end {
            CallEnd::Served => self.served += 1,
            CallEnd::NoShow { after_secs } => {
                self.no_shows += 1;
                self.hold_secs += u64::from(after_secs.min(MAX_HOLD_SECS));
            }
        }
    }

    /// Take back a call [`Calls::add`] counted.
    pub fn remove(&mut self, end: CallEnd) {
        match end {
            CallEnd::Served => self.served = self.served.saturating_sub(1),
            CallEnd::NoShow { after_secs } => {
                self.no_shows = self.no_shows.saturating_sub(1);
                self.hold_secs = self
                    .hold_secs
                    .saturating_sub(u64::from(after_secs.min(MAX_HOLD_SECS)));
            }
        }
    }

    pub fn merge(&mut self, other: &Calls) {
        self.served += other.served;
        self.no_shows += other.no_shows;
        self.hold_secs += other.hold_secs;
    }

    fn ended(&self) -> f64 {
        f64::from(self.served) + f64::from(self.no_shows)
    }
}

/// Of one service's customers called, the share who do not come, and how long a counter waits
/// for one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoShows {
    pub share: f64,
    pub hold_s: f64,
}

impl Default for NoShows {
    /// Everyone comes.
    fn default() -> NoShows {
        NoShows {
            share: 0.0,
            hold_s: DEFAULT_HOLD_SECS,
        }
    }
}

impl NoShows {
    /// The estimate from today's calls and the history's.
    pub fn of(today: &Calls, history: &Calls) -> NoShows {
        let prior_share = if history.ended() > 0.0 {
            f64::from(history.no_shows) / history.ended()
        } else {
            0.0
        };
        let share =
            (f64::from(today.no_shows) + PRIOR_CALLS * prior_share) / (today.ended() + PRIOR_CALLS);
        let seen = f64::from(today.no_shows) + f64::from(history.no_shows);
        let hold_s = ((today.hold_secs + history.hold_secs) as f64
            + HOLD_PRIOR * DEFAULT_HOLD_SECS)
            / (seen + HOLD_PRIOR);
        NoShows { share, hold_s }
    }

    /// Expected seconds a counter spends on one call of a service whose customers, when they
    /// come, take `mean_s`.
    pub fn call_secs(&self, mean_s: f64) -> f64 {
        (1.0 - self.share) * mean_s + self.share * self.hold_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(served: u32, no_shows: u32, hold_each: u32) -> Calls {
        let mut c = Calls::default();
        for _ in 0..served {
            c.add(CallEnd::Served);
        }
        for _ in 0..no_shows {
            c.add(CallEnd::NoShow {
                after_secs: hold_each,
            });
        }
        c
    }

    #[test]
    fn a_hall_without_history_assumes_everyone_comes_until_it_sees_otherwise() {
        let none = NoShows::of(&Calls::default(), &Calls::default());
        assert_eq!(none.share, 0.0);
        assert_eq!(none.call_secs(300.0), 300.0);
        // The day's first call a no-show: not half the hall's customers.
        let first = NoShows::of(&calls(1, 1, 60), &Calls::default());
        assert!(first.share < 0.05, "{first:?}");
        // A hundred calls with ten no-shows: close to a tenth.
        let day = NoShows::of(&calls(90, 10, 60), &Calls::default());
        assert!((day.share - 10.0 / 120.0).abs() < 1e-9, "{day:?}");
    }

    #[test]
    fn the_history_share_holds_at_the_start_of_a_day_and_today_takes_over() {
        let history = calls(950, 50, 90);
        let morning = NoShows::of(&Calls::default(), &history);
        assert!((morning.share - 0.05).abs() < 1e-9);
        // Waits for a no-show: the history's, pulled a little towards the default.
        assert!((morning.hold_s - (50.0 * 90.0 + 3.0 * 60.0) / 53.0).abs() < 1e-9);
        // A day on which one in five does not come is followed within a few dozen calls.
        let rainy = NoShows::of(&calls(80, 20, 90), &history);
        assert!(rainy.share > 0.17, "{rainy:?}");
    }

    #[test]
    fn a_customer_who_may_not_come_counts_for_part_of_a_service() {
        let n = NoShows {
            share: 0.1,
            hold_s: 60.0,
        };
        assert!((n.call_secs(300.0) - (0.9 * 300.0 + 6.0)).abs() < 1e-9);
    }

    #[test]
    fn a_call_left_open_over_a_break_counts_as_a_bounded_wait() {
        let mut c = Calls::default();
        let left_open = CallEnd::NoShow { after_secs: 3600 };
        c.add(left_open);
        assert_eq!(c.hold_secs, u64::from(MAX_HOLD_SECS));
        c.remove(left_open);
        assert_eq!(c, Calls::default());
    }
}
