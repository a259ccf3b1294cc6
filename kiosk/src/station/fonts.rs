//! The start-up check for a Chinese font. Without one, Chinese renders as nothing at all, and with no
//! font whatsoever the software renderer panics: fail early with words an installer can act on.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error(
    "no Chinese font found (looked in {searched}); install one, e.g. `apt-get install fonts-noto-cjk` \
     or `apt-get install fonts-wqy-microhei`"
)]
pub struct NoChineseFont {
    pub searched: String,
}

/// Font file names that cover simplified Chinese.
const CJK_FONTS: [&str; 5] = [
    "notosanscjk",
    "notoserifcjk",
    "wqy-microhei",
    "wqy-zenhei",
    "droidsansfallback",
];

fn font_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".local/share/fonts"));
        dirs.push(Path::new(&home).join(".fonts"));
    }
    dirs
}

/// The first Chinese font file found, or why none was.
pub fn find_chinese_font() -> Result<PathBuf, NoChineseFont> {
    let dirs = font_dirs();
    for dir in &dirs {
        if let Some(found) = search(dir, 6) {
            return Ok(found);
        }
    }
    Err(NoChineseFont {
        searched: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn search(dir: &Path, depth: u32) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            subdirs.push(path);
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let is_font = [".ttc", ".ttf", ".otf", ".otc"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if is_font && CJK_FONTS.iter().any(|f| name.contains(f)) {
            return Some(path);
        }
    }
    if depth == 0 {
        return None;
    }
    subdirs.sort();
    subdirs.into_iter().find_map(|d| search(&d, depth - 1))
}
