//! The outage detector: probes the operator's business system (`[probe]` in the hall
//! configuration) and, after so many failures in a row, proposes the outage mode to the manager or
//! starts it by itself. It never ends an outage: only a person knows the system truly works again.
//! It also times the answers: after as many slow answers in a row it proposes, or marks, the
//! business system slow, so that the wait estimates expect longer services before the first slow
//! customers have finished; a slowness it marked itself it ends once the answers are quick again.
//! The usual answer time is kept in the store, so a restart does not forget it.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use hallq_shared::config::{ProbeAction, ProbeSettings};
use hallq_shared::engine::{Actor, Command};
use hallq_shared::hall::time::to_rfc3339;
use hallq_shared::protocol::Role;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::ApiResult;
use super::state::AppState;

/// Longest a probe may take before it counts as failed.
pub const PROBE_TIMEOUT: Duration =
    Duration::from_millis(hallq_shared::config::PROBE_TIMEOUT_MS as u64);
/// The usual answer time is the median of this many normal answers, the newest.
const USUAL_OF: usize = 20;
/// Normal answers needed before the usual answer time is trusted.
const USUAL_MIN: usize = 5;
/// Without `slow_ms`, an answer this many times the usual one is slow...
const SLOW_FACTOR: u32 = 4;
/// ...and at least this slow (milliseconds): a system that usually answers in 20 ms and now in 90
/// still serves a customer at the usual pace.
const SLOW_FLOOR_MS: u32 = 1_000;
/// Once the usual answer is known, the answer times are kept in the store every this many
/// answers learnt.
const KEEP_EVERY: u64 = 10;
/// A slowness the detector marked ends after this many times `failures` quick answers in a row:
/// slower to end than to begin, so that a system that is slow by turns is not marked and unmarked
/// every few minutes.
const QUICK_TO_END: u32 = 2;

/// The business system's answer times: what is usual, and the runs of slow and quick answers.
#[derive(Debug, Default, Clone)]
pub struct AnswerTimes {
    /// Milliseconds of the newest normal answers, oldest first.
    normal: VecDeque<u32>,
    /// Slow answers in a row (a probe without answer does not break the run).
    pub slow_in_row: u32,
    /// Quick answers in a row.
    pub quick_in_row: u32,
    /// Answers learnt since this hub started.
    pub learnt: u64,
}

impl AnswerTimes {
    /// The answer times kept before a restart (oldest first): the usual answer is known at once.
    pub fn restored(kept: &[u32]) -> Self {
        AnswerTimes {
            normal: kept[kept.len().saturating_sub(USUAL_OF)..]
                .iter()
                .copied()
                .collect(),
            ..AnswerTimes::default()
        }
    }

    /// The newest normal answers, oldest first: what is kept for the next start.
    pub fn normal_answers(&self) -> Vec<u32> {
        self.normal.iter().copied().collect()
    }

    /// Whether the answers are worth keeping after the one just learnt: each while the usual
    /// answer is being built, then every [`KEEP_EVERY`] (a write to the SD card every few minutes
    /// rather than on every probe).
    pub fn worth_keeping(&self) -> bool {
        self.learnt > 0
            && (self.normal.len() <= USUAL_MIN || self.learnt.is_multiple_of(KEEP_EVERY))
    }

    /// The median of the newest normal answers, once there are enough of them.
    pub fn usual_ms(&self) -> Option<u32> {
        if self.normal.len() < USUAL_MIN {
            return None;
        }
        let mut v: Vec<u32> = self.normal.iter().copied().collect();
        v.sort_unstable();
        Some(v[v.len() / 2])
    }

    /// From how many milliseconds an answer counts as slow: the configured limit, or four times
    /// the usual answer and at least a second; `None` while the usual answer is not known yet.
    pub fn slow_limit_ms(&self, configured: Option<u32>) -> Option<u32> {
        configured.or_else(|| {
            self.usual_ms()
                .map(|u| u.saturating_mul(SLOW_FACTOR).max(SLOW_FLOOR_MS))
        })
    }

