//! The ticket's layout: what goes where, how big, for 58 mm and 80 mm paper. Elderly customers read
//! it, so the number is as large as the paper allows and the rest is large, black and well spaced.

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use hallq_shared::hall::Lang;
use qrcode::{EcLevel, QrCode};

use super::fonts::{Face, TicketFonts};
use super::raster::Raster;
use super::{PrintError, TicketPrint, check_width};

/// Sizes in dots for one paper width.
struct Metrics {
    margin: f32,
    hall: f32,
    greeting: f32,
    service: f32,
    number_max: f32,
    label: f32,
    value: f32,
    ahead: f32,
    body: f32,
    qr_module: u32,
    gap: f32,
}

impl Metrics {
    fn for_width(w: u32) -> Metrics {
        // 80 mm is the reference; 58 mm keeps text nearly as large and gives up margin instead.
        let k = (w as f32 / 576.0).clamp(0.5, 2.0);
        let t = k.max(0.92);
        Metrics {
            margin: (16.0 * k).round(),
            hall: 30.0 * t,
            greeting: 23.0 * t,
            service: 40.0 * t,
            number_max: 170.0 * k.max(0.8),
            label: 24.0 * t,
            value: 28.0 * t,
            ahead: 44.0 * t,
            body: 24.0 * t,
            qr_module: if w >= 512 { 6 } else { 5 },
            gap: 16.0 * t,
        }
    }
}

/// Customer-facing words, Chinese first.
struct Labels {
    greeting: &'static str,
    your_number: &'static str,
    priority: &'static str,
    ahead_pre: &'static str,
    ahead_post: &'static str,
    none_ahead: &'static str,
    wait_pre: &'static str,
    wait_post: &'static str,
    /// Around the lower end when no upper end is promised.
    wait_open_pre: &'static str,
    wait_open_post: &'static str,
    issued: &'static str,
    documents: &'static str,
    reminder: &'static str,
    scan: &'static str,
    listen: &'static str,
    consultation: &'static str,
    complaint: &'static str,
    thanks: &'static str,
}

const ZH: Labels = Labels {
    greeting: "您好，欢迎光临",
    your_number: "您的号码",
    priority: "优先办理",
    ahead_pre: "前面还有",
    ahead_post: "人",
    none_ahead: "前面没有人等候，请留意叫号",
    wait_pre: "预计等候约",
    wait_post: "分钟",
    wait_open_pre: "预计等候",
    wait_open_post: "分钟以上",
    issued: "取号时间",
    documents: "请备好以下材料：",
    reminder: "温馨提示：",
    scan: "扫码查看排队进度",
    listen: "请留意屏幕和语音叫号",
    consultation: "咨询电话",
    complaint: "投诉电话",
    thanks: "感谢您的耐心等候",
};

const EN: Labels = Labels {
    greeting: "Welcome",
    your_number: "Your number",
    priority: "PRIORITY",
    ahead_pre: "Ahead of you:",
    ahead_post: "",
    none_ahead: "No one ahead of you. Please listen for your number.",
    wait_pre: "Estimated wait: about",
    wait_post: "min",
    wait_open_pre: "Estimated wait: over",
    wait_open_post: "min",
    issued: "Issued",
    documents: "Please have ready:",
    reminder: "Please note: ",
    scan: "Scan to follow the queue",
    listen: "Watch the screen and listen for your number",
    consultation: "Enquiries",
    complaint: "Complaints",
    thanks: "Thank you for your patience",
};

/// The installer's test print: every line says what to check, none tells anyone to wait.
const TEST: Labels = Labels {
    greeting: "请勿使用 · Do not use",
    your_number: "测试 Test",
    priority: "优先办理 PRIORITY",
    ahead_pre: "",
    ahead_post: "",
    none_ahead: "此票只用于检查打印机 For checking the printer only",
    wait_pre: "",
    wait_post: "",
    wait_open_pre: "",
    wait_open_post: "",
    issued: "打印时间",
    documents: "请检查 Check:",
    reminder: "",
    scan: "扫码应读出 The code should read:",
    listen: "hallq printer test",
    consultation: "数字 Digits",
    complaint: "字母 Letters",
    thanks: "测试结束 End of test",
};

/// A cursor moving down the paper.
struct Pen {
    r: Raster,
    width: f32,
    margin: f32,
    y: f32,
}

impl Pen {
    fn inner(&self) -> f32 {
        self.width - 2.0 * self.margin
    }

    /// Wrapped lines centred on the paper.
    fn centered(&mut self, face: &Face, text: &str, px: f32, line: f32) {
        for l in face.wrap(text, px, self.inner()) {
            let w = face.measure(&l, px);
            let x = ((self.width - w) / 2.0).max(self.margin);
            face.draw(&mut self.r, &l, x, self.y, px, true);
            self.y += px * line;
        }
    }

