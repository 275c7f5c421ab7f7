// Live monitor: what waits and who does what, now. The live figures come from
// `/stats/live/stream` (server-sent events, read with fetch so that the request
// carries the bearer token; reconnected with a growing pause when it drops), the
// agents' statuses from `/monitor/agents` whenever the figures change, a page of 100 at
// a time, found by name or status. Waiting users are listed longest wait first and long
// waits stand out; every agent shows how long they have been in their status.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { duration, heading, input, pager, select, table } from "./ui.js";

/** A wait this long (seconds) is marked as long. */
const LONG_WAIT = 60;
/** Waiting users shown per skill group. */
const WAITING = 10;
/** Pauses before reconnecting, growing up to the last. */
const RETRY_MS = [1000, 2000, 5000, 10000];
const STATUSES = ["free", "busy", "afterCallWork", "rest", "notReady", "offline"];

export async function render(root, ctx) {
  const conn = h("span", { class: "conn", id: "live-conn", role: "status" }, t("live.connecting"));
  const totals = h("div", { class: "tiles", id: "live-totals" });
  const groups = h("div", { id: "live-groups" });
  const waiting = h("div", { id: "live-waiting" });
  const agents = h("div", { id: "live-agents" });
  const find = input({ type: "search", name: "q", placeholder: t("live.findAgent"), "aria-label": t("live.findAgent") });
  const only = select([["", t("live.anyStatus")], ...STATUSES.map((s) => [s, t("status." + s)])], "", { name: "status", "aria-label": t("live.status") });
  const view = { q: "", status: "", page: 1 };
  const box = h("div", { class: "live" },
    heading(t("nav.live"), conn),
    totals,
    h("h2", { class: "section" }, t("live.groups")), groups,
    h("h2", { class: "section" }, t("live.waiting")), waiting,
    h("h2", { class: "section" }, t("live.agents")),
    h("div", { class: "filters" }, find, only),
    agents,
  );
  root.append(box);

  let figures = null;
  let board = { items: [], total: 0, page: 1, page_size: 100 };
  let skew = 0;
  const abort = new AbortController();

  async function refreshSide() {
    const [b, queues] = await Promise.all([
      fetchBoard(),
      Promise.all(
        (figures ? figures.skill_groups : [])
          .filter((g) => g.queued + g.offered > 0)
          .map((g) => ctx.api.get(`/skill-groups/${g.skill_group_id}/queue?page_size=${WAITING}`)
            .then((q) => q.items.map((i) => ({ ...i, group: g.name })))
            .catch(() => [])),
      ),
    ]);
    board = b;
    drawWaiting(queues.flat());
    drawAgents();
  }

  /** The page of the board `view` asks for; the one shown when the request fails. */
  function fetchBoard() {
    const params = new URLSearchParams({ page: String(view.page) });
    if (view.q) params.set("q", view.q);
    if (view.status) params.set("status", view.status);
    return ctx.api.get("/monitor/agents?" + params).catch(() => board);
  }

  /** Shows another page, or the first one after the filters changed. */
  async function showBoard(page) {
    Object.assign(view, { q: find.value.trim(), status: only.value, page });
    board = await fetchBoard();
    drawAgents();
  }
  let typing = 0;
  find.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => showBoard(1), 250);
  });
  only.addEventListener("change", () => showBoard(1));

  function drawTotals() {
    const o = figures.overall;
    const tile = (key, n, warn) => h("div", { class: "tile" + (warn ? " warn" : ""), dataset: { figure: key } },
      h("div", { class: "tile-value" }, n), h("div", { class: "tile-label" }, t("live." + key)));
    fill(totals,
      tile("queued", String(o.queued), o.queued > 0),
      tile("offered", String(o.offered)),
      tile("longest", o.queued + o.offered ? duration(o.longest_wait_secs) : "—", o.longest_wait_secs >= LONG_WAIT),
      tile("withAgents", String(o.with_agents)),
      tile("inFlows", String(o.in_flows)),
      ...STATUSES.map((s) => tile("agents." + s, String(o.agents[s] ?? 0))));
  }

  function drawGroups() {
    const longest = Math.max(0, ...figures.skill_groups.map((g) => g.longest_wait_secs));
    fill(groups, table(
      [
        [t("live.group"), (g) => h("strong", {}, g.name)],
        [t("live.queued"), (g) => String(g.queued)],
        [t("live.offered"), (g) => String(g.offered)],
        [t("live.longest"), (g) => h("span", {
          class: "wait" + (g.longest_wait_secs && g.longest_wait_secs === longest ? " longest" : "") + (g.longest_wait_secs >= LONG_WAIT ? " long" : ""),
        }, g.queued + g.offered ? duration(g.longest_wait_secs) : "—")],
        [t("live.withAgents"), (g) => String(g.with_agents)],
        [t("live.agentsFree"), (g) => `${g.agents.free} / ${STATUSES.reduce((n, s) => n + (s === "offline" ? 0 : g.agents[s] ?? 0), 0)}`],
      ],
      figures.skill_groups.map((g) => ({ ...g, id: g.skill_group_id })),
      t("live.noGroups"),
    ));
  }

  function drawWaiting(items) {
    const now = Date.now() + skew;
    const rows = items
      .map((i) => ({ ...i, id: i.session.id, since: Date.parse(i.session.queued_at || i.session.created_at) }))
      .sort((a, b) => a.since - b.since);
    fill(waiting, table(
      [
        [t("live.user"), (i) => h("div", {}, h("strong", {}, i.session.user_nickname || i.session.user_id), h("div", { class: "muted mono" }, i.session.user_id))],
        [t("live.group"), (i) => i.group],
        [t("live.state"), (i) => t("session." + i.session.status)],
        [t("live.waited"), (i) => h("span", { class: "wait" + (i === rows[0] ? " longest" : "") + ((now - i.since) / 1000 >= LONG_WAIT ? " long" : "") },
          duration(Math.max(0, (now - i.since) / 1000)))],
      ],
      rows,
      t("live.nobodyWaits"),
    ));
  }

  function drawAgents() {
    const now = Date.now() + skew;
    const order = (a) => STATUSES.indexOf(a.status);
    const rows = [...board.items].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name)).map((a) => ({ ...a, id: a.agent_id }));
    const filtered = view.q || view.status;
    fill(agents, table(
      [
        [t("live.agent"), (a) => h("strong", {}, a.name)],
        [t("live.status"), (a) => h("span", { class: "status" }, h("span", { class: "dot", dataset: { status: a.status } }), " ", t("status." + a.status),
          a.reason ? h("span", { class: "muted" }, ` · ${a.reason === "missed" ? t("live.missed") : a.reason}`) : null)],
        [t("live.inStatus"), (a) => h("span", { class: "since", dataset: { since: a.since } }, duration(Math.max(0, (now - Date.parse(a.since)) / 1000)))],
        [t("live.load"), (a) => `${a.active_sessions} / ${a.max_concurrent_sessions}`],
      ],
      rows,
      filtered ? t("live.noMatch") : t("live.noAgents"),
    ), pager(board, (p) => showBoard(p).catch(() => {})));
  }

  function took(f) {
    // The server's clock, so that times in status do not drift with the browser's.
    skew = Date.parse(f.at) - Date.now();
    figures = f;
    drawTotals();
    drawGroups();
    box.dataset.at = f.at;
    refreshSide().catch(() => {});
  }

  /** Reads the stream until it ends; answers whether it ever delivered. */
  async function stream() {
    const token = await ctx.api.token();
    const resp = await fetch("/api/v1/stats/live/stream", {
      headers: { authorization: "Bearer " + token, accept: "text/event-stream" },
      cache: "no-store",
      signal: abort.signal,
    });
    if (resp.status === 401) {
      // An expired token is renewed by an ordinary call (or the sign-in ends).
      await ctx.api.get("/me");
      return false;
    }
    if (!resp.ok || !resp.body) return false;
    conn.textContent = t("live.live");
    conn.dataset.state = "live";
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let got = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return got;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        if (!data || !/^event: ?live$/m.test(block)) continue;
        got = true;
        took(JSON.parse(data));
      }
    }
  }

  (async () => {
    // Shown at once, before the stream's first event.
    took(await ctx.api.get("/stats/live"));
    let failures = 0;
    while (box.isConnected && !abort.signal.aborted) {
      let delivered = false;
      try {
        delivered = await stream();
      } catch {
        delivered = false;
      }
      if (!box.isConnected || abort.signal.aborted) break;
      failures = delivered ? 0 : failures + 1;
      conn.textContent = t("live.reconnecting");
      conn.dataset.state = "reconnecting";
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]));
    }
  })().catch(() => {});

  // Ticks the times and stops everything once the page is left.
  const tick = setInterval(() => {
    if (!box.isConnected) {
      clearInterval(tick);
      abort.abort();
      return;
    }
    const now = Date.now() + skew;
    for (const el of agents.querySelectorAll(".since")) el.textContent = duration(Math.max(0, (now - Date.parse(el.dataset.since)) / 1000));
  }, 1000);
}
