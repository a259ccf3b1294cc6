//! A short business day with figures worked out by hand, played through the real engine and
//! writer into a hall database: what the report tests (API and browser) check the reports
//! against, and a quick way to see the manager's report page with data.
//!
//! The day, in the hall's local time (demo hall, opening 08:30, target wait 15 min, long service
//! 15 min):
//!
//! | ticket | issued | first call      | start  | end                 | wait | service |
//! |--------|--------|-----------------|--------|---------------------|------|---------|
//! | B001   | 09:00  | 09:04 li, c1    | 09:05  | finished 09:10      | 4    | 5       |
//! | B002   | 09:00  | 09:06 wang, c2  | 09:06  | finished 09:26      | 6    | 20 long |
//! | A001   | 09:05  | 09:10 li, c1    | —      | no-show 09:12       | 5    | —       |
//! | E001   | 10:00  | 10:20 li, c1    | 10:20  | finished 10:25      | 20   | 5       |
//! | B003   | 10:02  | 10:03 wang, c2  | 10:03  | transferred 10:05 to account; li calls 10:26, starts 10:26, finished 10:30 | 1 | 4 |
//!
//! Counter 1 opened 08:20 by li (10 min early), counter 2 at 08:35 by wang (5 min late). Wang
//! said the business system was slow from 09:06 to 09:26 (B002's long service): one slow system,
//! 20 minutes.
//! Ratings: B001 非常满意 (5), B002 基本满意 (3), E001 满意 (4).
//!
//! Hence: issued 5, served 4, no-shows 1, transfers 1; waits 1, 4, 5, 6, 20 min → mean 7.2,
//! median 5, 90th percentile 14.4 (linear between ranks), 4 of 5 within 15 min (80 %); service
//! times 5, 20, 5, 4 → mean 8.5 min, one long service; 3 ratings, mean 4.0, 2 of 3 satisfied;
//! hour 09: waits 4, 6, 5 (mean 5.0); hour 10: waits 20, 1 (mean 10.5).

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveTime, TimeZone};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Reply, TransferTo};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::Role;
use hallq_shared::report::Satisfaction;
use hallq_shared::store::writer::{Clock, HallWriter, WriterOptions};
use hallq_shared::store::{Store, StoreError, WriterError};

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Writer(#[from] WriterError),
    #[error("the sample day needs the demo hall's services and counters 1 and 2: {0}")]
    Config(String),
    #[error("unexpected reply {0}")]
    Reply(String),
    #[error("rating: {0}")]
    Rating(String),
}

struct Script {
    writer: HallWriter,
    clock: Arc<Mutex<i64>>,
    tz: chrono_tz::Tz,
    day: NaiveDate,
}

