//! The ticket's layout on 58 mm and 80 mm paper, checked on the decoded ESC/POS raster: where the
//! ink is, how big the number is, that Chinese text really drew, and that the pictures in docs/img
//! are what the code prints today.

use hallq_kiosk::printer::{
    self, Raster, TicketPrint, WIDTH_58MM, WIDTH_80MM, decode_tickets, encode_ticket, render_ticket,
};
use hallq_shared::hall::Lang;

/// Render, encode, decode: the raster as a printer would receive it.
fn printed(t: &TicketPrint, width: u32) -> Raster {
    let r = render_ticket(t, width).expect("a Chinese font (fonts-noto-cjk or fonts-wqy-microhei)");
    let bytes = encode_ticket(&r, Vec::new()).unwrap();
    let mut tickets = decode_tickets(&bytes).unwrap();
    assert_eq!(tickets.len(), 1);
    tickets.remove(0)
}

/// Rows where two tickets of the same width differ, as (first, last).
fn differing_rows(a: &Raster, b: &Raster) -> Option<(u32, u32)> {
    let h = a.height().max(b.height());
    let empty = vec![0u8; a.bytes_per_row()];
    let row = |r: &Raster, y: u32| -> Vec<u8> {
        if y < r.height() {
            r.row(y).to_vec()
        } else {
            empty.clone()
        }
    };
    let rows: Vec<u32> = (0..h).filter(|y| row(a, *y) != row(b, *y)).collect();
    Some((*rows.first()?, *rows.last()?))
}

/// Columns with ink in rows `y0..=y1`, as (leftmost, rightmost).
fn ink_columns(r: &Raster, y0: u32, y1: u32) -> (u32, u32) {
    let cols: Vec<u32> = (0..r.width())
        .filter(|x| (y0..=y1).any(|y| r.get(*x, y)))
        .collect();
    (cols[0], *cols.last().unwrap())
}

#[test]
fn ticket_is_as_wide_as_the_paper_and_of_sensible_length() {
    for width in [WIDTH_58MM, WIDTH_80MM] {
        let r = printed(&TicketPrint::sample(), width);
        assert_eq!(r.width(), width);
        // 5 to 20 cm of paper at 8 dots per mm.
        assert!((400..1600).contains(&r.height()), "{width}: {}", r.height());
        // Dark enough to read, far from a black smear.
        let share = r.ink_count() as f64 / (f64::from(r.width()) * f64::from(r.height()));
        assert!((0.03..0.35).contains(&share), "{width}: ink share {share}");
    }
}

#[test]
fn the_number_is_big_centred_and_nothing_else_moves() {
    for width in [WIDTH_58MM, WIDTH_80MM] {
        let a = TicketPrint::sample();
        let b = TicketPrint {
            number: String::new(),
            ..a.clone()
        };
        let (ra, rb) = (printed(&a, width), printed(&b, width));
        assert_eq!(
            ra.height(),
            rb.height(),
            "the layout does not depend on the digits"
        );
        let (y0, y1) = differing_rows(&ra, &rb).unwrap();
        let (y0a, y1a) = (y0, y1);
        // Glyph height of the number: at least 1.2 cm (96 dots) on 58 mm paper.
        let (x0, x1) = ink_columns(&ra, y0a, y1a);
        assert!(
            y1a - y0a >= 90,
            "{width}: number only {} dots tall",
            y1a - y0a
        );
        assert!(
            x1 - x0 >= width / 2,
            "{width}: number spans {x0}..{x1} only"
        );
        let centre = (x0 + x1) / 2;
        assert!(
            centre.abs_diff(width / 2) <= width / 20,
            "{width}: number centred at {centre}"
        );
        // It sits in the upper half, under the hall and service.
        assert!(
            y0a > 150 && y1a < ra.height() / 2,
            "{width}: rows {y0a}..{y1a}"
        );
    }
}

#[test]
fn every_supported_width_renders_inside_the_paper() {
    for width in (128..=1024).step_by(64) {
        let r = printed(&TicketPrint::sample(), width);
        assert_eq!(r.width(), width);
        assert!(r.ink_count() > 0);
    }
    assert!(matches!(
        render_ticket(&TicketPrint::sample(), 380),
        Err(printer::PrintError::Width(380))
    ));
}

#[test]
fn a_long_number_still_fits() {
    let t = TicketPrint {
        number: "A10000".into(),
        ..TicketPrint::sample()
    };
    let r = printed(&t, WIDTH_58MM);
    let base = printed(&TicketPrint::sample(), WIDTH_58MM);
    let (y0, y1) = differing_rows(&r, &base).unwrap();
    let (x0, x1) = ink_columns(&r, y0, y1);
    assert!(x0 > 0 && x1 < WIDTH_58MM - 1, "{x0}..{x1}");
}

