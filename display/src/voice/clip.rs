//! The names of the clips in a voice pack. A name is both an enum value (what the sequencer asks for)
//! and a manifest key (what a hall writes in `manifest.toml`), e.g. `ClipId::ZhDigit(7)` = `zh_7`.

use std::fmt;
use std::str::FromStr;

/// One recorded clip. Mandarin words carry a `Zh` prefix, English words `En`; letters and the chime are
/// shared by both languages (halls say ticket letters the same way in both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClipId {
    /// The two-tone chime before every call.
    Chime,
    /// 零 … 九: ticket digits one by one, and the digits of counting.
    ZhDigit(u8),
    /// 十
    ZhTen,
    /// 百
    ZhHundred,
    /// A–Z, said as letters.
    Letter(char),
    /// 请
    ZhPlease,
    /// 号
    ZhHao,
    /// 到
    ZhTo,
    /// 窗口
    ZhWindow,
    /// 办理
    ZhHandle,
    /// 让您久等了
    ZhApology,
    /// 再次呼叫 — said before a recall, so a customer knows the number was called before.
    ZhRecall,
    /// English numbers 0–19 and the tens 20, 30 … 90.
    EnNumber(u16),
    /// "hundred"
    EnHundred,
    /// "Number"
    EnTicket,
    /// "please go to counter"
    EnGoToCounter,
    /// "Sorry to keep you waiting."
    EnApology,
    /// "Calling again:"
    EnRecall,
    /// A hall's own recording of one counter's name (e.g. "贵宾窗口"), used instead of "N 号窗口" when
    /// the pack has it. Never required.
    CounterName(u32),
}

impl ClipId {
    /// Every clip a complete pack holds, Mandarin and English. [`ClipId::CounterName`] clips are extra.
    pub fn required(english: bool) -> Vec<ClipId> {
        let mut v = vec![ClipId::Chime];
        v.extend((0..=9).map(ClipId::ZhDigit));
        v.extend([ClipId::ZhTen, ClipId::ZhHundred]);
        v.extend(('A'..='Z').map(ClipId::Letter));
        v.extend([
            ClipId::ZhPlease,
            ClipId::ZhHao,
            ClipId::ZhTo,
            ClipId::ZhWindow,
            ClipId::ZhHandle,
            ClipId::ZhApology,
            ClipId::ZhRecall,
        ]);
        if english {
            v.extend((0..=19).map(ClipId::EnNumber));
            v.extend((2..=9).map(|t| ClipId::EnNumber(t * 10)));
            v.extend([
                ClipId::EnHundred,
                ClipId::EnTicket,
                ClipId::EnGoToCounter,
                ClipId::EnApology,
                ClipId::EnRecall,
            ]);
        }
        v
    }

    pub fn is_english(self) -> bool {
        matches!(
            self,
            ClipId::EnNumber(_)
                | ClipId::EnHundred
                | ClipId::EnTicket
                | ClipId::EnGoToCounter
                | ClipId::EnApology
                | ClipId::EnRecall
        )
    }

    /// Mandarin words; letters and the chime belong to neither language.
    pub fn is_mandarin(self) -> bool {
        matches!(
            self,
            ClipId::ZhDigit(_)
                | ClipId::ZhTen
                | ClipId::ZhHundred
                | ClipId::ZhPlease
                | ClipId::ZhHao
                | ClipId::ZhTo
                | ClipId::ZhWindow
                | ClipId::ZhHandle
                | ClipId::ZhApology
                | ClipId::ZhRecall
                | ClipId::CounterName(_)
        )
    }

    /// Whether the enum value is one a pack can hold at all (e.g. `ZhDigit(12)` is not).
    fn is_valid(self) -> bool {
        match self {
            ClipId::ZhDigit(d) => d <= 9,
            ClipId::Letter(c) => c.is_ascii_uppercase(),
            ClipId::EnNumber(n) => n <= 19 || (n <= 90 && n % 10 == 0),
            ClipId::CounterName(n) => (1..=999).contains(&n),
            _ => true,
        }
    }
}

