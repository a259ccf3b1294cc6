//! Chinese fonts for tickets: found on the system (Noto Sans CJK SC, else WenQuanYi Micro Hei), and text
//! drawn from their outlines into the 1-bit raster at any size.
//!
//! Tickets are printed as pictures, so the printer needs no font of its own; the kiosk needs one, and a
//! missing one must be a clear error rather than a ticket with blank lines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};

use super::PrintError;
use super::raster::Raster;

/// Characters every ticket font must have: a font without them would print blank Chinese lines.
const PROBE: &str = "号请您前面还有人分钟A0123456789";

/// Overrides the lookup: `PATH` or `PATH#INDEX` of a TTF/OTF/TTC file.
pub const FONT_ENV: &str = "HALLQ_TICKET_FONT";

/// One face of a font file, with the bold emulation used when the family has no bold file.
pub struct Face {
    font: FontVec,
    /// Extra strokes drawn one dot to the right to thicken a regular face.
    embolden: bool,
    /// Where it came from, for messages.
    pub origin: String,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Face({}, embolden={})", self.origin, self.embolden)
    }
}

/// The two weights a ticket uses.
#[derive(Debug)]
pub struct TicketFonts {
    pub regular: Face,
    pub bold: Face,
}

impl TicketFonts {
    /// The system's fonts, looked up once per process.
    pub fn system() -> Result<Arc<TicketFonts>, PrintError> {
        static FONTS: OnceLock<Result<Arc<TicketFonts>, String>> = OnceLock::new();
        FONTS
            .get_or_init(|| find_fonts().map(Arc::new))
            .clone()
            .map_err(PrintError::NoFont)
    }

    /// Loads one file for both weights (bold is emulated).
    pub fn from_file(path: &Path, index: u32) -> Result<TicketFonts, PrintError> {
        let regular = load_face(path, index, false).map_err(PrintError::NoFont)?;
        let bold = load_face(path, index, true).map_err(PrintError::NoFont)?;
        Ok(TicketFonts { regular, bold })
    }
}

fn load_face(path: &Path, index: u32, embolden: bool) -> Result<Face, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let font = FontVec::try_from_vec_and_index(data, index)
        .map_err(|e| format!("{} (face {index}): {e}", path.display()))?;
    if let Some(c) = PROBE.chars().find(|c| font.glyph_id(*c).0 == 0) {
        return Err(format!(
            "{} (face {index}) has no glyph for {c:?}: not a Chinese font",
            path.display()
        ));
    }
    Ok(Face {
        font,
        embolden,
        origin: format!("{}#{index}", path.display()),
    })
}

/// A font file and face index to try.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    path: PathBuf,
    index: u32,
    /// The file is a real bold face (no emulation needed).
    bold: bool,
}

fn candidate(path: &str, index: u32, bold: bool) -> Candidate {
    Candidate {
        path: path.into(),
        index,
        bold,
    }
}

/// Asks fontconfig for a pattern; `None` when fc-match is absent or answers nothing.
fn fc_match(pattern: &str, bold: bool) -> Option<Candidate> {
    let out = Command::new("fc-match")
        .args(["-f", "%{file}\n%{index}\n", pattern])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let path = lines.next()?.trim();
    let index = lines.next()?.trim().parse().unwrap_or(0);
    (!path.is_empty()).then(|| Candidate {
        path: path.into(),
        index,
        bold,
    })
}

fn parse_env_font(v: &str) -> Candidate {
    match v.rsplit_once('#') {
        Some((p, i)) if i.parse::<u32>().is_ok() => candidate(p, i.parse().unwrap_or(0), false),
        _ => candidate(v, 0, false),
    }
}

