//! The fuzz targets, one per decoder family, each with its seeds, its generator and what it runs:
//!
//! - `json`: request bodies through the hub's `Body<T>` extractor (axum's JSON decoding, our error
//!   type), for every request type of `protocol.rs`, `api.rs` and `manager.rs`; what decodes goes
//!   on as the hub sends it: commands through the pure engine on a hall in mid-morning, phone and
//!   ticket numbers through their parsers, scores through the rating scale.
//! - `query`: query strings through the hub's `Query<T>` extractor for every query type; a report
//!   query goes on to the period and a report built from rows, JSON and CSV.
//! - `path`: request paths through a router with the hub's path shapes and its `Path<T>`
//!   extractor; ticket numbers go on to the engine's ticket status, staff paths to the real
//!   embedded-file handler. Every refusal under `/api/` must be a JSON error, never a 5xx.
//! - `config`: hall configurations as TOML (`HallConfig::from_toml`, what `serve` reads) and as
//!   JSON (`PUT /api/v1/config`); what decodes is validated, must round-trip through JSON and
//!   TOML, and a valid one becomes a `Hall` that lives a day (tickets, calls, outage, the next
//!   day) and replaces the configuration of a busy hall (`ReplaceConfig`), and drives a report.
//! - `text`: phone numbers (`Phone::parse`, the JSON `Phone`) and ticket numbers
//!   (`parse_number`), with their round trips and masking.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body as HttpBody;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, patch, post};
use chrono::{NaiveDate, NaiveTime};
use hallq_hub::api::{CallbackQuery, KioskStatus, SuggestionRequest};
use hallq_hub::extract::{Body, Path, Query};
use hallq_hub::manager::{self, AuditQuery, NewAccount, NewDevice, RatingRequest, ReportQuery};
use hallq_hub::stream::StreamQuery;
use hallq_hub::{ApiError, pages};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall, Reply, TransferTo};
use hallq_shared::hall::{
    Callback, CounterId, CounterState, Now, Phone, TicketState, format_number, parse_number,
};
use hallq_shared::protocol::{
    CallNumberRequest, CaptureCallbackRequest, ErrorBody, IssueTicketRequest, LoginRequest, Role,
    StartOutageRequest, TransferRequest, UpdateCallbackRequest,
};
use hallq_shared::report::{EventRow, Fact, Period, Report, ReportInput, Satisfaction, TicketRow};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::make::{self, Rng, Tree};

/// A decoder family: its seeds and how an input of it is made and run.
pub struct Target {
    pub name: &'static str,
    pub about: &'static str,
    pub generate: fn(&mut Rng) -> Vec<u8>,
    pub run: fn(&mut State, &[u8]),
}

pub static TARGETS: &[Target] = &[
    Target {
        name: "json",
        about: "JSON request bodies → Body<T> → engine",
        generate: gen_json,
        run: run_json,
    },
    Target {
        name: "query",
        about: "query strings → Query<T> → report period and report",
        generate: gen_query,
        run: run_query,
    },
    Target {
        name: "path",
        about: "request paths → router → Path<T> → ticket status, staff files",
        generate: gen_path,
        run: run_path,
    },
    Target {
        name: "config",
        about: "hall configuration TOML/JSON → validate → Hall, ReplaceConfig, report",
        generate: gen_config,
        run: run_config,
    },
    Target {
        name: "text",
        about: "phone and ticket numbers → parse, mask, round trip",
        generate: gen_text,
        run: run_text,
    },
];

// ---------------------------------------------------------------------------------------------
// Per-thread state

/// What a worker thread keeps between inputs: a runtime to drive extractor futures to completion
/// (they never wait on anything), the router of path shapes, a busy hall to run commands on.
pub struct State {
    rt: tokio::runtime::Runtime,
    router: Router,
    busy: Hall,
    now: Now,
    callback: Callback,
    report_input: ReportInput,
    /// How far inputs got, by step name.
    pub counts: BTreeMap<&'static str, u64>,
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn clerk(counter: CounterId) -> Actor {
    Actor::new(format!("clerk{counter}"), Role::Staff, Some(counter))
}

fn manager_actor() -> Actor {
    Actor::new("boss", Role::Manager, None)
}

fn kiosk_actor() -> Actor {
    Actor::new("kiosk-1", Role::Kiosk, None)
}

impl State {
    pub fn new() -> State {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let (busy, now, callback) = busy_hall();
        State {
            rt,
            router: path_router(),
            busy,
            now,
            callback,
            report_input: report_rows(),
            counts: BTreeMap::new(),
        }
    }

