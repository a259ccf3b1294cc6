//! Time as the core sees it: an instant in milliseconds plus the hall's local date and time of day,
//! computed once at the edge so that the rules never read a clock.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// "Now" for one command: the instant, and the hall's local business day and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Now {
    pub at: Millis,
    pub day: NaiveDate,
    pub time: NaiveTime,
}

impl Now {
    /// The instant `at` as seen in the hall's time zone.
    pub fn in_zone(at: Millis, tz: &chrono_tz::Tz) -> Now {
        let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
        let local = tz.from_utc_datetime(&utc.naive_utc());
        Now {
            at,
            day: local.date_naive(),
            time: local.time(),
        }
    }

    /// A fixed local date and time, with `at` counted as if the zone were UTC. For tests and demos.
    pub fn at_local(day: NaiveDate, time: NaiveTime) -> Now {
        let at = day.and_time(time).and_utc().timestamp_millis();
        Now { at, day, time }
    }

    /// The same clock moved on by `ms` milliseconds (same zone rule as `at_local`).
    pub fn plus_ms(self, ms: i64) -> Now {
        let dt = DateTime::<Utc>::from_timestamp_millis(self.at + ms).unwrap_or_default();
        let shift = self.at - self.day.and_time(self.time).and_utc().timestamp_millis();
        let local = DateTime::<Utc>::from_timestamp_millis(self.at + ms - shift).unwrap_or(dt);
        Now {
            at: self.at + ms,
            day: local.date_naive(),
            time: local.time(),
        }
    }
}

/// Wall-clock now in milliseconds. Only edges call this.
pub fn system_millis() -> Millis {
    Utc::now().timestamp_millis()
}

/// RFC 3339 form of an instant, for the wire.
pub fn to_rfc3339(at: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_day_starts_at_local_midnight() {
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        // 2026-11-24 16:30 UTC is 2026-11-25 00:30 in Shanghai.
        let at = Utc
            .with_ymd_and_hms(2026, 11, 24, 16, 30, 0)
            .unwrap()
            .timestamp_millis();
        let now = Now::in_zone(at, &tz);
        assert_eq!(now.day, NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        assert_eq!(now.time, NaiveTime::from_hms_opt(0, 30, 0).unwrap());
    }

    #[test]
    fn plus_ms_crosses_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let now = Now::at_local(d, NaiveTime::from_hms_opt(23, 59, 0).unwrap());
        let later = now.plus_ms(120_000);
        assert_eq!(later.day, d.succ_opt().unwrap());
        assert_eq!(later.time, NaiveTime::from_hms_opt(0, 1, 0).unwrap());
    }
}