impl fmt::Display for ClipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClipId::Chime => f.write_str("chime"),
            ClipId::ZhDigit(d) => write!(f, "zh_{d}"),
            ClipId::ZhTen => f.write_str("zh_ten"),
            ClipId::ZhHundred => f.write_str("zh_hundred"),
            ClipId::Letter(c) => write!(f, "letter_{}", c.to_ascii_lowercase()),
            ClipId::ZhPlease => f.write_str("zh_please"),
            ClipId::ZhHao => f.write_str("zh_hao"),
            ClipId::ZhTo => f.write_str("zh_to"),
            ClipId::ZhWindow => f.write_str("zh_window"),
            ClipId::ZhHandle => f.write_str("zh_handle"),
            ClipId::ZhApology => f.write_str("zh_apology"),
            ClipId::ZhRecall => f.write_str("zh_recall"),
            ClipId::EnNumber(n) => write!(f, "en_{n}"),
            ClipId::EnHundred => f.write_str("en_hundred"),
            ClipId::EnTicket => f.write_str("en_number"),
            ClipId::EnGoToCounter => f.write_str("en_go_to_counter"),
            ClipId::EnApology => f.write_str("en_apology"),
            ClipId::EnRecall => f.write_str("en_recall"),
            ClipId::CounterName(n) => write!(f, "counter_{n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown clip name {0:?} (e.g. chime, zh_0 … zh_9, zh_ten, letter_a, zh_please, en_12, counter_3)"
)]
pub struct UnknownClip(pub String);

impl FromStr for ClipId {
    type Err = UnknownClip;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownClip(s.to_string());
        let id = match s {
            "chime" => ClipId::Chime,
            "zh_ten" => ClipId::ZhTen,
            "zh_hundred" => ClipId::ZhHundred,
            "zh_please" => ClipId::ZhPlease,
            "zh_hao" => ClipId::ZhHao,
            "zh_to" => ClipId::ZhTo,
            "zh_window" => ClipId::ZhWindow,
            "zh_handle" => ClipId::ZhHandle,
            "zh_apology" => ClipId::ZhApology,
            "zh_recall" => ClipId::ZhRecall,
            "en_hundred" => ClipId::EnHundred,
            "en_number" => ClipId::EnTicket,
            "en_go_to_counter" => ClipId::EnGoToCounter,
            "en_apology" => ClipId::EnApology,
            "en_recall" => ClipId::EnRecall,
            _ => {
                let number = |rest: &str| -> Option<u32> {
                    // Exactly the Display form: no signs, no leading zeros, no spaces.
                    if rest.is_empty()
                        || !rest.bytes().all(|b| b.is_ascii_digit())
                        || (rest.len() > 1 && rest.starts_with('0'))
                    {
                        return None;
                    }
                    rest.parse().ok()
                };
                if let Some(rest) = s.strip_prefix("zh_") {
                    ClipId::ZhDigit(
                        u8::try_from(number(rest).ok_or_else(unknown)?).map_err(|_| unknown())?,
                    )
                } else if let Some(rest) = s.strip_prefix("en_") {
                    ClipId::EnNumber(
                        u16::try_from(number(rest).ok_or_else(unknown)?).map_err(|_| unknown())?,
                    )
                } else if let Some(rest) = s.strip_prefix("counter_") {
                    ClipId::CounterName(number(rest).ok_or_else(unknown)?)
                } else if let Some(rest) = s.strip_prefix("letter_") {
                    let mut chars = rest.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) if c.is_ascii_lowercase() => {
                            ClipId::Letter(c.to_ascii_uppercase())
                        }
                        _ => return Err(unknown()),
                    }
                } else {
                    return Err(unknown());
                }
            }
        };
        if id.is_valid() {
            Ok(id)
        } else {
            Err(unknown())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_clip_name_round_trips() {
        let all = ClipId::required(true);
        for id in &all {
            assert_eq!(id.to_string().parse::<ClipId>(), Ok(*id), "{id}");
        }
        let names: std::collections::BTreeSet<String> = all.iter().map(|c| c.to_string()).collect();
        assert_eq!(names.len(), all.len(), "two clips share a manifest name");
        assert_eq!(ClipId::required(false).len(), 1 + 10 + 2 + 26 + 7);
        assert_eq!(all.len(), 46 + 20 + 8 + 5);
        assert_eq!("counter_12".parse::<ClipId>(), Ok(ClipId::CounterName(12)));
    }

    #[test]
    fn misspelt_clip_names_are_refused() {
        for bad in [
            "zh_10",
            "zh_07",
            "zh_windw",
            "letter_A",
            "letter_ab",
            "en_21",
            "en_100",
            "counter_0",
            "counter_1000",
            "en_-1",
            "zh_+1",
            "",
            "chime ",
        ] {
            assert!(bad.parse::<ClipId>().is_err(), "{bad:?} was accepted");
        }
    }
}
