//! Time to draw one ticket and turn it into ESC/POS bytes, on 58 mm (384 dots) and 80 mm (576 dots)
//! paper. Fonts are loaded once before measuring, as the kiosk does at start-up.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hallq_kiosk::printer::{
    TicketFonts, TicketPrint, decode_tickets, encode_ticket, render_ticket,
};
use std::hint::black_box;

fn ticket(c: &mut Criterion) {
    TicketFonts::system().expect("a Chinese font (fonts-noto-cjk or fonts-wqy-microhei)");
    let t = TicketPrint::sample();
    let mut g = c.benchmark_group("ticket");
    for width in [384u32, 576] {
        g.bench_with_input(BenchmarkId::new("render_encode", width), &width, |b, &w| {
            b.iter(|| {
                let r = render_ticket(black_box(&t), w).unwrap();
                encode_ticket(&r, Vec::with_capacity(80 * 1024)).unwrap()
            })
        });
        let raster = render_ticket(&t, width).unwrap();
        g.bench_with_input(BenchmarkId::new("encode", width), &raster, |b, r| {
            b.iter(|| encode_ticket(black_box(r), Vec::with_capacity(80 * 1024)).unwrap())
        });
        let bytes = encode_ticket(&raster, Vec::new()).unwrap();
        g.bench_with_input(BenchmarkId::new("decode", width), &bytes, |b, bytes| {
            b.iter(|| decode_tickets(black_box(bytes)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, ticket);
criterion_main!(benches);
