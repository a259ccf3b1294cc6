//! Publishing against a real PostgreSQL: head office publishes for every hall and for a group on
//! its page, an invalid document is refused with the hall's own reason, each hall pulls what
//! applies to it, reports the version it runs, and the halls page flags those behind.

mod common;

use common::{Central, Pg};
use serde_json::json;

const DOC_ALL: &str = r#"
notices = [ { zh = "全市营业厅元旦照常营业", en = "Open on New Year's Day" } ]

[hotlines]
complaint = "0713-7000000"
consultation = "96516"

[[service_fees.pay]]
item = { zh = "数字电视基本收视维护费" }
amount = { zh = "28元/月" }
"#;

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_texts_reach_the_halls_they_are_for() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let east = central.hall("城东营业厅").await;
    let town = central.hall("石头咀服务点").await;
    for (hall, group) in [("城东营业厅", "县城"), ("石头咀服务点", "乡镇")] {
        assert!(
            central
                .store
                .set_hall_group(hall, Some(group), "test")
                .await
                .unwrap()
        );
    }
    let cookie = central.sign_in_operator().await;
    let pulled = |credential: String| {
        let central = &central;
        async move {
            central
                .request(
                    "GET",
                    "/api/v1/published",
                    &[("Authorization", &format!("Bearer {credential}"))],
                    b"",
                )
                .await
        }
    };
    let publish = |group: &str, toml: &str| {
        let body = form(&[("group", group), ("toml", toml)]);
        let central = &central;
        let cookie = cookie.clone();
        async move {
            central
                .request(
                    "POST",
                    "/publish",
                    &[
                        ("Content-Type", "application/x-www-form-urlencoded"),
                        ("Cookie", &cookie),
                    ],
                    body.as_bytes(),
                )
                .await
        }
    };

    // Nothing published yet: 204; an unknown credential: 401; signed out, the page sends away.
    assert_eq!(pulled(east.clone()).await.status, 204);
    assert_eq!(pulled("nope".into()).await.status, 401);
    let page = central.request("GET", "/publish", &[], b"").await;
    assert_eq!(page.status, 303);
    let page = central
        .request("GET", "/publish", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("尚未发布"), "{}", page.body);
    assert!(page.body.contains("分组：县城"), "{}", page.body);

    // Refused, with the reason, the text kept, nothing recorded.
    let r = publish("", "[hall]\nname = \"x\"").await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("未发布") && r.body.contains("unknown field"),
        "{}",
        r.body
    );
    assert!(r.body.contains("[hall]"), "{}", r.body);
    let r = publish("", "notices = [ { zh = \"  \" } ]").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("notices line 1"), "{}", r.body);
    let r = publish("没有的组", DOC_ALL).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("no live hall is in group"), "{}", r.body);
    assert_eq!(pulled(east.clone()).await.status, 204);

    // v1 for every hall.
    let r = publish("", DOC_ALL).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/publish?published=1"));
    for credential in [&east, &town] {
        let p = pulled(credential.clone()).await;
        assert_eq!(p.status, 200);
        let j = p.json();
        assert_eq!(j["version"], 1);
        assert_eq!(j["document"]["hotlines"]["complaint"], "0713-7000000");
        assert_eq!(
            j["document"]["service_fees"]["pay"][0]["amount"]["zh"],
            "28元/月"
        );
        // The document is what a hub reads with the shared type.
        let doc: hallq_shared::published::Published =
            serde_json::from_value(j["document"].clone()).unwrap();
        doc.validate().unwrap();
    }

    // v2 for the townships only: the county hall stays on v1.
    let r = publish("乡镇", "notices = [ { zh = \"乡镇服务点周六营业\" } ]").await;
    assert_eq!(r.header("location"), Some("/publish?published=2"));
    assert_eq!(pulled(east.clone()).await.json()["version"], 1);
    let t = pulled(town.clone()).await.json();
    assert_eq!(t["version"], 2);
    assert_eq!(t["document"]["notices"][0]["zh"], "乡镇服务点周六营业");
    assert!(t["document"].get("hotlines").is_none());

    // The halls report what they run: the county hall is current, the township is behind.
    let status = |v: serde_json::Value| {
        json!({"version": 1, "events": [],
        "status": {"at": 0, "day": "2026-12-04", "waiting": 0, "long_waits": [], "outage": null,
                   "callbacks_open": 0, "config_version": v}})
    };
    central
        .ship(&east, &status(json!(1)))
        .await
        .stored_through();
    // The hub's status type carries the version as a string: read the same.
    central
        .ship(&town, &status(json!("1")))
        .await
        .stored_through();
    let e = central.hall_now(&cookie, "城东营业厅").await;
    assert_eq!(
        (
            e["group"].as_str(),
            e["config_version"].as_i64(),
            e["published_latest"].as_i64()
        ),
        (Some("县城"), Some(1), Some(1))
    );
    assert_eq!(e["published_behind"], false);
    let t = central.hall_now(&cookie, "石头咀服务点").await;
    assert_eq!(t["config_version"], 1);
    assert_eq!(t["published_latest"], 2);
    assert_eq!(t["published_behind"], true);
    let page = central
        .request("GET", "/", &[("Cookie", &cookie)], b"")
        .await;
    assert!(page.body.contains("未更新 · 最新 v2"), "{}", page.body);

    // The versions, who and for whom, and how many halls run each.
    let list = central
        .request("GET", "/api/v1/publications", &[("Cookie", &cookie)], b"")
        .await
        .json();
    assert_eq!(list[0]["version"], 2);
    assert_eq!(list[0]["group"], "乡镇");
    assert_eq!(list[0]["published_by"], "zongbu");
    assert_eq!(
        (list[0]["halls"].as_i64(), list[0]["halls_running"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (list[1]["halls"].as_i64(), list[1]["halls_running"].as_i64()),
        (Some(1), Some(1))
    );
    let page = central
        .request("GET", "/publish?published=2", &[("Cookie", &cookie)], b"")
        .await;
    assert!(page.body.contains("已发布版本 v2"), "{}", page.body);
    // The latest text is where the operator starts the next version from.
    assert!(page.body.contains("乡镇服务点周六营业"));

    // Every act is in the audit log.
    let audit = central.store.audit_log(10).await.unwrap();
    let publishes: Vec<_> = audit.iter().filter(|a| a.1 == "publish").collect();
    assert_eq!(publishes.len(), 2);
    assert_eq!(publishes[0].0, "zongbu");
    assert_eq!(publishes[0].2["version"], 2);
    assert_eq!(publishes[0].2["group"], "乡镇");
    assert_eq!(audit.iter().filter(|a| a.1 == "hall_group").count(), 2);
}
