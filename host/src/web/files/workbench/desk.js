// The workbench's state and everything it does through the API: who the agent is,
// their status, their sessions (offers, ongoing, recently ended) kept live from the
// workbench socket, and the actions on a session. Screens listen to its "change"
// events and read its fields; they never call the API for what lives here.

import { FeedSocket } from "../shared/socket.js";

export const MAX_TEXT = 2000;

export class Desk extends EventTarget {
  constructor(api) {
    super();
    this.api = api;
    this.me = null;
    this.status = null;
    this.restReasons = [];
    /** id → {session, last_message, unread, read_seq, waiting_since, kind, note, offerDeadline} */
    this.sessions = new Map();
    this.openId = null;
    this.conn = "connecting";
    this.queued = 0;
    /** Server time minus local time, learnt from event timestamps. */
    this.skew = 0;
    this.socket = new FeedSocket("/api/v1/agent/ws", () => api.token(), {
      onFrame: (f) => this.frame(f),
      onResync: () => this.reload(),
      // A socket that will not reopen may mean the sign-in ended: asking tells.
      check: () => api.get("/me"),
      onState: (s) => {
        this.conn = s;
        this.emit("conn");
      },
    });
  }

  emit(what, detail) {
    this.dispatchEvent(new CustomEvent("change", { detail: { what, ...detail } }));
  }

  /** Signs the page in: who, what status, then the live feed and the list. */
  async start() {
    const [me, reasons] = await Promise.all([this.api.get("/me"), this.api.get("/agent/rest-reasons")]);
    this.me = me;
    this.restReasons = reasons.items;
    this.emit("me");
    await new Promise((resolve) => {
      this.onReady = resolve;
      this.socket.start();
    });
    await this.reload();
  }

  stop() {
    this.socket.stop();
    this.sessions.clear();
    this.openId = null;
  }

  /** Reads the whole list again (first load, and after a `resync`). */
  async reload() {
    const [inbox, status] = await Promise.all([this.api.get("/agent/inbox"), this.api.get("/agent/status")]);
    this.status = status;
    this.sessions.clear();
    for (const s of inbox.active) this.put(s, s.session.status === "offered" ? "offer" : "active");
    for (const s of inbox.ended) this.put(s, "ended");
    this.emit("status");
    this.emit("list", { loaded: true });
  }

  put(summary, kind) {
    const old = this.sessions.get(summary.session.id) || {};
    const entry = { ...old, ...summary, kind };
    if (kind === "offer") entry.offerDeadline = this.localTime(summary.session.offer_expires_at);
    this.sessions.set(summary.session.id, entry);
    return entry;
  }

  localTime(iso) {
    return iso ? Date.parse(iso) - this.skew : null;
  }

  frame(f) {
    if (f.type === "ready") {
      this.status = f.status;
      this.emit("status");
      if (this.onReady) this.onReady();
      this.onReady = null;
      return;
    }
    if (f.type === "queues") {
      this.queued = (f.items || []).reduce((n, q) => n + (q.waiting || 0), 0);
      this.emit("queues");
      return;
    }
    if (f.type !== "event") return;
    if (f.at) this.skew = 0.8 * this.skew + 0.2 * (Date.parse(f.at) - Date.now());
    const d = f.data || {};
    switch (f.kind) {
      case "status":
        this.status = d;
        this.emit("status");
        break;
      case "offer": {
        const e = this.put(this.fresh(d.session), "offer");
        this.emit("list");
        this.emit("offer", { id: e.session.id });
        break;
      }
      case "assigned": {
        const e = this.put(this.fresh(d.session), "active");
        if (d.note) e.note = d.note;
        if (d.transferred_by) e.transferredBy = d.transferred_by;
        this.emit("list");
        this.emit("assigned", { id: e.session.id });
        break;
      }
      case "offer_withdrawn":
        if (this.sessions.get(d.session_id)?.kind === "offer") this.sessions.delete(d.session_id);
        if (this.openId === d.session_id) this.openId = null;
        this.emit("list");
        this.emit("withdrawn", { id: d.session_id, reason: d.reason });
        break;
      case "message":
        this.message(d.session_id, d.message);
        break;
      case "session_ended": {
        const e = this.sessions.get(d.session_id);
        if (e) {
          e.kind = "ended";
          e.session = { ...e.session, status: d.status, end_status: d.end_status };
        }
        this.emit("list");
        this.emit("ended", { id: d.session_id });
        break;
      }
    }
  }