    fn count(&mut self, step: &'static str) {
        *self.counts.entry(step).or_default() += 1;
    }
}

/// The demo hall at 10:00: every counter open, tickets waiting in every service, counters 1 and 2
/// with a customer, an outage and a callback taken during it.
fn busy_hall() -> (Hall, Now, Callback) {
    let now = Now::at_local(day(), NaiveTime::from_hms_opt(10, 0, 0).unwrap());
    let mut hall = Hall::new(HallConfig::demo(), day());
    let ok = |hall: &mut Hall, cmd: Command, actor: Actor| {
        hall.execute(&cmd, &actor, now)
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
    };
    for c in 1..=4 {
        ok(
            &mut hall,
            Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            },
            clerk(c),
        );
    }
    for _ in 0..3 {
        for s in ["account", "pay", "repair", "stb", "consult", "complaint"] {
            ok(
                &mut hall,
                Command::IssueTicket {
                    service: s.into(),
                    priority: s == "stb",
                },
                kiosk_actor(),
            );
        }
    }
    ok(&mut hall, Command::CallNext { counter: 1 }, clerk(1));
    ok(&mut hall, Command::Start { counter: 1 }, clerk(1));
    ok(&mut hall, Command::CallNext { counter: 2 }, clerk(2));
    ok(
        &mut hall,
        Command::StartOutage {
            expected_minutes: 60,
            message: Some("系统升级".into()),
        },
        manager_actor(),
    );
    let ex = ok(
        &mut hall,
        Command::CaptureCallback {
            phone: "13812345678".into(),
            consent: true,
            ticket: Some("A002".into()),
            address: None,
            reason: Some("宽带".into()),
        },
        kiosk_actor(),
    );
    let callback = ex.callback.expect("a captured callback");
    (hall, now, callback)
}

/// A few rows of a day for reports: a served ticket, a no-show, a counter opening, an outage.
fn report_rows() -> ReportInput {
    let at = Now::at_local(day(), NaiveTime::from_hms_opt(9, 0, 0).unwrap()).at;
    let row = |n: &str, state, first: Option<i64>| TicketRow {
        day: day(),
        number: n.into(),
        service: "pay".into(),
        first_service: "account".into(),
        state,
        counter: Some(1),
        issued_at: at,
        first_called_at: first,
        called_at: first,
        started_at: first.map(|f| f + 10_000),
        finished_at: first.map(|f| f + 600_000),
        transfers: 1,
        estimated_wait_s: 300,
    };
    let ev = |seq, fact| EventRow {
        seq,
        day: day(),
        at: at + 1000 * seq as i64,
        actor: "clerk1".into(),
        fact,
    };
    ReportInput {
        tickets: vec![
            row("B001", TicketState::Finished, Some(at + 120_000)),
            row("B002", TicketState::NoShow, Some(at + 60_000)),
            row("B003", TicketState::Waiting, None),
        ],
        events: vec![
            ev(1, Fact::CounterOpened { counter: 1 }),
            ev(
                2,
                Fact::Called {
                    number: "B001".into(),
                    counter: 1,
                },
            ),
            ev(
                3,
                Fact::Finished {
                    number: "B001".into(),
                    counter: 1,
                },
            ),
            ev(4, Fact::OutageStarted),
            ev(
                5,
                Fact::LongWaitBegan {
                    service: "pay".into(),
                },
            ),
            ev(6, Fact::CallbackCaptured { id: 1 }),
            ev(7, Fact::CallbackResolved { id: 1 }),
            ev(
                8,
                Fact::OutageEnded {
                    started_at: Some(at + 4000),
                },
            ),
        ],
        ratings: vec![],
        as_of: None,
    }
}

/// After any accepted command: every view the hub builds from the hall, and the index check.
fn views(hall: &Hall, now: Now) {
    let _ = hall.board_live(now);
    let _ = hall.notices(now.at);
    let _ = hall.service_views(now.at);
    let _ = hall.counter_views();
    let _ = hall.waiting_tickets();
    for c in &hall.config.counters {
        let _ = hall.queue_for_counter(c.id);
        let _ = hall.current_ticket(c.id);
    }
    assert!(
        hall.waiting_index_is_consistent(),
        "the waiting index drifted from the tickets"
    );
}

/// Drive a future that never waits (an extractor over an in-memory body) to its end.
fn block<F: std::future::Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

// ---------------------------------------------------------------------------------------------
// Seeds and shared generation

/// Documents of one family, parsed once.
struct Corpus {
    raw: Vec<Vec<u8>>,
    trees: Vec<Tree>,
    dict: Vec<String>,
    /// The first `heavy` seeds are large (the whole demo hall): taken one time in ten, so that
    /// most inputs are small and the rate stays high.
    heavy: usize,
}

