//! The callback list: every phone number customers left, in full for signed-in staff only, with
//! taking a case, marking it contacted or resolved with a note (one-call rule, Ch.2 §3), and the
//! callbacks of an outage that just ended put first.

import {
  api, clockTime, connectEvents, flash, h, hubNow, listOf, session, setHallZone, showLive, signIn, signOut, t, translatePage, tx,
  whenSignedOut, wireLangSwitch,
} from "./common.js";

const $ = (id) => document.getElementById(id);
/** A view of the list is recorded by the hub: refetch on changes, but not more often than this. */
const MIN_REFETCH_MS = 5000;

const params = new URLSearchParams(location.search);
const state = {
  session: null,
  callbacks: [],
  filter: params.get("status") ?? "open",
  sort: "oldest",
  /** The ended outage whose callbacks go first. */
  outageId: params.get("outage") ? Number(params.get("outage")) : null,
  outageCallbackIds: new Set(),
  outageActive: false,
  retentionDays: 30,
  hallName: null,
  loadedAt: null,
  /** Notes being typed, by callback id: a refetch must not wipe them. */
  drafts: new Map(),
  lastFetch: 0,
  events: null,
};

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  wireLangSwitch(render);
  whenSignedOut(() => showSignIn(t("err.session_ended")));
  $("signin-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", async () => {
    await signOut();
    showSignIn();
  });
  for (const b of document.querySelectorAll("#tabs .tab")) {
    b.addEventListener("click", () => {
      state.filter = b.dataset.filter;
      render();
    });
  }
  $("sort").addEventListener("change", () => {
    state.sort = $("sort").value;
    render();
  });
  $("refresh").addEventListener("click", () => load());
  const s = session();
  if (s) start(s);
  else showSignIn();
});

function showSignIn(message) {
  state.events?.stop();
  state.events = null;
  state.session = null;
  state.callbacks = [];
  $("list").replaceChildren();
  $("callbacks").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
  $("signin").hidden = false;
  if (message) flash(message, "error");
  const last = JSON.parse(localStorage.getItem("hallq.staff.last") ?? "{}");
  if (last.login) $("login").value = last.login;
  ($("login").value ? $("password") : $("login")).focus();
}

async function onSignIn(ev) {
  ev.preventDefault();
  const login = $("login").value.trim();
  const password = $("password").value;
  if (!login || !password) return;
  $("signin-btn").disabled = true;
  try {
    const s = await signIn(login, password);
    $("password").value = "";
    for (const f of document.querySelectorAll(".flash")) f.hidden = true;
    start(s);
  } catch (e) {
    $("password").value = "";
    flash(e.message, "error");
  } finally {
    $("signin-btn").disabled = false;
  }
}

async function start(s) {
  state.session = s;
  $("signin").hidden = true;
  $("callbacks").hidden = false;
  $("sign-out").hidden = false;
  render();
  await Promise.all([loadBoard(), loadAlerts()]);
  await load();
  state.events = connectEvents({
    onSnapshot: (board) => applyBoard(board),
    onUpdate: (msg) => {
      state.outageActive = !!msg.live?.outage;
      // Callback changes travel as private events; outages bring callbacks with them.
      const relevant = (msg.events ?? []).some((e) => ["private", "outage_started", "outage_ended"].includes(e.kind));
      if (relevant) {
        if ((msg.events ?? []).some((e) => e.kind === "outage_ended")) loadAlerts().then(render);
        loadSoon();
      }
    },
    onState: (up) => showLive(up),
  });
}

async function loadBoard() {
  try {
    applyBoard((await api("GET", "/api/v1/board")).data);
  } catch {
    // Only the hall's name and the retention period come from here.
  }
}

function applyBoard(board) {
  if (!board) return;
  state.hallName = board.notices?.hall_name ?? state.hallName;
  if (board.notices?.time_zone) setHallZone(board.notices.time_zone);
  state.retentionDays = board.notices?.callback_retention_days ?? state.retentionDays;
  state.outageActive = !!board.outage;
  render();
}

/** The alert of the last ended outage names its callbacks: they go first. */
async function loadAlerts() {
  try {
    const { data } = await api("GET", "/api/v1/alerts");
    const last = data?.last_outage;
    if (last) {
      if (state.outageId === null) state.outageId = last.id;
      if (last.id === state.outageId) for (const id of last.callback_ids ?? []) state.outageCallbackIds.add(id);
    }
    state.outageActive = !!data?.outage;
  } catch {
    // Without alerts the list still shows everything.
  }
}