#[test]
fn chinese_text_draws_ink() {
    let base = TicketPrint::sample();
    for width in [WIDTH_58MM, WIDTH_80MM] {
        let r = printed(&base, width);
        // The hall name is the first line: with it removed, the top rows lose their ink.
        let no_name = TicketPrint {
            hall_name: String::new(),
            ..base.clone()
        };
        let (y0, y1) = differing_rows(&r, &printed(&no_name, width)).unwrap();
        assert!(y0 < 40, "{width}: hall name starts at row {y0}");
        let name_rows = r.inked_rows().unwrap().0;
        assert!(r.ink_in(0, name_rows, width, name_rows + 30) > 500);
        assert!(y1 > y0);

        // Each document line is drawn: one more document makes the ticket longer and adds ink.
        let more = TicketPrint {
            documents: [base.documents.clone(), vec!["户口簿原件".into()]].concat(),
            ..base.clone()
        };
        let rm = printed(&more, width);
        assert!(rm.height() > r.height());
        assert!(rm.ink_count() > r.ink_count() + 300);

        // The service name in large print.
        let (s0, s1) = differing_rows(
            &r,
            &printed(
                &TicketPrint {
                    service_name: String::new(),
                    ..base.clone()
                },
                width,
            ),
        )
        .unwrap();
        assert!(s1 - s0 >= 30, "{width}: service name rows {s0}..{s1}");
    }
}

#[test]
fn priority_tickets_carry_a_black_band_with_white_letters() {
    for width in [WIDTH_58MM, WIDTH_80MM] {
        let t = TicketPrint {
            priority: true,
            ..TicketPrint::sample()
        };
        let r = printed(&t, width);
        let full_rows: Vec<u32> = (0..r.height())
            .filter(|y| r.ink_in(0, *y, width, y + 1) as u32 >= width * 9 / 10)
            .collect();
        assert!(
            full_rows.len() >= 20,
            "{width}: band of {} rows",
            full_rows.len()
        );
        // White letters inside the band: some band rows are not fully black.
        let (b0, b1) = (full_rows[0], *full_rows.last().unwrap());
        let inner_white = (b0..=b1)
            .filter(|y| (r.ink_in(0, *y, width, y + 1) as u32) < width * 85 / 100)
            .count();
        assert!(
            inner_white >= 15,
            "{width}: letters over {inner_white} rows"
        );
        let plain = printed(&TicketPrint::sample(), width);
        assert!(r.height() > plain.height());
    }
}

#[test]
fn english_labels_differ_and_fit() {
    for width in [WIDTH_58MM, WIDTH_80MM] {
        let zh = printed(&TicketPrint::sample(), width);
        let en = printed(
            &TicketPrint {
                lang: Lang::En,
                ..TicketPrint::sample()
            },
            width,
        );
        assert_ne!(zh, en);
        assert_eq!(en.width(), width);
    }
}

#[test]
fn the_installers_test_print_uses_its_own_labels_and_fits() {
    // The same ticket with the customer's labels looks different: no line of the test print
    // tells anyone to wait for a call.
    let test = TicketPrint::test_print("2026-11-26 09:00");
    assert!(test.test);
    for width in [WIDTH_58MM, WIDTH_80MM] {
        let as_test = printed(&test, width);
        let as_customer = printed(
            &TicketPrint {
                test: false,
                ..test.clone()
            },
            width,
        );
        assert_ne!(as_test, as_customer);
        assert_eq!(as_test.width(), width);
        let (left, right) = ink_columns(&as_test, 0, as_test.height());
        assert!(left > 0 && right < width, "ink {left}..{right} of {width}");
    }
}

#[test]
fn no_one_ahead_and_no_documents() {
    let t = TicketPrint {
        ahead: 0,
        estimated_wait_min: 0,
        documents: vec![],
        reminder: None,
        ..TicketPrint::sample()
    };
    let r = printed(&t, WIDTH_80MM);
    assert!(r.height() < printed(&TicketPrint::sample(), WIDTH_80MM).height());
}

#[test]
fn no_one_ahead_still_prints_a_wait_there_is() {
    // The business system is down until 10:05: nobody ahead, and still a wait.
    let none = TicketPrint {
        ahead: 0,
        estimated_wait_min: 0,
        ..TicketPrint::sample()
    };
    let outage = TicketPrint {
        estimated_wait_min: 20,
        estimated_wait_hi_min: None,
        estimated_wait_open: true,
        ..none.clone()
    };
    let (a, b) = (printed(&none, WIDTH_58MM), printed(&outage, WIDTH_58MM));
    assert!(b.height() > a.height(), "a line more: the wait");
}

#[test]
fn a_status_url_too_long_for_a_qr_code_is_an_error() {
    let t = TicketPrint {
        status_url: "x".repeat(5000),
        ..TicketPrint::sample()
    };
    let e = render_ticket(&t, WIDTH_80MM).unwrap_err();
    assert!(matches!(e, printer::PrintError::Qr { .. }), "{e}");
}

/// docs/img holds the sample ticket as printed; regenerate with `HALLQ_UPDATE_TICKET_PNG=1`.
#[test]
fn docs_pictures_match_what_is_printed() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/img");
    for (width, name) in [
        (WIDTH_58MM, "ticket-58mm.png"),
        (WIDTH_80MM, "ticket-80mm.png"),
    ] {
        let r = printed(&TicketPrint::sample(), width);
        let path = docs.join(name);
        if std::env::var_os("HALLQ_UPDATE_TICKET_PNG").is_some() {
            std::fs::create_dir_all(&docs).unwrap();
            r.write_png(std::fs::File::create(&path).unwrap()).unwrap();
        }
        let mut png_now = Vec::new();
        r.write_png(&mut png_now).unwrap();
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            png_now == on_disk,
            "{} differs from the ticket printed now (another font, or a layout change): \
             regenerate with HALLQ_UPDATE_TICKET_PNG=1 cargo test -p hallq-kiosk --test ticket_layout",
            path.display()
        );
    }
}
