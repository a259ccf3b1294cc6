//! The kiosk screen without a display: drawn by Slint's software renderer into memory, saved as PNG
//! (`--screenshot`, the docs images, pixel tests), and touched at screen coordinates as a finger would.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, PointerEventButton, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, PhysicalSize, PlatformError, Rgb8Pixel};

use super::KioskWindow;

thread_local! {
    static WINDOWS: RefCell<Vec<Rc<MinimalSoftwareWindow>>> = const { RefCell::new(Vec::new()) };
}

struct HeadlessPlatform {
    started: Instant,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        let w = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        WINDOWS.with(|ws| ws.borrow_mut().push(w.clone()));
        Ok(w)
    }

    fn duration_since_start(&self) -> Duration {
        self.started.elapsed()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("cannot start the headless renderer: {0}")]
    Platform(String),
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: String },
}

/// One kiosk window drawn in memory. Slint's platform is per thread: use it on one thread.
pub struct Headless {
    pub ui: KioskWindow,
    window: Rc<MinimalSoftwareWindow>,
}

/// An RGB image, row by row.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<Rgb8Pixel>,
}

impl Frame {
    pub fn at(&self, x: u32, y: u32) -> (u8, u8, u8) {
        let p = self.pixels[(y * self.width + x) as usize];
        (p.r, p.g, p.b)
    }

    pub fn write_png(&self, path: &Path) -> Result<(), HeadlessError> {
        let fail = |why: String| HeadlessError::Write {
            path: path.display().to_string(),
            why,
        };
        let file = std::fs::File::create(path).map_err(|e| fail(e.to_string()))?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| fail(e.to_string()))?;
        let bytes: Vec<u8> = self.pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        w.write_image_data(&bytes).map_err(|e| fail(e.to_string()))
    }
}

impl Headless {
    pub fn new(width: u32, height: u32) -> Result<Headless, HeadlessError> {
        match slint::platform::set_platform(Box::new(HeadlessPlatform {
            started: Instant::now(),
        })) {
            Ok(()) | Err(slint::platform::SetPlatformError::AlreadySet) => {}
            Err(e) => return Err(HeadlessError::Platform(e.to_string())),
        }
        let ui = KioskWindow::new().map_err(|e| HeadlessError::Platform(e.to_string()))?;
        let window = WINDOWS
            .with(|ws| ws.borrow().last().cloned())
            .ok_or_else(|| HeadlessError::Platform("another platform owns this thread".into()))?;
        let h = Headless { ui, window };
        h.resize(width, height);
        h.ui.show()
            .map_err(|e| HeadlessError::Platform(e.to_string()))?;
        Ok(h)
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.window.set_size(PhysicalSize::new(width, height));
    }

    pub fn size(&self) -> (u32, u32) {
        let s = self.window.size();
        (s.width, s.height)
    }

    /// Draws the whole screen as it is now.
    pub fn frame(&self) -> Frame {
        slint::platform::update_timers_and_animations();
        let (width, height) = self.size();
        let mut pixels = vec![Rgb8Pixel::new(0, 0, 0); (width * height) as usize];
        self.window.request_redraw();
        self.window.draw_if_needed(|r| {
            r.render(&mut pixels, width as usize);
        });
        Frame {
            width,
            height,
            pixels,
        }
    }

    pub fn save_png(&self, path: &Path) -> Result<(), HeadlessError> {
        self.frame().write_png(path)
    }

    /// A finger's tap at (x, y) in window pixels.
    pub fn tap(&self, x: f32, y: f32) {
        let position = LogicalPosition::new(x, y);
        let w = self.window.window();
        w.dispatch_event(WindowEvent::PointerMoved { position });
        w.dispatch_event(WindowEvent::PointerPressed {
            position,
            button: PointerEventButton::Left,
        });
        w.dispatch_event(WindowEvent::PointerReleased {
            position,
            button: PointerEventButton::Left,
        });
        w.dispatch_event(WindowEvent::PointerExited);
    }
}