    /// Wrapped lines from the left margin. With an `indent`, `first` (a bullet) hangs left of it
    /// and the text's lines all start at the indent; without, `first` simply leads the paragraph.
    fn left(&mut self, face: &Face, first: &str, text: &str, px: f32, indent: f32) {
        if indent <= 0.0 {
            for l in face.wrap(&format!("{first}{text}"), px, self.inner()) {
                face.draw(&mut self.r, &l, self.margin, self.y, px, true);
                self.y += px * 1.5;
            }
            return;
        }
        for (i, l) in face
            .wrap(text, px, self.inner() - indent)
            .iter()
            .enumerate()
        {
            if i == 0 {
                face.draw(&mut self.r, first, self.margin, self.y, px, true);
            }
            face.draw(&mut self.r, l, self.margin + indent, self.y, px, true);
            self.y += px * 1.5;
        }
    }

    /// Runs of text on one line, each with its own face and size, sharing a baseline.
    fn runs(&mut self, runs: &[(&Face, &str, f32)]) {
        let tallest = runs.iter().map(|r| r.2).fold(0.0, f32::max);
        let mut x = self.margin;
        for (face, text, px) in runs {
            // Each run's top sits so that its baseline meets the tallest run's.
            let top = self.y + (tallest - px) * 0.88;
            x += face.draw(&mut self.r, text, x, top, *px, true);
        }
        self.y += tallest * 1.45;
    }

    fn rule(&mut self, thickness: u32) {
        let top = self.y.round() as i32;
        let (x, w) = (self.margin as i32, self.inner() as u32);
        fill(&mut self.r, x, top, w, thickness);
        self.y += thickness as f32;
    }

    fn space(&mut self, dots: f32) {
        self.y += dots;
    }
}

fn fill(r: &mut Raster, x: i32, y: i32, w: u32, h: u32) {
    // Drawing into a Raster cannot fail.
    let _ = Rectangle::new(Point::new(x, y), Size::new(w, h))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(r);
}

/// The QR code as dots, up to `module` dots per module and at most `max_side` dots wide, with the
/// quiet zone the standard asks for.
fn qr_raster(url: &str, module: u32, max_side: u32) -> Result<Raster, PrintError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| {
        PrintError::Qr {
            url: url.to_string(),
            reason: e.to_string(),
        }
    })?;
    let n = code.width() as u32;
    let quiet = 4;
    let module = module.min(max_side / (n + 2 * quiet));
    if module < 2 {
        // One-dot modules blur on thermal paper: better no ticket than one whose code fails.
        return Err(PrintError::Qr {
            url: url.to_string(),
            reason: format!("a {n}-module code does not fit {max_side} dots at 2 dots a module"),
        });
    }
    let side = (n + 2 * quiet) * module;
    let mut r = Raster::new(side, side);
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i as u32 % n, i as u32 / n);
            fill(
                &mut r,
                ((mx + quiet) * module) as i32,
                ((my + quiet) * module) as i32,
                module,
                module,
            );
        }
    }
    Ok(r)
}

fn blit(dst: &mut Raster, src: &Raster, x: u32, y: u32) {
    for sy in 0..src.height() {
        for sx in 0..src.width() {
            if src.get(sx, sy) {
                dst.set(x + sx, y + sy, true);
            }
        }
    }
}