fn find_fonts() -> Result<TicketFonts, String> {
    let mut tried = Vec::new();
    if let Ok(v) = std::env::var(FONT_ENV) {
        let c = parse_env_font(&v);
        return TicketFonts::from_file(&c.path, c.index)
            .map_err(|e| format!("{FONT_ENV}={v}: {e}"));
    }

    // Noto Sans CJK SC has a real bold; face 2 of Debian's collection is Simplified Chinese.
    let noto_dir = "/usr/share/fonts/opentype/noto";
    let noto_regular = [
        Some(candidate(
            &format!("{noto_dir}/NotoSansCJK-Regular.ttc"),
            2,
            false,
        )),
        fc_match("Noto Sans CJK SC:style=Regular", false),
    ];
    let noto_bold = [
        Some(candidate(
            &format!("{noto_dir}/NotoSansCJK-Bold.ttc"),
            2,
            true,
        )),
        fc_match("Noto Sans CJK SC:style=Bold", true),
    ];
    let regular = first_loadable(noto_regular.into_iter().flatten(), &mut tried);
    let bold = first_loadable(noto_bold.into_iter().flatten(), &mut tried);
    match (regular, bold) {
        (Some(regular), Some(bold)) => return Ok(TicketFonts { regular, bold }),
        (Some(regular), None) => {
            let bold = load_face_from(&regular.origin, true)?;
            return Ok(TicketFonts { regular, bold });
        }
        _ => {}
    }

    let others = [
        Some(candidate(
            "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            0,
            false,
        )),
        fc_match("WenQuanYi Micro Hei", false),
        Some(candidate(
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
            0,
            false,
        )),
        Some(candidate(
            "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
            0,
            false,
        )),
        fc_match(":lang=zh-cn", false),
    ];
    if let Some(regular) = first_loadable(others.into_iter().flatten(), &mut tried) {
        let bold = load_face_from(&regular.origin, true)?;
        return Ok(TicketFonts { regular, bold });
    }
    Err(format!(
        "no Chinese font for tickets: install fonts-noto-cjk or fonts-wqy-microhei, or set {FONT_ENV}=PATH[#INDEX] (tried: {})",
        if tried.is_empty() {
            "nothing".into()
        } else {
            tried.join("; ")
        }
    ))
}

fn load_face_from(origin: &str, embolden: bool) -> Result<Face, String> {
    let c = parse_env_font(origin);
    load_face(&c.path, c.index, embolden)
}

fn first_loadable(cands: impl Iterator<Item = Candidate>, tried: &mut Vec<String>) -> Option<Face> {
    for c in cands {
        if !c.path.exists() {
            tried.push(format!("{} (absent)", c.path.display()));
            continue;
        }
        match load_face(&c.path, c.index, false) {
            Ok(f) => return Some(f),
            Err(e) => tried.push(e),
        }
    }
    None
}

/// Where the baseline sits below the top of a line, as a share of the font size: ideographs fill
/// roughly 0.88 em above the baseline in both Noto and WenQuanYi.
const ASCENT: f32 = 0.88;

/// Glyph coverage from which a dot is inked.
const INK_THRESHOLD: f32 = 0.35;

impl Face {
    /// ab_glyph scales by the font's ascent-to-descent height; tickets are laid out in em sizes
    /// (the size of an ideograph), which differ by half in CJK fonts.
    fn scale(&self, px: f32) -> PxScale {
        let em = self.font.units_per_em().unwrap_or(1000.0);
        PxScale::from(px * self.font.height_unscaled() / em)
    }

