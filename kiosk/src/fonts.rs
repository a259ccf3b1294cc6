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

/// A Chinese font file, the kiosk's preferred family first, or why none was found.
pub fn find_chinese_font() -> Result<PathBuf, NoChineseFont> {
    let dirs = font_dirs();
    let mut found = Vec::new();
    for dir in &dirs {
        search(dir, 6, &mut found);
    }
    let rank = |p: &PathBuf| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        CJK_FONTS
            .iter()
            .position(|f| name.contains(f))
            .unwrap_or(usize::MAX)
    };
    if let Some(best) = found.iter().min_by_key(|p| rank(p)) {
        return Ok(best.clone());
    }
    Err(NoChineseFont {
        searched: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn search(dir: &Path, depth: u32, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            if depth > 0 {
                search(&path, depth - 1, found);
            }
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
            found.push(path);
        }
    }
}
