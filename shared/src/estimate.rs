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
}
