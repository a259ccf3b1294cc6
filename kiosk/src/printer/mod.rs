//! The thermal ticket printer: a ticket drawn as a 1-bit picture (so Chinese prints on any ESC/POS
//! printer), the ESC/POS bytes that carry it, the printer's status, and the links to reach it
//! (`usb:`, `serial:`, `tcp:`, `file:`).

pub mod decode;
pub mod escpos;
pub mod fonts;
mod layout;
pub mod raster;
pub mod status;
pub mod transport;

use std::time::Duration;

pub use decode::{Command, DecodeError, decode_tickets};
pub use escpos::{EscPos, encode_ticket};
pub use fonts::TicketFonts;
pub use layout::render_ticket_with;
pub use raster::Raster;
pub use status::health_from_answers;
pub use transport::{EscPosPrinter, PrinterAddr, StatusPolicy, Timeouts};

/// Dots across 58 mm paper at 203 dpi.
pub const WIDTH_58MM: u32 = 384;
/// Dots across 80 mm paper at 203 dpi.
pub const WIDTH_80MM: u32 = 576;

/// Everything printed on one ticket. Texts arrive already in the customer's language, labels are
/// chosen by `lang`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketPrint {
    pub hall_name: String,
    pub number: String,
    pub service_name: String,
    pub priority: bool,
    pub ahead: u32,
    /// The wait in minutes, or the lower end of its range.
    pub estimated_wait_min: u32,
    /// The upper end of the wait's range ("约15–20分钟"); none: one figure.
    #[serde(default)]
    pub estimated_wait_hi_min: Option<u32>,
    /// No upper end can be promised: "15分钟以上".
    #[serde(default)]
    pub estimated_wait_open: bool,
    /// Local time, e.g. "2026-11-25 09:41".
    pub issued_at: String,
    pub documents: Vec<String>,
    pub reminder: Option<String>,
    pub complaint_hotline: String,
    pub consultation_hotline: String,
    /// QR code content: the public ticket-status address.
    pub status_url: String,
    /// Labels in Chinese (default) or English.
    pub lang: hallq_shared::hall::Lang,
    /// The installer's test print: labels that say so instead of a customer's.
    #[serde(default)]
    pub test: bool,
}

impl TicketPrint {
    /// The installer's test ticket (`hallq-kiosk print-test`): a full-size ticket, so that the big
    /// number, the small print and the QR code all show how the printer prints, which says plainly
    /// that it is no queue number. A test print left on the kiosk must not send a customer to wait
    /// for a call that never comes.
    pub fn test_print(printed_at: &str) -> TicketPrint {
        TicketPrint {
            hall_name: "打印测试 Printer test".into(),
            number: "TEST".into(),
            service_name: "此票不是排队号码 Not a queue ticket".into(),
            ahead: 0,
            estimated_wait_min: 0,
            issued_at: printed_at.into(),
            documents: vec![
                "大号字边缘清晰，没有断线 Big letters sharp, no broken lines".into(),
                "小字清楚可读 Small print readable".into(),
                "切口整齐 Paper cut cleanly".into(),
            ],
            reminder: None,
            consultation_hotline: "0123456789".into(),
            complaint_hotline: "ABCDEFGHJK".into(),
            status_url: "hallq printer test".into(),
            test: true,
            ..TicketPrint::sample()
        }
    }

    /// A typical ticket, for layout tests and the benchmark.
    pub fn sample() -> TicketPrint {
        TicketPrint {
            hall_name: "广电网络城东营业厅".into(),
            number: "A007".into(),
            service_name: "缴费 / 充值".into(),
            priority: false,
            ahead: 3,
            estimated_wait_min: 10,
            estimated_wait_hi_min: Some(15),
            estimated_wait_open: false,
            issued_at: "2026-11-25 09:41".into(),
            documents: vec![
                "本人有效身份证件原件".into(),
                "有线电视智能卡或机顶盒序列号".into(),
            ],
            reminder: Some("缴费后请将机顶盒保持开机 30 分钟以接收授权。".into()),
            complaint_hotline: "12345".into(),
            consultation_hotline: "96296".into(),
            status_url: "http://192.168.1.10:8080/t/A007".into(),
            lang: hallq_shared::hall::Lang::Zh,
            test: false,
        }
    }
}

