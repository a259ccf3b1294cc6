//! The event stream over real WebSockets on a loopback port: snapshot first, every change in order,
//! simultaneous calls all delivered, slow clients resynchronised, reconnects, shutdown.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::Fixture;
use futures_util::StreamExt;
use hallq_shared::config::HallConfig;
use hallq_shared::protocol::{BoardSnapshot, PublicEvent, StreamMessage};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(
    f: &Fixture,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(hallq_hub::run(listener, f.hub.clone(), async {
        let _ = rx.await;
    }));
    (addr, tx, task)
}

async fn connect(addr: SocketAddr, query: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events{query}"))
        .await
        .unwrap();
    ws
}

async fn next_msg(ws: &mut Ws) -> Option<StreamMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("no stream message within 10 s"),
        }
    }
}

/// Follow the stream until the board reaches `seq`; every call seen on the way.
async fn follow_to(ws: &mut Ws, board: &mut BoardSnapshot, seq: u64, calls: &mut Vec<String>) {
    while board.seq < seq {
        let msg = next_msg(ws).await.expect("stream ended early");
        if let StreamMessage::Update { events, .. } = &msg {
            for e in events {
                if let PublicEvent::Called { call } = e {
                    calls.push(format!("{}@{}", call.number, call.counter));
                }
            }
        }
        if let StreamMessage::Snapshot { board: b } = &msg {
            for c in &b.live.calls {
                let k = format!("{}@{}", c.number, c.counter);
                if !c.recall && !calls.contains(&k) {
                    calls.push(k);
                }
            }
        }
        assert!(board.apply(msg), "an update that does not follow on");
    }
}

