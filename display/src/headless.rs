//! Rendering without any display server: a software-rendered window of a fixed size, drawn into
//! memory and written as PNG. Used by `--screenshot`, the pixel tests and the benchmark.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{
    MinimalSoftwareWindow, PhysicalRegion, PremultipliedRgbaColor, RepaintBufferType, TargetPixel,
};
use slint::platform::{Platform, WindowAdapter};
use slint::{PhysicalSize, Rgb8Pixel};

/// One pixel of a 32-bit `XRGB8888` frame: the format the Pi's display takes (its KMS
/// framebuffer), so that what is measured here is what the board draws there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct XrgbPixel(pub u32);

impl XrgbPixel {
    pub fn rgb(self) -> Rgb8Pixel {
        Rgb8Pixel::new((self.0 >> 16) as u8, (self.0 >> 8) as u8, self.0 as u8)
    }
}

impl TargetPixel for XrgbPixel {
    #[cfg(not(feature = "kms-blend"))]
    #[inline]
    fn blend(&mut self, c: PremultipliedRgbaColor) {
        // Most of a glyph's box is either empty or fully covered: only its edges need the mix.
        match c.alpha {
            0 if c.red | c.green | c.blue == 0 => return,
            u8::MAX => {
                *self = Self::from_rgb(c.red, c.green, c.blue);
                return;
            }
            _ => {}
        }
        let keep = u32::from(u8::MAX - c.alpha);
        let mix = |shift: u32, add: u8| {
            (((self.0 >> shift) & 0xff) * keep / 255 + u32::from(add)) << shift
        };
        self.0 = 0xff00_0000 | mix(16, c.red) | mix(8, c.green) | mix(0, c.blue);
    }

    /// What Slint's KMS backend does for its `XRGB8888` buffers: unpack into its own colour type,
    /// blend all four channels, pack again.
    #[cfg(feature = "kms-blend")]
    fn blend(&mut self, c: PremultipliedRgbaColor) {
        let v = self.0;
        let mut x = PremultipliedRgbaColor {
            red: (v >> 16) as u8,
            green: (v >> 8) as u8,
            blue: v as u8,
            alpha: (v >> 24) as u8,
        };
        x.blend(c);
        self.0 = u32::from(x.alpha) << 24
            | u32::from(x.red) << 16
            | u32::from(x.green) << 8
            | u32::from(x.blue);
    }

    fn from_rgb(r: u8, g: u8, b: u8) -> Self {
        XrgbPixel(0xff00_0000 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("the headless renderer could not be installed: {0}")]
    Platform(String),
    #[error("cannot write the PNG: {0}")]
    Png(String),
}

struct HeadlessPlatform {
    latest: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
    start: Instant,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        // A reused buffer lets later frames repaint only what changed.
        let window = MinimalSoftwareWindow::new(RepaintBufferType::ReusedBuffer);
        *self.latest.borrow_mut() = Some(window.clone());
        Ok(window)
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }
}

/// The process's headless platform and the frame of its newest window. Install it before creating
/// any component; each component created afterwards gets its own window.
pub struct Headless {
    latest: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
    buffer: Vec<XrgbPixel>,
    width: u32,
    height: u32,
}

impl Headless {
    /// Installs the headless platform (once per process); frames are `width`×`height`.
    pub fn install(width: u32, height: u32) -> Result<Headless, HeadlessError> {
        let latest = Rc::new(RefCell::new(None));
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            latest: latest.clone(),
            start: Instant::now(),
        }))
        .map_err(|e| HeadlessError::Platform(e.to_string()))?;
        Ok(Headless {
            latest,
            buffer: vec![XrgbPixel::default(); (width * height) as usize],
            width,
            height,
        })
    }

    /// The window of the component created last.
    pub fn window(&self) -> Option<Rc<MinimalSoftwareWindow>> {
        self.latest.borrow().clone()
    }

    /// Changes the frame size (applies to the newest window at the next render).
    pub fn set_size(&mut self, width: u32, height: u32) {
        self.width = width;
        self.height = height;
        self.buffer = vec![XrgbPixel::default(); (width * height) as usize];
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Draws what changed since the last frame of the newest window; returns the repainted region.
    pub fn render(&mut self) -> Option<PhysicalRegion> {
        let window = self.window()?;
        let size = PhysicalSize::new(self.width, self.height);
        if window.size() != size {
            window.set_size(size);
        }
        slint::platform::update_timers_and_animations();
        let width = self.width as usize;
        let buffer = &mut self.buffer;
        let mut region = None;
        window.draw_if_needed(|r| {
            region = Some(r.render(buffer, width));
        });
        region
    }

    /// Renders the whole frame again, whatever changed (for measuring a full repaint).
    pub fn render_full(&mut self) {
        let Some(window) = self.window() else { return };
        window.request_redraw();
        let width = self.width as usize;
        let buffer = &mut self.buffer;
        window.draw_if_needed(|r| {
            r.set_repaint_buffer_type(RepaintBufferType::NewBuffer);
            r.render(buffer, width);
            r.set_repaint_buffer_type(RepaintBufferType::ReusedBuffer);
        });
    }

    pub fn pixels(&self) -> impl Iterator<Item = Rgb8Pixel> + '_ {
        self.buffer.iter().map(|p| p.rgb())
    }

    pub fn pixel(&self, x: u32, y: u32) -> Rgb8Pixel {
        self.buffer[(y * self.width + x) as usize].rgb()
    }

    pub fn write_png(&self, out: impl Write) -> Result<(), HeadlessError> {
        let mut enc = png::Encoder::new(out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let err = |e: png::EncodingError| HeadlessError::Png(e.to_string());
        let mut w = enc.write_header().map_err(err)?;
        let bytes: Vec<u8> = self.pixels().flat_map(|p| [p.r, p.g, p.b]).collect();
        w.write_image_data(&bytes).map_err(err)?;
        w.finish().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcuts must not change a single pixel: every blend agrees with Slint's own.
    #[test]
    fn blend_agrees_with_slints_own_colour_blend() {
        let below = [0x00_00_00, 0xff_ff_ff, 0x12_80_f0, 0x0b_1f_3a];
        for rgb in below {
            for alpha in 0..=255u8 {
                for tint in [[0u8, 0, 0], [255, 255, 255], [250, 190, 20]] {
                    let c = PremultipliedRgbaColor::from(slint::Color::from_argb_u8(
                        alpha, tint[0], tint[1], tint[2],
                    ));
                    let mut ours = XrgbPixel(0xff00_0000 | rgb);
                    ours.blend(c);
                    let mut theirs = PremultipliedRgbaColor {
                        red: (rgb >> 16) as u8,
                        green: (rgb >> 8) as u8,
                        blue: rgb as u8,
                        alpha: 255,
                    };
                    theirs.blend(c);
                    let got = ours.rgb();
                    assert_eq!(
                        (got.r, got.g, got.b),
                        (theirs.red, theirs.green, theirs.blue),
                        "below {rgb:06x}, alpha {alpha}, tint {tint:?}"
                    );
                }
            }
        }
    }
}
