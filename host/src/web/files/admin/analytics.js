// Analytics: the session and agent figures of a range of local days (today, 7 or 30
// days, or chosen dates), for a channel and a skill group. Charts are plain SVG drawn
// here (no chart library: the console stays light) — volume per hour or day, queue
// wait, first response, the satisfaction scores, how much the bot handled alone —
// and every figure is also in a table, named as TCCC names it.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { all, allGroups } from "./data.js";
import { duration, formErrors, heading, input, run, select, table } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
/** The session figures of the totals table, in TCCC's order: [field, kind]. */
const FIGURES = [
  ["incoming", "n"], ["transferred_to_agent", "n"], ["accepted", "n"], ["acceptance_rate", "%"],
  ["agent_transfers", "n"], ["average_queue_wait_secs", "s"], ["p90_queue_wait_secs", "s"],
  ["average_accept_secs", "s"], ["average_handling_secs", "s"], ["average_first_response_secs", "s"],
  ["average_response_secs", "s"], ["abandoned_in_flow", "n"], ["abandoned_in_queue", "n"], ["user_timeouts", "n"],
  ["bot_contained", "n"], ["bot_contained_share", "%"], ["satisfaction_invitations", "n"], ["ratings", "n"], ["csat", "%"],
];

function shown(v, kind) {
  if (v === null || v === undefined) return "—";
  if (kind === "%") return `${(v * 100).toFixed(1)} %`;
  if (kind === "s") return duration(v);
  return String(v);
}

/** Today in the tenant's time zone (the browser's until a report names it), YYYY-MM-DD. */
function today(tz) {
  const d = new Date();
  if (!tz) return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

/** `date` (YYYY-MM-DD) moved by `days`. */
function shift(date, days) {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c) el.append(c);
  return el;
}

/**
 * A bar chart: `series` are `{key, values}` drawn side by side per label, each with
 * its value as the bar's tooltip; `fmt` writes a value.
 */
function bars(id, title, labels, series, fmt) {
  const W = 640, H = 200, L = 44, B = 22, T = 8;
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v || 0)));
  const slot = (W - L) / Math.max(1, labels.length);
  const bw = Math.max(1, (slot * 0.8) / series.length);
  const y = (v) => T + (H - B - T) * (1 - v / max);
  const every = Math.ceil(labels.length / 12);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": id + "-title", id },
    svg("title", { id: id + "-title" }, document.createTextNode(title)),
    svg("line", { x1: L, x2: W, y1: H - B, y2: H - B, class: "axis" }),
    svg("text", { x: L - 4, y: T + 8, class: "tick", "text-anchor": "end" }, document.createTextNode(fmt(max))),
    svg("text", { x: L - 4, y: H - B, class: "tick", "text-anchor": "end" }, document.createTextNode("0")),
    labels.map((label, i) => [
      ...series.map((s, j) => {
        const v = s.values[i] || 0;
        return svg("rect", { x: L + i * slot + slot * 0.1 + j * bw, y: y(v), width: bw, height: H - B - y(v), class: "bar s" + j },
          svg("title", {}, document.createTextNode(`${label} · ${t("analytics.series." + s.key)}: ${fmt(s.values[i])}`)));
      }),
      i % every ? null : svg("text", { x: L + i * slot + slot / 2, y: H - 6, class: "tick", "text-anchor": "middle" }, document.createTextNode(label)),
    ]),
  );
  const legend = h("div", { class: "legend" }, series.map((s, j) => h("span", {}, h("span", { class: "swatch s" + j }), t("analytics.series." + s.key))));
  return h("figure", { class: "card chart-card" }, h("figcaption", {}, title), chart, series.length > 1 ? legend : null);
}

