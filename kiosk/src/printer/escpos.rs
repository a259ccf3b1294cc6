//! ESC/POS bytes: the few commands a ticket needs (init, raster graphics, feed, cut, status query),
//! written to any `impl Write`.

use std::io::{self, Write};

use super::raster::Raster;

pub const ESC: u8 = 0x1b;
pub const GS: u8 = 0x1d;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;

/// Rows per `GS v 0` command. Small bands keep within the receive buffer of cheap printers and let
/// them start printing before the whole ticket has arrived.
pub const BAND_ROWS: u32 = 240;

/// `DLE EOT n` status kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum StatusKind {
    Printer = 1,
    Offline = 2,
    Error = 3,
    Paper = 4,
}

/// Writes ESC/POS commands to `out`.
#[derive(Debug)]
pub struct EscPos<W: Write> {
    out: W,
}

impl<W: Write> EscPos<W> {
    pub fn new(out: W) -> Self {
        EscPos { out }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// `ESC @`: forget any mode left over from earlier jobs.
    pub fn init(&mut self) -> io::Result<()> {
        self.out.write_all(&[ESC, b'@'])
    }

    /// `GS v 0 0 xL xH yL yH d…`: the raster in bands of [`BAND_ROWS`] rows, normal density.
    pub fn raster(&mut self, r: &Raster) -> io::Result<()> {
        let bpr = r.bytes_per_row();
        if bpr > 0xffff {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "raster too wide for GS v 0",
            ));
        }
        let mut y = 0;
        while y < r.height() {
            let rows = BAND_ROWS.min(r.height() - y);
            let band = r.rows(y, y + rows);
            self.out.write_all(&[
                GS,
                b'v',
                b'0',
                0,
                (bpr & 0xff) as u8,
                (bpr >> 8) as u8,
                (rows & 0xff) as u8,
                (rows >> 8) as u8,
            ])?;
            self.out.write_all(band.data())?;
            y += rows;
        }
        Ok(())
    }

    /// `ESC d n`: feed `n` lines.
    pub fn feed_lines(&mut self, n: u8) -> io::Result<()> {
        self.out.write_all(&[ESC, b'd', n])
    }

    /// `ESC J n`: feed `n` dots.
    pub fn feed_dots(&mut self, n: u8) -> io::Result<()> {
        self.out.write_all(&[ESC, b'J', n])
    }

    /// `GS V 66 n`: feed the paper to the cutter (plus `n` dots) and cut, leaving a hinge
    /// so the ticket does not fall on the floor.
    pub fn feed_and_cut(&mut self, n: u8) -> io::Result<()> {
        self.out.write_all(&[GS, b'V', 66, n])
    }

    /// `DLE EOT n`: ask for one status byte.
    pub fn status_query(&mut self, kind: StatusKind) -> io::Result<()> {
        self.out.write_all(&[DLE, EOT, kind as u8])
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A whole print job: init, the ticket, a little paper below it, cut.
pub fn encode_ticket<W: Write>(r: &Raster, out: W) -> io::Result<W> {
    let mut p = EscPos::new(out);
    p.init()?;
    p.raster(r)?;
    // Room below the last line so the hotline is not cut through.
    p.feed_lines(3)?;
    p.feed_and_cut(0)?;
    p.flush()?;
    Ok(p.into_inner())
}

/// The status queries sent to check the printer before a ticket: printer, offline cause, paper.
pub fn status_queries() -> Vec<u8> {
    let mut p = EscPos::new(Vec::new());
    for k in [StatusKind::Printer, StatusKind::Offline, StatusKind::Paper] {
        // Writing into a Vec cannot fail.
        let _ = p.status_query(k);
    }
    p.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_byte_exact() {
        let mut p = EscPos::new(Vec::new());
        p.init().unwrap();
        p.feed_lines(3).unwrap();
        p.feed_dots(24).unwrap();
        p.feed_and_cut(0).unwrap();
        p.status_query(StatusKind::Paper).unwrap();
        assert_eq!(
            p.into_inner(),
            vec![
                0x1b, 0x40, 0x1b, 0x64, 0x03, 0x1b, 0x4a, 0x18, 0x1d, 0x56, 0x42, 0x00, 0x10, 0x04,
                0x04
            ]
        );
        assert_eq!(
            status_queries(),
            vec![0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04]
        );
    }

    #[test]
    fn raster_header_and_data_are_byte_exact() {
        // 12 dots wide → 2 bytes per row; a diagonal of two dots.
        let mut r = Raster::new(12, 2);
        r.set(0, 0, true);
        r.set(9, 1, true);
        let mut p = EscPos::new(Vec::new());
        p.raster(&r).unwrap();
        assert_eq!(
            p.into_inner(),
            vec![
                0x1d, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x80, 0x00, 0x00, 0x40
            ]
        );
    }

    #[test]
    fn tall_rasters_go_in_bands() {
        let r = Raster::new(576, BAND_ROWS * 2 + 10);
        let mut p = EscPos::new(Vec::new());
        p.raster(&r).unwrap();
        let bytes = p.into_inner();
        let headers = bytes.len() - r.data().len();
        assert_eq!(headers, 3 * 8);
        // First band: 72 bytes per row, 240 rows.
        assert_eq!(&bytes[..8], &[0x1d, 0x76, 0x30, 0, 72, 0, 240, 0]);
        let last = 2 * (8 + 72 * 240);
        assert_eq!(&bytes[last..last + 8], &[0x1d, 0x76, 0x30, 0, 72, 0, 10, 0]);
    }

    #[test]
    fn a_ticket_job_starts_with_init_and_ends_with_a_cut() {
        let r = Raster::new(384, 5);
        let bytes = encode_ticket(&r, Vec::new()).unwrap();
        assert_eq!(&bytes[..2], &[0x1b, 0x40]);
        assert_eq!(
            &bytes[bytes.len() - 7..],
            &[0x1b, 0x64, 3, 0x1d, 0x56, 0x42, 0]
        );
    }
}
