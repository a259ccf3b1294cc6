//! The simulator's random source: SplitMix64, seeded, so that every simulated day can be run again
//! exactly from its seed.

#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A new source for a sub-stream (one day, one service), independent of the draws made so far.
    pub fn fork(&self, stream: u64) -> Rng {
        let mut r = Rng(self.0 ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so that its logarithm is finite.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p
    }

    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Log-normal with the given mean and log-scale spread `sigma`.
    pub fn log_normal(&mut self, mean: f64, sigma: f64) -> f64 {
        let mu = mean.ln() - sigma * sigma / 2.0;
        (mu + sigma * self.normal()).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_asked_means() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let exp: f64 = (0..n).map(|_| r.exponential(300.0)).sum::<f64>() / n as f64;
        let ln: f64 = (0..n).map(|_| r.log_normal(300.0, 0.8)).sum::<f64>() / n as f64;
        assert!((exp - 300.0).abs() < 5.0, "{exp}");
        assert!((ln - 300.0).abs() < 6.0, "{ln}");
        assert_eq!(Rng::new(3).next_u64(), Rng::new(3).next_u64());
    }
}