impl Script {
    fn at(&self, h: u32, m: u32) {
        let local = self
            .day
            .and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
        let at = self
            .tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default();
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    fn run(&self, actor: Actor, cmd: Command) -> Result<Reply, SampleError> {
        Ok(self.writer.execute(cmd, actor)?.reply)
    }

    fn clerk(&self, login: &str, counter: u32, cmd: Command) -> Result<Reply, SampleError> {
        self.run(Actor::new(login, Role::Staff, Some(counter)), cmd)
    }

    fn issue(&self, service: &str) -> Result<String, SampleError> {
        match self.run(
            Actor::new("kiosk-1", Role::Kiosk, None),
            Command::IssueTicket {
                service: service.into(),
                priority: false,
            },
        )? {
            Reply::Issued(t) => Ok(t.number),
            other => Err(SampleError::Reply(format!("{other:?}"))),
        }
    }

    fn call(&self, login: &str, counter: u32, number: &str) -> Result<(), SampleError> {
        self.clerk(
            login,
            counter,
            Command::CallNumber {
                counter,
                number: number.into(),
            },
        )?;
        Ok(())
    }
}

/// Play the sample day on `day` into the database at `db`, with `config` (the demo hall's
/// services `pay`, `account`, `consult` and counters 1 and 2 are needed).
pub fn play(db: &std::path::Path, config: &HallConfig, day: NaiveDate) -> Result<(), SampleError> {
    for s in ["pay", "account", "consult"] {
        if config.service(s).is_none() {
            return Err(SampleError::Config(format!("no service {s:?}")));
        }
    }
    for (c, s) in [(1, "account"), (1, "pay"), (1, "consult"), (2, "pay")] {
        if !config.counter(c).is_some_and(|k| k.serves(s)) {
            return Err(SampleError::Config(format!(
                "counter {c} does not serve {s}"
            )));
        }
    }
    let mut store = Store::open(db)?;
    store.save_config(config, 0, "sample-day")?;
    let hall = store.load_hall(config, day)?;
    let clock_value = Arc::new(Mutex::new(0));
    let c = clock_value.clone();
    let clock: Clock = Arc::new(move || *c.lock().unwrap_or_else(|p| p.into_inner()));
    let writer = HallWriter::start(
        store,
        hall,
        clock,
        WriterOptions {
            tick_every: std::time::Duration::from_secs(24 * 3600),
            max_batch: 64,
        },
        |_| {},
    );
    let s = Script {
        writer,
        clock: clock_value,
        tz: config.time_zone(),
        day,
    };
    let open = Command::SetCounter {
        counter: 1,
        state: CounterState::Open,
    };
    s.at(8, 20);
    s.clerk("li", 1, open)?;
    s.at(8, 35);
    s.clerk(
        "wang",
        2,
        Command::SetCounter {
            counter: 2,
            state: CounterState::Open,
        },
    )?;

    s.at(9, 0);
    let b001 = s.issue("pay")?;
    let b002 = s.issue("pay")?;
    s.at(9, 4);
    s.call("li", 1, &b001)?;
    s.at(9, 5);
    let a001 = s.issue("account")?;
    s.clerk("li", 1, Command::Start { counter: 1 })?;
    s.at(9, 6);
    s.call("wang", 2, &b002)?;
    s.clerk("wang", 2, Command::Start { counter: 2 })?;
    s.clerk("wang", 2, Command::SetSlowSystem { slow: true })?;
    s.at(9, 10);
    s.clerk("li", 1, Command::Finish { counter: 1 })?;
    s.call("li", 1, &a001)?;
    s.at(9, 12);
    s.clerk("li", 1, Command::NoShow { counter: 1 })?;
    s.at(9, 26);
    s.clerk("wang", 2, Command::Finish { counter: 2 })?;
    s.clerk("wang", 2, Command::SetSlowSystem { slow: false })?;

    s.at(10, 0);
    let e001 = s.issue("consult")?;
    s.at(10, 2);
    let b003 = s.issue("pay")?;
    s.at(10, 3);
    s.call("wang", 2, &b003)?;
    s.clerk("wang", 2, Command::Start { counter: 2 })?;
    s.at(10, 5);
    s.clerk(
        "wang",
        2,
        Command::Transfer {
            counter: 2,
            to: TransferTo::Service("account".into()),
        },
    )?;
    s.at(10, 20);
    s.call("li", 1, &e001)?;
    s.clerk("li", 1, Command::Start { counter: 1 })?;
    s.at(10, 25);
    s.clerk("li", 1, Command::Finish { counter: 1 })?;
    s.at(10, 26);
    s.call("li", 1, &b003)?;
    s.clerk("li", 1, Command::Start { counter: 1 })?;
    s.at(10, 30);
    s.clerk("li", 1, Command::Finish { counter: 1 })?;

    s.at(10, 31);
    for (number, counter, score) in [(&b001, 1, 5), (&b002, 2, 3), (&e001, 1, 4)] {
        let number = number.clone();
        let at = *s.clock.lock().unwrap_or_else(|p| p.into_inner());
        let score = Satisfaction::from_score(score).unwrap_or(Satisfaction::Fair);
        s.writer
            .admin_blocking(move |store, _| {
                store
                    .add_rating(day, &number, Some(counter), score, at)
                    .map_err(|e| e.to_string())
            })?
            .map_err(SampleError::Rating)?;
    }
    let mut writer = s.writer;
    writer.shutdown();
    Ok(())
}
