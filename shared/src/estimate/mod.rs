//! Wait estimates: the mean service time of each service ([`mean`]), the share of those called who
//! do not come ([`no_show`]), the wait of a customer by playing the line forward with the hall's
//! call order ([`replay`]) and the counters' usual breaks ([`breaks`]), and how far estimates were
//! from the waits that followed ([`ErrorStats`]).

pub mod breaks;
pub mod mean;
pub mod no_show;
pub mod replay;
pub mod text;

pub use mean::{
    Disruption, DisruptionKind, History, RECENT_SERVICES, RECENT_USUAL_RATIO, Running, Seed,
    ServiceTimes, SlowPace,
};
pub use no_show::{Calls, NoShows};
pub use text::{WaitRange, wait_range};

/// Assumed service time until a service has history of its own.
pub const DEFAULT_SERVICE_SECS: u32 = 300;

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
    fn error_is_actual_minus_printed() {
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
