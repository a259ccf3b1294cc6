//! Pages served to browsers: the public ticket-status page a customer opens from the QR code on
//! their ticket or after taking one by phone (`/t/{number}`, live with `phone.js`), the page a
//! scanned code opens (`/p/{code}`), and the staff pages embedded from `src/web/` under `/staff/`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use hallq_shared::hall::TicketState;
use hallq_shared::protocol::TicketStatus;

use super::extract::Path;
use super::state::AppState;

include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// Seconds between refreshes of the ticket page.
const TICKET_PAGE_REFRESH_S: u32 = 15;

pub async fn root() -> Redirect {
    Redirect::to("/staff/")
}

pub async fn staff_index() -> Response {
    staff_file("staff.html")
}

/// `/p/{code}`: the page a scanned code opens (the page reads the code from its address).
pub async fn phone_page() -> Response {
    staff_file("phone.html")
}

pub async fn staff_asset(Path(path): Path<String>) -> Response {
    if path.is_empty() {
        return staff_file("staff.html");
    }
    staff_file(&path)
}

fn staff_file(path: &str) -> Response {
    let Some((_, bytes)) = WEB_FILES.iter().find(|(p, _)| *p == path) else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "未找到 Not found",
                "<h1>未找到该页面</h1><p>Page not found.</p>",
                None,
            )),
        )
            .into_response();
    };
    let mut r = (*bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

pub async fn ticket_page(State(hub): State<AppState>, Path(number): Path<String>) -> Response {
    let at = hub.now().at;
    let status = hub
        .writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .ticket_status(&number, at);
    match status {
        Some(s) => Html(ticket_html(&s)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(page(
                "号码查询 Ticket",
                &format!(
                    "<h1>今日没有这个号码</h1><p class=en>No ticket {} today.</p><p>请核对小票上的号码,或咨询大厅工作人员。</p>",
                    escape(&number)
                ),
                None,
            )),
        )
            .into_response(),
    }
}

fn ticket_html(s: &TicketStatus) -> String {
    let (state_zh, state_en) = match s.state {
        TicketState::Waiting => ("等候中", "Waiting"),
        TicketState::Called => ("请到窗口办理", "Called: please go to the counter"),
        TicketState::Serving => ("办理中", "Being served"),
        TicketState::Finished => ("已办结", "Finished"),
        TicketState::NoShow => ("已过号", "Missed"),
        TicketState::Expired => ("已失效", "Expired"),
    };
    let mut body = format!(
        "<p class=hall>{svc_zh} <span class=en>{svc_en}</span></p>\
         <div class=number>{number}</div>\
         <p class=state>{state_zh}<br><span class=en>{state_en}</span></p>",
        number = escape(&s.number),
        svc_zh = escape(&s.service_name.zh),
        svc_en = escape(&s.service_name.en),
    );
    if let (Some(_), Some(name)) = (s.counter, &s.counter_name) {
        body.push_str(&format!(
            "<p class=counter>请到 <b>{}</b><br><span class=en>Please go to {}</span></p>",
            escape(&name.zh),
            escape(if name.en.is_empty() {
                &name.zh
            } else {
                &name.en
            }),
        ));
    }
    // Next with a wait still (every counter busy, the business system down): the table says how
    // long.
    if s.state == TicketState::Waiting && s.ahead == 0 && s.estimated_wait_hi_s == Some(0) {
        body.push_str(
            "<p class=counter>您是下一位,请留意叫号<br><span class=en>You are next: please listen for your number</span></p>",
        );
    } else if s.state == TicketState::Waiting {
        // The range the estimate's error calls for ("约15–20分钟", "20分钟以上").
        let range = hallq_shared::estimate::WaitRange {
            lo_s: s.estimated_wait_lo_s,
            hi_s: s.estimated_wait_hi_s,
        };
        let (wait_zh, wait_en) = if range.lo_s == 0 && range.hi_s.is_none() {
            let minutes = s.estimated_wait_s.div_ceil(60);
            (format!("约{minutes}分钟"), format!("about {minutes} min"))
        } else {
            (range.zh(), range.en())
        };
        body.push_str(&format!(
            "<table><tr><th>前面还有</th><td><b>{ahead}</b> 人<br><span class=en>{ahead} ahead of you</span></td></tr>\
             <tr><th>预计等候</th><td><b>{wait_zh}</b><br><span class=en>{wait_en}</span></td></tr></table>\
             <p class=note>请留意叫号,过号请到服务台咨询。<br><span class=en>Please listen for your number.</span></p>",
            ahead = s.ahead,
        ));
    }
    page(
        &format!("{} 号码查询", escape(&s.number)),
        &body,
        Some(TICKET_PAGE_REFRESH_S),
    )
}

fn page(title: &str, body: &str, refresh: Option<u32>) -> String {
    // A page that follows a ticket is kept live by `phone.js` over the event stream; without
    // scripts it reloads itself.
    let refresh = refresh
        .map(|s| {
            format!(
                "<noscript><meta http-equiv=refresh content={s}></noscript>\
                 <script type=module src=\"/staff/phone.js\"></script>"
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">{refresh}<title>{title}</title>\
         <style>{TICKET_STYLE}</style></head><body>{body}</body></html>"
    )
}

/// The one inline style of the hub's pages; the Content-Security-Policy allows it by its hash.
const TICKET_STYLE: &str = "body{font-family:\"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",sans-serif;margin:0;padding:1.5em;text-align:center;background:#f5f7fa;color:#1a2330}\
     .number{font-size:5em;font-weight:bold;color:#0b5cad;margin:.2em 0}.state{font-size:1.6em;font-weight:bold}\
     .counter{font-size:1.4em;color:#b3261e}.en{font-size:.75em;color:#5a6675;font-weight:normal}\
     table{margin:1em auto;font-size:1.2em;border-collapse:collapse}th,td{padding:.4em .8em;text-align:left}\
     .hall{font-size:1.2em}.note{color:#5a6675}";

/// `sha256-…` of `TICKET_STYLE`, as a Content-Security-Policy source.
pub fn ticket_style_hash() -> String {
    use sha2::Digest;
    format!(
        "sha256-{}",
        super::edge::base64(&sha2::Sha256::digest(TICKET_STYLE.as_bytes()))
    )
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
