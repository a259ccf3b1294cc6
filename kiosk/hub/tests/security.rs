//! The security review's findings on sessions, sign-in guessing, made-up tokens and deleted phone
//! numbers, each kept closed: a real hub (real SQLite, real writer), through the router or over
//! real TCP on loopback addresses.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::http::StatusCode;
use common::net::Http;
use common::{Fixture, PASSWORD, code};
use hallq_hub::{self as hub, auth, cli};
use hallq_shared::store::{Store, backup, db_path};
use serde_json::json;
use tokio::net::{TcpListener, TcpSocket};

const DAY_MS: i64 = 86_400_000;

async fn serve(f: &Fixture) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hub::run(listener, f.hub.clone(), async {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// An HTTP connection to `addr` made from the loopback address `from` (all of 127.0.0.0/8 is this
/// machine), so that the hub sees a different client.
async fn connect_from(from: &str, addr: SocketAddr) -> Http {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    Http::from_stream(sock.connect(addr).await.unwrap(), addr)
}

async fn sign_in_from(
    from: &str,
    addr: SocketAddr,
    login: &str,
    password: &str,
) -> (u16, serde_json::Value) {
    let mut h = connect_from(from, addr).await;
    let body = json!({"login": login, "password": password}).to_string();
    let (st, b) = h
        .request("POST", "/api/v1/login", None, Some(&body))
        .await
        .unwrap();
    (st, serde_json::from_str(&b).unwrap_or(json!(b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_or_a_demotion_ends_the_sessions_it_had() {
    let f = Fixture::new().await;
    // A second manager, signed in, is demoted to staff.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/accounts",
            Some(&f.manager),
            Some(json!({"login": "deputy", "role": "manager", "password": PASSWORD})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let deputy = f.login("deputy", None).await;
    let (st, _) = f.call("GET", "/api/v1/accounts", Some(&deputy), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/accounts",
            Some(&f.manager),
            Some(json!({"login": "deputy", "role": "staff", "password": PASSWORD})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    // The old manager token cannot make a new manager any more.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/accounts",
            Some(&deputy),
            Some(json!({"login": "mole", "role": "manager", "password": PASSWORD})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));
    // The new sign-in has the new role.
    let deputy = f.login("deputy", None).await;
    let (_, me) = f.call("GET", "/api/v1/me", Some(&deputy), None).await;
    assert_eq!(me["role"], "staff");

    // A clerk's password is reset by the manager: the old session ends at once.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/accounts",
            Some(&f.manager),
            Some(json!({"login": "clerk1", "role": "staff", "password": "a new password"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b) = f.call("GET", "/api/v1/me", Some(&f.clerk1), None).await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_on_the_command_line_ends_the_sessions_too() {
    let f = Fixture::new().await;
    let hash = auth::token_hash(&f.clerk2);
    let mut out = Vec::new();
    cli::user_add(
        "clerk2",
        cli::AccountRole::Staff,
        f.dir.path(),
        &b"another password\n"[..],
        &mut out,
    )
    .unwrap();
    let store = Store::open_reader(&db_path(f.dir.path())).unwrap();
    assert_eq!(store.session(&hash, 0).unwrap(), None);
    // Once the running hub looks the token up again (at most `auth::RECHECK` later), it is refused.
    f.hub.auth.forget(&hash);
    let (st, b) = f.call("GET", "/api/v1/me", Some(&f.clerk2), None).await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));
    // The same for a demotion made by changing the database behind the hub's back: a session
    // takes the account's role as it is now.
    let boss = auth::token_hash(&f.manager);
    cli::user_add(
        "boss",
        cli::AccountRole::Staff,
        f.dir.path(),
        &b"boss password\n"[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(store.session(&boss, 0).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_sent_at_once_are_limited_like_guesses_in_a_row() {
    let f = Fixture::new().await;
    let mut guesses = Vec::new();
    for i in 0..60 {
        // The right password is among them, late.
        let password = if i == 40 {
            PASSWORD.to_string()
        } else {
            format!("guess {i}")
        };
        guesses.push(f.call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "boss", "password": password})),
        ));
    }
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK || *st == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        checked <= 5,
        "{checked} of 60 guesses sent at once had their password checked"
    );
    for (st, b) in &answers {
        assert!(
            matches!(
                (st.as_u16(), code(b)),
                (200, _)
                    | (401, "bad_credentials")
                    | (429, "too_many_attempts")
                    | (429, "sign_in_busy")
            ),
            "{st} {b}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_from_one_address_neither_locks_out_nor_holds_up_staff_at_another() {
    let f = Fixture::new().await;
    let (addr, _stop) = serve(&f).await;
    // Someone on the hall network tries the manager's password and floods sign-ins.
    for i in 0..6 {
        let (st, _) = sign_in_from("127.0.0.2", addr, "boss", &format!("guess {i}")).await;
        assert!(st == 401 || st == 429);
    }
    let (st, b) = sign_in_from("127.0.0.2", addr, "boss", PASSWORD).await;
    assert_eq!((st, code(&b)), (429, "too_many_attempts"), "{b}");
    let flood: Vec<_> = (0..100)
        .map(|i| {
            tokio::spawn(async move {
                sign_in_from("127.0.0.2", addr, &format!("nobody{i}"), "x-y-z-w-v").await
            })
        })
        .collect();
    // Meanwhile the real manager signs in at the counter PC.
    let started = std::time::Instant::now();
    let (st, b) = tokio::time::timeout(
        Duration::from_secs(20),
        sign_in_from("127.0.0.1", addr, "boss", PASSWORD),
    )
    .await
    .expect("a sign-in from another address answered within 20 s");
    assert_eq!(st, 200, "{b}");
    let took = started.elapsed();
    let mut refused = 0;
    for h in flood {
        let (st, _) = h.await.unwrap();
        if st == 429 {
            refused += 1;
        }
    }
    assert!(
        refused >= 90,
        "only {refused} of 100 sign-ins sent at once from one address were refused at once"
    );
    eprintln!("manager's sign-in during the flood took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_tokens_cost_no_extra_database_connections_and_are_cut_off() {
    let f = Fixture::new().await;
    let (addr, _stop) = serve(&f).await;
    let requests: Vec<_> = (0..200)
        .map(|_| {
            tokio::spawn(async move {
                let mut h = connect_from("127.0.0.3", addr).await;
                h.request("GET", "/api/v1/health", Some(&auth::new_token()), None)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for r in requests {
        let (st, body) = r.await.unwrap();
        assert!(st == 401 || st == 429, "{st} {body}");
        *by_status.entry(st).or_default() += 1;
    }
    assert!(
        by_status.get(&429).copied().unwrap_or(0) >= 150,
        "made-up tokens kept being looked up: {by_status:?}"
    );
    assert!(
        f.hub.readers_opened() <= hub::state::READERS,
        "{} read connections opened",
        f.hub.readers_opened()
    );
    // Staff elsewhere are not affected.
    let mut h = connect_from("127.0.0.1", addr).await;
    let (st, _) = h
        .request("GET", "/api/v1/me", Some(&f.clerk1), None)
        .await
        .unwrap();
    assert_eq!(st, 200);
}

fn holds(path: &std::path::Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_leaves_no_number_in_the_database_its_log_or_any_backup() {
    let f = Fixture::new().await;
    const PHONE: &str = "13987654321";
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/callbacks",
            Some(&f.display),
            Some(json!({"phone": PHONE, "consent": true, "reason": "宽带故障"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    // A callback still open when the nightly backup is taken.
    let data = f.dir.path().to_path_buf();
    let db = db_path(&data);
    let nightly = backup::backup_into_dir(&db, &data.join("backups")).unwrap();
    assert!(holds(&nightly.path, PHONE), "the backup holds the number");
    let (st, b) = f
        .call(
            "PATCH",
            &format!("/api/v1/callbacks/{id}"),
            Some(&f.clerk1),
            Some(json!({"status": "resolved", "note": "已回电 13987654321"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    // Another callback, still open, and a later backup: neither must lose it.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/callbacks",
            Some(&f.display),
            Some(json!({"phone": "13711112222", "consent": true})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let pre_update = data.join("backups/pre-update");
    std::fs::create_dir_all(&pre_update).unwrap();
    let before_update = backup::backup_online(
        &db,
        &pre_update.join(backup::backup_file_name(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
                .unwrap()
                .and_hms_opt(1, 0, 0)
                .unwrap(),
        )),
    )
    .unwrap();

    // Past the retention period after the callback was resolved.
    f.advance_ms(31 * DAY_MS);
    let purged = cli::run_retention(&f.hub).await.unwrap();
    assert_eq!(purged.callbacks, 1);
    for file in [
        db.clone(),
        data.join("hallq.db-wal"),
        nightly.path.clone(),
        before_update.path.clone(),
    ] {
        assert!(
            !holds(&file, PHONE),
            "{} still holds the deleted number",
            file.display()
        );
    }
    // What retention had no right to delete is still there, and the backups still restore.
    for file in [&db, &before_update.path] {
        assert!(
            holds(file, "13711112222"),
            "{} lost an open callback",
            file.display()
        );
    }
    backup::verify(&nightly.path).unwrap();
    backup::verify(&before_update.path).unwrap();
    // A backup made after retention has nothing either.
    let after = backup::backup_online(&db, &data.join("after.db")).unwrap();
    assert!(!holds(&after.path, PHONE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_secure_delete_is_cleared_of_free_pages_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    {
        // As an older program left it: a deleted number in a free page.
        let store = Store::open(&db).unwrap();
        let conn = store.connection();
        conn.execute_batch(
            "PRAGMA secure_delete = OFF;
             DELETE FROM meta WHERE key = 'free_pages_cleared';",
        )
        .unwrap();
        let big = "x".repeat(3000);
        for i in 0..50 {
            conn.execute(
                &format!(
                    "INSERT INTO suggestions (at, text, contact, source) VALUES ({i}, '{big}', '13655556666', 'kiosk')"
                ),
                [],
            )
            .unwrap();
        }
        conn.execute("DELETE FROM suggestions", []).unwrap();
        assert!(store.truncate_log());
    }
    assert!(holds(&db, "13655556666"), "the old file holds the number");
    drop(Store::open(&db).unwrap());
    assert!(!holds(&db, "13655556666"));
}