let loadTimer = null;
function loadSoon() {
  if (loadTimer) return;
  const wait = Math.max(300, MIN_REFETCH_MS - (Date.now() - state.lastFetch));
  loadTimer = setTimeout(() => {
    loadTimer = null;
    load();
  }, wait);
}

async function load() {
  state.lastFetch = Date.now();
  try {
    state.callbacks = listOf((await api("GET", "/api/v1/callbacks")).data, "callbacks");
    state.loadedAt = new Date().toISOString();
    render();
  } catch (e) {
    if (e.status !== 401) flash(e.message, "error");
  }
}

function fromEndedOutage(cb) {
  if (state.outageCallbackIds.has(cb.id)) return true;
  if (state.outageId !== null) return cb.outage_id === state.outageId;
  return false;
}

/** What the clerk should do first comes first: the ended outage's callers, then by the chosen order. */
function ordered(list) {
  const at = (cb) => Date.parse(cb.captured_at) || 0;
  const rank = { pending: 0, contacted: 1, resolved: 2 };
  return [...list].sort((a, b) => {
    const oa = fromEndedOutage(a) && a.status !== "resolved" ? 0 : 1;
    const ob = fromEndedOutage(b) && b.status !== "resolved" ? 0 : 1;
    if (oa !== ob) return oa - ob;
    if (state.sort === "newest") return at(b) - at(a);
    const ra = rank[a.status] ?? 3;
    const rb = rank[b.status] ?? 3;
    if (ra !== rb) return ra - rb;
    return a.status === "resolved" ? at(b) - at(a) : at(a) - at(b);
  });
}

function render() {
  const s = state.session;
  if (!s) return;
  $("who").textContent = t("who", { login: s.login ?? "", until: clockTime(s.expires_at) });
  $("hall-name").textContent = tx(state.hallName);
  $("privacy").textContent = t("cb.privacy", { days: state.retentionDays });
  $("sort").value = state.sort;
  const counts = { open: 0, pending: 0, contacted: 0, resolved: 0, all: state.callbacks.length };
  for (const cb of state.callbacks) {
    counts[cb.status] = (counts[cb.status] ?? 0) + 1;
    if (cb.status !== "resolved") counts.open += 1;
  }
  for (const b of document.querySelectorAll("#tabs .tab")) {
    const f = b.dataset.filter;
    b.textContent = `${t(`cb.filter.${f}`)} (${counts[f] ?? 0})`;
    b.setAttribute("aria-pressed", String(f === state.filter));
  }
  $("loaded").textContent = state.loadedAt ? t("cb.loaded", { when: clockTime(state.loadedAt) }) : "";

  const waitingFromOutage = state.callbacks.filter((cb) => fromEndedOutage(cb) && cb.status !== "resolved");
  const banner = $("banner");
  banner.hidden = state.outageActive || waitingFromOutage.length === 0;
  banner.textContent = t("cb.outage_banner", { n: waitingFromOutage.length });

  const shown = ordered(state.callbacks.filter((cb) =>
    state.filter === "all" || cb.status === state.filter || (state.filter === "open" && cb.status !== "resolved")));
  const list = $("list");
  // Keep focus and typing across a refetch.
  const focused = document.activeElement?.closest?.("[data-cb]")?.dataset.cb;
  list.replaceChildren(...(shown.length ? shown.map(card) : [h("div", { class: "cb-empty card" }, t("cb.empty"))]));
  if (focused) list.querySelector(`[data-cb="${focused}"] textarea`)?.focus();
}

