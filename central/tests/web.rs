//! Head office's pages over HTTP against a real PostgreSQL: signing in, the halls now, the
//! league table, its CSV and the JSON behind them.

mod common;

use common::{Central, HallHistory, Pg};

fn cookie_of(r: &common::Reply) -> String {
    r.header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_signs_in_and_shows_the_halls() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let a = central.hall("城东营业厅").await;
    central.hall("乡镇服务点<b>").await;
    let h = HallHistory::build(&["2026-12-01"], 30, 7);
    central
        .ship(&a, &h.batch(1, h.last_seq()))
        .await
        .stored_through();
    // The hall's current day is rolled up by the refresh `serve` runs about once a minute.
    central
        .store
        .refresh_rollups(std::time::Duration::ZERO)
        .await
        .unwrap();
    central
        .store
        .set_operator(
            "zongbu",
            &hallq_central::auth::hash_password("head-office-pw").unwrap(),
        )
        .await
        .unwrap();

    // Not signed in: the page sends to the sign-in form, the API refuses.
    let r = central.request("GET", "/", &[], b"").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/signin"));
    assert_eq!(
        central
            .request("GET", "/api/v1/halls", &[], b"")
            .await
            .status,
        401
    );
    assert_eq!(
        central
            .request("GET", "/api/v1/league.csv", &[], b"")
            .await
            .status,
        401
    );
    let form = central.request("GET", "/signin", &[], b"").await;
    assert!(form.body.contains("name=\"password\""), "{}", form.body);

    let post = |body: &'static str| {
        let central = &central;
        async move {
            central
                .request(
                    "POST",
                    "/signin",
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    body.as_bytes(),
                )
                .await
        }
    };
    let r = post("login=zongbu&password=wrong").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("账号或密码不正确"));
    assert!(r.header("set-cookie").is_none());
    assert_eq!(post("login=nobody&password=wrong").await.status, 401);
    for _ in 0..4 {
        assert_eq!(post("login=nobody&password=wrong").await.status, 401);
    }
    // Five failures and the account is refused for a while, whatever the password.
    assert_eq!(post("login=nobody&password=wrong").await.status, 429);
    let r = post("login=zongbu&password=head-office-pw").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let set = r.header("set-cookie").unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = cookie_of(&r);

    let page = central
        .request("GET", "/", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("城东营业厅"), "{}", page.body);
    assert!(page.body.contains("在线"));
    // A hall never heard from is stale, and its name is shown as text, not markup.
    assert!(page.body.contains("乡镇服务点&lt;b&gt;"));
    assert!(page.body.contains("失联"));
    // The page renews itself, so a hall that loses touch shows without anyone pressing reload;
    // it says so, and when it was drawn. Its one script is the only one the policy lets run (by
    // its hash); a browser without scripts reloads the page instead.
    assert!(
        page.body.contains(&format!(
            "<script>{}</script>",
            hallq_central::web::HALLS_SCRIPT
        )),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("<script").count(), 1, "{}", page.body);
    let policy = page.header("content-security-policy").unwrap();
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(hallq_central::web::HALLS_SCRIPT))
    };
    assert!(
        policy.starts_with("default-src 'none';")
            && policy.contains(&format!("script-src 'sha256-{hash}'"))
            && policy.contains("connect-src 'self'")
            && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    assert!(
        page.body
            .contains("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("本页每 30 秒自动刷新"), "{}", page.body);
    assert!(
        page.body
            .contains("id=\"refreshed\" data-every-s=\"30\">更新于 "),
        "{}",
        page.body
    );

    let east = central.hall_now(&cookie, "城东营业厅").await;
    assert_eq!(east["stale"], false);
    assert_eq!(east["waiting"], 3);
    assert_eq!(east["long_waits"][0], "pay");
    assert_eq!(east["events_stored"], h.last_seq());

    let league = central
        .request(
            "GET",
            "/league?period=week&date=2026-12-01",
            &[("Cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(league.status, 200);
    // A report someone reads and chooses dates on does not reload under them.
    assert!(!league.body.contains("http-equiv"), "{}", league.body);
    assert!(!league.body.contains("<script"), "{}", league.body);
    assert_eq!(
        league.header("content-security-policy"),
        Some(hallq_central::PAGE_POLICY)
    );
    assert!(
        league.body.contains("2026-11-30 至 2026-12-06"),
        "{}",
        league.body
    );
    assert!(league.body.contains("城东营业厅"));
    assert!(league.body.contains("故障时长(分)"), "{}", league.body);
    assert!(
        league.body.contains("今日数据约每分钟更新一次，截至 "),
        "{}",
        league.body
    );
    let json = central
        .request(
            "GET",
            "/api/v1/league?period=day&date=2026-12-01",
            &[("Cookie", &cookie)],
            b"",
        )
        .await
        .json();
    assert_eq!(json["halls"][0]["hall"], "城东营业厅");
    assert_eq!(json["halls"][0]["issued"], 30);
    // The day's outage began at 10:00 and goes on: counted up to the hub's clock.
    let outage_ms = h.clock(h.last_seq()) - (common::nine_am("2026-12-01") + 3_600_000);
    assert_eq!(json["halls"][0]["outages"], 1);
    assert_eq!(json["halls"][0]["outage_s"], outage_ms as f64 / 1000.0);
    assert_eq!(
        json["halls"][0]["outage_longest_s"],
        outage_ms as f64 / 1000.0
    );
    assert_eq!(json["freshness"]["refresh_every_s"], 60);
    assert_eq!(json["freshness"]["days_pending"], 0);
    assert!(json["freshness"]["as_of"].is_string(), "{json}");
    let csv = central
        .request(
            "GET",
            "/api/v1/league.csv?period=month&date=2026-12-01",
            &[("Cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(lines[1].starts_with("1,城东营业厅,1,30,"), "{}", lines[1]);
    assert!(
        lines[0].contains(
            "系统故障 outages,故障时长(分) outage_min,最长一次故障(分) outage_longest_min,"
        ),
        "{}",
        lines[0]
    );
    let minutes = format!(
        ",1,{:.2},{:.2},",
        outage_ms as f64 / 60_000.0,
        outage_ms as f64 / 60_000.0
    );
    assert!(lines[1].contains(&minutes), "{minutes} in {}", lines[1]);
    let bad = central
        .request(
            "GET",
            "/api/v1/league?period=year",
            &[("Cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(bad.status, 400);

    // Signing out ends the session on the server, not only in the browser.
    let r = central
        .request("POST", "/signout", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        central
            .request("GET", "/api/v1/halls", &[("Cookie", &cookie)], b"")
            .await
            .status,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halls_reporting_a_slow_or_down_business_system_at_once_are_flagged_together() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let east = central.hall("城东营业厅").await;
    let west = central.hall("城西营业厅").await;
    let h = HallHistory::build(&["2026-12-01"], 10, 3);
    let mut slow = h.batch(1, h.last_seq());
    let since = h.clock(h.last_seq()) - 600_000;
    slow["status"]["slow_since"] = serde_json::json!(since);
    central.ship(&east, &slow).await.stored_through();
    let cookie = central.sign_in_operator().await;

    // One hall slow: its row says so, and no banner.
    let page = central
        .request("GET", "/", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("系统缓慢"), "{}", page.body);
    assert!(!page.body.contains("shared-trouble"), "{}", page.body);
    // A tab left in the background names the trouble in its title (城西 has never called in).
    assert!(
        page.body
            .contains("<title>【业务系统异常 1 · 失联 1】营业厅实况 · hallq 总部</title>"),
        "{}",
        page.body
    );
    let east_row = central.hall_now(&cookie, "城东营业厅").await;
    assert_eq!(
        east_row["slow_since"].as_str().map(|s| s.len() > 10),
        Some(true),
        "{east_row}"
    );
    assert!(central.hall_now(&cookie, "城西营业厅").await["slow_since"].is_null());

    // A second hall down at the same time: the banner names both.
    let mut down = HallHistory::build(&["2026-12-01"], 10, 4).batch(1, 1);
    down["status"]["outage"] = serde_json::json!({"started_at": since, "expected_minutes": 30});
    central.ship(&west, &down).await.stored_through();
    let page = central
        .request("GET", "/", &[("Cookie", &cookie)], b"")
        .await;
    assert!(page.body.contains("id=\"shared-trouble\""), "{}", page.body);
    assert!(
        page.body.contains("<title>【业务系统异常 2】营业厅实况"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("2 个营业厅同时报告业务系统故障或缓慢（城东营业厅、城西营业厅）"),
        "{}",
        page.body
    );
}
