//! The kiosk's side of the hub's HTTP API: read the board, issue tickets, leave callbacks and
//! suggestions, report the printer. Blocking calls with a short timeout: only ever made on worker
//! threads, never on the UI thread.

use std::time::Duration;

use hallq_shared::protocol::{
    BoardSnapshot, CallbackCaptured, CaptureCallbackRequest, ErrorBody, IssueTicketRequest,
    PhoneCode, TicketIssued,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::printer::PrinterHealth;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// No connection, or no answer in time.
    #[error("hub unreachable: {0}")]
    Unreachable(String),
    /// The hub answered with a refusal (`{"error":{…}}`).
    #[error("hub refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
        message_zh: Option<String>,
    },
    /// The hub answered something this kiosk does not understand.
    #[error("unexpected answer from the hub: {0}")]
    Protocol(String),
}

impl HubError {
    pub fn code(&self) -> Option<&str> {
        match self {
            HubError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The hub at `base` (e.g. `http://127.0.0.1:8080`), speaking as the kiosk device `token`.
#[derive(Clone)]
pub struct HubClient {
    base: String,
    token: String,
    agent: ureq::Agent,
}

#[derive(Serialize)]
struct SuggestionRequest<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<&'a str>,
}

#[derive(Serialize)]
struct KioskStatus {
    printer: PrinterHealth,
}

impl HubClient {
    pub fn new(base: &str, token: &str, timeout: Duration) -> HubClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        HubClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            agent,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn board(&self) -> Result<BoardSnapshot, HubError> {
        let resp = self
            .agent
            .get(format!("{}/api/v1/board", self.base))
            .header("Authorization", &self.bearer())
            .call();
        read(resp, 200)
    }

    /// The phone code to show now ([`PhoneCode::PATH`]).
    pub fn phone_code(&self) -> Result<PhoneCode, HubError> {
        let resp = self
            .agent
            .get(format!("{}{}", self.base, PhoneCode::PATH))
            .header("Authorization", &self.bearer())
            .call();
        read(resp, 200)
    }

    pub fn issue_ticket(&self, service: &str, priority: bool) -> Result<TicketIssued, HubError> {
        self.post(
            "/api/v1/tickets",
            &IssueTicketRequest {
                service: service.to_string(),
                priority,
            },
        )
    }

    pub fn capture_callback(
        &self,
        req: &CaptureCallbackRequest,
    ) -> Result<CallbackCaptured, HubError> {
        self.post("/api/v1/callbacks", req)
    }

    pub fn suggest(&self, text: &str, contact: Option<&str>) -> Result<(), HubError> {
        let resp = self
            .agent
            .post(format!("{}/api/v1/suggestions", self.base))
            .header("Authorization", &self.bearer())
            .send_json(SuggestionRequest { text, contact });
        expect_status(resp, 201)
    }

    pub fn report_printer(&self, printer: PrinterHealth) -> Result<(), HubError> {
        let resp = self
            .agent
            .put(format!("{}/api/v1/kiosk/status", self.base))
            .header("Authorization", &self.bearer())
            .send_json(KioskStatus { printer });
        expect_status(resp, 204)
    }

    fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, HubError> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &self.bearer())
            .send_json(body);
        read(resp, 201)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

type Reply = Result<ureq::http::Response<ureq::Body>, ureq::Error>;

fn read<T: DeserializeOwned>(resp: Reply, want: u16) -> Result<T, HubError> {
    let mut resp = resp.map_err(unreachable)?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| HubError::Unreachable(e.to_string()))?;
    if status != want {
        return Err(refusal(status, &body));
    }
    serde_json::from_str(&body).map_err(|e| HubError::Protocol(e.to_string()))
}

fn expect_status(resp: Reply, want: u16) -> Result<(), HubError> {
    let mut resp = resp.map_err(unreachable)?;
    let status = resp.status().as_u16();
    if status == want || (want == 204 && status == 200) || (want == 201 && status == 200) {
        return Ok(());
    }
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Err(refusal(status, &body))
}

fn unreachable(e: ureq::Error) -> HubError {
    HubError::Unreachable(e.to_string())
}

fn refusal(status: u16, body: &str) -> HubError {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => HubError::Refused {
            status,
            code: error.code,
            message: error.message,
            message_zh: error.message_zh,
        },
        Err(_) => HubError::Refused {
            status,
            code: match status {
                401 | 403 => "unauthorized".into(),
                429 => "rate_limited".into(),
                _ => format!("http_{status}"),
            },
            message: body.chars().take(200).collect(),
            message_zh: None,
        },
    }
}
