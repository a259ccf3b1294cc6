//! Which clips say a call, in order — pure, no audio. Ticket numbers are read digit by digit
//! (A007 = A 零 零 七, as on the ticket); counters are read as numbers (3 号, 12 号 = 十二号,
//! 101 号 = 一百零一号).
//!
//! 二 or 两: counters are read with 二 (二号窗口, 二十二号, 二百号). With 号 the number is an ordinal
//! label, where 两 is wrong (两号窗口 means "two windows"), and 二百 is the standard reading.

use super::VoiceError;
use super::clip::ClipId;

/// How the counter is said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterVoice {
    /// "N 号窗口", N read as a number.
    Numbered(u32),
    /// The pack's own recording of this counter's name (`counter_N`), e.g. "贵宾窗口".
    Recorded(u32),
}

impl CounterVoice {
    /// The counter as the hall names it in its configuration: a pack recording of the name when there
    /// is one; else the number the Chinese name starts with ("3号窗口" → 3, so a counter whose id and
    /// painted number differ is called by its painted number); else the counter id.
    pub fn choose(id: u32, name_zh: &str, pack_has_recording: bool) -> CounterVoice {
        if pack_has_recording {
            return CounterVoice::Recorded(id);
        }
        let name = name_zh.trim();
        let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u32>() {
            Ok(n)
                if (1..=999).contains(&n)
                    && name[digits.len()..].trim_start().starts_with('号') =>
            {
                CounterVoice::Numbered(n)
            }
            _ => CounterVoice::Numbered(id),
        }
    }

    fn number(self) -> u32 {
        match self {
            CounterVoice::Numbered(n) | CounterVoice::Recorded(n) => n,
        }
    }
}

/// A call as it is spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallSpeech<'a> {
    /// The ticket number, e.g. "A007".
    pub number: &'a str,
    pub counter: CounterVoice,
    /// Adds "让您久等了" (and "Sorry to keep you waiting." in English).
    pub apology: bool,
    /// Starts with "再次呼叫" (and "Calling again:").
    pub recall: bool,
    /// Follows the Mandarin with English.
    pub english: bool,
}

/// The clips that say `call`: chime, Mandarin, then English when asked.
///
/// `请 A 零 零 七 号 到 三 号 窗口 办理 [让您久等了]`, then
/// `Number A zero zero seven, please go to counter three [Sorry to keep you waiting.]`.
pub fn sequence(call: &CallSpeech<'_>) -> Result<Vec<ClipId>, VoiceError> {
    let ticket = ticket_chars(call.number)?;
    let counter = call.counter.number();
    if !(1..=999).contains(&counter) {
        return Err(VoiceError::CounterOutOfRange(counter));
    }
    let mut clips = vec![ClipId::Chime];
    if call.recall {
        clips.push(ClipId::ZhRecall);
    }
    clips.push(ClipId::ZhPlease);
    clips.extend(ticket.iter().map(|t| match *t {
        TicketChar::Letter(c) => ClipId::Letter(c),
        TicketChar::Digit(d) => ClipId::ZhDigit(d),
    }));
    clips.extend([ClipId::ZhHao, ClipId::ZhTo]);
    match call.counter {
        CounterVoice::Numbered(n) => {
            clips.extend(zh_number(n));
            clips.extend([ClipId::ZhHao, ClipId::ZhWindow]);
        }
        CounterVoice::Recorded(n) => clips.push(ClipId::CounterName(n)),
    }
    clips.push(ClipId::ZhHandle);
    if call.apology {
        clips.push(ClipId::ZhApology);
    }
    if call.english {
        if call.recall {
            clips.push(ClipId::EnRecall);
        }
        clips.push(ClipId::EnTicket);
        clips.extend(ticket.iter().map(|t| match *t {
            TicketChar::Letter(c) => ClipId::Letter(c),
            TicketChar::Digit(d) => ClipId::EnNumber(u16::from(d)),
        }));
        clips.push(ClipId::EnGoToCounter);
        clips.extend(en_number(counter));
        if call.apology {
            clips.push(ClipId::EnApology);
        }
    }
    Ok(clips)
}

/// A number 1–999 as said in Mandarin counting: 十, 十一, 二十, 一百, 一百零一, 一百一十, 二百.
pub fn zh_number(n: u32) -> Vec<ClipId> {
    debug_assert!((1..=999).contains(&n));
    let (h, t, u) = ((n / 100) as u8, (n / 10 % 10) as u8, (n % 10) as u8);
    let mut v = Vec::with_capacity(5);
    if h > 0 {
        v.extend([ClipId::ZhDigit(h), ClipId::ZhHundred]);
        match (t, u) {
            (0, 0) => {}
            (0, u) => v.extend([ClipId::ZhDigit(0), ClipId::ZhDigit(u)]),
            // After 百 the ten is spoken in full: 一百一十, not 一百十.
            (t, u) => {
                v.extend([ClipId::ZhDigit(t), ClipId::ZhTen]);
                if u > 0 {
                    v.push(ClipId::ZhDigit(u));
                }
            }
        }
    } else if t > 0 {
        // Alone, ten is 十, not 一十.
        if t > 1 {
            v.push(ClipId::ZhDigit(t));
        }
        v.push(ClipId::ZhTen);
        if u > 0 {
            v.push(ClipId::ZhDigit(u));
        }
    } else {
        v.push(ClipId::ZhDigit(u));
    }
    v
}

