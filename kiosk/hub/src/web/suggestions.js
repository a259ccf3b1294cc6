//! Suggestions left at the kiosk, worked like callbacks: the kiosk tells a customer who leaves a
//! number "we will call you with our answer", so someone must. The list shows numbers masked; the
//! full number of one suggestion is fetched when a clerk is about to call (the hub records each
//! look), then the suggestion is marked answered, with what the customer was told, or closed.

import {
  api, clockTime, flash, h, lang, session, setHallZone, signIn, signOut, t, translatePage, tx,
  whenSignedOut, wireLangSwitch,
} from "./common.js";

const $ = (id) => document.getElementById(id);

/** This page's words. */
const S = {
  title: { zh: "意见答复", en: "Suggestions" },
  refresh: { zh: "刷新", en: "Refresh" },
  privacy: {
    zh: "客户电话仅用于答复意见,请勿外传。查看号码均有记录;处理完毕{days}天后连同意见一并删除。",
    en: "Numbers are only for answering the suggestion. Every look is recorded; handled suggestions are deleted with their number after {days} days.",
  },
  "filter.new": { zh: "待答复", en: "New" },
  "filter.answered": { zh: "已答复", en: "Answered" },
  "filter.closed": { zh: "已关闭", en: "Closed" },
  "filter.all": { zh: "全部", en: "All" },
  "status.new": { zh: "待答复", en: "New" },
  "status.answered": { zh: "已答复", en: "Answered" },
  "status.closed": { zh: "已关闭", en: "Closed" },
  no_contact: { zh: "未留电话", en: "No number left" },
  show_number: { zh: "显示号码并拨打", en: "Show number to call" },
  left_at: { zh: "留言于 {when}({by})", en: "Left {when} ({by})" },
  text: { zh: "意见", en: "Suggestion" },
  reply: { zh: "答复", en: "Reply" },
  handled: { zh: "处理人", en: "Handled by" },
  handled_by: { zh: "{by} · {when}", en: "{by} · {when}" },
  reply_placeholder: { zh: "答复客户的内容(标记已答复时必填)", en: "What you told the customer (needed to mark answered)" },
  answered: { zh: "已电话答复", en: "Mark answered" },
  close: { zh: "关闭(无需答复)", en: "Close (no answer needed)" },
  needs_reply: { zh: "请先填写答复内容", en: "Write what you told the customer first" },
  saved: { zh: "已保存", en: "Saved" },
  empty: { zh: "没有符合条件的意见", en: "No suggestions here" },
  loaded: { zh: "更新于 {when}", en: "Updated {when}" },
};

function s(key, vars = {}) {
  const e = S[key];
  let out = e ? (lang() === "en" ? e.en : e.zh) : key;
  for (const [k, v] of Object.entries(vars)) out = out.replaceAll(`{${k}}`, String(v));
  return out;
}

const state = {
  session: null,
  list: [],
  filter: new URLSearchParams(location.search).get("status") ?? "new",
  retentionDays: 30,
  hallName: null,
  loadedAt: null,
  /** Full numbers fetched on this page, by suggestion id (never stored). */
  numbers: new Map(),
  /** Replies being typed, by id: a reload must not wipe them. */
  drafts: new Map(),
};

function translateMine() {
  translatePage();
  for (const el of document.querySelectorAll("[data-s]")) el.textContent = s(el.dataset.s);
}

document.addEventListener("DOMContentLoaded", () => {
  translateMine();
  wireLangSwitch(() => {
    translateMine();
    render();
  });
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
  $("refresh").addEventListener("click", () => load());
  const sess = session();
  if (sess) start(sess);
  else showSignIn();
});

function showSignIn(message) {
  state.session = null;
  state.list = [];
  state.numbers.clear();
  $("list").replaceChildren();
  $("suggestions").hidden = true;
  $("sign-out").hidden = true;
  $("manager-link").hidden = true;
  $("who").textContent = "";
  $("signin").hidden = false;
  if (message) flash(message, "error");
}

async function onSignIn(ev) {
  ev.preventDefault();
  const login = $("login").value.trim();
  const password = $("password").value;
  if (!login || !password) return;
  $("signin-btn").disabled = true;
  try {
    const sess = await signIn(login, password);
    $("password").value = "";
    start(sess);
  } catch (e) {
    $("password").value = "";
    flash(e.message, "error");
  } finally {
    $("signin-btn").disabled = false;
  }
}

async function start(sess) {
  state.session = sess;
  $("signin").hidden = true;
  $("suggestions").hidden = false;
  $("sign-out").hidden = false;
  $("manager-link").hidden = sess.role !== "manager";
  try {
    const board = (await api("GET", "/api/v1/board")).data;
    state.hallName = board?.notices?.hall_name ?? null;
    if (board?.notices?.time_zone) setHallZone(board.notices.time_zone);
    state.retentionDays = board?.notices?.callback_retention_days ?? state.retentionDays;
  } catch {
    // Only the hall's name and the retention period come from here.
  }
  await load();
}

