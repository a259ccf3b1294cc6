//! Reading back what a printer was sent: the tickets in an ESC/POS byte stream, and the address in
//! each ticket's QR code (`/t/{number}`), so that a test can check which ticket a printer got
//! without reading glyphs.

use hallq_kiosk::printer::{DecodeError, decode_tickets};

/// The text of every QR code on every ticket in `bytes`, ticket by ticket.
pub fn qr_texts(bytes: &[u8]) -> Result<Vec<Vec<String>>, DecodeError> {
    Ok(decode_tickets(bytes)?
        .iter()
        .map(|r| {
            // Paper is white where no dot is printed; QR readers want the quiet zone light.
            let mut img = rqrr::PreparedImage::prepare_from_greyscale(
                r.width() as usize,
                r.height() as usize,
                |x, y| if r.get(x as u32, y as u32) { 0 } else { 255 },
            );
            img.detect_grids()
                .into_iter()
                .filter_map(|g| g.decode().ok().map(|(_, text)| text))
                .collect()
        })
        .collect())
}

/// The ticket number a `/t/{number}` address names.
pub fn number_of(url: &str) -> Option<&str> {
    url.rsplit_once("/t/")
        .map(|(_, n)| n)
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_kiosk::printer::{TicketPrint, encode_ticket, render_ticket};

    #[test]
    fn the_number_is_read_back_from_the_printed_bytes() {
        for width in [384, 576] {
            let ticket = TicketPrint {
                number: "B042".into(),
                status_url: "http://192.168.1.10:8080/t/B042".into(),
                ..TicketPrint::sample()
            };
            let raster = render_ticket(&ticket, width).unwrap();
            // Two tickets in one stream, as a printer's capture holds them.
            let mut bytes = encode_ticket(&raster, Vec::new()).unwrap();
            bytes.extend(encode_ticket(&raster, Vec::new()).unwrap());
            let texts = qr_texts(&bytes).unwrap();
            assert_eq!(texts.len(), 2, "width {width}");
            for t in texts {
                assert_eq!(t, vec!["http://192.168.1.10:8080/t/B042".to_string()]);
                assert_eq!(number_of(&t[0]), Some("B042"));
            }
        }
    }

    #[test]
    fn a_stream_that_is_not_esc_pos_is_an_error() {
        assert!(qr_texts(&[0x1b, 0xff, 0x00]).is_err());
    }
}
