//! Renders the sample ticket in its variants (priority, English, nobody ahead, long texts) on 58 mm
//! and 80 mm paper into a folder of PNGs, to look at layout changes.
//! `cargo run -p hallq-kiosk --example ticket_variants -- OUT_DIR`

use hallq_kiosk::printer::{TicketPrint, render_ticket};
use hallq_shared::hall::Lang;

fn main() -> anyhow::Result<()> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "ticket-variants".into()),
    );
    std::fs::create_dir_all(&out)?;
    let base = TicketPrint::sample();
    let variants = [
        ("plain", base.clone()),
        ("priority", TicketPrint { priority: true, number: "V003".into(), ..base.clone() }),
        (
            "english",
            TicketPrint {
                lang: Lang::En,
                hall_name: "Chengdong Service Hall".into(),
                service_name: "Payments / Top-up".into(),
                documents: vec!["Your ID card (original)".into(), "Smart card or set-top box serial number".into()],
                reminder: Some("After paying, keep the set-top box switched on for 30 minutes to receive the authorisation.".into()),
                ..base.clone()
            },
        ),
        (
            "nobody-ahead",
            TicketPrint { ahead: 0, estimated_wait_min: 0, documents: vec![], reminder: None, number: "C1024".into(), ..base.clone() },
        ),
        (
            "long",
            TicketPrint {
                hall_name: "广电网络股份有限公司城东区人民路综合业务营业厅".into(),
                service_name: "宽带报装、移机与故障报修".into(),
                documents: vec!["户主本人有效身份证件原件；代办的请同时携带代办人身份证件原件及户主签字的委托书".into()],
                ..base.clone()
            },
        ),
    ];
    for (name, t) in variants {
        for w in [384u32, 576] {
            let r = render_ticket(&t, w)?;
            let path = out.join(format!("{name}-{w}.png"));
            r.write_png(std::fs::File::create(&path)?)?;
            println!("{} ({}x{})", path.display(), r.width(), r.height());
        }
    }
    Ok(())
}
