//! The period a report covers: business days from one date to another.

use super::*;

/// Business days `from` to `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The first day a report may cover. Days are stored and compared as `YYYY-MM-DD` text, and
    /// every instant of the hall is after 1970, so nothing before can hold a ticket.
    pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
        Some(d) => d,
        None => NaiveDate::MIN,
    };
    /// The last day a report may cover: four-digit years keep the stored day text in date order,
    /// and weeks and months around it stay far from the calendar's limits (a week around
    /// `-262143-01-01` overflowed).
    pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
        Some(d) => d,
        None => NaiveDate::MAX,
    };

    /// Whether `d` may be asked about: [`Period::FIRST_DAY`] to [`Period::LAST_DAY`].
    pub fn in_range(d: NaiveDate) -> bool {
        (Period::FIRST_DAY..=Period::LAST_DAY).contains(&d)
    }

    /// `from..=to`; the two are swapped if given in the wrong order.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Period {
        if from <= to {
            Period { from, to }
        } else {
            Period { from: to, to: from }
        }
    }

    pub fn day(d: NaiveDate) -> Period {
        Period { from: d, to: d }
    }

    /// The week (Monday to Sunday) holding `d`, cut to the range; `None` when `d` is out of it.
    pub fn week(d: NaiveDate) -> Option<Period> {
        let back = u64::from(d.weekday().num_days_from_monday());
        let from = d.checked_sub_days(chrono::Days::new(back))?;
        let to = from.checked_add_days(chrono::Days::new(6))?;
        Period::bounded(d, from, to)
    }

    /// The calendar month holding `d`; `None` when `d` is out of range.
    pub fn month(d: NaiveDate) -> Option<Period> {
        let from = d.with_day(1)?;
        let next = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year().checked_add(1)?, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        };
        Period::bounded(d, from, next?.pred_opt()?)
    }

    /// The calendar year holding `d`; `None` when `d` is out of range.
    pub fn year(d: NaiveDate) -> Option<Period> {
        Period::bounded(
            d,
            NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
            NaiveDate::from_ymd_opt(d.year(), 12, 31)?,
        )
    }

    fn bounded(d: NaiveDate, from: NaiveDate, to: NaiveDate) -> Option<Period> {
        Period::in_range(d).then(|| Period {
            from: from.max(Period::FIRST_DAY),
            to: to.min(Period::LAST_DAY),
        })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}
