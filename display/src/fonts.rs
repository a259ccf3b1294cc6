//! Finding a font that can draw Chinese before anything is rendered. Without one the software
//! renderer draws nothing for Chinese characters (or panics when no font exists at all), so the
//! display refuses to start with a message that says what to install.

use std::path::PathBuf;

use fontconfig::Fontconfig;

/// Families tried in order; the first installed one that covers the board's text wins.
pub const PREFERRED_FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
];

/// Text every screen shows whatever the hall's configuration: the font must cover all of it.
pub const FIXED_TEXT: &str = "正在呼叫请到号窗口让您久等了最近叫号等候情况人数预计分钟小时无需\
    今日取号已结束营业明天再来非常抱歉时间较长留下电话回电通知系统故障受影响恢复\
    重新连接暂停服务其他办理欢迎光临登记成功同意清空删除提交取消投诉咨询星期一二三四五六日年月\
    0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ—…→●";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FontChoice {
    pub family: String,
    pub path: PathBuf,
    pub index: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error(
        "fontconfig could not be initialised, so no font can be found. Install it with: apt-get install fontconfig fonts-noto-cjk"
    )]
    NoFontconfig,
    #[error(
        "no font that can draw Chinese is installed (tried {tried}). Install one with: apt-get install fonts-noto-cjk (or the smaller fonts-wqy-microhei)"
    )]
    NoChineseFont { tried: String },
    #[error("cannot read the font file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
}

/// The first preferred family that is installed and covers [`FIXED_TEXT`].
pub fn find_chinese_font() -> Result<FontChoice, FontError> {
    let fc = Fontconfig::new().ok_or(FontError::NoFontconfig)?;
    for family in PREFERRED_FAMILIES {
        let Some(font) = fc.find(family, None) else {
            continue;
        };
        // fontconfig answers every query with its best substitute: only an exact family counts.
        if !font.name.eq_ignore_ascii_case(family) {
            continue;
        }
        let choice = FontChoice {
            family: (*family).to_string(),
            path: font.path,
            index: font.index.unwrap_or(0).max(0) as u32,
        };
        match missing_glyphs(&choice, FIXED_TEXT) {
            Ok(missing) if missing.is_empty() => return Ok(choice),
            _ => continue,
        }
    }
    Err(FontError::NoChineseFont {
        tried: PREFERRED_FAMILIES.join(", "),
    })
}

/// The characters of `text` the font has no glyph for (whitespace ignored), in order, once each.
/// Only the font's character map is read (a CJK collection is ~20 MB; its cmap a few hundred KB).
pub fn missing_glyphs(font: &FontChoice, text: &str) -> Result<Vec<char>, FontError> {
    let unreadable = |reason: String| FontError::Unreadable {
        path: font.path.clone(),
        reason,
    };
    let cmap = read_cmap(&font.path, font.index).map_err(unreadable)?;
    let table = ttf_parser::cmap::Table::parse(&cmap)
        .ok_or_else(|| unreadable("its character map cannot be read".into()))?;
    let covered = |c: char| {
        table
            .subtables
            .into_iter()
            .any(|st| st.is_unicode() && st.glyph_index(u32::from(c)).is_some_and(|g| g.0 != 0))
    };
    let mut missing = Vec::new();
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if !covered(c) && !missing.contains(&c) {
            missing.push(c);
        }
    }
    Ok(missing)
}

/// The bytes of the `cmap` table of face `index` of a TTF/OTF file or TTC collection.
fn read_cmap(path: &std::path::Path, index: u32) -> Result<Vec<u8>, String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut read_at = |offset: u64, len: usize| -> Result<Vec<u8>, String> {
        let mut buf = vec![0; len];
        f.seek(SeekFrom::Start(offset))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| e.to_string())?;
        Ok(buf)
    };
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let head = read_at(0, 12)?;
    let face_offset = if &head[..4] == b"ttcf" {
        let count = be32(&head, 8);
        if index >= count {
            return Err(format!(
                "the collection has {count} faces, not {}",
                index + 1
            ));
        }
        let at = read_at(12 + 4 * u64::from(index), 4)?;
        u64::from(be32(&at, 0))
    } else {
        0
    };
    let dir = read_at(face_offset, 12)?;
    let tables = usize::from(u16::from_be_bytes([dir[4], dir[5]]));
    let records = read_at(face_offset + 12, 16 * tables)?;
    for r in records.chunks_exact(16) {
        if &r[..4] == b"cmap" {
            let (offset, len) = (be32(r, 8), be32(r, 12));
            if len > 16 << 20 {
                return Err("its character map is implausibly large".into());
            }
            return read_at(u64::from(offset), len as usize);
        }
    }
    Err("it has no character map".into())
}

/// Every piece of text the hub's board may put on screen.
pub fn board_text(b: &hallq_shared::protocol::BoardSnapshot) -> String {
    let n = &b.notices;
    let mut t = String::new();
    let mut add = |s: &str| {
        t.push_str(s);
        t.push(' ');
    };
    add(&n.hall_name.zh);
    add(&n.hall_name.en);
    for s in &n.services {
        add(&s.name.zh);
        add(&s.name.en);
        for x in s.documents.iter().chain(&s.steps).chain(&s.reminder) {
            add(&x.zh);
            add(&x.en);
        }
        for f in &s.fees {
            add(&f.item.zh);
            add(&f.amount.zh);
        }
    }
    for f in &n.fee_schedule {
        add(&f.item.zh);
        add(&f.amount.zh);
    }
    for x in n.commitments.iter().chain(&n.scrolling) {
        add(&x.zh);
        add(&x.en);
    }
    for c in &b.live.counters {
        add(&c.name.zh);
    }
    if let Some(m) = b.live.outage.as_ref().and_then(|o| o.message.as_ref()) {
        add(&m.zh);
    }
    t
}

/// Says on stderr which characters of the board the font cannot draw, so that a notice with a
/// rare character is never silently incomplete.
pub fn warn_missing(font: &FontChoice, b: &hallq_shared::protocol::BoardSnapshot) {
    match missing_glyphs(font, &board_text(b)) {
        Ok(m) if m.is_empty() => {}
        Ok(m) => eprintln!(
            "warning: the font {} has no glyph for {:?}: these characters will not show; install fonts-noto-cjk or change the text",
            font.family,
            m.iter().collect::<String>()
        ),
        Err(e) => eprintln!("warning: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci() -> bool {
        std::env::var("CI").is_ok_and(|v| v == "true")
    }

    #[test]
    fn an_installed_chinese_font_covers_the_fixed_text() {
        match find_chinese_font() {
            Ok(font) => {
                assert!(PREFERRED_FAMILIES.contains(&font.family.as_str()));
                assert!(
                    missing_glyphs(&font, "缴费报修换机顶盒")
                        .unwrap()
                        .is_empty()
                );
                let demo = crate::demo::Scenario::LongOutage.snapshot();
                assert_eq!(
                    missing_glyphs(&font, &board_text(&demo)).unwrap(),
                    Vec::<char>::new()
                );
                // A character no CJK font of ours carries is reported, not silently dropped.
                let odd = missing_glyphs(&font, "\u{10FFFD}").unwrap();
                assert_eq!(odd, vec!['\u{10FFFD}']);
            }
            Err(e) if !ci() => eprintln!("no Chinese font here: {e}"),
            Err(e) => panic!("CI needs a Chinese font (fonts-noto-cjk): {e}"),
        }
    }

    #[test]
    fn the_error_says_what_to_install() {
        let e = FontError::NoChineseFont { tried: "X".into() };
        assert!(e.to_string().contains("apt-get install fonts-noto-cjk"));
    }
}