impl Corpus {
    fn new(raw: Vec<String>, trees: Vec<Tree>) -> Corpus {
        let mut dict: Vec<String> = Vec::new();
        for t in &trees {
            t.keys(&mut dict);
        }
        let mut dict: Vec<String> = dict.into_iter().map(|k| format!("\"{k}\"")).collect();
        dict.extend(make::NUMBERS.iter().map(|s| s.to_string()));
        dict.extend(make::STRINGS.iter().map(|s| format!("{s:?}")));
        dict.extend(
            [
                "{", "}", "[", "]", ",", ":", "null", "true", "false", "=", "[[", "]]", "\"\"\"",
                "'''",
            ]
            .map(String::from),
        );
        Corpus {
            raw: raw.into_iter().map(String::into_bytes).collect(),
            trees,
            dict,
            heavy: 0,
        }
    }

    fn pick(&self, rng: &mut Rng, n: usize) -> usize {
        if self.heavy == 0 || self.heavy >= n {
            rng.below(n)
        } else if rng.chance(10) {
            rng.below(self.heavy)
        } else {
            self.heavy + rng.below(n - self.heavy)
        }
    }

    fn keys(&self) -> Vec<String> {
        let mut k = Vec::new();
        for t in &self.trees {
            t.keys(&mut k);
        }
        k
    }
}

/// One input of a document family: noise, havoc on a seed, or a tree mutation written out.
fn document(rng: &mut Rng, corpus: &Corpus, keys: &[String], toml: bool) -> Vec<u8> {
    let roll = rng.below(100);
    if roll < 4 {
        return make::noise(rng, &corpus.dict);
    }
    let i = corpus.pick(rng, corpus.raw.len());
    if roll < 40 {
        let mut data = corpus.raw[i].clone();
        let other = &corpus.raw[rng.below(corpus.raw.len())];
        make::havoc(rng, &mut data, &corpus.dict, other);
        return data;
    }
    let mut tree = corpus.trees[corpus.pick(rng, corpus.trees.len())].clone();
    tree.mutate(rng, keys, &corpus.trees);
    let mut out = String::new();
    if toml {
        tree.to_toml(&mut out);
    } else {
        tree.to_json(&mut out);
    }
    let mut data = out.into_bytes();
    if rng.chance(15) {
        let other = corpus.raw[i].clone();
        make::havoc(rng, &mut data, &corpus.dict, &other);
    }
    data
}

// ---------------------------------------------------------------------------------------------
// json: request bodies

fn json_seeds() -> Vec<serde_json::Value> {
    vec![
        json!({"login": "clerk1", "password": "correct horse", "counter": 1}),
        json!({"login": "boss", "password": "x"}),
        json!({"service": "pay"}),
        json!({"service": "stb", "priority": true}),
        json!({"number": "A001"}),
        json!({"number": "b3"}),
        json!({"service": "repair"}),
        json!({"counter": 3}),
        json!({"expected_minutes": 45, "message": "系统升级,请稍候"}),
        json!({"expected_minutes": 10}),
        json!({"phone": "13812345678", "consent": true, "ticket": "A001", "address": "英山县温泉镇", "reason": "宽带不通"}),
        json!({"phone": "0713-7012345", "consent": true}),
        json!({"status": "contacted", "note": "已回电", "take": true}),
        json!({"status": "resolved"}),
        json!({"note": "客户未接"}),
        json!({"text": "希望多开一个缴费窗口", "contact": "13812345678"}),
        json!({"text": "好"}),
        json!({"printer": "paper_low"}),
        json!({"printer": "ready"}),
        json!({"login": "clerk9", "role": "staff", "password": "long enough 1"}),
        json!({"name": "kiosk-2", "role": "kiosk"}),
        json!({"counter": 1, "score": 5}),
        json!({"counter": 2, "score": 1}),
    ]
}

fn json_corpus() -> &'static Corpus {
    static C: std::sync::OnceLock<Corpus> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let seeds = json_seeds();
        Corpus::new(
            seeds.iter().map(|v| v.to_string()).collect(),
            seeds.iter().map(Tree::from_json).collect(),
        )
    })
}

fn json_keys() -> &'static [String] {
    static K: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    K.get_or_init(|| json_corpus().keys())
}

fn gen_json(rng: &mut Rng) -> Vec<u8> {
    document(rng, json_corpus(), json_keys(), false)
}

/// A JSON body decoded as the hub decodes it. A refusal must be a 4xx with the hub's JSON error.
/// serde_json decides first (it is what the extractor runs); the extractor itself then runs on
/// every body that decodes, and on one refused body in eight, which keeps the rate up without
/// leaving its refusal path untried.
fn decode<T: DeserializeOwned>(state: &State, input: &[u8]) -> Option<T> {
    let direct = serde_json::from_slice::<T>(input).ok();
    if direct.is_none() && !(input.len() + std::any::type_name::<T>().len()).is_multiple_of(8) {
        return None;
    }
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/x")
        .header(header::CONTENT_TYPE, "application/json")
        .body(HttpBody::from(input.to_vec()))
        .expect("a request");
    let via_hub = match block(&state.rt, Body::<T>::from_request(req, &())) {
        Ok(Body(v)) => Some(v),
        Err(e) => {
            refusal_is_a_client_error(&e);
            None
        }
    };
    assert_eq!(
        via_hub.is_some(),
        direct.is_some(),
        "the extractor and serde_json disagree on {}",
        std::any::type_name::<T>()
    );
    via_hub
}

