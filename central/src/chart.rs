//! The league table as a picture: one bar per hall, the share called within its target, against
//! the rulebook's 85 % line. Drawn on the server as SVG markup (no script draws it), with
//! presentation attributes only, so the pages' content security policy needs no exception.

use crate::rollup::League;
use crate::web::esc;

const ROW: u32 = 26;
const LABEL: u32 = 220;
const BAR: u32 = 520;
const TOP: u32 = 28;

/// The chart for `league`, halls in the table's order; halls with nothing called show no bar.
pub fn league_svg(league: &League) -> String {
    let height = TOP + ROW * league.halls.len() as u32 + 26;
    let width = LABEL + BAR + 70;
    let x_of = |share: f64| LABEL as f64 + share.clamp(0.0, 1.0) * BAR as f64;
    let mut svg = format!(
        "<svg id=\"league-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"目标内叫号率\" font-size=\"13\">"
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = x_of(tick);
        svg.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#e2e6ee\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#667\">{:.0}%</text>",
            height - 22,
            TOP - 10,
            tick * 100.0
        ));
    }
    for (i, r) in league.halls.iter().enumerate() {
        let y = TOP + ROW * i as u32;
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#223\">{}</text>",
            LABEL - 8,
            y + ROW / 2 + 4,
            esc(&r.hall)
        ));
        if let Some(share) = r.within_target {
            let fill = if r.meets_target { "#2e8b57" } else { "#c0392b" };
            svg.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"{fill}\"/>\
                 <text x=\"{:.1}\" y=\"{}\" fill=\"#223\">{:.1}%</text>",
                y + 4,
                x_of(share) - LABEL as f64,
                ROW - 8,
                x_of(share) + 6.0,
                y + ROW / 2 + 4,
                share * 100.0
            ));
        } else {
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" fill=\"#889\">无叫号</text>",
                LABEL + 6,
                y + ROW / 2 + 4
            ));
        }
    }
    let target = x_of(league.target_share);
    svg.push_str(&format!(
        "<line x1=\"{target:.1}\" y1=\"{}\" x2=\"{target:.1}\" y2=\"{}\" stroke=\"#1f4fa3\" stroke-width=\"2\" \
         stroke-dasharray=\"6 4\"/><text x=\"{target:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#1f4fa3\">目标 {:.0}%</text></svg>",
        TOP - 4,
        height - 18,
        height - 4,
        league.target_share * 100.0
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::LeagueRow;
    use hallq_shared::report::Period;

    fn row(hall: &str, share: Option<f64>) -> LeagueRow {
        LeagueRow {
            hall: hall.into(),
            within_target: share,
            meets_target: share.is_some_and(|s| s >= 0.85),
            ..LeagueRow::default()
        }
    }

    #[test]
    fn each_hall_is_a_bar_coloured_by_the_target_and_names_are_escaped() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let league = League {
            period: Period::day(day),
            target_share: 0.85,
            freshness: Default::default(),
            halls: vec![
                row("城东<厅>", Some(0.9)),
                row("城西", Some(0.5)),
                row("新点", None),
            ],
        };
        let svg = league_svg(&league);
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains("#2e8b57") && svg.contains("#c0392b"));
        assert!(svg.contains("城东&lt;厅&gt;") && !svg.contains("<厅>"));
        assert!(svg.contains("90.0%") && svg.contains("50.0%") && svg.contains("无叫号"));
        assert!(svg.contains("目标 85%"));
    }
}
