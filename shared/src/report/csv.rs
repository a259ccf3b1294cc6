//! The report as one CSV table in long form, for Excel.

use super::*;

impl Report {
    /// The whole report as one CSV table in long form — `section,key,label,metric,value` — UTF-8
    /// with a byte-order mark and CRLF line ends, so that Excel opens the Chinese labels correctly
    /// and a pivot table rebuilds any view. Metrics are the JSON field paths (`wait.p90_s`).
    pub fn to_csv(&self, mut w: impl Write) -> std::io::Result<()> {
        w.write_all("\u{feff}".as_bytes())?;
        csv_line(&mut w, &["section", "key", "label", "metric", "value"])?;
        let head = serde_json::json!({
            "from": self.period.from,
            "to": self.period.to,
            "time_zone": self.time_zone,
            "opening": self.opening,
            "target_wait_min": self.target_wait_min,
            "long_service_min": self.long_service_min,
            "business_days": self.business_days,
        });
        emit(&mut w, "report", "", "", &head)?;
        emit(&mut w, "totals", "all", "全部", &to_value(&self.totals))?;
        for (section, rows) in [
            ("by_service", &self.by_service),
            ("by_counter", &self.by_counter),
            ("by_clerk", &self.by_clerk),
            ("by_day", &self.by_day),
            ("by_hour", &self.by_hour),
        ] {
            for r in rows {
                emit(&mut w, section, &r.key, &r.label_zh, &to_value(&r.stats))?;
            }
        }
        for r in &self.load_by_service {
            emit(
                &mut w,
                "load_by_service",
                &r.service,
                &r.label_zh,
                &to_value(r),
            )?;
        }
        let mut inc = to_value(&self.incidents);
        if let Some(o) = inc.as_object_mut() {
            o.remove("long_wait_list");
            o.remove("long_service_list");
        }
        emit(&mut w, "incidents", "all", "", &inc)?;
        for lw in &self.incidents.long_wait_list {
            let key = format!("{} {} {}", lw.day, lw.began, lw.service);
            emit(&mut w, "long_wait", &key, &lw.service, &to_value(lw))?;
        }
        for ls in &self.incidents.long_service_list {
            let key = format!("{} {}", ls.day, ls.number);
            emit(&mut w, "long_service", &key, &ls.service, &to_value(ls))?;
        }
        emit(&mut w, "callbacks", "all", "", &to_value(&self.callbacks))?;
        emit(&mut w, "estimate", "all", "", &to_value(&self.estimate))?;
        let mut open = to_value(&self.open_times);
        if let Some(o) = open.as_object_mut() {
            o.remove("list");
        }
        emit(&mut w, "open_times", "all", "", &open)?;
        for o in &self.open_times.list {
            let key = format!("{} {}", o.day, o.counter);
            emit(&mut w, "counter_opening", &key, "", &to_value(o))?;
        }
        for r in &self.staffing_by_hour {
            emit(&mut w, "staffing_by_hour", &r.key, &r.label, &to_value(r))?;
        }
        for l in &self.satisfaction_levels {
            let key = l.score.to_string();
            csv_line(&mut w, &["satisfaction_levels", &key, &l.zh, "en", &l.en])?;
        }
        Ok(())
    }
}

fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Every scalar of `v` as one line, its path joined with dots.
fn emit(
    w: &mut impl Write,
    section: &str,
    key: &str,
    label: &str,
    v: &serde_json::Value,
) -> std::io::Result<()> {
    fn walk(
        w: &mut impl Write,
        row: [&str; 3],
        path: &mut Vec<String>,
        v: &serde_json::Value,
    ) -> std::io::Result<()> {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(k.clone());
                    walk(w, row, path, x)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(i.to_string());
                    walk(w, row, path, x)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Null => csv_line(w, &[row[0], row[1], row[2], &path.join("."), ""]),
            Value::String(s) => csv_line(w, &[row[0], row[1], row[2], &path.join("."), s]),
            other => csv_line(
                w,
                &[row[0], row[1], row[2], &path.join("."), &other.to_string()],
            ),
        }
    }
    walk(w, [section, key, label], &mut Vec::new(), v)
}

pub(super) fn csv_line(w: &mut impl Write, fields: &[&str]) -> std::io::Result<()> {
    let line: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_string()
            }
        })
        .collect();
    write!(w, "{}\r\n", line.join(","))
}
