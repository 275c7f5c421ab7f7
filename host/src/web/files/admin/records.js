// Service records (TCCC's IM service records): one per session leg, newest first,
// filtered by time, channel, skill group, agent, end status, satisfaction and user,
// read a page at a time ("load more"); a record opened shows its timings, its
// transcript (who said what, when), the agents' internal notes and the rating; the
// same filters export every matching record as CSV.

import { ApiError } from "../shared/api.js";
import { h, fill } from "../shared/dom.js";
import { has, t } from "../shared/i18n.js";
import { all, allGroups } from "./data.js";
import { duration, formErrors, heading, input, run, select, table, toast, when } from "./ui.js";

const END_STATUSES = [1, 0, 3, 17, 100, 101, 102, 108];
const PAGE = 20;
/** Transcript messages read per request (the API's most). */
const TRANSCRIPT_PAGE = 100;
/** A transcript longer than this many pages is cut, with a note. */
const TRANSCRIPT_PAGES = 20;

export function endText(code) {
  if (code === null || code === undefined) return "—";
  return has("end." + code) ? `${t("end." + code)} (${code})` : t("end.other", { code });
}

const secs = (s) => (s === null || s === undefined ? "—" : duration(s));

export async function render(root, ctx) {
  const [groups, channels, agents] = await Promise.all([
    allGroups(ctx.api),
    all(ctx.api, "/channels"),
    all(ctx.api, "/agents"),
  ]);
  const form = h("form", { class: "filters record-filters", novalidate: true });
  const slot = (name, label, control) => {
    control.name = name;
    control.id = "rf-" + name;
    control.setAttribute("aria-label", label);
    return h("div", { class: "filter" }, h("label", { for: control.id }, label), control, h("div", { class: "error", "data-error-for": name }));
  };
  const any = (text) => [["", text]];
  form.append(
    slot("from", t("records.from"), input({ type: "date" })),
    slot("to", t("records.to"), input({ type: "date" })),
    slot("channel_id", t("records.channel"), select([...any(t("records.anyChannel")), ...channels.map((c) => [c.id, c.name])], "")),
    slot("skill_group_id", t("records.group"), select([...any(t("records.anyGroup")), ...groups.map((g) => [g.id, g.name])], "")),
    slot("agent_id", t("records.agent"), select([...any(t("records.anyAgent")), ...agents.map((a) => [a.id, a.nickname || a.name])], "")),
    slot("end_status", t("records.endStatus"), select([...any(t("records.anyEnd")), ...END_STATUSES.map((c) => [String(c), endText(c)])], "")),
    slot("score", t("records.score"), select([...any(t("records.anyScore")), ["rated", t("records.rated")], ["unrated", t("records.unrated")],
      ...[5, 4, 3, 2, 1].map((n) => [String(n), t("records.stars", { n })])], "")),
    slot("user_id", t("records.user"), input({ type: "search", placeholder: t("records.userHint") })),
    h("div", { class: "error", role: "alert", "data-error-for": "form" }),
  );
  const list = h("div", { class: "list-area", "aria-live": "polite" });
  const more = h("button", { type: "button", id: "records-more", hidden: true, onclick: () => run(() => load(false)) }, t("records.more"));
  const detail = h("div", { class: "detail", id: "record-detail", tabindex: "-1" });
  const exportBtn = h("button", { type: "button", id: "records-export", onclick: () => run(() => exportCsv(ctx, query(), form)) }, t("records.export"));
  let rows = [];
  let cursor = null;

  /** The filters as the API's query (no paging). */
  function query() {
    const q = new URLSearchParams();
    for (const name of ["from", "to", "channel_id", "skill_group_id", "agent_id", "end_status", "user_id"]) {
      const v = String(form.elements.namedItem(name).value).trim();
      if (v) q.set(name, v);
    }
    const score = form.elements.namedItem("score").value;
    if (score === "rated") q.set("rated", "true");
    else if (score === "unrated") q.set("rated", "false");
    else if (score) q.set("score", score);
    return q;
  }

  async function load(fresh) {
    const q = query();
    q.set("limit", String(PAGE));
    if (!fresh && cursor) q.set("cursor", cursor);
    let page;
    try {
      page = await ctx.api.get("/records?" + q);
    } catch (err) {
      formErrors(form, err);
      return;
    }
    formErrors(form, null);
    rows = fresh ? page.items : rows.concat(page.items);
    cursor = page.next_cursor || null;
    more.hidden = !cursor;
    fill(list, table(
      [
        [t("records.started"), (r) => when(r.started_at)],
        [t("records.user"), (r) => h("div", {}, h("strong", {}, r.user.nickname || r.user.id), h("div", { class: "muted mono" }, r.user.id))],
        [t("records.channel"), (r) => r.channel.name || "—"],
        [t("records.group"), (r) => (r.skill_group && r.skill_group.name) || "—"],
        [t("records.agent"), (r) => agentName(r)],
        [t("records.duration"), (r) => secs(r.duration_secs)],
        [t("records.queueWait"), (r) => secs(r.queue_wait_secs)],
        [t("records.endStatus"), (r) => (r.end_status === null || r.end_status === undefined ? t("session." + r.status) : endText(r.end_status))],
        [t("records.satisfaction"), (r) => scoreText(r.satisfaction)],
        ["", (r) => h("button", { type: "button", class: "link", dataset: { act: "open" }, onclick: () => run(() => open(ctx, detail, r.id)) }, t("records.open"))],
      ],
      rows,
      t("records.none"),
    ), h("p", { class: "muted", id: "records-count" }, t(cursor ? "records.shownMore" : "records.shown", { n: rows.length })));
  }

  form.addEventListener("change", () => run(() => load(true)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(() => load(true));
  });
  root.append(heading(t("nav.records"), exportBtn), form, h("div", { class: "split records" }, h("div", {}, list, more), detail));
  await load(true);
}