function card(cb) {
  const note = h("textarea", {
    placeholder: t("cb.note_placeholder"),
    maxlength: 1000,
    "aria-label": t("cb.notes"),
    disabled: cb.status === "resolved",
  });
  note.value = state.drafts.get(cb.id) ?? "";
  const resolveBtn = h("button", { type: "button", class: "btn btn-primary", dataset: { act: "resolve" } }, t("cb.resolve"));
  const needNote = () => !note.value.trim() && !(cb.notes ?? []).length;
  const sync = () => {
    state.drafts.set(cb.id, note.value);
    resolveBtn.disabled = cb.status === "resolved" || needNote();
    resolveBtn.title = needNote() ? t("cb.needs_note") : "";
  };
  note.addEventListener("input", sync);

  const mine = cb.owner && cb.owner === state.session?.login;
  const buttons = [];
  if (cb.status !== "resolved") {
    if (!mine) buttons.push(h("button", { type: "button", class: "btn", dataset: { act: "take" }, onclick: () => update(cb, { take: true }) }, t("cb.take")));
    if (cb.status === "pending") buttons.push(h("button", { type: "button", class: "btn", dataset: { act: "contacted" }, onclick: () => update(cb, withNote({ status: "contacted" })) }, t("cb.contacted")));
    if (cb.status === "contacted") buttons.push(h("button", { type: "button", class: "btn", dataset: { act: "pending" }, onclick: () => update(cb, withNote({ status: "pending" })) }, t("cb.back_pending")));
    buttons.push(h("button", { type: "button", class: "btn", dataset: { act: "note" }, onclick: () => note.value.trim() && update(cb, { note: note.value.trim() }) }, t("cb.add_note")));
    resolveBtn.addEventListener("click", () => {
      if (needNote()) {
        flash(t("cb.needs_note"), "error");
        note.focus();
        return;
      }
      update(cb, withNote({ status: "resolved" }));
    });
    buttons.push(resolveBtn);
  }
  function withNote(body) {
    const n = note.value.trim();
    return n ? { ...body, note: n } : body;
  }
  sync();

  const phoneHref = `tel:${String(cb.phone).replace(/[^\d+]/g, "")}`;
  return h("article", { class: `card cb st-${cb.status}${fromEndedOutage(cb) ? " from-outage" : ""}`, dataset: { cb: cb.id } },
    h("div", { class: "cb-who" },
      h("a", { class: "cb-phone", href: phoneHref }, cb.phone),
      h("span", { class: `status status-${cb.status}` }, t(`cb.status.${cb.status}`)),
      h("span", { class: "cb-meta" }, t(`cb.origin.${cb.origin}`), fromEndedOutage(cb) ? ` · ${t("cb.from_outage")}` : ""),
      h("span", { class: "cb-meta" }, t("cb.captured_by", { when: `${clockTime(cb.captured_at)} · ${ago(cb.captured_at)}`, by: cb.captured_by ?? "" }))),
    h("div", {},
      h("dl", { class: "cb-facts" },
        h("dt", {}, t("cb.reason")), h("dd", {}, cb.reason || "—"),
        h("dt", {}, t("cb.address")), h("dd", {}, cb.address || "—"),
        h("dt", {}, t("cb.ticket")), h("dd", {}, cb.ticket || "—"),
        h("dt", {}, t("cb.owner")), h("dd", {}, cb.owner || t("cb.no_owner")),
        h("dt", {}, t("cb.notes")),
        h("dd", {}, (cb.notes ?? []).length
          ? h("ul", { class: "cb-notes" }, cb.notes.map((n) => h("li", {}, h("span", { class: "by" }, `${clockTime(n.at)} ${n.by}:`), " ", n.text)))
          : h("span", { class: "muted" }, t("cb.no_notes"))))),
    h("div", { class: "cb-act" }, cb.status !== "resolved" ? note : null, h("div", { class: "cb-buttons" }, buttons)),
  );
}

/** "25分钟前" / "3小时前" / "2天前": how long the customer has been waiting for the call. */
function ago(iso) {
  const m = Math.max(0, Math.floor((hubNow() - Date.parse(iso)) / 60000));
  if (m < 1) return t("ago.now");
  if (m < 60) return t("ago.min", { n: m });
  if (m < 48 * 60) return t("ago.hour", { n: Math.floor(m / 60) });
  return t("ago.day", { n: Math.floor(m / 1440) });
}

async function update(cb, body) {
  for (const b of document.querySelectorAll(`[data-cb="${cb.id}"] button`)) b.disabled = true;
  try {
    await api("PATCH", `/api/v1/callbacks/${cb.id}`, body);
    state.drafts.delete(cb.id);
    flash(`${cb.phone}: ${body.status ? t(`cb.status.${body.status}`) : t("cb.saved")}`, "ok");
    await load();
  } catch (e) {
    flash(e.message, "error");
    render();
  }
}
