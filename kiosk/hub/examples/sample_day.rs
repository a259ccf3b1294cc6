//! Writes the hand-worked sample business day (see `hallq_hub::sample_day`) into a hall
//! database, for the report page's browser test or to look at the reports with data:
//!
//!   cargo run -p hallq-hub --example sample_day -- DATA_DIR CONFIG.toml YYYY-MM-DD

use anyhow::Context;
use hallq_shared::config::HallConfig;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data_dir, config, day] = args.as_slice() else {
        anyhow::bail!("usage: sample_day DATA_DIR CONFIG.toml YYYY-MM-DD");
    };
    let text = std::fs::read_to_string(config).with_context(|| format!("cannot read {config}"))?;
    let config = HallConfig::from_toml(&text).with_context(|| config.to_string())?;
    let day =
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").context("the day is YYYY-MM-DD")?;
    let db = hallq_shared::store::db_path(std::path::Path::new(data_dir));
    hallq_hub::sample_day::play(&db, &config, day)?;
    println!("sample day {day} written to {}", db.display());
    Ok(())
}
