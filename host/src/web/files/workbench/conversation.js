// <kefu-conversation>: the open session. Its header carries what can be done with it
// (accept / decline an offer; transfer, survey, end an ongoing session); the
// transcript shows every message with who said it and when, and the internal notes
// (marked, never sent), and pages back through the session and the legs before a
// transfer as the agent scrolls up; the composer writes replies and notes.

import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { Composer } from "./composer.js";
import { clock, element, senderText } from "./format.js";

const PAGE = 30;

class Conversation extends HTMLElement {
  connect(desk, actions) {
    this.desk = desk;
    this.actions = actions;
    this.sid = null;
    this.setAttribute("aria-label", t("conversation.label"));
    this.header = h("div", { class: "conv-head" });
    this.log = h("div", { class: "transcript", role: "log", "aria-live": "polite", tabindex: "0" });
    this.older = h("button", { type: "button", class: "link older", onclick: () => this.loadOlder() });
    this.composer = new Composer(desk, actions);
    this.placeholder = h("p", { class: "muted empty" });
    fill(this, this.placeholder, this.header, this.older, this.log, this.composer.el);
    this.log.addEventListener("scroll", () => {
      if (this.log.scrollTop < 40) this.loadOlder();
    });
    desk.addEventListener("change", (e) => this.changed(e.detail));
    this.show(null);
  }

  changed(d) {
    if (d.what === "open") this.show(d.id);
    else if (d.what === "message" && d.id === this.sid && !d.repeat) this.addMessage(d.message);
    else if (["list", "ended", "lang"].includes(d.what) && this.sid) this.renderHead();
    if (d.what === "withdrawn" && d.id === this.sid) this.show(null);
  }

  /** Opens a session: its newest page of messages and its notes. */
  async show(id) {
    this.sid = id;
    this.seen = new Set();
    this.legs = [];
    this.cursor = null;
    this.loading = false;
    fill(this.log);
    this.placeholder.textContent = t("conversation.none");
    this.placeholder.hidden = !!id;
    this.header.hidden = this.older.hidden = this.log.hidden = !id;
    this.composer.bind(null);
    if (!id) return;
    const e = this.desk.sessions.get(id);
    this.renderHead();
    if (e && e.note) this.log.append(this.noteItem({ mark: t("note.transfer"), author_name: "", text: e.note, created_at: e.session.assigned_at }));
    this.legs = [{ id, offset: 0, done: false }];
    await this.loadOlder();
    if (this.sid !== id) return;
    this.loadNotes(id);
    this.log.scrollTop = this.log.scrollHeight;
    this.desk.read(id);
  }

  renderHead() {
    const e = this.desk.sessions.get(this.sid);
    if (!e) return;
    const s = e.session;
    const kind = e.kind;
    const buttons = [];
    if (kind === "offer") {
      buttons.push(h("button", { type: "button", class: "primary", onclick: () => this.actions.accept(s.id) }, t("offer.accept")));
      buttons.push(h("button", { type: "button", onclick: () => this.actions.decline(s.id) }, t("offer.decline")));
    } else if (kind === "active") {
      buttons.push(h("button", { type: "button", id: "transfer", onclick: () => this.actions.transfer(s.id) }, t("action.transfer")));
      buttons.push(h("button", { type: "button", id: "survey", onclick: () => this.actions.survey(s.id) }, t("action.survey")));
      buttons.push(h("button", { type: "button", id: "end", class: "danger", onclick: () => this.actions.end(s.id) }, t("action.end")));
    }
    fill(
      this.header,
      h(
        "div",
        { class: "conv-title" },
        h("h2", {}, s.user_nickname || s.user_id),
        h("span", { class: "muted" }, t("kind." + kind)),
      ),
      h("div", { class: "conv-actions" }, buttons, h("button", { type: "button", class: "panel-toggle", onclick: () => this.actions.panel() }, t("panel.open"))),
    );
    this.composer.bind(kind === "active" ? e : null, kind === "ended" ? t("composer.ended") : kind === "offer" ? t("composer.offer") : "");
  }

