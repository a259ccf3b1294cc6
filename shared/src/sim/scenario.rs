//! The simulated days: who comes when, how long their business takes, which counters serve them.

use chrono::NaiveTime;

use crate::config::HallConfig;
use crate::hall::{Counter, CounterId, Service, Text};

/// How a service's durations are spread around their mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// Exponential: as many very short as very long services (coefficient of variation 1).
    Exponential,
    /// Log-normal with this log-scale spread: most services near the median, a long tail.
    LogNormal(f64),
}

#[derive(Clone, Debug)]
pub struct SimService {
    pub id: &'static str,
    pub prefix: char,
    /// Arrivals per hour before the daily profile is applied.
    pub per_hour: f64,
    pub mean_s: f64,
    pub spread: Spread,
    pub weight: u32,
}

#[derive(Clone, Debug)]
pub struct SimCounter {
    pub id: CounterId,
    /// Most preferred first, as in the hall's configuration.
    pub services: Vec<&'static str>,
    /// Minutes after opening at which the clerk arrives.
    pub opens_after_min: u32,
    /// Lunch: minutes after opening the counter pauses (after its current customer), and for how
    /// long.
    pub lunch: Option<(u32, u32)>,
}

/// Service times of every service are multiplied by `factor` for services starting from
/// `after_min` minutes after opening (a slow business system).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slowdown {
    pub after_min: u32,
    pub factor: f64,
    /// Minutes after it begins at which a clerk says the business system is slow (and never says
    /// it is over): `None` when nobody says so.
    pub declared_after_min: Option<u32>,
}

/// The business system down on the measured day: no counter does business from `at_min` minutes
/// after opening for `lasts_min` minutes; the manager says it will take `expected_min`. A service
/// under way when it begins goes on once it is over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimOutage {
    pub at_min: u32,
    pub expected_min: u32,
    pub lasts_min: u32,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub services: Vec<SimService>,
    pub counters: Vec<SimCounter>,
    /// Arrival multipliers for each hour after opening (the last repeats).
    pub profile: Vec<f64>,
    pub priority_share: f64,
    pub no_show_share: f64,
    pub slowdown: Option<Slowdown>,
    pub outage: Option<SimOutage>,
    /// Same-weekday days run before the measured one, so that the hall has history.
    pub history_days: u32,
    /// Is this a day on which the service times stay the same all day (the RMSE target applies)?
    pub steady: bool,
}

pub const OPENING: (u32, u32) = (9, 0);
pub const LAST_TICKET: (u32, u32) = (16, 30);

impl Scenario {
    /// The hall's configuration for this scenario: the demo hall's words with these services and
    /// counters.
    pub fn config(&self) -> HallConfig {
        let mut c = HallConfig::demo();
        c.hours.opening = hm(OPENING);
        c.hours.last_ticket = hm(LAST_TICKET);
        c.hours.closing = hm((18, 0));
        c.services = self
            .services
            .iter()
            .map(|s| Service {
                id: s.id.into(),
                prefix: s.prefix,
                name: Text::new(s.id, s.id),
                documents: vec![],
                steps: vec![],
                fees: vec![],
                reminder: None,
                weight: s.weight,
                enabled: true,
                usual_minutes: None,
            })
            .collect();
        c.counters = self
            .counters
            .iter()
            .map(|k| Counter {
                id: k.id,
                name: Text::new(format!("{}号窗口", k.id), format!("Counter {}", k.id)),
                services: k.services.iter().map(|s| s.to_string()).collect(),
            })
            .collect();
        c
    }

    /// Offered load per counter over the day's base rates (before the profile): λ·E[S]/s.
    pub fn base_load(&self) -> f64 {
        let work: f64 = self
            .services
            .iter()
            .map(|s| s.per_hour / 3600.0 * s.mean_s)
            .sum();
        work / self.counters.len() as f64
    }
}

fn hm((h, m): (u32, u32)) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

fn svc(id: &'static str, prefix: char, per_hour: f64, mean_s: f64, spread: Spread) -> SimService {
    SimService {
        id,
        prefix,
        per_hour,
        mean_s,
        spread,
        weight: 1,
    }
}

