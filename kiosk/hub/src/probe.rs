//! The outage detector: probes the operator's business system (`[probe]` in the hall
//! configuration) and, after so many failures in a row, proposes the outage mode to the manager or
//! starts it by itself. It never ends an outage: only a person knows the system truly works again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

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
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
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

/// One probe: `Ok` when the business system answers.
pub async fn probe_once(address: &str) -> Result<(), String> {
    tokio::time::timeout(PROBE_TIMEOUT, probe_inner(address))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())))
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

/// Runs until the hub stops: probe, count failures, act once per run of failures.
pub async fn probe_loop(hub: AppState) {
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
            tokio::time::sleep(IDLE_RECHECK).await;
            continue;
        };
        let result = probe_once(&p.address).await;
        let now = to_rfc3339((hub.clock)());
        let in_outage = hub.snapshot().live.outage.is_some();
        let mut act = false;
        set_status(&hub, |s| {
            if s.address.as_deref() != Some(p.address.as_str()) {
                *s = ProbeStatus::default();
            }
            s.configured = true;
            s.address = Some(p.address.clone());
            s.action = Some(p.action);
            s.threshold = p.failures;
            s.checked_at = Some(now);
            match &result {
                Ok(()) => {
                    s.failures = 0;
                    s.last_error = None;
                    s.last_ok_at = Some(now);
                    s.proposed = false;
                }
                Err(e) => {
                    s.failures = s.failures.saturating_add(1);
                    s.last_error = Some(e.clone());
                    // Act once when the threshold is reached, not on every failure after it.
                    act = s.failures == p.failures && !in_outage;
                }
            }
            if !in_outage {
                s.started_outage = false;
            }
        });
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
                            Actor::new("outage-detector", Role::Manager, None),
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