  /** The next older page: of this leg, then of the legs before it, until a page shows something. */
  async loadOlder() {
    if (this.loading || !this.sid) return;
    this.loading = true;
    try {
      while (this.legs.some((l) => !l.done) && !(await this.loadPage())) {
        // A leg with nothing more to show: go on to the one before it.
      }
    } catch (err) {
      this.actions.problem(err);
    } finally {
      this.loading = false;
    }
    this.older.textContent = t("conversation.older");
    this.older.hidden = this.legs.every((l) => l.done);
  }

  /** One page of the oldest leg not read to its start; answers whether it showed anything. */
  async loadPage() {
    const leg = this.legs.find((l) => !l.done);
    const id = this.sid;
    const page = await this.desk.api.get(`/agent/sessions/${leg.id}/messages?Limit=${PAGE}&Offset=${leg.offset}&Order=desc`);
    if (this.sid !== id) return true;
    const firstOfLeg = leg.offset === 0;
    leg.offset += page.length;
    if (page.length < PAGE) {
      leg.done = true;
      await this.nextLeg(leg.id);
    }
    const before = this.log.scrollHeight - this.log.scrollTop;
    const items = page.filter((m) => !this.seen.has(m.id)).reverse();
    items.forEach((m) => this.seen.add(m.id));
    if (leg !== this.legs[0] && firstOfLeg && items.length) this.log.prepend(this.legMark());
    this.log.prepend(...items.map((m) => this.item(m)));
    this.log.scrollTop = this.log.scrollHeight - before;
    return items.length > 0;
  }

  async nextLeg(id) {
    const s = id === this.sid ? this.desk.sessions.get(id)?.session : null;
    let parent = s ? s.parent_id : null;
    if (!s) {
      try {
        parent = (await this.desk.api.get(`/agent/sessions/${id}`)).parent_id;
      } catch {
        parent = null;
      }
    }
    if (parent && this.legs.length < 20) this.legs.push({ id: parent, offset: 0, done: false });
  }

  async loadNotes(id) {
    try {
      const notes = await this.desk.api.get(`/agent/sessions/${id}/notes`);
      if (this.sid !== id) return;
      for (const n of notes.items) this.placeNote(n);
    } catch (err) {
      this.actions.problem(err);
    }
  }

  /** A note goes where its time falls among the messages shown. */
  placeNote(n) {
    if (this.seen.has(n.id)) return;
    this.seen.add(n.id);
    const item = this.noteItem(n);
    const at = Date.parse(n.created_at);
    const after = [...this.log.children].find((c) => Number(c.dataset.at) > at);
    this.log.insertBefore(item, after || null);
  }

  addMessage(m) {
    if (this.seen.has(m.id)) return;
    this.seen.add(m.id);
    const stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    this.log.append(this.item(m));
    this.composer.settle(m);
    if (stick || m.sender === "agent") this.log.scrollTop = this.log.scrollHeight;
    if (document.visibilityState === "visible") this.desk.read(this.sid);
  }

  item(m) {
    return h(
      "article",
      { class: "msg", dataset: { sender: m.sender, at: Date.parse(m.at), seq: m.seq, id: m.id } },
      h("header", { class: "msg-head muted" }, h("span", { class: "msg-who" }, senderText(m)), " ", h("time", { datetime: m.at }, clock(m.at))),
      h("div", { class: "bubble" }, m.elements.map(element)),
    );
  }

  noteItem(n) {
    return h(
      "article",
      { class: "msg note", dataset: { at: Date.parse(n.created_at || 0), id: n.id || "" } },
      h("header", { class: "msg-head muted" }, h("span", { class: "note-mark" }, n.mark || t("note.mark")), " ", n.author_name, " ", h("time", { datetime: n.created_at }, clock(n.created_at))),
      h("div", { class: "bubble" }, h("p", { class: "el-text" }, n.text)),
    );
  }

  legMark() {
    return h("div", { class: "leg-mark muted", role: "separator" }, t("conversation.earlierLeg"));
  }

  note(n) {
    if (n.session_id === this.sid) this.placeNote(n);
  }
}

customElements.define("kefu-conversation", Conversation);
