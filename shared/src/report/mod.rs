//! Reports and customer satisfaction for the manager: a period's tickets, calls, waits, services,
//! incidents, callbacks, estimate error, counters' opening times and ratings, grouped by service,
//! counter, clerk, day and hour — computed here from plain rows, with no I/O.
//!
//! The store (`Store::report`) selects the rows of the period with SQL; everything below is pure.
//!
//! The rooms: `period.rs`, `satisfaction.rs` (the rating scale), `rows.rs` (what the store
//! selects), `figures.rs` (what a report holds), `build.rs` (computing it), `csv.rs` (the export),
//! `staffing.rs` (the hour-by-hour staffing section).
//!
//! # Definitions
//!
//! All durations come from the `tickets` table in milliseconds and are reported in seconds.
//!
//! - **Waiting time** of a ticket that was called: `first_called_at − issued_at`. A transfer keeps the
//!   customer's place, so only the first call ends the wait. Tickets never called (still waiting,
//!   expired overnight) have no waiting time; they are counted in `never_called`.
//! - **Service time** of a finished ticket: `finished_at − coalesce(started_at, called_at)` (the last
//!   service, at the counter that finished it).
//! - **Within target**: share of called tickets whose waiting time is at most
//!   `thresholds.target_wait_min` minutes (e.g. 0.85 = 85 % within 15 minutes). Denominator: called tickets.
//! - **Long service**: a finished ticket whose service time is over `thresholds.long_service_min` minutes.
//! - **Long wait incident**: a `long_wait_began` event, closed by the next `long_wait_ended` of the same
//!   service on the same day (an incident still open at the end of the period has no duration).
//! - **Outage time**: how long the business system was down, in clock time, counted day by day,
//!   each business day from its own events, so that a period's figure is the sum of its days'.
//!   On a day, an outage runs from its `outage_started` to its `outage_ended`. One ended that day
//!   but begun on an earlier one counts from the day's local midnight (or from its start, the
//!   `outage_ended`'s id, if that is later). One not ended that day counts to the next local
//!   midnight, or to the instant the rows were read ([`ReportInput::as_of`]) if that is earlier:
//!   today's report counts it up to now. So an outage across midnight is split between its two
//!   days. A whole day between them with no outage event of its own counts nothing (a day's
//!   report reads its own events only). **Longest outage**: the longest such part of one outage
//!   on one day; a period's is the longest of its days'.
//! - **Slow system time**: how long staff said the business system was slow, counted day by day
//!   as outage time is, from `slow_system_started` to `slow_system_ended`. The hall forgets it
//!   when the day ends: one not ended on its day counts to that day's last event the report reads
//!   (the last call or finish), or to the instant the rows were read while the day goes on.
//! - **Median and 90th percentile**: linear interpolation between closest ranks on the sorted values,
//!   the same as Excel's `MEDIAN` and `PERCENTILE.INC`: `h = (n − 1)·p`, value = `v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋])`.
//! - **Estimate error** of a called ticket: actual waiting time − `estimated_wait_s` (positive: the
//!   customer waited longer than the ticket promised). Mean signed and mean absolute error, RMSE,
//!   and the share called more than 5 minutes after the printed wait: the definitions of
//!   [`crate::estimate::ErrorStats`], which the day simulator measures with too.
//! - **Callbacks**: captured in the period (`callback_captured` events); resolved = the first
//!   `callback_updated` to `resolved` of such a callback, whenever it happened; resolve delay =
//!   resolved − captured. **Overdue**: not resolved [`CALLBACK_PROMISE_H`] hours after it was
//!   captured ([`callback_overdue`]); the configuration has no promise of its own.
//! - **Counter opening**: the first `counter_state_changed` to `open` of each counter on each day, in
//!   the hall's local time, against `hours.opening`: `before_opening_s` is positive when the counter
//!   opened early. Rulebook Ch.3 §1.1 wants staff in place 10 minutes before opening
//!   ([`STAFF_IN_PLACE_BEFORE_OPENING_S`]).
//! - **Satisfaction**: one rating (1–5) per finished ticket; `satisfied_share` = ratings of 4 or 5 over
//!   all ratings; `response_rate` = ratings over tickets served.
//!
//! # Attribution to groups
//!
//! - **Totals, by day, by hour**: every ticket in its business day and its local hour of issue (the
//!   hour the customer arrived), with everything that happened to it.
//! - **By service**: `issued`, `called`, `never_called`, waiting time and `transfers` go to the service
//!   the customer took a ticket for (`first_service`); `served`, `no_shows`, service time, long
//!   services and ratings go to the service the ticket ended in (`service`), where the work was done.
//! - **By counter / by clerk**: `called` and waiting time go to the counter / clerk of the first call;
//!   `served`, service time and long services to the one that finished the ticket; `no_shows` to the
//!   one that marked it; `transfers` to the one that transferred it (one per transfer); ratings to the
//!   counter the rating was given at (by clerk: the clerk who finished the ticket). `issued` and
//!   `never_called` are 0 there: counters and clerks do not issue tickets in this report. The clerk is
//!   the login that acted (the event's actor).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::{Datelike, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};

use crate::config::HallConfig;
use crate::hall::{CounterId, Lang, Millis, Now, TicketState};

/// Ch.3 §1.1: staff in place ten minutes before the hall opens.
pub const STAFF_IN_PLACE_BEFORE_OPENING_S: i64 = 600;

/// Hours within which a captured callback is to be resolved: the halls promise a call back within
/// a day (the demo hall's commitments), and the configuration has no setting for it.
pub const CALLBACK_PROMISE_H: i64 = 24;

/// Whether a callback captured at `captured_at` and not resolved is overdue at `now`.
pub fn callback_overdue(captured_at: Millis, now: Millis) -> bool {
    now - captured_at > CALLBACK_PROMISE_H * 3_600_000
}

mod build;
mod csv;
mod fact;
mod figures;
mod period;
mod rows;
mod satisfaction;
mod staffing;

pub use fact::{EventBody, fact_of};
pub use figures::{
    CallbackStats, CounterOpening, Durations, EstimateStats, Incidents, Level, LoadRow,
    LongService, LongWait, OpenTimes, Report, Row, SatisfactionStats, Stats, mean,
    percentile_sorted, share,
};
pub use period::Period;
pub use rows::{EventRow, Fact, RatingRow, ReportInput, TicketRow};
pub use satisfaction::Satisfaction;
pub use staffing::StaffingHour;

#[cfg(test)]
mod tests;
