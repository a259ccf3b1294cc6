//! Crash test: a child issues and calls tickets as fast as it can and prints each acknowledged
//! result; it is killed with SIGKILL at random moments, many rounds over the same database. After
//! every round the database must hold every acknowledged ticket in the acknowledged state, with
//! numbering continuing and no number given twice.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;
use hallq_shared::hall::TicketState;
use hallq_shared::store::{Store, db_path};

const ROUNDS: usize = 25;

/// A small deterministic-per-run generator: the kill moments differ between runs, which is the point.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[test]
fn every_acknowledged_ticket_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Lcg(seed);
    println!("kill-moment seed {seed}");
    let mut issued: BTreeSet<String> = BTreeSet::new();
    let mut called: BTreeMap<String, u32> = BTreeMap::new();
    let mut total_lines = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallq-crash-child"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(40 + rng.next(400)));
        child.kill().unwrap(); // SIGKILL
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        child.wait().unwrap();
        for line in out.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["issued", n] => {
                    assert!(
                        issued.insert(n.to_string()),
                        "round {round}: number {n} acknowledged twice"
                    );
                    total_lines += 1;
                }
                ["called", n, c] => {
                    called.insert(n.to_string(), c.parse().unwrap());
                    total_lines += 1;
                }
                // A line cut by the kill was never fully acknowledged.
                _ => {}
            }
        }
        // Reopen as the next start would and check everything acknowledged so far.
        let store = Store::open(&db_path(dir.path())).unwrap();
        let tickets: BTreeMap<String, _> = store
            .tickets_of_day(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
            .unwrap()
            .into_iter()
            .map(|t| (t.number.clone(), t))
            .collect();
        for n in &issued {
            assert!(
                tickets.contains_key(n),
                "round {round}: acknowledged ticket {n} is missing"
            );
        }
        for (n, c) in &called {
            let t = &tickets[n];
            assert_ne!(
                t.state,
                TicketState::Waiting,
                "round {round}: {n} was called but is waiting again"
            );
            assert!(t.called_at.is_some());
            let _ = c;
        }
        let events = store
            .events_of_day(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
            .unwrap();
        assert!(
            events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
            "round {round}: history has a gap"
        );
    }
    assert!(
        total_lines > 200,
        "the child got some work done ({total_lines} acknowledgements)"
    );
    println!(
        "{ROUNDS} kills, {} tickets and {} calls acknowledged, all present",
        issued.len(),
        called.len()
    );
}