/// Draws the ticket with the given fonts, as wide as the paper.
pub fn render_ticket_with(
    t: &TicketPrint,
    width_dots: u32,
    fonts: &TicketFonts,
) -> Result<Raster, PrintError> {
    check_width(width_dots)?;
    let m = Metrics::for_width(width_dots);
    let l = match t.lang {
        _ if t.test => &TEST,
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    let (reg, bold) = (&fonts.regular, &fonts.bold);
    let mut p = Pen {
        r: Raster::new(width_dots, 0),
        width: width_dots as f32,
        margin: m.margin,
        y: m.gap,
    };

    p.centered(bold, &t.hall_name, m.hall, 1.4);
    p.centered(reg, l.greeting, m.greeting, 1.4);
    p.space(m.gap * 0.5);
    p.rule(3);
    p.space(m.gap);

    p.centered(bold, &t.service_name, m.service, 1.35);

    if t.priority {
        // White on black: seen at a glance by the customer and by the clerk.
        p.space(m.gap * 0.5);
        let band = m.service * 1.35;
        let top = p.y;
        let (x, w) = (p.margin as i32, p.inner() as u32);
        fill(&mut p.r, x, top.round() as i32, w, band.round() as u32);
        let text = l.priority;
        let w = bold.measure(text, m.service);
        let x = (p.width - w) / 2.0;
        bold.draw(
            &mut p.r,
            text,
            x,
            top + (band - m.service) / 2.0,
            m.service,
            false,
        );
        p.y = top + band;
        p.space(m.gap * 0.5);
    }

    p.space(m.gap * 0.5);
    p.centered(reg, l.your_number, m.label, 1.3);
    // As large as the paper allows, for a number read at arm's length.
    let max_w = p.inner() - 8.0;
    let w_at_max = bold.measure(&t.number, m.number_max);
    let number_px = if w_at_max > max_w {
        m.number_max * max_w / w_at_max
    } else {
        m.number_max
    };
    let number_top = p.y;
    let w = bold.measure(&t.number, number_px);
    bold.draw(
        &mut p.r,
        &t.number,
        (p.width - w) / 2.0,
        p.y,
        number_px,
        true,
    );
    p.y = number_top + number_px * 0.96;
    p.space(m.gap);
    p.rule(2);
    p.space(m.gap);

    // Nobody ahead may still wait: every counter busy, or the business system down.
    if t.ahead == 0 {
        p.left(bold, "", l.none_ahead, m.value, 0.0);
    } else {
        let n = t.ahead.to_string();
        let post = if l.ahead_post.is_empty() {
            String::new()
        } else {
            format!(" {}", l.ahead_post)
        };
        p.runs(&[
            (reg, &format!("{} ", l.ahead_pre), m.label),
            (bold, &n, m.ahead),
            (reg, &post, m.label),
        ]);
    }
    if t.estimated_wait_min > 0 {
        let lo = t.estimated_wait_min;
        let (pre, value, post) = match t.estimated_wait_hi_min {
            _ if t.estimated_wait_open => (l.wait_open_pre, lo.to_string(), l.wait_open_post),
            Some(hi) if hi > lo => (l.wait_pre, format!("{lo}–{hi}"), l.wait_post),
            _ => (l.wait_pre, lo.to_string(), l.wait_post),
        };
        p.runs(&[
            (reg, &format!("{pre} "), m.label),
            (bold, &value, m.value),
            (reg, &format!(" {post}"), m.label),
        ]);
    }
    p.runs(&[
        (reg, &format!("{} ", l.issued), m.label),
        (bold, &t.issued_at, m.label),
    ]);

    if !t.documents.is_empty() {
        p.space(m.gap * 0.5);
        p.left(bold, "", l.documents, m.body, 0.0);
        let bullet = "· ";
        let indent = reg.measure(bullet, m.body);
        for d in &t.documents {
            p.left(reg, bullet, d, m.body, indent);
        }
    }
    if let Some(rem) = t.reminder.as_deref().filter(|r| !r.trim().is_empty()) {
        p.space(m.gap * 0.5);
        p.left(bold, l.reminder, rem, m.body, 0.0);
    }

    p.space(m.gap);
    p.rule(2);
    p.space(m.gap * 0.5);

    let qr = qr_raster(&t.status_url, m.qr_module, width_dots)?;
    let qr_top = p.y.round() as u32;
    if width_dots >= 512 {
        // Side by side on wide paper: the code left, what it is for on the right.
        let x = p.margin as u32;
        blit(&mut p.r, &qr, x, qr_top);
        let tx = x as f32 + qr.width() as f32 + 4.0;
        let saved_margin = p.margin;
        let mut y = qr_top as f32 + qr.height() as f32 * 0.25;
        let text_w = p.width - saved_margin - tx;
        for (face, text, px) in [(bold, l.scan, m.body), (reg, l.listen, m.body)] {
            for line in face.wrap(text, px, text_w) {
                face.draw(&mut p.r, &line, tx, y, px, true);
                y += px * 1.35;
            }
        }
        p.y = (qr_top + qr.height()) as f32;
    } else {
        let x = (width_dots - qr.width().min(width_dots)) / 2;
        blit(&mut p.r, &qr, x, qr_top);
        p.y = (qr_top + qr.height()) as f32 - m.qr_module as f32 * 2.0;
        p.centered(bold, l.scan, m.body, 1.35);
        p.centered(reg, l.listen, m.body, 1.35);
    }

    p.space(m.gap * 0.5);
    p.rule(2);
    p.space(m.gap);
    p.runs(&[
        (reg, &format!("{} ", l.consultation), m.label),
        (bold, &t.consultation_hotline, m.value),
    ]);
    p.runs(&[
        (reg, &format!("{} ", l.complaint), m.label),
        (bold, &t.complaint_hotline, m.value),
    ]);
    p.space(m.gap * 0.5);
    p.centered(reg, l.thanks, m.greeting, 1.3);
    p.space(m.gap);

    let Pen { mut r, y, .. } = p;
    r.grow_to(y.ceil() as u32);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_code_has_quiet_zone_and_finder_patterns() {
        let r = qr_raster("http://192.168.1.10:8080/t/A007", 5, 576).unwrap();
        assert_eq!(r.width(), r.height());
        // Quiet zone is paper; the top-left finder starts right after it.
        assert_eq!(r.ink_in(0, 0, r.width(), 20), 0);
        assert!(r.get(20, 20));
        assert!(r.get(20 + 6 * 5 + 2, 20 + 6 * 5 + 2));
        // On narrow paper the modules shrink to fit.
        let narrow = qr_raster("http://192.168.1.10:8080/t/A007", 5, 128).unwrap();
        assert!(narrow.width() <= 128);
    }
}