/// The printer's state as the hub and the staff page know it (`PUT /api/v1/kiosk/status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterHealth {
    Ready,
    PaperLow,
    PaperOut,
    CoverOpen,
    Error,
    NoAnswer,
}

impl PrinterHealth {
    /// Tickets can be printed (paper low still prints; the staff should change the roll soon).
    pub fn can_print(&self) -> bool {
        matches!(self, PrinterHealth::Ready | PrinterHealth::PaperLow)
    }

    /// What the customer is told when the ticket did not come out.
    pub fn customer_note(self, lang: hallq_shared::hall::Lang) -> &'static str {
        use hallq_shared::hall::Lang;
        match (self, lang) {
            (PrinterHealth::PaperOut, Lang::Zh) => "打印机缺纸。",
            (PrinterHealth::PaperOut, Lang::En) => "The printer is out of paper.",
            (PrinterHealth::CoverOpen, Lang::Zh) => "打印机盖未关好。",
            (PrinterHealth::CoverOpen, Lang::En) => "The printer cover is open.",
            (PrinterHealth::NoAnswer, Lang::Zh) => "打印机没有响应。",
            (PrinterHealth::NoAnswer, Lang::En) => "The printer does not answer.",
            (_, Lang::Zh) => "打印机故障。",
            (_, Lang::En) => "The printer has a fault.",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "printer address {addr:?}: {reason} (use usb:/dev/usb/lp0, serial:/dev/ttyUSB0?baud=19200, tcp:HOST:9100 or file:PATH)"
    )]
    Address { addr: String, reason: String },
    #[error(
        "ticket width {0} dots is not supported: use 384 (58 mm paper) or 576 (80 mm paper), or another multiple of 8 from 128 to 1024"
    )]
    Width(u32),
    #[error("{0}")]
    NoFont(String),
    #[error("QR code for {url:?}: {reason}")]
    Qr { url: String, reason: String },
    #[error("printer {addr}: {error}")]
    Io { addr: String, error: std::io::Error },
    #[error("printer {addr} did not take the ticket within {after:?}")]
    Timeout { addr: String, after: Duration },
    #[error("printer {addr} is not ready: {health:?}")]
    NotReady { addr: String, health: PrinterHealth },
}

/// A ticket printer. Every call returns within bounded time: the queue never waits on a printer.
pub trait TicketPrinter: Send {
    fn health(&mut self) -> PrinterHealth;
    fn print(&mut self, ticket: &TicketPrint) -> Result<(), PrintError>;
}

/// Opens the printer at `addr` (see [`PrinterAddr`]) for paper `width_dots` wide.
pub fn open(addr: &str, width_dots: u32) -> Result<Box<dyn TicketPrinter>, PrintError> {
    open_with(addr, width_dots, transport::Connect::Now)
}

/// Opens the printer for the kiosk screen: as [`open`], but a device node that is not there yet
/// (the printer switched off or unplugged when the kiosk starts) is no error. The screen comes up
/// and says the printer is not answering, and the printer is taken when it appears.
pub fn open_for_screen(addr: &str, width_dots: u32) -> Result<Box<dyn TicketPrinter>, PrintError> {
    open_with(addr, width_dots, transport::Connect::OnUse)
}

fn open_with(
    addr: &str,
    width_dots: u32,
    connect: transport::Connect,
) -> Result<Box<dyn TicketPrinter>, PrintError> {
    check_width(width_dots)?;
    let addr: PrinterAddr = addr.parse()?;
    transport::open_addr_with(&addr, width_dots, Timeouts::default(), connect)
}

/// Draws the ticket with the system's Chinese fonts.
pub fn render_ticket(t: &TicketPrint, width_dots: u32) -> Result<Raster, PrintError> {
    check_width(width_dots)?;
    let fonts = TicketFonts::system()?;
    render_ticket_with(t, width_dots, &fonts)
}

pub(crate) fn check_width(w: u32) -> Result<(), PrintError> {
    if (128..=1024).contains(&w) && w.is_multiple_of(8) {
        Ok(())
    } else {
        Err(PrintError::Width(w))
    }
}