/// A number 1–999 in English: "twelve", "forty two", "one hundred five".
pub fn en_number(n: u32) -> Vec<ClipId> {
    debug_assert!((1..=999).contains(&n));
    let mut v = Vec::with_capacity(4);
    let (h, r) = ((n / 100) as u16, (n % 100) as u16);
    if h > 0 {
        v.extend([ClipId::EnNumber(h), ClipId::EnHundred]);
    }
    match r {
        0 => {}
        1..=19 => v.push(ClipId::EnNumber(r)),
        _ => {
            v.push(ClipId::EnNumber(r / 10 * 10));
            if r % 10 > 0 {
                v.push(ClipId::EnNumber(r % 10));
            }
        }
    }
    v
}

#[derive(Clone, Copy)]
enum TicketChar {
    Letter(char),
    Digit(u8),
}

fn ticket_chars(number: &str) -> Result<Vec<TicketChar>, VoiceError> {
    let refuse = |reason: &str| VoiceError::Unspeakable {
        number: number.to_string(),
        reason: reason.to_string(),
    };
    let number_trimmed = number.trim();
    if number_trimmed.is_empty() {
        return Err(refuse("it is empty"));
    }
    if number_trimmed.chars().count() > 12 {
        return Err(refuse("it is longer than 12 characters"));
    }
    number_trimmed
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' => Ok(TicketChar::Letter(c.to_ascii_uppercase())),
            '0'..='9' => Ok(TicketChar::Digit(c as u8 - b'0')),
            _ => Err(refuse(&format!("{c:?} is not a letter A–Z or a digit"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClipId::*;

    /// Writes clips the way a person would read them, so expectations stay legible.
    fn say(clips: &[ClipId]) -> String {
        clips
            .iter()
            .map(|c| match *c {
                Chime => "♪".to_string(),
                ZhDigit(d) => "零一二三四五六七八九"
                    .chars()
                    .nth(d as usize)
                    .unwrap()
                    .to_string(),
                ZhTen => "十".into(),
                ZhHundred => "百".into(),
                Letter(c) => c.to_string(),
                ZhPlease => "请".into(),
                ZhHao => "号".into(),
                ZhTo => "到".into(),
                ZhWindow => "窗口".into(),
                ZhHandle => "办理".into(),
                ZhApology => "，让您久等了".into(),
                ZhRecall => "再次呼叫，".into(),
                EnNumber(n) => format!(" {n}"),
                EnHundred => " hundred".into(),
                EnTicket => " | Number ".into(),
                EnGoToCounter => ", please go to counter".into(),
                EnApology => ". Sorry to keep you waiting".into(),
                EnRecall => " | Calling again:".into(),
                CounterName(n) => format!("<counter {n}>"),
            })
            .collect()
    }

    fn call(number: &str, counter: u32) -> CallSpeech<'_> {
        CallSpeech {
            number,
            counter: CounterVoice::Numbered(counter),
            apology: false,
            recall: false,
            english: false,
        }
    }

    #[test]
    fn the_issue_example_reads_digit_by_digit() {
        assert_eq!(
            say(&sequence(&call("A007", 3)).unwrap()),
            "♪请A零零七号到三号窗口办理"
        );
    }

    #[test]
    fn counters_are_read_as_numbers() {
        let cases = [
            (1, "一"),
            (2, "二"),
            (3, "三"),
            (9, "九"),
            (10, "十"),
            (11, "十一"),
            (12, "十二"),
            (19, "十九"),
            (20, "二十"),
            (21, "二十一"),
            (22, "二十二"),
            (99, "九十九"),
            (100, "一百"),
            (101, "一百零一"),
            (105, "一百零五"),
            (110, "一百一十"),
            (111, "一百一十一"),
            (120, "一百二十"),
            (200, "二百"),
            (222, "二百二十二"),
            (909, "九百零九"),
            (990, "九百九十"),
            (999, "九百九十九"),
        ];
        for (n, spoken) in cases {
            assert_eq!(say(&zh_number(n)), spoken, "counter {n}");
            assert_eq!(
                say(&sequence(&call("B1", n)).unwrap()),
                format!("♪请B一号到{spoken}号窗口办理")
            );
        }
    }

    #[test]
    fn ticket_numbers_are_read_one_character_at_a_time() {
        let cases = [
            ("A0", "A零"),
            ("A10", "A一零"),
            ("A11", "A一一"),
            ("A20", "A二零"),
            ("A100", "A一零零"),
            ("z042", "Z零四二"),
            ("AB12", "AB一二"),
            ("7", "七"),
        ];
        for (number, spoken) in cases {
            assert_eq!(
                say(&sequence(&call(number, 1)).unwrap()),
                format!("♪请{spoken}号到一号窗口办理"),
                "{number}"
            );
        }
        for letter in 'A'..='Z' {
            let number = format!("{letter}001");
            assert_eq!(
                sequence(&call(&number, 1)).unwrap()[2],
                Letter(letter),
                "{number}"
            );
        }
    }

    #[test]
    fn apology_recall_and_english() {
        let mut c = call("A007", 12);
        c.apology = true;
        assert_eq!(
            say(&sequence(&c).unwrap()),
            "♪请A零零七号到十二号窗口办理，让您久等了"
        );
        c.recall = true;
        c.apology = false;
        assert_eq!(
            say(&sequence(&c).unwrap()),
            "♪再次呼叫，请A零零七号到十二号窗口办理"
        );
        c.recall = false;
        c.english = true;
        assert_eq!(
            say(&sequence(&c).unwrap()),
            "♪请A零零七号到十二号窗口办理 | Number A 0 0 7, please go to counter 12"
        );
        c.recall = true;
        c.apology = true;
        c.counter = CounterVoice::Numbered(342);
        assert_eq!(
            say(&sequence(&c).unwrap()),
            "♪再次呼叫，请A零零七号到三百四十二号窗口办理，让您久等了 | Calling again: | Number A 0 0 7, \
             please go to counter 3 hundred 40 2. Sorry to keep you waiting"
        );
    }

    #[test]
    fn english_counter_numbers() {
        let cases = [
            (1, " 1"),
            (13, " 13"),
            (20, " 20"),
            (47, " 40 7"),
            (100, " 1 hundred"),
            (105, " 1 hundred 5"),
            (119, " 1 hundred 19"),
            (999, " 9 hundred 90 9"),
        ];
        for (n, spoken) in cases {
            assert_eq!(say(&en_number(n)), spoken, "{n}");
        }
    }

    #[test]
    fn the_counter_name_from_the_configuration() {
        assert_eq!(
            CounterVoice::choose(3, "3号窗口", false),
            CounterVoice::Numbered(3)
        );
        assert_eq!(
            CounterVoice::choose(7, "12 号窗口", false),
            CounterVoice::Numbered(12)
        );
        assert_eq!(
            CounterVoice::choose(7, "贵宾窗口", false),
            CounterVoice::Numbered(7)
        );
        assert_eq!(
            CounterVoice::choose(7, "12窗口", false),
            CounterVoice::Numbered(7)
        );
        assert_eq!(
            CounterVoice::choose(7, "贵宾窗口", true),
            CounterVoice::Recorded(7)
        );
        let mut c = call("C5", 7);
        c.counter = CounterVoice::Recorded(7);
        assert_eq!(say(&sequence(&c).unwrap()), "♪请C五号到<counter 7>办理");
    }

    #[test]
    fn what_cannot_be_said_is_refused() {
        for bad in ["", "  ", "A-07", "A０07", "号7", "A0123456789012"] {
            assert!(
                matches!(sequence(&call(bad, 1)), Err(VoiceError::Unspeakable { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            sequence(&call("A1", 0)),
            Err(VoiceError::CounterOutOfRange(0))
        ));
        assert!(matches!(
            sequence(&call("A1", 1000)),
            Err(VoiceError::CounterOutOfRange(1000))
        ));
    }

    #[test]
    fn the_sequencer_only_asks_for_clips_a_complete_pack_holds() {
        let required: std::collections::BTreeSet<ClipId> =
            ClipId::required(true).into_iter().collect();
        let mut asked = std::collections::BTreeSet::new();
        for counter in 1..=999 {
            for (apology, recall) in [(false, false), (true, true)] {
                let number = format!("{}{:03}", (b'A' + (counter % 26) as u8) as char, counter);
                let c = CallSpeech {
                    number: &number,
                    counter: CounterVoice::Numbered(counter),
                    apology,
                    recall,
                    english: true,
                };
                asked.extend(sequence(&c).unwrap());
            }
        }
        let outside: Vec<_> = asked.difference(&required).collect();
        assert!(outside.is_empty(), "asked for {outside:?}");
        // And every required clip is actually used by some call.
        let unused: Vec<_> = required.difference(&asked).collect();
        assert!(unused.is_empty(), "never asked for {unused:?}");
    }
}
