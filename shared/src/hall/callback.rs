//! Callback records (rulebook Ch.2 §3, Ch.3 §1.7): a phone number left by a customer who could not be
//! served now, followed until resolved. Phone numbers are validated here and masked for every public view.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::time::Millis;

/// A validated mainland-China phone number, normalised to digits (landlines keep a `-` after the area code).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("please enter a phone number")]
    Empty,
    #[error("a phone number contains only digits, spaces, '-' or a leading +86")]
    BadCharacters,
    #[error("a mobile number has 11 digits and starts with 13–19")]
    BadMobile,
    #[error("a landline is an area code starting with 0 followed by 7 or 8 digits")]
    BadLandline,
}

impl PhoneError {
    /// The same message in Chinese, for the public screens.
    pub fn zh(&self) -> &'static str {
        match self {
            PhoneError::Empty => "请输入电话号码",
            PhoneError::BadCharacters => "电话号码只能包含数字",
            PhoneError::BadMobile => "手机号码应为以1开头的11位数字",
            PhoneError::BadLandline => "固定电话应为区号(0开头)加7至8位号码",
        }
    }
}

/// Area codes of three digits (010, 02x); all others of mainland China have four.
fn area_code_len(digits: &str) -> usize {
    if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    }
}

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let mut s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        for p in ["+86", "0086"] {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.trim_start_matches('-').to_string();
            }
        }
        if !s.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return Err(PhoneError::BadCharacters);
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if digits.starts_with('1') {
            let b = digits.as_bytes();
            if digits.len() == 11 && (b'3'..=b'9').contains(&b[1]) {
                return Ok(Phone(digits));
            }
            return Err(PhoneError::BadMobile);
        }
        // `00` starts an international number, never a mainland area code: "00-86…" would be
        // kept as a landline "0086-…" that the `0086` rule then reads as something else.
        if digits.starts_with("00") {
            return Err(PhoneError::BadLandline);
        }
        if digits.starts_with('0') {
            let area = area_code_len(&digits);
            let local = digits.len().saturating_sub(area);
            if (7..=8).contains(&local) && digits.as_bytes()[area] != b'0' {
                return Ok(Phone(format!("{}-{}", &digits[..area], &digits[area..])));
            }
            return Err(PhoneError::BadLandline);
        }
        if digits.is_empty() {
            Err(PhoneError::Empty)
        } else {
            Err(PhoneError::BadMobile)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `13812345678` → `138****5678`; `027-87654321` → `027-****4321`.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }

    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }
}

/// Masks everything but the first three and last four digits (landlines keep their area code).
pub fn mask_phone(s: &str) -> String {
    if let Some((area, local)) = s.split_once('-') {
        let keep = local.len().saturating_sub(4);
        return format!("{area}-{}{}", "*".repeat(keep), &local[keep..]);
    }
    if s.len() <= 7 {
        return "*".repeat(s.len());
    }
    format!(
        "{}{}{}",
        &s[..3],
        "*".repeat(s.len() - 7),
        &s[s.len() - 4..]
    )
}

impl fmt::Debug for Phone {
    // Never print a full number in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    Pending,
    Contacted,
    Resolved,
}

impl CallbackStatus {
    /// Follow-up only moves forward, except that a contacted case may be marked pending again
    /// (the customer did not answer). Resolved is final.
    pub fn may_become(self, next: CallbackStatus) -> bool {
        use CallbackStatus::*;
        matches!(
            (self, next),
            (Pending, Contacted)
                | (Pending, Resolved)
                | (Contacted, Resolved)
                | (Contacted, Pending)
        ) || self == next && self != Resolved
    }
}

/// Why the number was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOrigin {
    Outage,
    LongWait,
    Request,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackNote {
    pub at: Millis,
    pub by: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    pub id: i64,
    pub phone: Phone,
    pub address: Option<String>,
    pub reason: Option<String>,
    pub origin: CallbackOrigin,
    pub ticket: Option<String>,
    /// The outage during which it was captured, if any.
    pub outage_id: Option<i64>,
    pub status: CallbackStatus,
    pub owner: Option<String>,
    pub notes: Vec<CallbackNote>,
    pub captured_at: Millis,
    pub captured_by: String,
    pub updated_at: Millis,
    pub resolved_at: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normalised_number_always_parses_to_itself() {
        // Found by fuzzing: "00--863641 4569" was kept as the landline "0086-36414569", which
        // then failed to parse (the `0086` prefix is stripped), so the stored record could not be
        // read back.
        assert_eq!(
            Phone::parse("00--863641 \t4569\u{3000}"),
            Err(PhoneError::BadLandline)
        );
        for ok in [
            "13812345678",
            "+86 138 1234 5678",
            "027-87654321",
            "0713-7012345",
        ] {
            let p = Phone::parse(ok).unwrap();
            assert_eq!(Phone::parse(p.as_str()), Ok(p));
        }
    }

    #[test]
    fn mobiles_are_validated_and_masked() {
        let p = Phone::parse("138 1234 5678").unwrap();
        assert_eq!(p.as_str(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(
            Phone::parse("+86 13812345678").unwrap().as_str(),
            "13812345678"
        );
        assert_eq!(Phone::parse("1381234567"), Err(PhoneError::BadMobile));
        assert_eq!(Phone::parse("12812345678"), Err(PhoneError::BadMobile));
        assert_eq!(Phone::parse("138123456789"), Err(PhoneError::BadMobile));
        assert_eq!(Phone::parse("138abc45678"), Err(PhoneError::BadCharacters));
        assert_eq!(Phone::parse("  "), Err(PhoneError::Empty));
    }

    #[test]
    fn landlines_keep_their_area_code() {
        let p = Phone::parse("027-87654321").unwrap();
        assert_eq!(p.as_str(), "027-87654321");
        assert_eq!(p.masked(), "027-****4321");
        assert_eq!(
            Phone::parse("07138765432").unwrap().as_str(),
            "0713-8765432"
        );
        assert_eq!(Phone::parse("010 1234567").unwrap().as_str(), "010-1234567");
        assert_eq!(Phone::parse("0271234"), Err(PhoneError::BadLandline));
        assert_eq!(Phone::parse("027012345678"), Err(PhoneError::BadLandline));
    }

    #[test]
    fn debug_never_shows_the_full_number() {
        let p = Phone::parse("13812345678").unwrap();
        assert!(!format!("{p:?}").contains("1234"));
    }

    #[test]
    fn follow_up_moves_forward() {
        use CallbackStatus::*;
        assert!(Pending.may_become(Contacted));
        assert!(Contacted.may_become(Resolved));
        assert!(Contacted.may_become(Pending));
        assert!(!Resolved.may_become(Pending));
        assert!(!Resolved.may_become(Resolved));
    }
}