/** A single bar split into shares: `parts` are `[key, n]`. */
function shares(id, title, parts) {
  const total = parts.reduce((n, [, v]) => n + v, 0);
  let x = 0;
  const chart = svg("svg", { viewBox: "0 0 640 40", class: "chart shares", role: "img", "aria-labelledby": id + "-title", id },
    svg("title", { id: id + "-title" }, document.createTextNode(title)),
    parts.map(([key, v], j) => {
      const w = total ? (640 * v) / total : 0;
      const r = svg("rect", { x, y: 4, width: w, height: 32, class: "bar s" + j },
        svg("title", {}, document.createTextNode(`${t("analytics.series." + key)}: ${v}`)));
      x += w;
      return r;
    }));
  return h("figure", { class: "card chart-card" }, h("figcaption", {}, title), chart,
    h("div", { class: "legend" }, parts.map(([key, v], j) => h("span", {}, h("span", { class: "swatch s" + j }),
      `${t("analytics.series." + key)}: ${v}${total ? ` (${((v * 100) / total).toFixed(0)} %)` : ""}`))));
}

export async function render(root, ctx) {
  const [groups, channels] = await Promise.all([allGroups(ctx.api), all(ctx.api, "/channels")]);
  const form = h("form", { class: "filters", novalidate: true });
  const slot = (name, label, control) => {
    control.name = name;
    control.id = "af-" + name;
    return h("div", { class: "filter" }, h("label", { for: control.id }, label), control, h("div", { class: "error", "data-error-for": name }));
  };
  const range = select([["today", t("analytics.today")], ["7", t("analytics.days7")], ["30", t("analytics.days30")], ["custom", t("analytics.custom")]], "today");
  const from = input({ type: "date" });
  const to = input({ type: "date" });
  form.append(
    slot("range", t("analytics.range"), range),
    slot("from", t("records.from"), from),
    slot("to", t("records.to"), to),
    slot("channel_id", t("records.channel"), select([["", t("records.anyChannel")], ...channels.map((c) => [c.id, c.name])], "")),
    slot("skill_group_id", t("records.group"), select([["", t("records.anyGroup")], ...groups.map((g) => [g.id, g.name])], "")),
    h("div", { class: "error", role: "alert", "data-error-for": "form" }),
  );
  const out = h("div", { id: "analytics-out", "aria-live": "polite" });

  // Days are the tenant's: its time zone is known from the first report.
  let tz = null;

  function preset() {
    if (range.value === "custom") return;
    const end = today(tz);
    to.value = end;
    from.value = range.value === "today" ? end : shift(end, 1 - Number(range.value));
  }

  async function load() {
    const days = (Date.parse(to.value) - Date.parse(from.value)) / 86_400_000 + 1;
    const q = new URLSearchParams({ from: from.value, to: to.value, interval: days <= 2 ? "hour" : "day" });
    for (const name of ["channel_id", "skill_group_id"]) {
      const v = form.elements.namedItem(name).value;
      if (v) q.set(name, v);
    }
    let sessions, agents;
    try {
      [sessions, agents] = await Promise.all([
        ctx.api.get("/stats/sessions?" + q),
        ctx.api.get(`/stats/agents?from=${from.value}&to=${to.value}`),
      ]);
    } catch (err) {
      formErrors(form, err);
      return;
    }
    formErrors(form, null);
    if (!tz) {
      tz = sessions.time_zone;
      const asked = to.value;
      preset();
      if (to.value !== asked) return load();
    }
    draw(out, sessions, agents);
  }

  range.addEventListener("change", preset);
  for (const el of [from, to]) el.addEventListener("input", () => (range.value = "custom"));
  form.addEventListener("change", () => run(load));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(load);
  });
  preset();
  root.append(heading(t("nav.analytics")), form, out);
  await load();
}