    /// Width in dots of `text` at `px` dots per em.
    pub fn measure(&self, text: &str, px: f32) -> f32 {
        let sf = self.font.as_scaled(self.scale(px));
        let mut w = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                w += sf.kern(p, id);
            }
            w += sf.h_advance(id);
            prev = Some(id);
        }
        w + if self.embolden {
            self.extra(px) as f32
        } else {
            0.0
        }
    }

    fn extra(&self, px: f32) -> u32 {
        (px / 28.0).ceil() as u32
    }

    /// Draws `text` with the top of its line at `top`; returns the width drawn.
    /// `ink == false` draws paper (for white text on a black band).
    pub fn draw(&self, r: &mut Raster, text: &str, x: f32, top: f32, px: f32, ink: bool) -> f32 {
        let sf = self.font.as_scaled(self.scale(px));
        let baseline = top + px * ASCENT;
        let mut caret = x;
        let mut prev = None;
        let extra = if self.embolden { self.extra(px) } else { 0 };
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                caret += sf.kern(p, id);
            }
            let glyph = id.with_scale_and_position(self.scale(px), point(caret, baseline));
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, cov| {
                    // Thermal dots are on or off; a threshold under one half thickens the thin
                    // strokes of small characters, which fade first on thermal paper.
                    if cov >= INK_THRESHOLD {
                        let px_x = b.min.x as i32 + gx as i32;
                        let px_y = b.min.y as i32 + gy as i32;
                        if px_x >= 0 && px_y >= 0 {
                            for dx in 0..=extra {
                                r.set(px_x as u32 + dx, px_y as u32, ink);
                            }
                        }
                    }
                });
            }
            caret += sf.h_advance(id);
            prev = Some(id);
        }
        caret - x + extra as f32
    }

    /// Splits `text` into lines no wider than `max_width`: Chinese may break between any two
    /// characters, Latin words stay whole where they fit, and closing punctuation never starts a line.
    pub fn wrap(&self, text: &str, px: f32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for token in tokens(para) {
                let candidate = format!("{line}{token}");
                if line.is_empty() || self.measure(&candidate, px) <= max_width {
                    line = candidate;
                    continue;
                }
                if starts_with_closing(&token) {
                    // Hang the punctuation at the end of the line rather than start a line with it.
                    line = candidate;
                    continue;
                }
                lines.push(line.trim_end().to_string());
                line = token.trim_start().to_string();
                // A single word wider than the line is broken between characters.
                while self.measure(&line, px) > max_width && line.chars().count() > 1 {
                    let mut head = String::new();
                    let mut rest = line.chars().peekable();
                    while let Some(c) = rest.peek() {
                        let next = format!("{head}{c}");
                        if !head.is_empty() && self.measure(&next, px) > max_width {
                            break;
                        }
                        head = next;
                        rest.next();
                    }
                    lines.push(head);
                    line = rest.collect();
                }
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

fn starts_with_closing(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| "，。、；：！？）》」』】,.;:!?)".contains(c))
}

/// Words for wrapping: every CJK character alone, Latin runs with their trailing space.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if is_cjk(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else if c == ' ' {
            cur.push(c);
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_font_spec_takes_an_index() {
        assert_eq!(
            parse_env_font("/a/b.ttc#2"),
            candidate("/a/b.ttc", 2, false)
        );
        assert_eq!(parse_env_font("/a/b.ttf"), candidate("/a/b.ttf", 0, false));
    }

    #[test]
    fn tokens_split_chinese_per_character_and_latin_per_word() {
        assert_eq!(
            tokens("身份证 ID card"),
            vec!["身", "份", "证", " ", "ID ", "card"]
        );
    }

    #[test]
    fn a_font_file_that_is_not_chinese_is_refused_clearly() {
        let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if !dejavu.exists() {
            return;
        }
        let e = TicketFonts::from_file(dejavu, 0).unwrap_err().to_string();
        assert!(e.contains("not a Chinese font"), "{e}");
    }

    #[test]
    fn a_missing_font_file_is_an_error_not_a_panic() {
        let e = TicketFonts::from_file(Path::new("/nonexistent/font.ttc"), 0).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/font.ttc"), "{e}");
    }

    #[test]
    fn wrapping_keeps_lines_inside_the_width_and_loses_nothing() {
        let fonts =
            TicketFonts::system().expect("a Chinese font (fonts-noto-cjk or fonts-wqy-microhei)");
        let text = "请携带本人有效身份证件原件，代办的请同时携带代办人身份证件。";
        let lines = fonts.regular.wrap(text, 24.0, 200.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), text);
        for l in &lines {
            assert!(fonts.regular.measure(l, 24.0) <= 200.0 + 24.0, "{l}");
            assert!(!starts_with_closing(l), "{l}");
        }
    }
}
