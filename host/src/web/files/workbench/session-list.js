// <kefu-session-list>: the agent's sessions, live. Offers first with their countdown
// and accept / decline, then ongoing sessions (unread count, last message, how long
// the user has waited), then the recently ended ones. Each row is a button that opens
// the conversation.

import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { clock, duration, endText } from "./format.js";

class SessionList extends HTMLElement {
  connect(desk, actions) {
    this.desk = desk;
    this.actions = actions;
    this.setAttribute("aria-labelledby", "list-title");
    this.head = h("div", { class: "list-head" }, h("h2", { id: "list-title" }), h("span", { class: "muted queued" }));
    this.body = h("ul", { class: "sessions", role: "list" });
    this.empty = h("p", { class: "muted empty" });
    fill(this, this.head, this.body, this.empty);
    // Many changes may come in one burst (a reconnection's missed events): the list
    // is drawn once per frame at most.
    this.pending = false;
    desk.addEventListener("change", (e) => {
      if (!["list", "open", "queues", "lang"].includes(e.detail.what) || this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.render();
      });
    });
    // Countdowns and waiting times move on their own.
    setInterval(() => this.tick(), 1000);
    this.render();
  }

  render() {
    const d = this.desk;
    this.head.firstChild.textContent = t("list.title");
    this.head.lastChild.textContent = d.queued ? t("list.queued", { n: d.queued }) : "";
    const rows = d.ordered().map((e) => this.row(e));
    fill(this.body, rows);
    this.empty.textContent = rows.length ? "" : t("list.empty");
    this.tick();
  }

  row(e) {
    const s = e.session;
    const open = this.desk.openId === s.id;
    const name = s.user_nickname || s.user_id;
    const last = e.last_message ? e.last_message.text.split("\n")[0] : "";
    const li = h("li", { class: "session", dataset: { id: s.id, kind: e.kind } });
    const main = h(
      "button",
      {
        type: "button",
        class: "session-open",
        "aria-current": open ? "true" : null,
        "aria-label": `${name}, ${t("kind." + e.kind)}${e.unread ? ", " + t("list.unread", { n: e.unread }) : ""}`,
        onclick: () => this.actions.open(s.id),
      },
      h(
        "span",
        { class: "session-top" },
        h("span", { class: "session-name" }, name),
        e.unread && e.kind === "active" ? h("span", { class: "badge", "aria-hidden": "true" }, String(e.unread)) : null,
        h("span", { class: "session-time muted" }, clock(e.last_message ? e.last_message.at : s.updated_at)),
      ),
      h("span", { class: "session-last muted" }, last),
      h("span", { class: "session-meta" }, this.meta(e)),
    );
    li.append(main);
    if (e.kind === "offer") {
      li.append(
        h(
          "span",
          { class: "offer-actions" },
          h("button", { type: "button", class: "primary accept", onclick: () => this.actions.accept(s.id) }, t("offer.accept")),
          h("button", { type: "button", class: "decline", onclick: () => this.actions.decline(s.id) }, t("offer.decline")),
        ),
      );
    }
    return li;
  }

  meta(e) {
    if (e.kind === "offer") return h("span", { class: "countdown", role: "timer", dataset: { deadline: e.offerDeadline ?? "" } });
    if (e.kind === "ended") {
      const s = e.session;
      return h("span", { class: "muted" }, t("kind.ended") + " · " + (s.end_status != null ? endText(s.end_status) : t("session." + s.status)));
    }
    if (e.waiting_since) return h("span", { class: "waiting", dataset: { since: Date.parse(e.waiting_since) - this.desk.skew } });
    return h("span", { class: "muted" }, t("list.answered"));
  }

  tick() {
    const now = Date.now();
    for (const el of this.querySelectorAll(".countdown")) {
      const left = Number(el.dataset.deadline) - now;
      el.textContent = el.dataset.deadline ? t("offer.countdown", { n: Math.max(0, Math.ceil(left / 1000)) }) : t("offer.waiting");
    }
    for (const el of this.querySelectorAll(".waiting")) {
      const waited = now - Number(el.dataset.since);
      el.textContent = t("list.waiting", { d: duration(waited) });
      el.classList.toggle("long", waited > 60_000);
    }
  }
}

customElements.define("kefu-session-list", SessionList);