function draw(out, report, agents) {
  const hourly = report.interval === "hour";
  const label = (b) => (hourly ? b.start.slice(11, 13) + ":00" : b.start.slice(5, 10));
  const labels = report.buckets.map(label);
  const series = (key) => report.buckets.map((b) => b[key]);
  const tot = report.total;
  const secs = (v) => (v === null || v === undefined ? "—" : duration(v));
  fill(
    out,
    h("p", { class: "muted" }, t("analytics.scope", { from: report.from, to: report.to, tz: report.time_zone })),
    h("div", { class: "tiles" },
      [["incoming", "n"], ["accepted", "n"], ["acceptance_rate", "%"], ["average_queue_wait_secs", "s"], ["average_first_response_secs", "s"], ["csat", "%"]]
        .map(([k, kind]) => h("div", { class: "tile", dataset: { figure: k } }, h("div", { class: "tile-value" }, shown(tot[k], kind)), h("div", { class: "tile-label" }, t("figure." + k))))),
    h("div", { class: "charts" },
      bars("chart-volume", t(hourly ? "analytics.volumeHour" : "analytics.volumeDay"), labels,
        [{ key: "incoming", values: series("incoming") }, { key: "accepted", values: series("accepted") }], (v) => String(v ?? 0)),
      bars("chart-wait", t("figure.average_queue_wait_secs"), labels, [{ key: "wait", values: series("average_queue_wait_secs") }], secs),
      bars("chart-first", t("figure.average_first_response_secs"), labels, [{ key: "first", values: series("average_first_response_secs") }], secs),
      bars("chart-csat", t("analytics.csatChart"), ["1", "2", "3", "4", "5"].map((n) => t("records.stars", { n })),
        [{ key: "ratings", values: ["1", "2", "3", "4", "5"].map((n) => tot.ratings_by_score[n] || 0) }], (v) => String(v ?? 0)),
      shares("chart-bot", t("analytics.botChart"), [
        ["bot", tot.bot_contained],
        ["human", tot.transferred_to_agent],
        ["other", Math.max(0, tot.incoming - tot.bot_contained - tot.transferred_to_agent)],
      ]),
    ),
    h("h2", { class: "section" }, t("analytics.figures")),
    h("div", { id: "analytics-figures" }, table(
      [[t("analytics.figure"), (r) => t("figure." + r.key)], [t("analytics.value"), (r) => shown(tot[r.key], r.kind)]],
      FIGURES.map(([key, kind]) => ({ id: key, key, kind })),
    )),
    h("details", { class: "buckets" }, h("summary", {}, t(hourly ? "analytics.perHour" : "analytics.perDay")),
      table(
        [
          [t("analytics.when"), (b) => (hourly ? b.start.slice(0, 16).replace("T", " ") : b.start.slice(0, 10))],
          ...["incoming", "transferred_to_agent", "accepted", "average_queue_wait_secs", "average_first_response_secs", "ratings", "csat", "bot_contained"]
            .map((k) => [t("figure." + k), (b) => shown(b[k], FIGURES.find(([f]) => f === k)[1])]),
        ],
        report.buckets.filter((b) => b.incoming || b.accepted),
        t("analytics.quiet"),
      )),
    h("h2", { class: "section" }, t("analytics.agents")),
    h("div", { id: "analytics-agents" }, table(
      [
        [t("live.agent"), (a) => h("div", {}, h("strong", {}, a.nickname || a.name), a.staff_no ? h("div", { class: "muted" }, a.staff_no) : null)],
        [t("agentFigure.served"), (a) => String(a.sessions_served)],
        [t("agentFigure.messages"), (a) => String(a.messages_sent)],
        [t("figure.average_first_response_secs"), (a) => secs(a.average_first_response_secs)],
        [t("agentFigure.fast"), (a) => shown(a.first_responses_within_30s_share, "%")],
        [t("figure.average_response_secs"), (a) => secs(a.average_response_secs)],
        [t("figure.average_handling_secs"), (a) => secs(a.average_handling_secs)],
        [t("agentFigure.score"), (a) => (a.average_score ?? "—") + (a.ratings ? ` (${a.ratings})` : "")],
        [t("agentFigure.free"), (a) => duration(a.status_seconds.free || 0)],
        [t("agentFigure.busy"), (a) => duration((a.status_seconds.busy || 0) + (a.status_seconds.afterCallWork || 0))],
        [t("agentFigure.rest"), (a) => duration((a.status_seconds.rest || 0) + (a.status_seconds.notReady || 0))],
      ],
      agents.items.map((a) => ({ ...a, id: a.agent_id })),
      t("analytics.noAgents"),
    )),
  );
}