  fresh(session) {
    const old = this.sessions.get(session.id);
    return old
      ? { ...old, session }
      : { session, last_message: null, unread: 0, read_seq: 0, waiting_since: null };
  }

  message(id, m) {
    const e = this.sessions.get(id);
    if (!e) return;
    if (e.last_message && e.last_message.seq >= m.seq) {
      this.emit("message", { id, message: m, repeat: true });
      return;
    }
    e.last_message = m;
    e.session = { ...e.session, message_count: Math.max(e.session.message_count, m.seq) };
    if (m.sender === "user") {
      if (!e.waiting_since) e.waiting_since = m.at;
      if (m.seq > e.read_seq) e.unread += 1;
    } else if (m.sender === "agent") {
      e.waiting_since = null;
    }
    this.emit("list");
    this.emit("message", { id, message: m });
  }

  /** The list in the order shown: offers, then ongoing (oldest waiting first), then ended. */
  ordered() {
    const all = [...this.sessions.values()];
    const waitKey = (e) => (e.waiting_since ? Date.parse(e.waiting_since) : Infinity);
    const offers = all.filter((e) => e.kind === "offer").sort((a, b) => (a.offerDeadline ?? 0) - (b.offerDeadline ?? 0));
    const active = all.filter((e) => e.kind === "active").sort((a, b) => waitKey(a) - waitKey(b) || cmp(a.session.assigned_at, b.session.assigned_at));
    const ended = all.filter((e) => e.kind === "ended").sort((a, b) => cmp(b.session.updated_at, a.session.updated_at));
    return [...offers, ...active, ...ended];
  }

  /** Offers waiting plus unread user messages: the count in the tab title. */
  attention() {
    let n = 0;
    for (const e of this.sessions.values()) {
      if (e.kind === "offer") n += 1;
      else if (e.kind === "active") n += e.unread;
    }
    return n;
  }

  open(id) {
    this.openId = id;
    this.emit("open", { id });
  }

  /** Marks everything shown of the open session as read. */
  read(id) {
    const e = this.sessions.get(id);
    if (!e || e.kind === "offer") return;
    const seq = e.last_message ? e.last_message.seq : 0;
    if (seq <= e.read_seq && e.unread === 0) return;
    e.read_seq = Math.max(e.read_seq, seq);
    e.unread = 0;
    this.emit("list");
    // One mark a second at most per session: the last one carries everything read.
    e.markDue = seq;
    if (e.markTimer) return;
    e.markTimer = setTimeout(() => {
      e.markTimer = 0;
      this.api.put(`/agent/sessions/${id}/read`, { seq: e.markDue }).catch(() => {});
    }, 1000);
  }

  async setStatus(status, reason) {
    this.status = await this.api.put("/agent/status", reason ? { status, reason } : { status });
    this.emit("status");
  }

  async accept(id) {
    const s = await this.api.post(`/agent/sessions/${id}/accept`);
    this.put(this.fresh(s), "active");
    this.emit("list");
    return s;
  }

  async decline(id) {
    await this.api.post(`/agent/sessions/${id}/decline`);
    this.forget(id);
  }

  /** Takes a session off the list (an offer declined, or gone). */
  forget(id) {
    this.sessions.delete(id);
    if (this.openId === id) this.open(null);
    this.emit("list");
  }

  send(id, text, clientId) {
    return this.api.post(`/agent/sessions/${id}/messages`, {
      elements: [{ type: "text", text }],
      client_id: clientId,
    });
  }

  async transfer(id, target, note) {
    const body = { ...target };
    if (note) body.note = note;
    const r = await this.api.post(`/agent/sessions/${id}/transfer`, body);
    this.ended(id, r.ended);
    return r;
  }

  async end(id) {
    this.ended(id, await this.api.post(`/agent/sessions/${id}/end`));
  }

  async survey(id) {
    this.ended(id, await this.api.post(`/agent/sessions/${id}/survey`));
  }

  ended(id, session) {
    const e = this.sessions.get(id);
    if (e) {
      e.kind = "ended";
      e.session = session;
    }
    this.emit("list");
    this.emit("ended", { id });
  }
}

function cmp(a, b) {
  return (a ? Date.parse(a) : 0) - (b ? Date.parse(b) : 0);
}
