//! A 1-bit picture as wide as the paper, packed the way ESC/POS raster commands carry it.

use std::io::Write;

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Size};

/// Rows past this are ignored while drawing: no ticket is longer than ~60 cm.
pub const MAX_HEIGHT: u32 = 4800;

/// One bit per dot, rows top to bottom, most significant bit leftmost, `1` = ink.
/// The height grows while drawing, so a layout can be drawn before its length is known.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Raster {}x{} ({} dots inked)",
            self.width,
            self.height,
            self.ink_count()
        )
    }
}

impl Raster {
    /// A blank raster. `width` is in dots; rows are padded to whole bytes.
    pub fn new(width: u32, height: u32) -> Raster {
        let bpr = width.div_ceil(8) as usize;
        Raster {
            width,
            height,
            data: vec![0; bpr * height as usize],
        }
    }

    /// A raster from packed rows as ESC/POS sends them (`bytes_per_row * height` bytes).
    pub fn from_packed(width: u32, height: u32, data: Vec<u8>) -> Option<Raster> {
        (data.len() == width.div_ceil(8) as usize * height as usize).then_some(Raster {
            width,
            height,
            data,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn bytes_per_row(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// All rows, packed.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn row(&self, y: u32) -> &[u8] {
        let bpr = self.bytes_per_row();
        &self.data[y as usize * bpr..(y as usize + 1) * bpr]
    }

    /// Whether the dot at (x, y) is inked; outside the raster is paper.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let i = y as usize * self.bytes_per_row() + (x / 8) as usize;
        self.data[i] & (0x80 >> (x % 8)) != 0
    }

    /// Sets one dot, growing the raster downwards if needed (up to [`MAX_HEIGHT`]).
    pub fn set(&mut self, x: u32, y: u32, ink: bool) {
        if x >= self.width || y >= MAX_HEIGHT {
            return;
        }
        if y >= self.height {
            self.grow_to(y + 1);
        }
        let i = y as usize * self.bytes_per_row() + (x / 8) as usize;
        if ink {
            self.data[i] |= 0x80 >> (x % 8);
        } else {
            self.data[i] &= !(0x80 >> (x % 8));
        }
    }

    /// Makes the raster at least `height` rows tall (new rows are blank paper).
    pub fn grow_to(&mut self, height: u32) {
        if height > self.height {
            self.height = height;
            self.data.resize(self.bytes_per_row() * height as usize, 0);
        }
    }

    /// Cuts the raster to `height` rows.
    pub fn truncate(&mut self, height: u32) {
        if height < self.height {
            self.height = height;
            self.data.truncate(self.bytes_per_row() * height as usize);
        }
    }

    /// Appends another raster of the same width below this one.
    pub fn append(&mut self, below: &Raster) -> bool {
        if below.width != self.width {
            return false;
        }
        self.height += below.height;
        self.data.extend_from_slice(&below.data);
        true
    }

    /// Rows `from..to` as a raster of their own (for printing in bands).
    pub fn rows(&self, from: u32, to: u32) -> Raster {
        let to = to.min(self.height);
        let from = from.min(to);
        let bpr = self.bytes_per_row();
        Raster {
            width: self.width,
            height: to - from,
            data: self.data[from as usize * bpr..to as usize * bpr].to_vec(),
        }
    }

    /// Inked dots in the whole raster.
    pub fn ink_count(&self) -> u64 {
        self.data.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    /// Inked dots inside the rectangle `x0..x1` × `y0..y1` (clamped to the raster).
    pub fn ink_in(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> u64 {
        let mut n = 0;
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                n += u64::from(self.get(x, y));
            }
        }
        n
    }

    /// The first and last row that carry ink, if any.
    pub fn inked_rows(&self) -> Option<(u32, u32)> {
        let inked = |y: &u32| self.row(*y).iter().any(|b| *b != 0);
        let first = (0..self.height).find(inked)?;
        let last = (0..self.height).rev().find(inked)?;
        Some((first, last))
    }

    /// Writes the raster as a grey-scale PNG (black ink on white paper).
    pub fn write_png<W: Write>(&self, out: W) -> Result<(), png::EncodingError> {
        let mut enc = png::Encoder::new(out, self.width, self.height.max(1));
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        let mut w = enc.write_header()?;
        // PNG's 1-bit grey has 1 = white: invert the ink bits.
        let mut data: Vec<u8> = self.data.iter().map(|b| !b).collect();
        if self.height == 0 {
            data = vec![0xff; self.bytes_per_row()];
        }
        w.write_image_data(&data)?;
        w.finish()
    }
}

impl OriginDimensions for Raster {
    fn size(&self) -> Size {
        // Drawing may extend the raster downwards, so advertise the longest ticket.
        Size::new(self.width, MAX_HEIGHT)
    }
}

impl DrawTarget for Raster {
    type Color = BinaryColor;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            if p.x >= 0 && p.y >= 0 {
                self.set(p.x as u32, p.y as u32, c.is_on());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_msb_first_and_ink_is_one() {
        let mut r = Raster::new(10, 1);
        r.set(0, 0, true);
        r.set(9, 0, true);
        assert_eq!(r.data(), &[0x80, 0x40]);
        assert!(r.get(9, 0));
        assert!(!r.get(10, 0));
    }

    #[test]
    fn drawing_grows_the_raster() {
        let mut r = Raster::new(16, 0);
        r.set(3, 7, true);
        assert_eq!(r.height(), 8);
        assert_eq!(r.inked_rows(), Some((7, 7)));
        r.set(3, MAX_HEIGHT, true);
        assert_eq!(r.height(), 8);
    }

    #[test]
    fn png_round_trip_keeps_size() {
        let mut r = Raster::new(24, 3);
        r.set(1, 1, true);
        let mut buf = Vec::new();
        r.write_png(&mut buf).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(buf));
        let reader = dec.read_info().unwrap();
        assert_eq!(reader.info().width, 24);
        assert_eq!(reader.info().height, 3);
    }
}
