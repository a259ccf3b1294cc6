//! Bilingual text: every word a customer reads exists in Chinese, and in English where the hall gives it.

use serde::{Deserialize, Serialize};

/// The language a screen or ticket is shown in. Chinese is the hall's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// A piece of public text in Chinese and English. English falls back to Chinese when not given,
/// so a hall that only fills in Chinese never shows an empty line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En if !self.en.is_empty() => &self.en,
            _ => &self.zh,
        }
    }

    pub fn is_blank(&self) -> bool {
        self.zh.trim().is_empty() && self.en.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_falls_back_to_chinese() {
        let t = Text::new("缴费", "");
        assert_eq!(t.get(Lang::En), "缴费");
        let t = Text::new("缴费", "Payments");
        assert_eq!(t.get(Lang::En), "Payments");
        assert_eq!(t.get(Lang::Zh), "缴费");
    }

    #[test]
    fn english_may_be_omitted_in_json() {
        let t: Text = serde_json::from_str(r#"{"zh":"咨询"}"#).unwrap();
        assert_eq!(t, Text::new("咨询", ""));
        assert!(serde_json::from_str::<Text>(r#"{"zh":"x","fr":"y"}"#).is_err());
    }
}
