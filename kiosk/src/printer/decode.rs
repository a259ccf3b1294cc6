//! Reads an ESC/POS byte stream back: the commands in it and the tickets it would print, as rasters.
//! Tests use it to check what reached a printer; support uses it to look at a captured job.

use super::escpos::{DLE, EOT, ESC, GS};
use super::raster::Raster;

/// Dots fed per line by `ESC d` at the default line spacing (about 1/6 inch at 203 dpi).
pub const LINE_DOTS: u32 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Init,
    /// `GS v 0 m …` with its density mode `m`.
    Raster {
        mode: u8,
        raster: Raster,
    },
    FeedLines(u8),
    FeedDots(u8),
    /// `GS V m [n]`.
    Cut {
        mode: u8,
        n: Option<u8>,
    },
    StatusQuery(u8),
    LineFeed,
    /// Printable bytes (the printer's own font; tickets do not use it).
    Text(Vec<u8>),
    /// A known command that changes a mode and prints nothing (`ESC a n`, `GS ! n`, …).
    Setting(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("ESC/POS stream ends inside a command at byte {offset}")]
    Incomplete { offset: usize },
    #[error("unknown ESC/POS command at byte {offset}: {bytes:02x?}")]
    Unknown { offset: usize, bytes: Vec<u8> },
}

/// Parses every complete command; returns them and how many bytes they took. Stops before a command
/// that is not complete yet, so a reader can call it again when more bytes arrive.
pub fn parse_prefix(bytes: &[u8]) -> Result<(Vec<Command>, usize), DecodeError> {
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match command_at(bytes, i)? {
            Some((cmd, len)) => {
                match (cmd, cmds.last_mut()) {
                    (Command::Text(t), Some(Command::Text(prev))) => prev.extend(t),
                    (cmd, _) => cmds.push(cmd),
                }
                i += len;
            }
            None => break,
        }
    }
    Ok((cmds, i))
}

/// Parses a whole stream; a truncated last command is an error.
pub fn parse(bytes: &[u8]) -> Result<Vec<Command>, DecodeError> {
    let (cmds, used) = parse_prefix(bytes)?;
    if used < bytes.len() {
        return Err(DecodeError::Incomplete { offset: used });
    }
    Ok(cmds)
}

/// The tickets in a stream: rasters stacked top to bottom (feeds as blank paper), one per cut.
/// Paper left uncut at the end counts as a ticket too.
pub fn decode_tickets(bytes: &[u8]) -> Result<Vec<Raster>, DecodeError> {
    let mut tickets = Vec::new();
    let mut page: Option<Raster> = None;
    let feed = |page: &mut Option<Raster>, dots: u32| {
        if let Some(p) = page.as_mut() {
            let h = p.height();
            p.grow_to(h + dots);
        }
    };
    for cmd in parse(bytes)? {
        match cmd {
            Command::Raster { raster, .. } => match page.as_mut() {
                Some(p) if p.width() == raster.width() => {
                    p.append(&raster);
                }
                _ => {
                    if let Some(p) = page.take() {
                        tickets.push(p);
                    }
                    page = Some(raster);
                }
            },
            Command::FeedLines(n) => feed(&mut page, u32::from(n) * LINE_DOTS),
            Command::FeedDots(n) => feed(&mut page, u32::from(n)),
            Command::LineFeed => feed(&mut page, LINE_DOTS),
            Command::Cut { .. } => {
                if let Some(p) = page.take() {
                    tickets.push(p);
                }
            }
            _ => {}
        }
    }
    if let Some(p) = page {
        tickets.push(p);
    }
    Ok(tickets)
}

fn need(bytes: &[u8], i: usize, len: usize) -> Option<&[u8]> {
    bytes.get(i..i + len)
}

