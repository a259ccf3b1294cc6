//! The log format of the hall's programs (the hub and the kiosk): every field and message is written with its
//! control characters escaped, so that text from the network (a login name, a header) cannot start
//! a line of its own or hide part of one.
//!
//! `tracing-subscriber` writes `%field` values as they are (it only neutralises a few terminal
//! escapes), so a login of `"x\nINFO signed in"` would print a second, fake line. Sites that log a
//! string someone sent also use `?field`, whose quotes keep a value with spaces from looking like
//! several fields; this layer is the net under every site, including ones written later.

use std::fmt::{self, Write as _};

use tracing_subscriber::field::{MakeExt, RecordFields};
use tracing_subscriber::fmt::format::{FormatFields, Writer, debug_fn};

/// Writes `text` with line breaks, other control characters and the invisible characters that
/// reorder or break lines in a viewer replaced by `\n`, `\r`, `\t` or `\u{…}`.
pub fn write_escaped(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let escape = match c {
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if needs_escape(c) => None,
            _ => continue,
        };
        out.write_str(&text[plain..i])?;
        match escape {
            Some(e) => out.write_str(e)?,
            None => write!(out, "\\u{{{:x}}}", u32::from(c))?,
        }
        plain = i + c.len_utf8();
    }
    out.write_str(&text[plain..])
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Line and paragraph separators, and the bidirectional marks and overrides.
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` escaped as [`write_escaped`] does, as a `String`.
pub fn escaped(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    let _ = write_escaped(&mut s, text);
    s
}

/// Formats a value, then escapes what came out, without an intermediate `String`.
struct EscapingWriter<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for EscapingWriter<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.0, s)
    }
}

/// The field formatter: `message field=value field=value`, every value escaped.
pub fn fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    EscapedFields
}

struct EscapedFields;

impl<'w> FormatFields<'w> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let inner = debug_fn(
            |w: &mut Writer<'_>, field: &tracing::field::Field, value: &dyn fmt::Debug| {
                if field.name() != "message" {
                    write!(w, "{}=", field.name())?;
                }
                write!(EscapingWriter(w), "{value:?}")
            },
        )
        .delimited(" ");
        inner.format_fields(writer, fields)
    }
}

/// Logs to standard error (the journal under systemd), level from `RUST_LOG`, `info` by default;
/// every value escaped, so nothing a client sends can start a log line.
pub fn init() {
    tracing_subscriber::fmt()
        .fmt_fields(fields())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_controls_are_escaped_and_the_rest_kept() {
        assert_eq!(escaped("a\nFAKE"), "a\\nFAKE");
        assert_eq!(escaped("x\r\n\tINFO"), "x\\r\\n\\tINFO");
        assert_eq!(escaped("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(
            escaped("a\u{2028}b\u{202e}c\u{85}"),
            "a\\u{2028}b\\u{202e}c\\u{85}"
        );
        assert_eq!(escaped("楚天视讯 A007 ok=1"), "楚天视讯 A007 ok=1");
        assert_eq!(escaped(""), "");
    }
}