fn refusal_is_a_client_error(e: &ApiError) {
    assert!(
        e.status.is_client_error(),
        "a decoding refusal answered {}: {e:?}",
        e.status
    );
    assert!(
        !e.code.is_empty() && !e.message.is_empty(),
        "an empty error: {e:?}"
    );
}

fn run_json(state: &mut State, input: &[u8]) {
    let mut commands: Vec<(Command, Actor)> = Vec::new();
    if let Some(r) = decode::<LoginRequest>(state, input) {
        state.count("login");
        let _ = r.login.trim().len();
    }
    if let Some(r) = decode::<IssueTicketRequest>(state, input) {
        state.count("issue");
        commands.push((
            Command::IssueTicket {
                service: r.service,
                priority: r.priority,
            },
            kiosk_actor(),
        ));
    }
    if let Some(r) = decode::<CallNumberRequest>(state, input) {
        state.count("call_number");
        let _ = parse_number(&r.number);
        commands.push((
            Command::CallNumber {
                counter: 3,
                number: r.number,
            },
            clerk(3),
        ));
    }
    if let Some(r) = decode::<TransferRequest>(state, input) {
        state.count("transfer");
        let to = match (r.service, r.counter) {
            (Some(s), None) => Some(TransferTo::Service(s)),
            (None, Some(c)) => Some(TransferTo::Counter(c)),
            _ => None,
        };
        if let Some(to) = to {
            commands.push((Command::Transfer { counter: 1, to }, clerk(1)));
        }
    }
    if let Some(r) = decode::<StartOutageRequest>(state, input) {
        state.count("outage");
        commands.push((Command::EndOutage, manager_actor()));
        commands.push((
            Command::StartOutage {
                expected_minutes: r.expected_minutes,
                message: r.message,
            },
            manager_actor(),
        ));
    }
    if let Some(r) = decode::<CaptureCallbackRequest>(state, input) {
        state.count("callback");
        commands.push((
            Command::CaptureCallback {
                phone: r.phone,
                consent: r.consent,
                ticket: r.ticket,
                address: r.address,
                reason: r.reason,
            },
            kiosk_actor(),
        ));
    }
    if let Some(r) = decode::<UpdateCallbackRequest>(state, input) {
        state.count("update_callback");
        commands.push((
            Command::UpdateCallback {
                current: Box::new(state.callback.clone()),
                status: r.status,
                note: r.note,
                take: r.take,
            },
            clerk(2),
        ));
    }
    if let Some(r) = decode::<SuggestionRequest>(state, input) {
        state.count("suggestion");
        let _ = (r.text.chars().count(), r.contact.map(|c| c.chars().count()));
    }
    if let Some(r) = decode::<KioskStatus>(state, input) {
        state.count("kiosk_status");
        let v = serde_json::to_value(r.printer).expect("a printer state as JSON");
        assert!(v.is_string());
    }
    if decode::<NewAccount>(state, input).is_some() {
        state.count("new_account");
    }
    if decode::<NewDevice>(state, input).is_some() {
        state.count("new_device");
    }
    if let Some(r) = decode::<RatingRequest>(state, input) {
        state.count("rating");
        if let Some(s) = Satisfaction::from_score(r.score) {
            assert_eq!(s.score(), r.score);
            let _ = (s.zh(), s.en());
        }
    }
    if commands.is_empty() {
        return;
    }
    let mut hall = state.busy.clone();
    let now = state.now.plus_ms(90_000);
    for (cmd, actor) in commands {
        if let Ok(ex) = hall.execute(&cmd, &actor, now) {
            state.count("engine_accepted");
            let _ = hall.public_events(&ex.events);
            if let Reply::Issued(t) = &ex.reply {
                assert!(
                    hall.ticket_status(&t.number, now.at).is_some(),
                    "an issued ticket has no status"
                );
            }
            for e in &ex.events {
                // The event log is JSON in the store, read back on every start.
                let text = serde_json::to_string(e).expect("an event as JSON");
                let back: hallq_shared::engine::Event =
                    serde_json::from_str(&text).expect("an event read back");
                assert_eq!(&back, e, "an event changed through JSON");
            }
            views(&hall, now);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// query: query strings

const QUERY_KEYS: &[&str] = &[
    "period", "date", "format", "status", "limit", "since", "x", "",
];

fn gen_query(rng: &mut Rng) -> Vec<u8> {
    let seeds = [
        "period=week&date=2026-11-25",
        "period=month&date=2026-11-02&format=csv",
        "period=day",
        "status=pending&limit=50",
        "limit=10",
        "since=42",
        "",
    ];
    let roll = rng.below(100);
    if roll < 5 {
        return make::noise(rng, &[]);
    }
    if roll < 35 {
        let mut data = rng.pick(&seeds).as_bytes().to_vec();
        let dict: Vec<String> = QUERY_KEYS
            .iter()
            .map(|k| format!("&{k}="))
            .chain(make::STRINGS.iter().map(|s| s.to_string()))
            .chain(make::NUMBERS.iter().map(|s| s.to_string()))
            .chain(["%", "%2", "%FF", "+", "=", "&", ";", "%26", "%3D"].map(String::from))
            .collect();
        make::havoc(rng, &mut data, &dict, b"period=year&date=-262143-01-01");
        return data;
    }
    // The keys of one query type, with good values mostly and an edge value or a stray key now
    // and then, so that most inputs get past `deny_unknown_fields` to the code behind.
    let shapes: &[&[(&str, &[&str])]] = &[
        &[
            ("period", &["day", "week", "month"]),
            (
                "date",
                &["2026-11-25", "2026-02-28", "1970-01-01", "9999-12-31"],
            ),
            ("format", &["json", "csv"]),
        ],
        &[
            ("status", &["pending", "contacted", "resolved"]),
            ("limit", &["10", "500"]),
        ],
        &[("limit", &["1", "1000"])],
        &[("since", &["0", "42"])],
    ];
    let shape = *rng.pick(shapes);
    let mut parts = Vec::new();
    for (k, good) in shape {
        if rng.chance(15) {
            continue;
        }
        let v = match rng.below(10) {
            0 | 1 => make::edge_number(rng),
            2 | 3 => make::edge_string(rng),
            _ => rng.pick(good).to_string(),
        };
        let v = make::percent_some(rng, &v);
        parts.push(if rng.chance(3) {
            k.to_string()
        } else {
            format!("{k}={v}")
        });
    }
    if rng.chance(10) {
        parts.push(format!(
            "{}={}",
            rng.pick(QUERY_KEYS),
            make::edge_string(rng)
        ));
    }
    if rng.chance(10) && !parts.is_empty() {
        let i = rng.below(parts.len());
        let dup = parts[i].clone();
        parts.push(dup);
    }
    parts
        .join(if rng.chance(95) { "&" } else { ";" })
        .into_bytes()
}

fn query<T: DeserializeOwned>(state: &State, parts: &axum::http::request::Parts) -> Option<T> {
    let mut parts = parts.clone();
    match block(&state.rt, Query::<T>::from_request_parts(&mut parts, &())) {
        Ok(Query(v)) => Some(v),
        Err(e) => {
            refusal_is_a_client_error(&e);
            None
        }
    }
}

fn run_query(state: &mut State, input: &[u8]) {
    let mut uri = b"/api/v1/reports?".to_vec();
    uri.extend_from_slice(input);
    // What the HTTP parser itself refuses never reaches the hub's extractors.
    let Ok(req) = Request::builder().uri(uri).body(()) else {
        state.count("uri_refused");
        return;
    };
    let (parts, ()) = req.into_parts();
    if query::<CallbackQuery>(state, &parts).is_some() {
        state.count("callbacks");
    }
    if query::<AuditQuery>(state, &parts).is_some() {
        state.count("audit");
    }
    if query::<StreamQuery>(state, &parts).is_some() {
        state.count("stream");
    }
    if let Some(q) = query::<ReportQuery>(state, &parts) {
        state.count("report");
        match manager::report_period(&q, day()) {
            Ok(period) => {
                state.count("report_period");
                assert!(Period::in_range(period.from) && Period::in_range(period.to));
                assert!(period.from <= period.to && period.days() <= 31);
                let report = Report::build(period, &HallConfig::demo(), &state.report_input);
                let _ = serde_json::to_vec(&report).expect("a report as JSON");
                let mut csv = Vec::new();
                report.to_csv(&mut csv).expect("a report as CSV");
                let file = format!("hallq-report-{}.csv", period.from.format("%Y-%m-%d"));
                assert!(axum::http::HeaderValue::from_str(&file).is_ok());
            }
            Err(e) => refusal_is_a_client_error(&e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// path: request paths

/// The hub's paths with parameters, each with the type its handler extracts.
fn path_router() -> Router {
    async fn counter(Path(id): Path<CounterId>) -> String {
        id.to_string()
    }
    async fn callback(Path(id): Path<i64>) -> String {
        id.to_string()
    }
    async fn name(Path(n): Path<String>) -> String {
        n
    }
    let mut r = Router::new();
    for action in [
        "queue",
        "next",
        "call",
        "recall",
        "start",
        "finish",
        "no-show",
        "pause",
        "open",
        "close",
        "transfer",
        "rating-prompt",
    ] {
        r = r.route(
            &format!("/api/v1/counters/{{id}}/{action}"),
            get(counter).post(counter),
        );
    }
    r.route("/api/v1/tickets/{number}", get(name))
        .route("/api/v1/callbacks/{id}", patch(callback))
        .route("/api/v1/accounts/{login}/disable", post(name))
        .route("/api/v1/devices/{name}/revoke", post(name))
        .route("/t/{number}", get(name))
        .route("/rate/{counter}", get(manager::rate_page))
        .route("/staff/{*path}", get(pages::staff_asset))
}

const PATHS: &[&str] = &[
    "/api/v1/counters/{}/next",
    "/api/v1/counters/{}/queue",
    "/api/v1/counters/{}/transfer",
    "/api/v1/counters/{}/rating-prompt",
    "/api/v1/tickets/{}",
    "/api/v1/callbacks/{}",
    "/api/v1/accounts/{}/disable",
    "/api/v1/devices/{}/revoke",
    "/t/{}",
    "/rate/{}",
    "/staff/{}",
];

fn gen_path(rng: &mut Rng) -> Vec<u8> {
    let template = *rng.pick(PATHS);
    let param = match rng.below(4) {
        0 => make::edge_number(rng),
        1 => [
            "staff.html",
            "console.js",
            "../Cargo.toml",
            "a/b",
            "",
            "%2e%2e/x",
            "A001",
            "1",
            "clerk1",
        ][rng.below(9)]
        .to_string(),
        _ => make::edge_string(rng),
    };
    let param = make::percent_some(rng, &param);
    let mut data = template.replace("{}", &param).into_bytes();
    if rng.chance(30) {
        let dict: Vec<String> = [
            "/",
            "//",
            "%",
            "%2F",
            "%00",
            "..",
            "?",
            "#",
            "%C0%AF",
            "%E4%B8%AD",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(make::NUMBERS.iter().map(|s| s.to_string()))
        .collect();
        make::havoc(rng, &mut data, &dict, b"/api/v1/counters/1/next");
    }
    data
}

fn run_path(state: &mut State, input: &[u8]) {
    let method = if input.starts_with(b"/api/v1/callbacks") {
        "PATCH"
    } else if input.starts_with(b"/api/v1/accounts") || input.starts_with(b"/api/v1/devices") {
        "POST"
    } else {
        "GET"
    };
    let Ok(req) = Request::builder()
        .method(method)
        .uri(input)
        .body(HttpBody::empty())
    else {
        state.count("uri_refused");
        return;
    };
    let path = req.uri().path().to_string();
    let resp: Response = block(
        &state.rt,
        tower::ServiceExt::oneshot(state.router.clone(), req),
    )
    .unwrap_or_else(|e| match e {});
    let status = resp.status();
    assert!(!status.is_server_error(), "{path} answered {status}");
    let body = block(&state.rt, axum::body::to_bytes(resp.into_body(), 1 << 20)).expect("the body");
    if status.is_success() {
        state.count("decoded");
        let value = String::from_utf8_lossy(&body).into_owned();
        if path.starts_with("/api/v1/tickets/") || path.starts_with("/t/") {
            state.count("ticket_status");
            let _ = parse_number(&value);
            let _ = state.busy.ticket_status(&value, state.now.at);
        }
    } else if path.starts_with("/api/")
        && status != StatusCode::NOT_FOUND
        && status != StatusCode::METHOD_NOT_ALLOWED
    {
        // The router's own 404 and 405 come from the mirror router, not from the hub's fallback.
        let e: ErrorBody = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{path}: a {status} without the JSON error body"));
        assert!(!e.error.code.is_empty());
        state.count("refused_json");
    }
}

// ---------------------------------------------------------------------------------------------
// config: the hall configuration

fn config_corpus() -> &'static Corpus {
    static C: std::sync::OnceLock<Corpus> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let demo = HallConfig::demo();
        let shipped = include_str!("../../deploy/etc/hall.toml").to_string();
        let mut small = demo.clone();
        small.services.truncate(1);
        small.counters.truncate(1);
        small.counters[0].services = vec![small.services[0].id.clone()];
        small.commitments.clear();
        small.notices.clear();
        small.fee_schedule.clear();
        let mut with_probe = small.clone();
        with_probe.probe = Some(hallq_shared::config::ProbeSettings {
            address: "tcp://10.0.0.5:443".into(),
            every_s: 30,
            failures: 3,
            action: hallq_shared::config::ProbeAction::Start,
            expected_minutes: 30,
            slow_ms: Some(1_500),
        });
        with_probe.voice.quiet_from = NaiveTime::from_hms_opt(12, 0, 0);
        with_probe.voice.quiet_to = NaiveTime::from_hms_opt(13, 30, 0);
        with_probe.hall.time_zone = "Asia/Kathmandu".into();
        let mut medium = demo.clone();
        medium.services.truncate(3);
        medium.counters.truncate(2);
        medium.counters[1].services.retain(|s| s != "stb");
        medium.commitments.truncate(1);
        medium.notices.truncate(1);
        medium.fee_schedule.truncate(1);
        let configs = [&demo, &small, &with_probe, &medium];
        let mut raw: Vec<String> = vec![shipped.clone()];
        let mut trees = vec![Tree::from_toml(&toml::Value::Table(
            toml::from_str(&shipped).expect("deploy/etc/hall.toml is TOML"),
        ))];
        for c in configs {
            let t = c.to_toml();
            trees.push(Tree::from_toml(&toml::Value::Table(
                toml::from_str(&t).expect("TOML"),
            )));
            raw.push(t);
            let j = serde_json::to_value(c).expect("JSON");
            trees.push(Tree::from_json(&j));
            raw.push(j.to_string());
        }
        let mut c = Corpus::new(raw, trees);
        c.heavy = 3;
        c
    })
}

fn config_keys() -> &'static [String] {
    static K: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    K.get_or_init(|| config_corpus().keys())
}

fn gen_config(rng: &mut Rng) -> Vec<u8> {
    let toml = rng.chance(60);
    document(rng, config_corpus(), config_keys(), toml)
}

fn run_config(state: &mut State, input: &[u8]) {
    let mut decoded = Vec::new();
    // `serve --config` reads the file as text first.
    if let Ok(text) = std::str::from_utf8(input) {
        match HallConfig::from_toml(text) {
            Ok(c) => {
                state.count("toml_valid");
                decoded.push(c);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    // `PUT /api/v1/config` decodes the JSON; the engine validates it.
    if let Some(c) = decode::<HallConfig>(state, input) {
        state.count("json_decoded");
        if c.validate().is_ok() {
            state.count("json_valid");
            decoded.push(c);
        } else {
            // An invalid configuration is refused by the engine and changes nothing.
            let mut hall = state.busy.clone();
            let r = hall.execute(
                &Command::ReplaceConfig {
                    config: Box::new(c),
                },
                &manager_actor(),
                state.now,
            );
            assert!(r.is_err(), "an invalid configuration was accepted");
        }
    }
    for c in decoded {
        config_goes_on(state, c);
    }
}

fn config_goes_on(state: &mut State, c: HallConfig) {
    // The store keeps it as JSON (the event log); operators get it back as TOML.
    let json = serde_json::to_string(&c).expect("a configuration as JSON");
    let back: HallConfig =
        serde_json::from_str(&json).expect("a configuration read back from JSON");
    assert_eq!(back, c, "a configuration changed through JSON");
    let toml_text = c.to_toml();
    match HallConfig::from_toml(&toml_text) {
        Ok(back) => assert_eq!(back, c, "a configuration changed through TOML"),
        Err(e) => {
            panic!("a valid configuration does not read back from its TOML: {e}\n{toml_text}")
        }
    }

    // A hub started with it lives a day.
    let tz = c.time_zone();
    let midnight = Now::at_local(day(), NaiveTime::MIN).at;
    let at = |h: u32, m: u32| Now::in_zone(midnight + i64::from(h * 60 + m) * 60_000, &tz);
    let start = Now::in_zone(midnight, &tz);
    let mut hall = Hall::new(c.clone(), start.day);
    let counters: Vec<CounterId> = c.counters.iter().map(|x| x.id).collect();
    let services: Vec<String> = c.services.iter().map(|s| s.id.clone()).collect();
    let run = |hall: &mut Hall, cmd: Command, actor: Actor, now: Now| {
        if let Ok(ex) = hall.execute(&cmd, &actor, now) {
            let _ = hall.public_events(&ex.events);
        }
    };
    let (open, noon, late) = (at(9, 0), at(12, 0), at(23, 30));
    for &id in &counters {
        run(
            &mut hall,
            Command::SetCounter {
                counter: id,
                state: CounterState::Open,
            },
            clerk(id),
            open,
        );
    }
    for (i, s) in services.iter().enumerate() {
        run(
            &mut hall,
            Command::IssueTicket {
                service: s.clone(),
                priority: i % 2 == 1,
            },
            kiosk_actor(),
            open,
        );
    }
    for &id in &counters {
        run(
            &mut hall,
            Command::CallNext { counter: id },
            clerk(id),
            at(9, 5),
        );
        run(
            &mut hall,
            Command::Start { counter: id },
            clerk(id),
            at(9, 6),
        );
    }
    views(&hall, at(9, 6));
    run(
        &mut hall,
        Command::StartOutage {
            expected_minutes: 1440,
            message: None,
        },
        manager_actor(),
        at(9, 10),
    );
    run(&mut hall, Command::Tick, Actor::system(), noon);
    for &id in &counters {
        run(&mut hall, Command::Finish { counter: id }, clerk(id), noon);
        run(
            &mut hall,
            Command::CallNext { counter: id },
            clerk(id),
            noon,
        );
    }
    run(&mut hall, Command::Tick, Actor::system(), late);
    views(&hall, late);
    let next_day = Now::in_zone(midnight + 33 * 3_600_000, &tz);
    run(&mut hall, Command::Tick, Actor::system(), next_day);
    views(&hall, next_day);
    state.count("day_lived");

    // A busy hall takes it as its new configuration, or refuses with a reason.
    let mut busy = state.busy.clone();
    let now = state.now;
    match busy.execute(
        &Command::ReplaceConfig {
            config: Box::new(c.clone()),
        },
        &manager_actor(),
        now,
    ) {
        Ok(_) => {
            state.count("replaced");
            views(&busy, now);
            for &id in &counters {
                let _ = busy.execute(&Command::CallNext { counter: id }, &clerk(id), now);
            }
            if let Some(s) = services.first() {
                let _ = busy.execute(
                    &Command::IssueTicket {
                        service: s.clone(),
                        priority: false,
                    },
                    &kiosk_actor(),
                    now,
                );
            }
            views(&busy, now);
        }
        Err(r) => assert!(!r.code.is_empty()),
    }

    let report = Report::build(Period::day(day()), &c, &state.report_input);
    let mut csv = Vec::new();
    report.to_csv(&mut csv).expect("a report as CSV");
}

// ---------------------------------------------------------------------------------------------
// text: phone and ticket numbers

fn gen_text(rng: &mut Rng) -> Vec<u8> {
    let roll = rng.below(100);
    if roll < 5 {
        return make::noise(rng, &[]);
    }
    let mut s = String::new();
    match roll {
        5..=40 => {
            // Phone-like: a prefix, groups of digits, separators.
            s.push_str(
                [
                    "", "+86", "0086", "+86-", "1", "0", "010", "02", "0713", "１",
                ][rng.below(10)],
            );
            for _ in 0..rng.below(5) + 1 {
                let n = rng.below(9);
                for _ in 0..n {
                    s.push((b'0' + rng.below(10) as u8) as char);
                }
                s.push_str(["", "-", " ", "\u{3000}", "\t", "--", "٣", "x"][rng.below(8)]);
            }
        }
        41..=65 => {
            // Ticket-like: a letter and digits.
            s.push(*rng.pick(&['A', 'a', 'Z', 'z', '中', '1', ' ', 'É', 'ß', 'ǅ']));
            for _ in 0..rng.below(9) {
                s.push((b'0' + rng.below(10) as u8) as char);
            }
            if rng.chance(20) {
                s.push_str(&make::edge_string(rng));
            }
        }
        _ => s = make::edge_string(rng),
    }
    let mut data = s.into_bytes();
    if rng.chance(15) {
        make::havoc(rng, &mut data, &[], b"+86 138 1234 5678");
    }
    data
}

fn run_text(state: &mut State, input: &[u8]) {
    let s = String::from_utf8_lossy(input);
    match Phone::parse(&s) {
        Ok(p) => {
            state.count("phone");
            let again = Phone::parse(p.as_str()).expect("a normalised number parses again");
            assert_eq!(again, p, "normalising is stable");
            let masked = p.masked();
            assert_eq!(masked.chars().count(), p.as_str().chars().count());
            assert!(
                masked.contains('*'),
                "a masked number hides digits: {masked}"
            );
            assert!(
                !format!("{p:?}").contains(p.as_str()),
                "Debug shows the full number"
            );
            let _ = p.is_mobile();
        }
        Err(e) => {
            let _ = (e.to_string(), e.zh());
        }
    }
    // As the JSON of a callback body carries it.
    let quoted = serde_json::to_string(&*s).expect("a JSON string");
    let _ = serde_json::from_str::<Phone>(&quoted);
    if let Some((prefix, seq)) = parse_number(&s) {
        state.count("ticket");
        assert!(prefix.is_ascii_uppercase() && seq > 0);
        assert_eq!(
            parse_number(&format_number(prefix, seq)),
            Some((prefix, seq))
        );
    }
    let _ = state.busy.ticket_status(&s, state.now.at);
}
