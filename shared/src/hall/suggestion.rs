//! A customer's suggestion (rulebook Ch.3 §1.2, the suggestion box) and, when they left a phone
//! number for an answer, its follow-up: the kiosk promises a call back, so a suggestion with a
//! number is worked like a callback until it is answered or closed, and is deleted with its number
//! a fixed time after that (the callback retention period).

use serde::{Deserialize, Serialize};

use super::time::Millis;

/// Longest reply note.
pub const MAX_REPLY_CHARS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionStatus {
    /// Nobody has answered it yet.
    New,
    /// Someone called the customer back and said what the hall will do.
    Answered,
    /// Handled without a call (no number, or nothing to answer).
    Closed,
}

impl SuggestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::New => "new",
            SuggestionStatus::Answered => "answered",
            SuggestionStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<SuggestionStatus> {
        match s {
            "new" => Some(SuggestionStatus::New),
            "answered" => Some(SuggestionStatus::Answered),
            "closed" => Some(SuggestionStatus::Closed),
            _ => None,
        }
    }

    /// Handling is done once: a new suggestion becomes answered or closed, and stays so.
    pub fn may_become(self, next: SuggestionStatus) -> bool {
        self == SuggestionStatus::New && next != SuggestionStatus::New
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub id: i64,
    pub at: Millis,
    pub text: String,
    /// The phone number left for the answer (normalised), if any.
    pub contact: Option<String>,
    /// The device or login that sent it.
    pub source: String,
    pub status: SuggestionStatus,
    /// What the customer was told, or why it was closed.
    pub reply: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<Millis>,
}

/// Why a suggestion could not be handled this way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error("this suggestion is already {0}")]
    AlreadyHandled(&'static str),
    #[error("a suggestion becomes answered or closed")]
    BadStatus,
    #[error("say what the customer was told in the reply")]
    ReplyRequired,
    #[error("a reply is at most {MAX_REPLY_CHARS} characters")]
    TooLong,
}

impl HandleError {
    pub fn code(&self) -> &'static str {
        match self {
            HandleError::AlreadyHandled(_) | HandleError::BadStatus => "bad_status",
            HandleError::ReplyRequired => "reply_required",
            HandleError::TooLong => "too_long",
        }
    }

    pub fn zh(&self) -> &'static str {
        match self {
            HandleError::AlreadyHandled(_) => "这条意见已处理",
            HandleError::BadStatus => "意见只能标记为已答复或已关闭",
            HandleError::ReplyRequired => "请填写答复内容",
            HandleError::TooLong => "答复内容过长",
        }
    }

    /// A conflict with the suggestion's state (409) rather than bad input (400).
    pub fn is_conflict(&self) -> bool {
        matches!(self, HandleError::AlreadyHandled(_))
    }
}

/// The follow-up rule: a new suggestion is answered (with a reply saying what the customer was
/// told) or closed (a reply is optional), by whom and when; then it is final.
pub fn handle(
    current: &Suggestion,
    status: SuggestionStatus,
    reply: Option<&str>,
    by: &str,
    at: Millis,
) -> Result<Suggestion, HandleError> {
    if current.status != SuggestionStatus::New {
        return Err(HandleError::AlreadyHandled(current.status.as_str()));
    }
    if !current.status.may_become(status) {
        return Err(HandleError::BadStatus);
    }
    let reply = reply.map(str::trim).filter(|r| !r.is_empty());
    if reply.is_some_and(|r| r.chars().count() > MAX_REPLY_CHARS) {
        return Err(HandleError::TooLong);
    }
    if status == SuggestionStatus::Answered && reply.is_none() {
        return Err(HandleError::ReplyRequired);
    }
    Ok(Suggestion {
        status,
        reply: reply.map(str::to_string),
        handled_by: Some(by.to_string()),
        handled_at: Some(at),
        ..current.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_one() -> Suggestion {
        Suggestion {
            id: 1,
            at: 10,
            text: "等候时间太长".into(),
            contact: Some("13812345678".into()),
            source: "kiosk-1".into(),
            status: SuggestionStatus::New,
            reply: None,
            handled_by: None,
            handled_at: None,
        }
    }

    #[test]
    fn a_new_suggestion_is_answered_with_a_reply_once() {
        let s = new_one();
        assert_eq!(
            handle(&s, SuggestionStatus::Answered, Some("  "), "clerk1", 20),
            Err(HandleError::ReplyRequired)
        );
        let a = handle(
            &s,
            SuggestionStatus::Answered,
            Some(" 已回电 "),
            "clerk1",
            20,
        )
        .unwrap();
        assert_eq!(a.status, SuggestionStatus::Answered);
        assert_eq!(a.reply.as_deref(), Some("已回电"));
        assert_eq!(
            (a.handled_by.as_deref(), a.handled_at),
            (Some("clerk1"), Some(20))
        );
        assert_eq!(
            handle(&a, SuggestionStatus::Closed, None, "boss", 30),
            Err(HandleError::AlreadyHandled("answered"))
        );
    }

    #[test]
    fn closing_needs_no_reply_and_new_is_not_a_handling() {
        let s = new_one();
        assert!(handle(&s, SuggestionStatus::Closed, None, "boss", 20).is_ok());
        assert_eq!(
            handle(&s, SuggestionStatus::New, None, "boss", 20),
            Err(HandleError::BadStatus)
        );
        let long = "长".repeat(MAX_REPLY_CHARS + 1);
        assert_eq!(
            handle(&s, SuggestionStatus::Closed, Some(&long), "boss", 20),
            Err(HandleError::TooLong)
        );
    }
}
