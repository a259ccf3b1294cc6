//! The clock watch: a Raspberry Pi has no real-time clock. After a power cut it boots with the
//! time it last saved (hours or days behind) until NTP sets it right, and an installer may change
//! the time zone after the first start. The hub cannot set the clock; it says what it sees, in
//! its log, to the staff (an alert) and on the manager's API, so that a person can fix it. The
//! engine meanwhile keeps the business day from going back (`Hall::execute`), so that no number
//! is given twice and no ticket is filed under a day the hall has left.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use hallq_shared::hall::time::to_rfc3339;
use hallq_shared::hall::{Millis, Now, Text};
use serde::Serialize;

use super::state::AppState;

/// How often the clock is looked at.
const CHECK_EVERY: Duration = Duration::from_secs(10);
/// A step of the clock larger than this is a jump (NTP's first setting, a person's `date -s`);
/// smaller ones are slewing and scheduling noise.
const JUMP_MS: Millis = 60_000;
/// systemd-timesyncd creates this file once it has synchronised the clock since boot.
const TIMESYNC_DIR: &str = "/run/systemd/timesync";

/// What the hub knows of its clock.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ClockStatus {
    /// Synchronised by NTP since boot; `None` where the machine does not run systemd-timesyncd
    /// (a developer's machine, another NTP daemon): nobody can tell.
    pub synchronised: Option<bool>,
    /// The local date the clock reads, and the business day the hall is in.
    pub clock_day: Option<NaiveDate>,
    pub business_day: Option<NaiveDate>,
    /// How far the clock reads before the newest recorded event, in seconds (0: not behind).
    pub behind_events_s: i64,
    /// The last jump seen while running, in seconds (positive: forward), and when.
    pub last_jump_s: Option<i64>,
    pub last_jump_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For the staff: the clock is known to be wrong. Absent when it looks right.
    pub problem: Option<Text>,
}

/// What the clock and the hall look like at one moment: the watch's input.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub now: Now,
    pub business_day: NaiveDate,
    /// The newest recorded event's time.
    pub newest_event: Millis,
    pub synchronised: Option<bool>,
}

/// The status for `reading`: pure, so that the rules are tested without a clock.
pub fn assess(reading: &Reading) -> ClockStatus {
    let behind_events_s = ((reading.newest_event - reading.now.at) / 1000).max(0);
    let problem = if reading.now.day < reading.business_day {
        Some(Text {
            zh: format!(
                "系统时钟显示 {}，早于营业日 {}：请校准时间（检查网络时间同步）。取号照常，号码记在 {}。",
                reading.now.day, reading.business_day, reading.business_day
            ),
            en: format!(
                "The clock reads {}, before the business day {}: set the time right (check NTP). Tickets go on under {}.",
                reading.now.day, reading.business_day, reading.business_day
            ),
        })
    } else if behind_events_s * 1000 > JUMP_MS {
        Some(Text {
            zh: format!(
                "系统时钟比最近记录的时间晚 {} 分钟：请校准时间（检查网络时间同步）。",
                (behind_events_s as u64).div_ceil(60)
            ),
            en: format!(
                "The clock reads {} min before the newest recorded event: set the time right (check NTP).",
                (behind_events_s as u64).div_ceil(60)
            ),
        })
    } else {
        None
    };
    ClockStatus {
        synchronised: reading.synchronised,
        clock_day: Some(reading.now.day),
        business_day: Some(reading.business_day),
        behind_events_s,
        last_jump_s: None,
        last_jump_at: None,
        problem,
    }
}

/// Whether systemd-timesyncd has synchronised the clock since boot (`None`: it does not run here).
pub fn synchronised_in(run_dir: &Path) -> Option<bool> {
    run_dir
        .is_dir()
        .then(|| run_dir.join("synchronized").exists())
}

/// The last jump each hub's watch saw (by database), and when: a jump is seen only while running.
type Jump = (i64, chrono::DateTime<chrono::Utc>);

fn jumps() -> &'static Mutex<HashMap<PathBuf, Jump>> {
    static S: OnceLock<Mutex<HashMap<PathBuf, Jump>>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `hub`'s clock now: read afresh on every ask (it is cheap), with the last jump the watch saw.
pub fn status(hub: &AppState) -> ClockStatus {
    let mut s = assess(&reading(hub));
    if let Some((by, at)) = jumps()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&hub.db)
    {
        s.last_jump_s = Some(*by);
        s.last_jump_at = Some(*at);
    }
    s
}

