//! The five-level satisfaction scale a customer rates a visit on.

use super::*;

/// The five-level scale asked after a finished ticket, one rating per visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Satisfaction {
    VeryDissatisfied = 1,
    Dissatisfied = 2,
    Fair = 3,
    Satisfied = 4,
    VerySatisfied = 5,
}

impl Satisfaction {
    /// In the order the customer sees them: 非常满意 first.
    pub const ALL: [Satisfaction; 5] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Fair,
        Satisfaction::Dissatisfied,
        Satisfaction::VeryDissatisfied,
    ];

    pub fn from_score(score: u8) -> Option<Satisfaction> {
        Some(match score {
            1 => Satisfaction::VeryDissatisfied,
            2 => Satisfaction::Dissatisfied,
            3 => Satisfaction::Fair,
            4 => Satisfaction::Satisfied,
            5 => Satisfaction::VerySatisfied,
            _ => return None,
        })
    }

    pub fn score(self) -> u8 {
        self as u8
    }

    pub fn zh(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "非常满意",
            Satisfaction::Satisfied => "满意",
            Satisfaction::Fair => "基本满意",
            Satisfaction::Dissatisfied => "不满意",
            Satisfaction::VeryDissatisfied => "非常不满意",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Very satisfied",
            Satisfaction::Satisfied => "Satisfied",
            Satisfaction::Fair => "Fairly satisfied",
            Satisfaction::Dissatisfied => "Dissatisfied",
            Satisfaction::VeryDissatisfied => "Very dissatisfied",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh(),
            _ => self.en(),
        }
    }

    /// 满意 or 非常满意.
    pub fn is_satisfied(self) -> bool {
        self.score() >= 4
    }
}

impl From<Satisfaction> for u8 {
    fn from(s: Satisfaction) -> u8 {
        s.score()
    }
}

impl TryFrom<u8> for Satisfaction {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Satisfaction::from_score(v).ok_or_else(|| format!("a rating is 1 to 5, not {v}"))
    }
}
