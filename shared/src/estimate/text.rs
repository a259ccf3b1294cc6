//! How a wait is said to a customer: a range where the simulator shows the error is large, a
//! single figure where it is small, "more than" where there is too little to go on.
//!
//! The ranges are the middle half of actual/printed on simulated days (`day_sim --spread`): with
//! 0–2 people ahead a wait falls between half and one and a half times the estimate, with more
//! than twenty ahead within about ±15 %. Minutes are rounded outwards, to whole minutes below ten
//! and to five minutes above.

/// Fewer service times than this behind the mean (the day's and the history's together): the
/// upper end is not promised.
pub const FEW_SAMPLES: u32 = 10;

/// A wait as shown: from `lo_s` to `hi_s` seconds; no upper end when it cannot be promised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitRange {
    pub lo_s: u32,
    pub hi_s: Option<u32>,
}

/// The range to show for an estimated wait of `secs` with `ahead` people ahead, the service's mean
/// resting on `samples` service times.
pub fn wait_range(secs: u32, ahead: u32, samples: u32) -> WaitRange {
    if secs < 60 {
        return WaitRange {
            lo_s: 0,
            hi_s: Some(0),
        };
    }
    let (a, b) = match ahead {
        0..=2 => (0.5, 1.5),
        3..=5 => (0.75, 1.4),
        6..=10 => (0.8, 1.25),
        11..=20 => (0.8, 1.2),
        _ => (0.85, 1.15),
    };
    let lo_min = down(f64::from(secs) * a / 60.0);
    let hi_min = up(f64::from(secs) * b / 60.0).max(lo_min);
    let hi = (samples >= FEW_SAMPLES && hi_min < 120).then_some(hi_min * 60);
    WaitRange {
        lo_s: lo_min * 60,
        hi_s: hi,
    }
}

fn step(min: f64) -> f64 {
    if min < 10.0 { 1.0 } else { 5.0 }
}

fn down(min: f64) -> u32 {
    ((min / step(min)).floor() * step(min)).max(1.0) as u32
}

fn up(min: f64) -> u32 {
    ((min / step(min)).ceil() * step(min)).max(1.0) as u32
}

impl WaitRange {
    /// "无需等候", "约3–5分钟", "约15分钟", "20分钟以上".
    pub fn zh(&self) -> String {
        let lo = self.lo_s / 60;
        match self.hi_s.map(|h| h / 60) {
            Some(0) => "无需等候".into(),
            Some(hi) if hi == lo => format!("约{lo}分钟"),
            Some(hi) => format!("约{lo}–{hi}分钟"),
            None => format!("{lo}分钟以上"),
        }
    }

    /// "no wait", "about 3–5 min", "about 15 min", "over 20 min".
    pub fn en(&self) -> String {
        let lo = self.lo_s / 60;
        match self.hi_s.map(|h| h / 60) {
            Some(0) => "no wait".into(),
            Some(hi) if hi == lo => format!("about {lo} min"),
            Some(hi) => format!("about {lo}–{hi} min"),
            None => format!("over {lo} min"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_get_wide_ranges_long_lines_narrow_ones() {
        assert_eq!(wait_range(30, 0, 50).zh(), "无需等候");
        assert_eq!(wait_range(30, 0, 50).en(), "no wait");
        // One ahead, 4 minutes: 2–6.
        assert_eq!(wait_range(240, 1, 50).zh(), "约2–6分钟");
        // Twelve ahead, 20 minutes: 16 → 15, 24 → 25.
        assert_eq!(wait_range(1200, 12, 50).zh(), "约15–25分钟");
        assert_eq!(wait_range(1200, 12, 50).en(), "about 15–25 min");
        // Thirty ahead, 60 minutes: 51 → 50, 69 → 70.
        assert_eq!(wait_range(3600, 30, 50).zh(), "约50–70分钟");
    }

    #[test]
    fn little_history_or_very_long_waits_promise_no_upper_end() {
        assert_eq!(wait_range(1200, 12, 3).zh(), "15分钟以上");
        assert_eq!(wait_range(1200, 12, 3).en(), "over 15 min");
        assert_eq!(wait_range(3 * 3600, 40, 500).zh(), "150分钟以上");
    }

    #[test]
    fn the_range_always_holds_the_estimate() {
        for secs in (60..10_000).step_by(37) {
            for ahead in [0, 3, 7, 15, 40] {
                let r = wait_range(secs, ahead, 100);
                assert!(r.lo_s <= secs, "{secs} {ahead} {r:?}");
                if let Some(hi) = r.hi_s {
                    assert!(hi + 60 >= secs, "{secs} {ahead} {r:?}");
                }
            }
        }
    }
}