    /// Records an answer that took `ms`; true when it was slow. An answer is quick only against a
    /// known limit. Only answers that are not slow, given while the system is not marked slow
    /// (`learn`), count towards the usual time: a long slowness must not become the usual, nor
    /// must the answers after a restart in the middle of one.
    pub fn answered(&mut self, ms: u32, configured: Option<u32>, learn: bool) -> bool {
        let limit = self.slow_limit_ms(configured);
        let slow = limit.is_some_and(|limit| ms >= limit);
        if slow {
            self.slow_in_row = self.slow_in_row.saturating_add(1);
            self.quick_in_row = 0;
            return true;
        }
        self.slow_in_row = 0;
        self.quick_in_row = if limit.is_some() {
            self.quick_in_row.saturating_add(1)
        } else {
            0
        };
        if learn {
            if self.normal.len() == USUAL_OF {
                self.normal.pop_front();
            }
            self.normal.push_back(ms);
            self.learnt += 1;
        }
        false
    }

    /// Records a probe that got no answer.
    pub fn failed(&mut self) {
        self.quick_in_row = 0;
    }
}
/// How often a hub without `[probe]` looks whether one was configured.
const IDLE_RECHECK: Duration = Duration::from_secs(15);

/// What the detector knows, for the manager page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProbeStatus {
    pub configured: bool,
    pub address: Option<String>,
    pub action: Option<ProbeAction>,
    /// Failed probes in a row.
    pub failures: u32,
    /// Failures in a row that trigger the action.
    pub threshold: u32,
    pub last_error: Option<String>,
    pub last_ok_at: Option<chrono::DateTime<chrono::Utc>>,
    pub checked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The threshold was reached while the hall was not in outage mode.
    pub proposed: bool,
    /// The detector started the current outage.
    pub started_outage: bool,
    /// How long the last answer took (milliseconds).
    pub answer_ms: Option<u32>,
    /// The usual answer time: the median of the newest normal answers.
    pub usual_ms: Option<u32>,
    /// From how long an answer counts as slow (`None` until the usual time is known).
    pub slow_limit_ms: Option<u32>,
    /// Slow answers in a row.
    pub slow_answers: u32,
    /// The slow-answer threshold was reached while the system was not marked slow.
    pub slow_proposed: bool,
    /// The detector marked the current slowness.
    pub started_slow: bool,
    /// Staff marked the system slow and it has answered at its usual speed for twice `failures`
    /// probes in a row: ending the mark is proposed (a mark forgotten keeps the screens
    /// apologising and the waits long all day).
    pub slow_end_proposed: bool,
}

fn statuses() -> &'static Mutex<HashMap<PathBuf, ProbeStatus>> {
    static S: OnceLock<Mutex<HashMap<PathBuf, ProbeStatus>>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(HashMap::new()))
}

pub fn status(hub: &AppState) -> ProbeStatus {
    statuses()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&hub.db)
        .cloned()
        .unwrap_or_default()
}

fn set_status(hub: &AppState, f: impl FnOnce(&mut ProbeStatus)) {
    let mut all = statuses().lock().unwrap_or_else(|p| p.into_inner());
    f(all.entry(hub.db.clone()).or_default());
}

/// `GET /api/v1/outage/probe` (manager).
pub async fn probe_status(State(hub): State<AppState>) -> ApiResult<Json<ProbeStatus>> {
    Ok(Json(status(&hub)))
}

/// One probe: how long the business system took to answer, or why it did not.
pub async fn probe_once(address: &str) -> Result<Duration, String> {
    let started = Instant::now();
    tokio::time::timeout(PROBE_TIMEOUT, probe_inner(address))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())))
        .map(|()| started.elapsed())
}

