//! `WxH` screen sizes as the screen programs take them on their command lines (`--size 1920x1080`).

/// `1920x1080` (also `X` or `×`) → `(1920, 1080)`; each side 200–8192 pixels.
pub fn parse_screen_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("{s:?}: expected WxH, e.g. 1920x1080 or 1024x600"))?;
    let side = |v: &str, which: &str| -> Result<u32, String> {
        v.trim()
            .parse()
            .map_err(|_| format!("bad {which} in {s:?}"))
    };
    let (w, h) = (side(w, "width")?, side(h, "height")?);
    if !(200..=8192).contains(&w) || !(200..=8192).contains(&h) {
        return Err(format!("{s:?}: each side must be 200–8192 pixels"));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_say_why() {
        assert_eq!(parse_screen_size("1920x1080"), Ok((1920, 1080)));
        assert_eq!(parse_screen_size("1080X1920"), Ok((1080, 1920)));
        assert_eq!(parse_screen_size(" 800 × 480 "), Ok((800, 480)));
        assert!(
            parse_screen_size("1920")
                .unwrap_err()
                .contains("expected WxH")
        );
        assert!(parse_screen_size("axb").unwrap_err().contains("bad width"));
        assert!(parse_screen_size("10x10").unwrap_err().contains("200–8192"));
    }
}