/// The command starting at `i` and its length; `None` when it is not complete yet.
fn command_at(bytes: &[u8], i: usize) -> Result<Option<(Command, usize)>, DecodeError> {
    let unknown = |len: usize| DecodeError::Unknown {
        offset: i,
        bytes: bytes[i..(i + len).min(bytes.len())].to_vec(),
    };
    let b0 = bytes[i];
    let Some(&b1) = bytes.get(i + 1) else {
        return Ok(match b0 {
            ESC | GS | DLE | 0x1c => None,
            b'\n' => Some((Command::LineFeed, 1)),
            b'\r' => Some((Command::Setting(vec![b0]), 1)),
            0x20.. => Some((Command::Text(vec![b0]), 1)),
            _ => return Err(unknown(1)),
        });
    };
    let three = |f: fn(u8) -> Command| -> Option<(Command, usize)> {
        need(bytes, i, 3).map(|s| (f(s[2]), 3))
    };
    let setting = |len: usize| need(bytes, i, len).map(|s| (Command::Setting(s.to_vec()), len));
    let cmd = match (b0, b1) {
        (ESC, b'@') => Some((Command::Init, 2)),
        (ESC, b'd') => three(Command::FeedLines),
        (ESC, b'J') => three(Command::FeedDots),
        (ESC, b'2') => setting(2),
        (ESC, b'a' | b'!' | b'E' | b'3' | b't' | b'-' | b'M' | b'R' | b'{' | b'G') => setting(3),
        (GS, b'!' | b'B' | b'h' | b'w' | b'H') => setting(3),
        (GS, b'L' | b'W') => setting(4),
        (GS, b'V') => match bytes.get(i + 2) {
            None => None,
            Some(&m @ (0 | 1 | 48 | 49)) => Some((Command::Cut { mode: m, n: None }, 3)),
            Some(&m @ (65 | 66 | 97 | 98 | 103 | 104)) => need(bytes, i, 4).map(|s| {
                (
                    Command::Cut {
                        mode: m,
                        n: Some(s[3]),
                    },
                    4,
                )
            }),
            Some(_) => return Err(unknown(3)),
        },
        (GS, b'v') => match need(bytes, i, 8) {
            None => None,
            Some(h) if h[2] == b'0' => {
                let bpr = usize::from(h[4]) | usize::from(h[5]) << 8;
                let rows = usize::from(h[6]) | usize::from(h[7]) << 8;
                need(bytes, i + 8, bpr * rows).map(|d| {
                    let raster = Raster::from_packed((bpr * 8) as u32, rows as u32, d.to_vec())
                        .unwrap_or_else(|| Raster::new((bpr * 8) as u32, rows as u32));
                    (Command::Raster { mode: h[3], raster }, 8 + bpr * rows)
                })
            }
            Some(_) => return Err(unknown(8)),
        },
        (DLE, EOT) => three(Command::StatusQuery),
        (0x1c, b'&' | b'.') => setting(2),
        (b'\n', _) => Some((Command::LineFeed, 1)),
        (b'\r', _) => Some((Command::Setting(vec![b0]), 1)),
        (0x20.., _) => Some((Command::Text(vec![b0]), 1)),
        _ => return Err(unknown(3)),
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::escpos::encode_ticket;

    #[test]
    fn a_ticket_job_decodes_back_to_the_same_raster_plus_feed() {
        let mut r = Raster::new(384, 500);
        for y in 0..500 {
            r.set(y % 384, y, true);
        }
        let bytes = encode_ticket(&r, Vec::new()).unwrap();
        let cmds = parse(&bytes).unwrap();
        assert_eq!(cmds[0], Command::Init);
        assert_eq!(
            cmds.last(),
            Some(&Command::Cut {
                mode: 66,
                n: Some(0)
            })
        );
        let tickets = decode_tickets(&bytes).unwrap();
        assert_eq!(tickets.len(), 1);
        let t = &tickets[0];
        assert_eq!(t.width(), 384);
        assert_eq!(t.height(), 500 + 3 * LINE_DOTS);
        assert_eq!(t.rows(0, 500), r);
    }

    #[test]
    fn prefix_parsing_waits_for_the_rest_of_a_command() {
        let bytes = encode_ticket(&Raster::new(16, 4), Vec::new()).unwrap();
        let (cmds, used) = parse_prefix(&bytes[..6]).unwrap();
        assert_eq!(cmds, vec![Command::Init]);
        assert_eq!(used, 2);
        assert_eq!(
            parse(&bytes[..6]),
            Err(DecodeError::Incomplete { offset: 2 })
        );
    }

    #[test]
    fn status_queries_text_and_unknown_bytes() {
        let cmds = parse(&[0x10, 0x04, 0x04, b'h', b'i', b'\n']).unwrap();
        assert_eq!(
            cmds,
            vec![
                Command::StatusQuery(4),
                Command::Text(b"hi".to_vec()),
                Command::LineFeed
            ]
        );
        assert!(matches!(
            parse(&[0x1b, 0x40, 0x1d, 0x99, 0]),
            Err(DecodeError::Unknown { offset: 2, .. })
        ));
    }

    #[test]
    fn two_cuts_make_two_tickets() {
        let mut bytes = encode_ticket(&Raster::new(8, 2), Vec::new()).unwrap();
        bytes = encode_ticket(&Raster::new(8, 3), bytes).unwrap();
        let t = decode_tickets(&bytes).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].height(), 3 + 3 * LINE_DOTS);
    }
}
