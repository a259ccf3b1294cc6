//! Estimates: people ahead and expected wait, from a rolling window of recent service times per
//! service and the counters open for it.

use std::collections::VecDeque;

/// Assumed service time until a service has history of its own.
pub const DEFAULT_SERVICE_SECS: u32 = 300;

/// Recent service durations of one service, newest last.
#[derive(Clone, Debug, Default)]
pub struct ServiceTimes {
    window: VecDeque<u32>,
    capacity: usize,
}

/// Two windows are the same when they hold the same durations: services finished in the same
/// millisecond have no order of their own, and the store may rebuild them in either.
impl PartialEq for ServiceTimes {
    fn eq(&self, other: &Self) -> bool {
        let sorted = |w: &VecDeque<u32>| {
            let mut v: Vec<u32> = w.iter().copied().collect();
            v.sort_unstable();
            v
        };
        self.capacity == other.capacity && sorted(&self.window) == sorted(&other.window)
    }
}

impl Eq for ServiceTimes {}

impl ServiceTimes {
    pub fn new(capacity: usize) -> Self {
        ServiceTimes {
            // The window grows as services finish: a configured size is not memory to take at once.
            window: VecDeque::with_capacity(capacity.min(64)),
            capacity: capacity.max(1),
        }
    }

    pub fn record(&mut self, secs: u32) {
        // A counter left on "serving" over lunch must not poison the estimate for the afternoon.
        let secs = secs.clamp(10, 3 * 3600);
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(secs);
    }

    pub fn len(&self) -> usize {
        self.window.len()
    }

    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Mean of the window, trimmed of the single longest when there are enough samples.
    pub fn typical_secs(&self) -> u32 {
        if self.window.is_empty() {
            return DEFAULT_SERVICE_SECS;
        }
        let mut v: Vec<u32> = self.window.iter().copied().collect();
        v.sort_unstable();
        if v.len() >= 5 {
            v.pop();
        }
        let sum: u64 = v.iter().map(|&x| u64::from(x)).sum();
        (sum / v.len() as u64) as u32
    }
}

/// Expected wait for someone with `ahead` people before them, when `counters` counters share the
/// service (fractional when counters split their time among several services).
pub fn expected_wait_secs(ahead: u32, typical_secs: u32, counters: f64) -> u32 {
    if ahead == 0 {
        return 0;
    }
    let counters = if counters > 0.05 { counters } else { 1.0 };
    let secs = f64::from(ahead) * f64::from(typical_secs) / counters;
    secs.round().min(f64::from(u32::MAX)) as u32
}

/// Signed error of an estimate, in seconds: positive when the customer waited longer than promised.
pub fn estimate_error_secs(estimated_s: u32, actual_ms: i64) -> i64 {
    actual_ms / 1000 - i64::from(estimated_s)
}

/// How late a customer may be called, against what was printed, before we count the estimate as a
/// broken promise: five minutes.
pub const LATE_MARGIN_S: i64 = 300;

/// How far estimates were from the waits that followed, one definition for the simulator and the
/// manager's report. Errors are actual − printed, in seconds: positive when the customer waited
/// longer than promised.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ErrorStats {
    pub count: u32,
    /// Mean of actual − printed.
    pub mean_s: f64,
    /// Root mean square of actual − printed.
    pub rmse_s: f64,
    /// Mean of |actual − printed|.
    pub mean_abs_s: f64,
    /// Share (0–1) of customers called more than [`LATE_MARGIN_S`] after the printed wait.
    pub late_share: f64,
}

impl ErrorStats {
    pub fn of(errors_s: &[f64]) -> ErrorStats {
        if errors_s.is_empty() {
            return ErrorStats::default();
        }
        let n = errors_s.len() as f64;
        let sum: f64 = errors_s.iter().sum();
        let sq: f64 = errors_s.iter().map(|e| e * e).sum();
        let abs: f64 = errors_s.iter().map(|e| e.abs()).sum();
        let late = errors_s
            .iter()
            .filter(|&&e| e > LATE_MARGIN_S as f64)
            .count();
        ErrorStats {
            count: errors_s.len() as u32,
            mean_s: sum / n,
            rmse_s: (sq / n).sqrt(),
            mean_abs_s: abs / n,
            late_share: late as f64 / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rolls_and_trims_the_outlier() {
        let mut t = ServiceTimes::new(3);
        assert_eq!(t.typical_secs(), DEFAULT_SERVICE_SECS);
        for s in [100, 200, 300, 400] {
            t.record(s);
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.typical_secs(), 300);
        let mut t = ServiceTimes::new(10);
        for s in [60, 60, 60, 60, 3000] {
            t.record(s);
        }
        assert_eq!(t.typical_secs(), 60, "one very long service is trimmed");
    }

    #[test]
    fn wait_scales_with_people_and_counters() {
        assert_eq!(expected_wait_secs(0, 300, 2.0), 0);
        assert_eq!(expected_wait_secs(4, 300, 2.0), 600);
        assert_eq!(
            expected_wait_secs(3, 300, 0.0),
            900,
            "no open counter: assume one will open"
        );
        assert_eq!(estimate_error_secs(600, 660_000), 60);
    }

    #[test]
    fn error_stats_count_late_customers_past_five_minutes() {
        let s = ErrorStats::of(&[-60.0, 0.0, 300.0, 301.0]);
        assert_eq!(s.count, 4);
        assert!((s.mean_s - 135.25).abs() < 1e-9);
        assert!(
            (s.late_share - 0.25).abs() < 1e-9,
            "exactly five minutes is not late"
        );
        assert!((s.rmse_s - ((3600.0 + 90000.0 + 90601.0) / 4.0f64).sqrt()).abs() < 1e-9);
        assert_eq!(ErrorStats::of(&[]), ErrorStats::default());
    }
}