async function load() {
  try {
    state.list = (await api("GET", "/api/v1/suggestions?limit=500")).data ?? [];
    state.loadedAt = new Date().toISOString();
    render();
  } catch (e) {
    if (e.status !== 401) flash(e.message, "error");
  }
}

function render() {
  const sess = state.session;
  if (!sess) return;
  $("who").textContent = t("who", { login: sess.login ?? "", until: clockTime(sess.expires_at) });
  $("hall-name").textContent = tx(state.hallName);
  $("privacy").textContent = s("privacy", { days: state.retentionDays });
  const counts = { new: 0, answered: 0, closed: 0, all: state.list.length };
  for (const sg of state.list) counts[sg.status] = (counts[sg.status] ?? 0) + 1;
  for (const b of document.querySelectorAll("#tabs .tab")) {
    const f = b.dataset.filter;
    b.textContent = `${s(`filter.${f}`)} (${counts[f] ?? 0})`;
    b.setAttribute("aria-pressed", String(f === state.filter));
  }
  $("loaded").textContent = state.loadedAt ? s("loaded", { when: clockTime(state.loadedAt) }) : "";
  const shown = state.list.filter((sg) => state.filter === "all" || sg.status === state.filter);
  const focused = document.activeElement?.closest?.("[data-sg]")?.dataset.sg;
  $("list").replaceChildren(...(shown.length ? shown.map(card) : [h("div", { class: "cb-empty card" }, s("empty"))]));
  if (focused) $("list").querySelector(`[data-sg="${focused}"] textarea`)?.focus();
}

const BADGE = { new: "status-pending", answered: "status-resolved", closed: "status-contacted" };

function card(sg) {
  const full = state.numbers.get(sg.id);
  let who;
  if (!sg.contact_masked) who = h("span", { class: "cb-phone muted" }, s("no_contact"));
  else if (full) who = h("a", { class: "cb-phone", href: `tel:${full.replace(/[^\d+]/g, "")}`, dataset: { full: "1" } }, full);
  else who = h("span", { class: "cb-phone", dataset: { masked: "1" } }, sg.contact_masked);

  const open = sg.status === "new";
  const reply = h("textarea", { placeholder: s("reply_placeholder"), maxlength: 1000, "aria-label": s("reply") });
  reply.value = state.drafts.get(sg.id) ?? "";
  reply.addEventListener("input", () => state.drafts.set(sg.id, reply.value));
  const buttons = [];
  if (open && sg.contact_masked && !full) {
    buttons.push(h("button", { type: "button", class: "btn", dataset: { act: "show" }, onclick: () => showNumber(sg) }, s("show_number")));
  }
  if (open) {
    buttons.push(h("button", {
      type: "button", class: "btn btn-primary", dataset: { act: "answered" },
      onclick: () => {
        if (!reply.value.trim()) {
          flash(s("needs_reply"), "error");
          reply.focus();
          return;
        }
        handle(sg, { status: "answered", reply: reply.value.trim() });
      },
    }, s("answered")));
    buttons.push(h("button", {
      type: "button", class: "btn", dataset: { act: "close" },
      onclick: () => handle(sg, reply.value.trim() ? { status: "closed", reply: reply.value.trim() } : { status: "closed" }),
    }, s("close")));
  }
  return h("article", { class: `card cb st-${open ? "pending" : "resolved"}`, dataset: { sg: sg.id } },
    h("div", { class: "cb-who" },
      who,
      h("span", { class: `status ${BADGE[sg.status] ?? ""}` }, s(`status.${sg.status}`)),
      h("span", { class: "cb-meta" }, s("left_at", { when: clockTime(sg.at), by: sg.source ?? "" }))),
    h("div", {},
      h("dl", { class: "cb-facts" },
        h("dt", {}, s("text")), h("dd", {}, sg.text),
        h("dt", {}, s("reply")), h("dd", {}, sg.reply || "—"),
        h("dt", {}, s("handled")), h("dd", {}, sg.handled_by ? s("handled_by", { by: sg.handled_by, when: clockTime(sg.handled_at) }) : "—"))),
    h("div", { class: "cb-act" }, open ? reply : null, h("div", { class: "cb-buttons" }, buttons)),
  );
}

/** The full number of one suggestion, fetched only when someone is about to call (recorded by the hub). */
async function showNumber(sg) {
  try {
    const { data } = await api("GET", `/api/v1/suggestions/${sg.id}/contact`);
    state.numbers.set(sg.id, data.contact);
    render();
  } catch (e) {
    flash(e.message, "error");
  }
}

async function handle(sg, body) {
  for (const b of document.querySelectorAll(`[data-sg="${sg.id}"] button`)) b.disabled = true;
  try {
    await api("PATCH", `/api/v1/suggestions/${sg.id}`, body);
    state.drafts.delete(sg.id);
    state.numbers.delete(sg.id);
    flash(`${s(`status.${body.status}`)} · ${s("saved")}`, "ok");
    await load();
  } catch (e) {
    flash(e.message, "error");
    render();
  }
}