async fn probe_inner(address: &str) -> Result<(), String> {
    if let Some(hostport) = address.strip_prefix("tcp://") {
        TcpStream::connect(hostport.trim_end_matches('/'))
            .await
            .map(|_| ())
            .map_err(|e| format!("connect {hostport}: {e}"))
    } else if let Some(rest) = address.strip_prefix("http://") {
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let mut s = TcpStream::connect(hostport)
            .await
            .map_err(|e| format!("connect {hostport}: {e}"))?;
        let host = hostport.split(':').next().unwrap_or(hostport);
        s.write_all(
            format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: hallq-probe\r\n\r\n")
                .as_bytes(),
        )
        .await
        .map_err(|e| format!("send: {e}"))?;
        let mut head = [0u8; 64];
        let mut n = 0;
        while n < 12 {
            let m = s
                .read(&mut head[n..])
                .await
                .map_err(|e| format!("read: {e}"))?;
            if m == 0 {
                break;
            }
            n += m;
        }
        let line = String::from_utf8_lossy(&head[..n]);
        let code: u16 = line
            .strip_prefix("HTTP/1.")
            .and_then(|r| r.get(2..5))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| {
                format!(
                    "not an HTTP answer: {:?}",
                    line.lines().next().unwrap_or("")
                )
            })?;
        if code < 500 {
            Ok(())
        } else {
            Err(format!("HTTP {code}"))
        }
    } else {
        Err(format!("unsupported probe address {address:?}"))
    }
}

/// What the detector does about the answers' speed after one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlowStep {
    Nothing,
    Propose,
    Mark,
    Unmark,
}

/// The actor the detector's own commands are recorded under.
const DETECTOR: &str = "outage-detector";

/// Whether the detector marked the slowness going on now: after a restart it still ends its own.
pub async fn slowness_is_ours(hub: &AppState) -> bool {
    let (slow, day) = {
        let hall = hub.writer.hall().read().unwrap_or_else(|p| p.into_inner());
        (hall.slow_since().is_some(), hall.day)
    };
    if !slow {
        return false;
    }
    hub.read(move |store| store.slow_mark(day))
        .await
        .ok()
        .flatten()
        .is_some_and(|(_, actor)| actor == DETECTOR)
}