fn counter(id: CounterId, services: &[&'static str]) -> SimCounter {
    SimCounter {
        id,
        services: services.to_vec(),
        opens_after_min: 0,
        lunch: None,
    }
}

/// Arrivals per hour for `counters` counters at `load` with mean service `mean_s`.
fn rate(load: f64, counters: f64, mean_s: f64) -> f64 {
    load * counters * 3600.0 / mean_s
}

const FLAT: [f64; 1] = [1.0];
/// A hall's day: a morning peak, a quieter lunch hour, an afternoon peak.
const DAILY: [f64; 8] = [1.15, 1.2, 1.05, 0.7, 0.85, 1.1, 1.05, 0.9];

/// The scenarios of the benchmark table.
pub fn scenarios() -> Vec<Scenario> {
    let one = |n: CounterId| (1..=n).map(|i| counter(i, &["pay"])).collect::<Vec<_>>();
    vec![
        Scenario {
            name: "steady, 3 counters, exp 5 min, load 0.87",
            services: vec![svc(
                "pay",
                'A',
                rate(0.87, 3.0, 300.0),
                300.0,
                Spread::Exponential,
            )],
            counters: one(3),
            profile: FLAT.to_vec(),
            priority_share: 0.0,
            no_show_share: 0.0,
            slowdown: None,
            history_days: 2,
            outage: None,
            steady: true,
        },
        Scenario {
            name: "steady, 4 counters, log-normal 7 min σ0.8, daily profile",
            services: vec![svc(
                "pay",
                'A',
                rate(0.85, 4.0, 420.0),
                420.0,
                Spread::LogNormal(0.8),
            )],
            counters: one(4),
            profile: DAILY.to_vec(),
            priority_share: 0.05,
            no_show_share: 0.04,
            slowdown: None,
            history_days: 2,
            outage: None,
            steady: true,
        },
        Scenario {
            name: "two services on separate counters",
            services: vec![
                svc(
                    "pay",
                    'A',
                    rate(0.85, 2.0, 240.0),
                    240.0,
                    Spread::Exponential,
                ),
                svc(
                    "repair",
                    'B',
                    rate(0.8, 2.0, 600.0),
                    600.0,
                    Spread::LogNormal(0.6),
                ),
            ],
            counters: vec![
                counter(1, &["pay"]),
                counter(2, &["pay"]),
                counter(3, &["repair"]),
                counter(4, &["repair"]),
            ],
            profile: FLAT.to_vec(),
            priority_share: 0.0,
            no_show_share: 0.0,
            slowdown: None,
            history_days: 2,
            outage: None,
            steady: true,
        },
        Scenario {
            name: "service time doubles at 12:00",
            services: vec![svc(
                "pay",
                'A',
                rate(0.45, 3.0, 240.0),
                240.0,
                Spread::Exponential,
            )],
            counters: one(3),
            profile: FLAT.to_vec(),
            priority_share: 0.0,
            no_show_share: 0.0,
            slowdown: Some(Slowdown {
                after_min: 180,
                factor: 2.0,
                declared_after_min: None,
            }),
            history_days: 2,
            outage: None,
            steady: false,
        },
        Scenario {
            name: "business system down at 11:00, said 20 min, back after 25",
            services: vec![svc(
                "pay",
                'A',
                rate(0.8, 3.0, 300.0),
                300.0,
                Spread::Exponential,
            )],
            counters: one(3),
            profile: FLAT.to_vec(),
            priority_share: 0.0,
            no_show_share: 0.0,
            slowdown: None,
            history_days: 2,
            outage: Some(SimOutage {
                at_min: 120,
                expected_min: 20,
                lasts_min: 25,
            }),
            steady: false,
        },
        Scenario {
            name: "opening rush, no history, one counter 30 min late",
            services: vec![svc(
                "pay",
                'A',
                rate(0.8, 3.0, 300.0),
                300.0,
                Spread::LogNormal(0.7),
            )],
            counters: {
                let mut c = one(3);
                c[2].opens_after_min = 30;
                c
            },
            profile: vec![2.0, 1.0, 0.8],
            priority_share: 0.0,
            no_show_share: 0.0,
            slowdown: None,
            history_days: 0,
            outage: None,
            steady: false,
        },
        Scenario {
            name: "shared counters, priority, no-shows, lunch",
            services: vec![
                svc("pay", 'A', 0.0, 240.0, Spread::Exponential),
                svc("account", 'B', 0.0, 540.0, Spread::LogNormal(0.7)),
                svc("repair", 'C', 0.0, 420.0, Spread::LogNormal(0.5)),
            ],
            counters: vec![
                SimCounter {
                    lunch: Some((180, 45)),
                    ..counter(1, &["pay", "account"])
                },
                SimCounter {
                    lunch: Some((225, 45)),
                    ..counter(2, &["pay", "repair"])
                },
                SimCounter {
                    lunch: Some((180, 45)),
                    ..counter(3, &["account", "pay"])
                },
                SimCounter {
                    opens_after_min: 20,
                    lunch: Some((225, 45)),
                    ..counter(4, &["repair", "account"])
                },
            ],
            profile: DAILY.to_vec(),
            priority_share: 0.05,
            no_show_share: 0.05,
            slowdown: None,
            history_days: 2,
            outage: None,
            steady: true,
        }
        .with_rates(&[28.0, 6.0, 6.0]),
        Scenario {
            name: "opening rush, 4 shared counters that all call payments first",
            services: vec![
                svc("pay", 'A', 0.0, 240.0, Spread::Exponential),
                svc("account", 'B', 0.0, 540.0, Spread::LogNormal(0.7)),
                svc("stb", 'D', 0.0, 600.0, Spread::LogNormal(0.5)),
                svc("consult", 'E', 0.0, 300.0, Spread::Exponential),
            ],
            counters: vec![
                counter(1, &["pay", "account", "consult"]),
                counter(2, &["pay", "stb"]),
                counter(3, &["pay", "consult", "stb"]),
                counter(4, &["pay", "account", "stb"]),
            ],
            // The first hour brings 1.6 times the day's rate: more than the counters serve,
            // as on the morning after a holiday.
            profile: vec![1.6, 1.1, 1.0, 0.7, 0.85, 1.0, 1.0, 0.9],
            priority_share: 0.03,
            no_show_share: 0.03,
            slowdown: None,
            history_days: 2,
            outage: None,
            steady: true,
        }
        .with_rates(&[24.0, 3.0, 4.0, 5.0]),
    ]
}

/// Scenarios kept out of any tuning: different loads, counters, spreads and days, to check that
/// the estimator's figures are not an artefact of the table's scenarios.
pub fn unseen() -> Vec<Scenario> {
    let one = |n: CounterId| (1..=n).map(|i| counter(i, &["pay"])).collect::<Vec<_>>();
    vec![
        Scenario {
            name: "unseen: 2 counters, exp 6 min, load 0.9",
            services: vec![svc(
                "pay",
                'A',
                rate(0.9, 2.0, 360.0),
                360.0,
                Spread::Exponential,
            )],
            counters: one(2),
            profile: DAILY.to_vec(),
            priority_share: 0.0,
            no_show_share: 0.02,
            slowdown: None,
            history_days: 1,
            outage: None,
            steady: true,
        },
        Scenario {
            name: "unseen: 6 counters, log-normal 4 min σ1.0, load 0.8",
            services: vec![svc(
                "pay",
                'A',
                rate(0.8, 6.0, 240.0),
                240.0,
                Spread::LogNormal(1.0),
            )],
            counters: one(6),
            profile: FLAT.to_vec(),
            priority_share: 0.1,
            no_show_share: 0.0,
            slowdown: None,
            history_days: 3,
            outage: None,
            steady: true,
        },
        Scenario {
            name: "unseen: service time ×1.8 at 10:30, 4 counters",
            services: vec![svc(
                "pay",
                'A',
                rate(0.5, 4.0, 300.0),
                300.0,
                Spread::LogNormal(0.6),
            )],
            counters: one(4),
            profile: FLAT.to_vec(),
            priority_share: 0.0,
            no_show_share: 0.0,
            slowdown: Some(Slowdown {
                after_min: 90,
                factor: 1.8,
                declared_after_min: None,
            }),
            history_days: 1,
            outage: None,
            steady: false,
        },
        Scenario {
            name: "unseen: system down at 14:00, said 15 min, back after 10, 4 counters",
            services: vec![svc(
                "pay",
                'A',
                rate(0.75, 4.0, 360.0),
                360.0,
                Spread::LogNormal(0.8),
            )],
            counters: one(4),
            profile: DAILY.to_vec(),
            priority_share: 0.05,
            no_show_share: 0.02,
            slowdown: None,
            history_days: 1,
            outage: Some(SimOutage {
                at_min: 300,
                expected_min: 15,
                lasts_min: 10,
            }),
            steady: false,
        },
        Scenario {
            name: "unseen: 5 counters shared by 3 services, breaks",
            services: vec![
                svc("pay", 'A', 0.0, 180.0, Spread::Exponential),
                svc("install", 'D', 0.0, 600.0, Spread::LogNormal(0.6)),
                svc("business", 'E', 0.0, 360.0, Spread::LogNormal(0.8)),
            ],
            counters: vec![
                counter(1, &["pay"]),
                SimCounter {
                    lunch: Some((150, 40)),
                    ..counter(2, &["pay", "business"])
                },
                SimCounter {
                    lunch: Some((200, 40)),
                    ..counter(3, &["business", "pay"])
                },
                SimCounter {
                    opens_after_min: 15,
                    lunch: Some((150, 60)),
                    ..counter(4, &["install", "business"])
                },
                SimCounter {
                    lunch: Some((210, 60)),
                    ..counter(5, &["business", "install"])
                },
            ],
            profile: DAILY.to_vec(),
            priority_share: 0.08,
            no_show_share: 0.03,
            slowdown: None,
            history_days: 1,
            outage: None,
            steady: true,
        }
        .with_rates(&[36.0, 8.0, 12.0]),
    ]
}

impl Scenario {
    fn with_rates(mut self, per_hour: &[f64]) -> Scenario {
        for (s, r) in self.services.iter_mut().zip(per_hour) {
            s.per_hour = *r;
        }
        self
    }
}