async fn first_snapshot(ws: &mut Ws) -> BoardSnapshot {
    match next_msg(ws).await.unwrap() {
        StreamMessage::Snapshot { board } => board,
        other => panic!("first message must be a snapshot, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_calls_reach_every_client_in_order() {
    let f = Fixture::new().await;
    let (addr, stop, task) = serve(&f).await;
    for c in 1..=4 {
        f.open_counter(c).await;
    }
    for s in ["pay", "pay", "repair", "complaint", "account", "stb"] {
        f.issue(s).await;
    }
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut ws = connect(addr, "").await;
        let board = first_snapshot(&mut ws).await;
        clients.push((ws, board));
    }
    let calls = futures_util::future::join_all((1..=4).map(|c| {
        let f = &f;
        async move {
            f.call(
                "POST",
                &format!("/api/v1/counters/{c}/next"),
                Some(&f.manager),
                None,
            )
            .await
        }
    }))
    .await;
    let mut expected: Vec<String> = calls
        .iter()
        .map(|(st, b)| {
            assert_eq!(*st, 200, "{b}");
            format!("{}@{}", b["number"].as_str().unwrap(), b["counter"])
        })
        .collect();
    expected.sort();
    let last = f.hub.snapshot().seq;
    for (ws, board) in &mut clients {
        let mut seen = Vec::new();
        follow_to(ws, board, last, &mut seen).await;
        seen.sort();
        assert_eq!(
            seen, expected,
            "every call delivered, none replacing another"
        );
        assert_eq!(board.live.calls.len(), 4);
        let hub_board = f.hub.snapshot();
        assert_eq!(
            (board.seq, &board.live),
            (hub_board.seq, &hub_board.live),
            "the client's board is the hub's board"
        );
    }
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_falls_behind_gets_a_fresh_snapshot() {
    // A buffer of one message: any burst makes a client fall behind.
    let f = Fixture::with(HallConfig::demo(), 1).await;
    let (addr, stop, task) = serve(&f).await;
    let mut ws = connect(addr, "").await;
    let mut board = first_snapshot(&mut ws).await;
    let burst = (0..40).map(|i| {
        let f = &f;
        async move {
            let svc = ["pay", "repair", "consult", "stb"][i % 4];
            f.call(
                "POST",
                "/api/v1/tickets",
                Some(&f.clerk1),
                Some(json!({"service": svc})),
            )
            .await
        }
    });
    for (st, b) in futures_util::future::join_all(burst).await {
        assert_eq!(st, 201, "{b}");
    }
    let last = f.hub.snapshot().seq;
    let mut calls = Vec::new();
    follow_to(&mut ws, &mut board, last, &mut calls).await;
    let waiting: u32 = board.live.waiting.iter().map(|w| w.waiting).sum();
    assert_eq!(waiting, 40);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_gets_a_snapshot_with_the_calls_it_missed() {
    let f = Fixture::new().await;
    let (addr, stop, task) = serve(&f).await;
    let mut ws = connect(addr, "").await;
    let board = first_snapshot(&mut ws).await;
    drop(ws);
    f.open_counter(2).await;
    let n = f.issue("pay").await;
    f.call("POST", "/api/v1/counters/2/next", Some(&f.clerk2), None)
        .await;
    let mut ws = connect(addr, &format!("?since={}", board.seq)).await;
    let again = first_snapshot(&mut ws).await;
    assert!(again.seq > board.seq);
    assert_eq!(again.live.calls[0].number, n);
    assert_eq!(again.live.calls[0].counter, 2);
    // A bad `since` is bad input.
    let err =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events?since=abc")).await;
    assert!(err.is_err());
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_changes_arrive_as_a_snapshot_and_shutdown_closes_streams() {
    let f = Fixture::new().await;
    let (addr, stop, task) = serve(&f).await;
    let mut ws = connect(addr, "").await;
    let mut board = first_snapshot(&mut ws).await;
    let (_, mut config) = f
        .call("GET", "/api/v1/config", Some(&f.manager), None)
        .await;
    config["notices"] = json!([{"zh": "今日下午系统升级", "en": "System upgrade this afternoon"}]);
    let (st, _) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(config))
        .await;
    assert_eq!(st, 200);
    let mut got_snapshot = false;
    while board.notices.scrolling.first().map(|t| t.zh.as_str()) != Some("今日下午系统升级")
    {
        let msg = next_msg(&mut ws).await.unwrap();
        got_snapshot |= matches!(msg, StreamMessage::Snapshot { .. });
        assert!(board.apply(msg));
    }
    assert!(got_snapshot);
    let _ = stop.send(());
    // The server says goodbye (1001) instead of just vanishing.
    let mut closed = false;
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                assert_eq!(u16::from(frame.code), 1001);
                closed = true;
                break;
            }
            Ok(Some(Ok(_))) => continue,
            _ => break,
        }
    }
    assert!(closed, "stream closed with 1001");
    drop(ws);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_made_while_others_are_in_flight_reach_a_board_in_order_and_survive_a_restart() {
    use hallq_hub::{Hub, HubOptions};
    use hallq_shared::hall::TicketState;

    let f = Fixture::new().await;
    let (addr, stop, task) = serve(&f).await;
    for c in 1..=4 {
        f.open_counter(c).await;
    }
    for _ in 0..6 {
        for s in ["pay", "repair", "complaint", "account", "stb", "consult"] {
            f.issue(s).await;
        }
    }
    let mut ws = connect(addr, "").await;
    let mut board = first_snapshot(&mut ws).await;
    // Four counters, each calling four times in a row: every call is submitted while the other
    // counters' calls are queued or committing.
    let answered = futures_util::future::join_all((1..=4).map(|c| {
        let f = &f;
        async move {
            let mut numbers = Vec::new();
            for _ in 0..4 {
                let (st, b) = f
                    .call(
                        "POST",
                        &format!("/api/v1/counters/{c}/next"),
                        Some(&f.manager),
                        None,
                    )
                    .await;
                if st == 200 {
                    numbers.push(format!("{}@{c}", b["number"].as_str().unwrap()));
                } else {
                    assert_eq!(st, 204, "{b}");
                }
            }
            numbers
        }
    }))
    .await;
    let all: Vec<String> = answered.iter().flatten().cloned().collect();
    assert!(
        all.len() >= 8,
        "the hall had tickets for most calls: {all:?}"
    );
    let last = f.hub.snapshot().seq;
    let mut seen = Vec::new();
    follow_to(&mut ws, &mut board, last, &mut seen).await;
    // `follow_to` refuses an update that does not follow on from the last; each counter's calls
    // reach the board in the order its clerk was answered.
    for numbers in &answered {
        let shown: Vec<&String> = seen.iter().filter(|k| numbers.contains(k)).collect();
        assert_eq!(shown, numbers.iter().collect::<Vec<_>>(), "shown in order");
    }
    assert_eq!(seen.len(), all.len(), "every call shown once: {seen:?}");
    drop(ws);
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    // Every acknowledged call is in the database: a hub reopened on it has each ticket called.
    let Fixture {
        hub,
        app,
        dir,
        clock,
        ..
    } = f;
    drop(app);
    for _ in 0..500 {
        if std::sync::Arc::strong_count(&hub) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(std::sync::Arc::into_inner(hub).expect("nothing else holds the hub"));
    let mut opts = HubOptions::new(dir.path(), HallConfig::demo());
    opts.clock = std::sync::Arc::new(move || clock.load(std::sync::atomic::Ordering::SeqCst));
    let reopened = Hub::open(opts).unwrap();
    let hall = reopened.writer.hall().read().unwrap();
    for key in &all {
        let number = key.split('@').next().unwrap();
        let t = &hall.tickets[number];
        assert_ne!(
            t.state,
            TicketState::Waiting,
            "{key} was called before the restart"
        );
        assert_eq!(
            t.counter.map(|c| format!("{number}@{c}")).as_deref(),
            Some(key.as_str())
        );
    }
}