fn reading(hub: &AppState) -> Reading {
    let now = hub.now();
    let (business_day, newest_event) = {
        let hall = hub.writer.hall().read().unwrap_or_else(|p| p.into_inner());
        (hall.day, hall.clock)
    };
    Reading {
        now,
        business_day,
        newest_event,
        synchronised: synchronised_in(Path::new(TIMESYNC_DIR)),
    }
}

/// Look at the clock every few seconds for as long as the hub runs; log what changes.
pub async fn watch_loop(hub: AppState) {
    let first = reading(&hub);
    let mut last = assess(&first);
    tracing::info!(
        clock = %to_rfc3339(first.now.at),
        clock_day = %first.now.day,
        business_day = %first.business_day,
        newest_event = %to_rfc3339(first.newest_event),
        synchronised = ?first.synchronised,
        "clock at start"
    );
    log_problem(None, &last);
    if first.synchronised == Some(false) {
        tracing::warn!(
            "the clock is not synchronised (yet) since boot: a Pi has no real-time clock, so dates may be wrong until NTP answers"
        );
    }
    let mut mark = (Instant::now(), first.now.at);
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let r = reading(&hub);
        let status = assess(&r);
        let expected = mark.1 + mark.0.elapsed().as_millis() as Millis;
        let jump = r.now.at - expected;
        mark = (Instant::now(), r.now.at);
        if jump.abs() > JUMP_MS {
            tracing::warn!(
                jump_s = jump / 1000,
                clock = %to_rfc3339(r.now.at),
                clock_day = %r.now.day,
                business_day = %r.business_day,
                "the clock jumped (set by NTP or by hand)"
            );
            jumps()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(hub.db.clone(), (jump / 1000, to_rfc3339(r.now.at)));
        }
        if status.synchronised == Some(true) && last.synchronised != Some(true) {
            tracing::info!(clock = %to_rfc3339(r.now.at), "the clock is synchronised by NTP");
        }
        log_problem(Some(&last), &status);
        last = status;
    }
}

fn log_problem(before: Option<&ClockStatus>, now: &ClockStatus) {
    let was = before.and_then(|b| b.problem.as_ref());
    match (&now.problem, was) {
        (Some(p), w) if w != Some(p) => tracing::warn!(
            clock_day = ?now.clock_day,
            business_day = ?now.business_day,
            behind_events_s = now.behind_events_s,
            "{}",
            p.en
        ),
        (None, Some(_)) => tracing::info!(
            clock_day = ?now.clock_day,
            business_day = ?now.business_day,
            "the clock looks right again"
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn reading(clock_day: u32, business_day: u32, newest_event: Millis) -> Reading {
        Reading {
            now: Now::at_local(day(clock_day), NaiveTime::from_hms_opt(9, 0, 0).unwrap()),
            business_day: day(business_day),
            newest_event,
            synchronised: Some(false),
        }
    }

    #[test]
    fn a_clock_on_the_business_day_and_after_the_newest_event_is_no_problem() {
        let r = reading(4, 4, 0);
        let s = assess(&r);
        assert_eq!(s.problem, None);
        assert_eq!(s.behind_events_s, 0);
        assert_eq!(s.synchronised, Some(false));
    }

    #[test]
    fn a_clock_a_day_behind_the_business_day_is_a_problem_that_says_both_days() {
        let r = reading(3, 4, 0);
        let p = assess(&r).problem.expect("a problem");
        assert!(
            p.zh.contains("2026-12-03") && p.zh.contains("2026-12-04"),
            "{}",
            p.zh
        );
    }

    #[test]
    fn a_clock_before_the_newest_event_is_a_problem_only_past_a_minute() {
        let base = reading(4, 4, 0).now.at;
        let s = assess(&reading(4, 4, base + 30_000));
        assert_eq!(
            s.problem, None,
            "half a minute is NTP slewing, not a wrong clock"
        );
        let s = assess(&reading(4, 4, base + 3_600_000));
        assert_eq!(s.behind_events_s, 3600);
        assert!(s.problem.expect("a problem").zh.contains("60 分钟"));
    }

    #[test]
    fn timesyncd_s_flag_file_says_synchronised() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(synchronised_in(&dir.path().join("absent")), None);
        assert_eq!(synchronised_in(dir.path()), Some(false));
        std::fs::write(dir.path().join("synchronized"), "").unwrap();
        assert_eq!(synchronised_in(dir.path()), Some(true));
    }
}
