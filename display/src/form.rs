//! The callback capture form on a public screen: digits from the keypad or keyboard, explicit
//! consent, validation with a clear message, and only a masked number once submitted. The full
//! number lives here only while the customer types it.

use hallq_shared::hall::Phone;
use hallq_shared::protocol::CaptureCallbackRequest;

/// Long enough for a landline with a four-digit area code (0713-87654321).
pub const MAX_DIGITS: usize = 12;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormState {
    Entry,
    /// Sent to the hub, waiting for its answer.
    Sending,
    /// Accepted: only the masked number is kept.
    Done {
        masked: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackForm {
    digits: String,
    consent: bool,
    error: Option<Message>,
    state: FormState,
}

impl Default for CallbackForm {
    fn default() -> Self {
        CallbackForm {
            digits: String::new(),
            consent: false,
            error: None,
            state: FormState::Entry,
        }
    }
}

impl CallbackForm {
    /// A key of the keypad: a digit, `back` or `clear`. Anything else is ignored.
    pub fn key(&mut self, key: &str) {
        if self.state != FormState::Entry {
            return;
        }
        match key {
            "back" => {
                self.digits.pop();
            }
            "clear" => self.digits.clear(),
            k if k.len() == 1 && k.as_bytes()[0].is_ascii_digit() => {
                if self.digits.len() < MAX_DIGITS {
                    self.digits.push_str(k);
                }
            }
            _ => return,
        }
        self.error = None;
    }

    pub fn toggle_consent(&mut self) {
        if self.state == FormState::Entry {
            self.consent = !self.consent;
            self.error = None;
        }
    }

    /// Checks the form. On success the form waits for the hub and the request to send is returned;
    /// otherwise the message to show is set.
    pub fn submit(&mut self) -> Option<CaptureCallbackRequest> {
        if self.state != FormState::Entry {
            return None;
        }
        let phone = match Phone::parse(&self.digits) {
            Ok(p) => p,
            Err(e) => {
                self.error = Some(Message {
                    zh: e.zh().to_string(),
                    en: capitalise(&e.to_string()),
                });
                return None;
            }
        };
        if !self.consent {
            self.error = Some(Message {
                zh: "请勾选同意后提交".into(),
                en: "Please tick the box to agree first".into(),
            });
            return None;
        }
        self.state = FormState::Sending;
        Some(CaptureCallbackRequest {
            phone: phone.as_str().to_string(),
            consent: true,
            ticket: None,
            address: None,
            reason: None,
        })
    }

    /// The hub took the number: forget it, keep only the mask the hub sent back.
    pub fn accepted(&mut self, masked: &str) {
        self.digits.clear();
        self.consent = false;
        self.error = None;
        self.state = FormState::Done {
            masked: masked.to_string(),
        };
    }

    /// The hub refused or could not be reached: back to entry with its message.
    pub fn refused(&mut self, zh: &str, en: &str) {
        self.state = FormState::Entry;
        self.error = Some(Message {
            zh: zh.into(),
            en: en.into(),
        });
    }

    /// Forget everything (idle, cancel, or the confirmation has been read).
    pub fn clear(&mut self) {
        *self = CallbackForm::default();
    }

    pub fn is_blank(&self) -> bool {
        *self == CallbackForm::default()
    }

    pub fn state(&self) -> &FormState {
        &self.state
    }

    pub fn consent(&self) -> bool {
        self.consent
    }

    pub fn error(&self) -> Option<&Message> {
        self.error.as_ref()
    }

    /// The digits typed so far, grouped for reading back: `138 1234 5678`, `0713 8765432`.
    pub fn display(&self) -> String {
        let d = &self.digits;
        let cut: &[usize] = if d.starts_with('1') {
            &[3, 7]
        } else if d.starts_with("010") || d.starts_with("02") {
            &[3]
        } else if d.starts_with('0') {
            &[4]
        } else {
            &[]
        };
        let mut out = String::new();
        for (i, c) in d.chars().enumerate() {
            if cut.contains(&i) {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> CallbackForm {
        let mut f = CallbackForm::default();
        for c in s.chars() {
            f.key(&c.to_string());
        }
        f
    }

    #[test]
    fn a_mobile_needs_consent_then_goes_out_normalised() {
        let mut f = typed("13812345678");
        assert_eq!(f.display(), "138 1234 5678");
        assert!(f.submit().is_none());
        assert_eq!(f.error().unwrap().zh, "请勾选同意后提交");
        f.toggle_consent();
        assert!(f.error().is_none());
        let req = f.submit().unwrap();
        assert_eq!(req.phone, "13812345678");
        assert!(req.consent);
        assert_eq!(*f.state(), FormState::Sending);
        f.key("9");
        assert_eq!(f.display(), "138 1234 5678", "no typing while sending");
        f.accepted("138****5678");
        assert_eq!(f.display(), "");
        assert_eq!(
            *f.state(),
            FormState::Done {
                masked: "138****5678".into()
            }
        );
    }

    #[test]
    fn bad_numbers_get_the_rulebook_messages() {
        let mut f = typed("1381234");
        f.toggle_consent();
        assert!(f.submit().is_none());
        assert_eq!(f.error().unwrap().zh, "手机号码应为以1开头的11位数字");
        let mut f = typed("0271234");
        f.toggle_consent();
        assert!(f.submit().is_none());
        assert!(f.error().unwrap().zh.contains("固定电话"));
        let mut f = CallbackForm::default();
        assert!(f.submit().is_none());
        assert_eq!(f.error().unwrap().zh, "请输入电话号码");
        f.key("1");
        assert!(f.error().is_none(), "typing clears the message");
    }

    #[test]
    fn landlines_backspace_and_limits() {
        let mut f = typed("071387654321999");
        assert_eq!(f.display(), "0713 87654321");
        f.key("back");
        f.key("x");
        assert_eq!(f.display(), "0713 8765432");
        f.toggle_consent();
        assert_eq!(f.submit().unwrap().phone, "0713-8765432");
        f.refused("暂时无法提交", "Cannot submit now");
        assert_eq!(*f.state(), FormState::Entry);
        f.clear();
        assert!(f.is_blank());
    }
}