function agentName(r) {
  if (!r.agent) return "—";
  const name = r.agent.nickname || "—";
  return r.agent.staff_no ? `${name} (${r.agent.staff_no})` : name;
}

function scoreText(s) {
  if (!s || !s.score) return s && s.invited_at ? t("records.invited") : "—";
  return `${"★".repeat(s.score)}${"☆".repeat(5 - s.score)} ${s.label || ""}`.trim();
}

/** Every message of the leg, oldest first (a very long one is cut). */
async function transcript(api, id) {
  const out = [];
  for (let p = 0; p < TRANSCRIPT_PAGES; p++) {
    const page = await api.get(`/sessions/${id}/messages?Limit=${TRANSCRIPT_PAGE}&Offset=${p * TRANSCRIPT_PAGE}&Order=asc`);
    out.push(...page);
    if (page.length < TRANSCRIPT_PAGE) return { messages: out, cut: false };
  }
  return { messages: out, cut: true };
}

async function open(ctx, detail, id) {
  const [r, said, notes] = await Promise.all([
    ctx.api.get(`/records/${id}`),
    transcript(ctx.api, id),
    ctx.api.get(`/agent/sessions/${id}/notes`).catch(() => ({ items: [] })),
  ]);
  const fact = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  const s = r.satisfaction;
  fill(
    detail,
    h("div", { class: "page-head" }, h("h2", {}, t("records.detail", { user: r.user.nickname || r.user.id })),
      h("button", { type: "button", class: "icon", "aria-label": t("dialog.close"), onclick: () => fill(detail) }, "×")),
    h("dl", { class: "facts record-facts" },
      fact(t("records.recordId"), h("span", { class: "mono" }, r.id)),
      fact(t("records.conversation"), h("span", { class: "mono" }, r.session_id)),
      fact(t("records.user"), `${r.user.nickname || ""} (${r.user.id})`),
      fact(t("records.channel"), `${r.channel.name || "—"} · ${r.channel.source}`),
      fact(t("records.group"), (r.skill_group && r.skill_group.name) || "—"),
      fact(t("records.agent"), agentName(r)),
      fact(t("records.started"), when(r.started_at)),
      fact(t("records.queuedAt"), when(r.queued_at) || "—"),
      fact(t("records.acceptedAt"), when(r.accepted_at) || "—"),
      fact(t("records.queueWait"), secs(r.queue_wait_secs)),
      fact(t("records.firstReply"), secs(r.first_reply_secs)),
      fact(t("records.ended"), when(r.ended_at) || t("session." + r.status)),
      fact(t("records.duration"), secs(r.duration_secs)),
      fact(t("records.endStatus"), endText(r.end_status) + (r.ended_by ? ` · ${t("records.by." + r.ended_by)}` : "")),
      fact(t("records.messages"), t("records.counts", r.messages)),
      fact(t("records.satisfaction"), s && s.score
        ? [scoreText(s), s.comment ? h("div", { class: "pre" }, s.comment) : null, h("div", { class: "muted" }, when(s.rated_at))]
        : scoreText(s)),
      r.transferred_from ? fact(t("records.transferredFrom"), h("span", { class: "mono" }, r.transferred_from.record_id)) : null,
      r.transferred_to ? fact(t("records.transferredTo"), h("span", { class: "mono" }, r.transferred_to.record_id)) : null,
    ),
    h("h3", {}, t("records.transcript")),
    said.messages.length
      ? h("ol", { class: "transcript" }, said.messages.map((m) =>
        h("li", { class: "said", dataset: { sender: m.sender } },
          h("div", { class: "said-who" }, h("strong", {}, m.sender_name || t("sender." + m.sender)),
            h("span", { class: "muted" }, ` · ${t("sender." + m.sender)} · `), h("time", { datetime: m.at }, when(m.at))),
          h("div", { class: "pre said-text" }, m.text))))
      : h("p", { class: "muted" }, t("records.noMessages")),
    said.cut ? h("p", { class: "muted" }, t("records.cut")) : null,
    h("h3", {}, t("records.notes")),
    notes.items.length
      ? h("ul", { class: "notes" }, notes.items.map((n) =>
        h("li", {}, h("div", { class: "muted" }, `${n.author_name} · ${when(n.created_at)}`), h("div", { class: "pre" }, n.text))))
      : h("p", { class: "muted" }, t("records.noNotes")),
  );
  detail.focus();
}

/** Downloads the filtered records: fetched with the bearer token, saved as a file. */
async function exportCsv(ctx, q, form) {
  q.set("format", "csv");
  const token = await ctx.api.token();
  let resp;
  try {
    resp = await fetch("/api/v1/records/export?" + q, { headers: { authorization: "Bearer " + token }, cache: "no-store" });
  } catch {
    throw new ApiError(0, null);
  }
  if (!resp.ok) {
    const body = await resp.json().catch(() => null);
    const err = new ApiError(resp.status, body, Number(resp.headers.get("retry-after")) || undefined);
    if (Object.keys(err.fields).length) {
      formErrors(form, err);
      return;
    }
    throw err;
  }
  const blob = await resp.blob();
  const named = /filename="([^"]+)"/.exec(resp.headers.get("content-disposition") || "");
  const a = h("a", { download: named ? named[1] : "kefu-records.csv", hidden: true });
  a.href = URL.createObjectURL(blob);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  toast(t("records.exported"));
}