/// Runs until the hub stops: probe, count failures and slow answers, act once per run of either.
pub async fn probe_loop(hub: AppState) {
    let mut times = AnswerTimes::default();
    // The address `times` were measured on.
    let mut times_of: Option<String> = None;
    if slowness_is_ours(&hub).await {
        set_status(&hub, |s| s.started_slow = true);
    }
    // The answer times of the last run, used if the address is still the same.
    let mut kept = match hub.read(|store| store.probe_answers()).await {
        Ok(kept) => kept,
        Err(e) => {
            tracing::warn!(error = %e.message, "the outage detector's kept answer times cannot be read: learning them afresh");
            None
        }
    };
    loop {
        let settings: Option<ProbeSettings> = hub
            .writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .config
            .probe
            .clone();
        let Some(p) = settings else {
            set_status(&hub, |s| *s = ProbeStatus::default());
            times = AnswerTimes::default();
            times_of = None;
            tokio::time::sleep(IDLE_RECHECK).await;
            continue;
        };
        let result = probe_once(&p.address).await;
        let now = to_rfc3339((hub.clock)());
        let live = hub.snapshot().live;
        let in_outage = live.outage.is_some();
        let is_slow = live.slow_since.is_some();
        let mut act = false;
        let mut slow_step = SlowStep::Nothing;
        let learnt = times.learnt;
        set_status(&hub, |s| {
            // A new address (or the first probe): what was known of the old one goes.
            if times_of.as_deref() != Some(p.address.as_str()) {
                let ours = s.started_slow;
                *s = ProbeStatus {
                    started_slow: ours,
                    ..ProbeStatus::default()
                };
                times = match kept.take() {
                    Some((address, ms)) if address == p.address => AnswerTimes::restored(&ms),
                    _ => AnswerTimes::default(),
                };
                times_of = Some(p.address.clone());
            }
            s.configured = true;
            s.address = Some(p.address.clone());
            s.action = Some(p.action);
            s.threshold = p.failures;
            s.checked_at = Some(now);
            if !is_slow {
                s.started_slow = false;
                s.slow_end_proposed = false;
            }
            match &result {
                Ok(took) => {
                    let ms = u32::try_from(took.as_millis()).unwrap_or(u32::MAX);
                    s.failures = 0;
                    s.last_error = None;
                    s.last_ok_at = Some(now);
                    s.proposed = false;
                    s.answer_ms = Some(ms);
                    if times.answered(ms, p.slow_ms, !is_slow) {
                        // Once per run of slow answers, as for failures.
                        if times.slow_in_row == p.failures && !is_slow && !in_outage {
                            slow_step = match p.action {
                                ProbeAction::Propose => SlowStep::Propose,
                                ProbeAction::Start => SlowStep::Mark,
                            };
                        }
                        s.slow_end_proposed = false;
                    } else {
                        s.slow_proposed = false;
                        let usual_again =
                            times.quick_in_row >= p.failures.saturating_mul(QUICK_TO_END);
                        if s.started_slow && usual_again {
                            slow_step = SlowStep::Unmark;
                        }
                        s.slow_end_proposed = is_slow && !s.started_slow && usual_again;
                    }
                }
                Err(e) => {
                    times.failed();
                    s.slow_end_proposed = false;
                    s.failures = s.failures.saturating_add(1);
                    s.last_error = Some(e.clone());
                    // Act once when the threshold is reached, not on every failure after it.
                    act = s.failures == p.failures && !in_outage;
                }
            }
            s.usual_ms = times.usual_ms();
            s.slow_limit_ms = times.slow_limit_ms(p.slow_ms);
            s.slow_answers = times.slow_in_row;
            if !in_outage {
                s.started_outage = false;
            }
        });
        if times.learnt != learnt && times.worth_keeping() {
            let (address, ms) = (p.address.clone(), times.normal_answers());
            if let Err(e) = hub
                .admin(move |store| store.set_probe_answers(&address, &ms))
                .await
            {
                tracing::warn!(error = %e.message, "the outage detector's answer times cannot be kept");
            }
        }
        match slow_step {
            SlowStep::Nothing => {}
            SlowStep::Propose => {
                tracing::warn!(address = %p.address, answers = p.failures, "business system answering slowly: marking it slow proposed");
                set_status(&hub, |s| s.slow_proposed = true);
            }
            SlowStep::Mark | SlowStep::Unmark => {
                let slow = slow_step == SlowStep::Mark;
                let r = hub
                    .exec(
                        Command::SetSlowSystem { slow },
                        Actor::new(DETECTOR, Role::Manager, None),
                    )
                    .await;
                match r {
                    Ok(_) => {
                        tracing::warn!(address = %p.address, slow, "business system's answers: marked slow or back to usual");
                        set_status(&hub, |s| s.started_slow = slow);
                    }
                    Err(e) => {
                        tracing::error!(error = %e.message, "outage detector could not mark the system's speed")
                    }
                }
            }
        }
        if act {
            match p.action {
                ProbeAction::Propose => {
                    tracing::warn!(address = %p.address, failures = p.failures, "business system not answering: outage mode proposed");
                    set_status(&hub, |s| s.proposed = true);
                }
                ProbeAction::Start => {
                    let r = hub
                        .exec(
                            Command::StartOutage {
                                expected_minutes: p.expected_minutes,
                                message: Some(
                                    "业务系统暂时无法访问,我们正在处理 / The business system is temporarily unavailable".into(),
                                ),
                            },
                            Actor::new(DETECTOR, Role::Manager, None),
                        )
                        .await;
                    match r {
                        Ok(_) => {
                            tracing::warn!(address = %p.address, "business system not answering: outage mode started");
                            set_status(&hub, |s| s.started_outage = true);
                        }
                        Err(e) => {
                            tracing::error!(error = %e.message, "outage detector could not start the outage")
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(u64::from(p.every_s.max(1)))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_answer_is_the_median_of_normal_answers_and_slow_is_four_times_it() {
        let mut t = AnswerTimes::default();
        for ms in [100, 120, 80, 110] {
            assert!(!t.answered(ms, None, true), "no limit before five answers");
        }
        assert_eq!(t.slow_limit_ms(None), None);
        assert_eq!(t.quick_in_row, 0, "nor is anything quick");
        assert!(
            !t.answered(400, None, true),
            "the fifth answer still builds the usual"
        );
        assert_eq!(t.usual_ms(), Some(110));
        assert_eq!(t.slow_limit_ms(None), Some(1_000), "at least a second");
        assert!(t.answered(1_200, None, true));
        assert!(t.answered(3_000, None, true));
        assert_eq!(t.slow_in_row, 2);
        assert_eq!(
            t.usual_ms(),
            Some(110),
            "slow answers stay out of the usual"
        );
        t.failed();
        assert_eq!(
            t.slow_in_row, 2,
            "no answer does not break a run of slow ones"
        );
        assert!(!t.answered(90, None, true));
        assert_eq!((t.slow_in_row, t.quick_in_row), (0, 1));
        assert!(!t.answered(900, None, false));
        assert_eq!(
            t.quick_in_row, 2,
            "quick, though not learnt while marked slow"
        );
        assert_eq!(t.normal.len(), 6);

        // A hub restarted while the system is marked slow learns nothing from its answers.
        let mut restarted = AnswerTimes::default();
        for _ in 0..10 {
            assert!(!restarted.answered(1_500, None, false));
        }
        assert_eq!((restarted.usual_ms(), restarted.quick_in_row), (None, 0));

        let mut busy = AnswerTimes::default();
        for _ in 0..5 {
            busy.answered(600, None, true);
        }
        assert_eq!(busy.slow_limit_ms(None), Some(2_400));
        assert!(!busy.answered(2_000, None, true));
        assert!(
            busy.answered(2_000, Some(1_500), true),
            "a configured limit wins"
        );
    }

    #[test]
    fn answer_times_are_kept_while_the_usual_is_built_then_every_tenth_and_restored() {
        let mut t = AnswerTimes::default();
        assert!(!t.worth_keeping(), "nothing learnt yet");
        let mut kept_at = Vec::new();
        for i in 1..=30u32 {
            t.answered(100 + i, None, true);
            if t.worth_keeping() {
                kept_at.push(i);
            }
        }
        assert_eq!(kept_at, [1, 2, 3, 4, 5, 10, 20, 30]);
        let back = AnswerTimes::restored(&t.normal_answers());
        assert_eq!(
            back.usual_ms(),
            t.usual_ms(),
            "known at once after a restart"
        );
        assert_eq!(
            (back.learnt, back.slow_in_row, back.quick_in_row),
            (0, 0, 0)
        );
        let long: Vec<u32> = (0..50).collect();
        assert_eq!(
            AnswerTimes::restored(&long).normal_answers(),
            (30..50).collect::<Vec<u32>>(),
            "only the newest are used"
        );
        assert_eq!(AnswerTimes::restored(&[]).usual_ms(), None);
    }

    #[test]
    fn the_usual_answer_forgets_old_answers() {
        let mut t = AnswerTimes::default();
        for _ in 0..USUAL_OF {
            t.answered(50, None, true);
        }
        for _ in 0..USUAL_OF / 2 + 1 {
            t.answered(300, None, true);
        }
        assert_eq!(t.usual_ms(), Some(300));
    }
}
