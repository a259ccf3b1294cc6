//! What the printer's `DLE EOT` answers mean: paper, cover and error flags, and the one
//! [`PrinterHealth`] the kiosk shows.

use super::PrinterHealth;
use super::escpos::StatusKind;

/// Flags read from status bytes; `None` = not asked or not answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusFlags {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_out: bool,
    pub paper_low: bool,
    pub error: bool,
}

/// Every status byte has bits 1 and 4 set and bits 0 and 7 clear; anything else is line noise
/// (a wrong baud rate, or raster data echoed back).
pub fn is_status_byte(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// The flags in one answer to `DLE EOT n`; `None` when the byte is not a status byte.
pub fn parse_status_byte(kind: StatusKind, b: u8) -> Option<StatusFlags> {
    if !is_status_byte(b) {
        return None;
    }
    let bit = |n: u8| b & (1 << n) != 0;
    let mut f = StatusFlags::default();
    match kind {
        StatusKind::Printer => f.offline = bit(3),
        StatusKind::Offline => {
            f.cover_open = bit(2);
            f.paper_out = bit(5);
            f.error = bit(6);
        }
        StatusKind::Error => f.error = bit(3) || bit(5) || bit(6),
        StatusKind::Paper => {
            f.paper_low = bit(2) || bit(3);
            f.paper_out = bit(5) || bit(6);
        }
    }
    Some(f)
}

/// The health from the bytes answered to `DLE EOT 1`, `DLE EOT 2`, `DLE EOT 4` (in that order, as
/// [`super::escpos::status_queries`] asks). No answer at all is [`PrinterHealth::NoAnswer`]; bytes
/// that are not status bytes are [`PrinterHealth::Error`]. A printer that answers only the first
/// queries is judged on what it said.
pub fn health_from_answers(answers: &[u8]) -> PrinterHealth {
    if answers.is_empty() {
        return PrinterHealth::NoAnswer;
    }
    let kinds = [StatusKind::Printer, StatusKind::Offline, StatusKind::Paper];
    let mut all = StatusFlags::default();
    for (kind, b) in kinds.iter().zip(answers) {
        let Some(f) = parse_status_byte(*kind, *b) else {
            return PrinterHealth::Error;
        };
        all.offline |= f.offline;
        all.cover_open |= f.cover_open;
        all.paper_out |= f.paper_out;
        all.paper_low |= f.paper_low;
        all.error |= f.error;
    }
    health_from_flags(all)
}

/// The most urgent thing the flags say. An open cover comes first: with the cover up the paper
/// sensor may also read "out", and closing the cover is what the staff must do.
pub fn health_from_flags(f: StatusFlags) -> PrinterHealth {
    if f.cover_open {
        PrinterHealth::CoverOpen
    } else if f.paper_out {
        PrinterHealth::PaperOut
    } else if f.error || f.offline {
        PrinterHealth::Error
    } else if f.paper_low {
        PrinterHealth::PaperLow
    } else {
        PrinterHealth::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_healthy_printer() {
        assert_eq!(
            health_from_answers(&[0x12, 0x12, 0x12]),
            PrinterHealth::Ready
        );
    }

    #[test]
    fn paper_near_end_and_out() {
        assert_eq!(
            health_from_answers(&[0x12, 0x12, 0x1e]),
            PrinterHealth::PaperLow
        );
        // Offline because the paper ran out: the offline cause and the roll sensor both say so.
        assert_eq!(
            health_from_answers(&[0x1a, 0x32, 0x72]),
            PrinterHealth::PaperOut
        );
        assert_eq!(
            health_from_answers(&[0x12, 0x12, 0x72]),
            PrinterHealth::PaperOut
        );
    }

    #[test]
    fn cover_open_wins_over_paper() {
        assert_eq!(
            health_from_answers(&[0x1a, 0x36, 0x72]),
            PrinterHealth::CoverOpen
        );
    }

    #[test]
    fn errors_and_offline() {
        assert_eq!(
            health_from_answers(&[0x1a, 0x52, 0x12]),
            PrinterHealth::Error
        );
        assert_eq!(
            health_from_answers(&[0x1a, 0x12, 0x12]),
            PrinterHealth::Error
        );
    }

    #[test]
    fn silence_and_noise() {
        assert_eq!(health_from_answers(&[]), PrinterHealth::NoAnswer);
        assert_eq!(health_from_answers(&[0xff]), PrinterHealth::Error);
        assert_eq!(health_from_answers(&[0x12, 0x00]), PrinterHealth::Error);
    }

    #[test]
    fn partial_answers_are_judged_on_what_was_said() {
        assert_eq!(health_from_answers(&[0x12]), PrinterHealth::Ready);
        assert_eq!(health_from_answers(&[0x12, 0x36]), PrinterHealth::CoverOpen);
    }

    #[test]
    fn error_status_byte() {
        let f = parse_status_byte(StatusKind::Error, 0x1a).unwrap();
        assert!(f.error);
        assert!(parse_status_byte(StatusKind::Error, 0x12).is_some_and(|f| !f.error));
    }
}
