// The composer of the open session: replies to the user or internal notes. Enter
// sends, Shift+Enter breaks the line; the length bound is shown; a reply carries a
// client_id, so that sending it again after a failure can never store it twice; each
// reply shows whether it is on its way or failed (with a retry). `/` followed by a
// shortcut, or the quick-reply button, opens the quick replies with their variables
// filled in from the session.

import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { MAX_TEXT } from "./desk.js";
import { fillVariables } from "./format.js";

export class Composer {
  constructor(desk, actions) {
    this.desk = desk;
    this.actions = actions;
    this.entry = null;
    this.mode = "reply";
    this.replies = [];
    this.active = 0;
    this.pending = h("ol", { class: "pending", "aria-live": "polite" });
    this.reason = h("p", { class: "muted composer-reason" });
    this.replyTab = h("button", { type: "button", class: "tab", "aria-pressed": "true", onclick: () => this.setMode("reply") });
    this.noteTab = h("button", { type: "button", class: "tab", id: "note-mode", "aria-pressed": "false", onclick: () => this.setMode("note") });
    this.label = h("label", { for: "composer-text", class: "visually-hidden" });
    this.text = h("textarea", { id: "composer-text", rows: "2", maxlength: String(MAX_TEXT + 200), "aria-describedby": "composer-count" });
    this.count = h("span", { id: "composer-count", class: "muted count" });
    this.picker = h("ul", { class: "picker", role: "listbox", id: "quick-picker", hidden: true });
    this.quick = h("button", { type: "button", id: "quick-open", "aria-haspopup": "listbox", "aria-controls": "quick-picker", onclick: () => this.openPicker("") });
    this.sendBtn = h("button", { type: "button", class: "primary", id: "send", onclick: () => this.submit() });
    this.form = h(
      "div",
      { class: "composer-box" },
      h("div", { class: "tabs", role: "group" }, this.replyTab, this.noteTab),
      this.picker,
      this.label,
      this.text,
      h("div", { class: "composer-row" }, this.quick, this.count, this.sendBtn),
    );
    this.el = h("div", { class: "composer" }, this.pending, this.reason, this.form);
    this.text.addEventListener("keydown", (e) => this.key(e));
    this.text.addEventListener("input", () => this.typed());
    this.bind(null);
  }

  /** Follows the open session: writable only while it is ongoing. */
  bind(entry, reason = "") {
    const changed = !entry || !this.entry || entry.session.id !== this.entry.session.id;
    this.entry = entry;
    this.form.hidden = !entry;
    this.reason.textContent = entry ? "" : reason;
    if (changed) {
      fill(this.pending);
      this.text.value = "";
      this.closePicker();
    }
    this.labels();
  }

  labels() {
    const note = this.mode === "note";
    this.replyTab.textContent = t("composer.reply");
    this.noteTab.textContent = t("composer.note");
    this.label.textContent = t(note ? "composer.noteLabel" : "composer.label");
    this.text.placeholder = t(note ? "composer.notePlaceholder" : "composer.placeholder");
    this.quick.textContent = t("quick.open");
    this.sendBtn.textContent = t(note ? "composer.addNote" : "composer.send");
    this.form.classList.toggle("note-mode", note);
    this.typed();
  }

  setMode(m) {
    this.mode = m;
    this.replyTab.setAttribute("aria-pressed", String(m === "reply"));
    this.noteTab.setAttribute("aria-pressed", String(m === "note"));
    this.labels();
    this.text.focus();
  }

  focus() {
    if (!this.form.hidden) this.text.focus();
  }

  typed() {
    const n = [...this.text.value].length;
    this.count.textContent = `${n} / ${MAX_TEXT}`;
    this.count.classList.toggle("over", n > MAX_TEXT);
    this.sendBtn.disabled = n > MAX_TEXT || !this.text.value.trim();
    const m = /^\/(\S*)$/.exec(this.text.value);
    if (m && this.mode === "reply") this.openPicker(m[1]);
    else if (!this.picker.hidden && !this.text.value.startsWith("/")) this.closePicker();
  }

  key(e) {
    if (!this.picker.hidden) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        this.move(e.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
        if (this.shownReplies.length) {
          e.preventDefault();
          this.insert(this.shownReplies[this.active]);
          return;
        }
      }
      if (e.key === "Escape") {
        e.preventDefault();
        this.closePicker();
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    }
  }

  async openPicker(query) {
    if (!this.replies.length || query === "") {
      try {
        this.replies = (await this.desk.api.get("/quick-replies")).items;
      } catch (err) {
        this.actions.problem(err);
      }
    }
    const q = query.toLowerCase();
    // An agent's own shortcut hides a shared one of the same name.
    const mine = new Set(this.replies.filter((r) => r.scope === "personal").map((r) => r.shortcut));
    this.shownReplies = this.replies
      .filter((r) => r.scope === "personal" || !mine.has(r.shortcut))
      .filter((r) => !q || r.shortcut.toLowerCase().startsWith(q) || r.text.toLowerCase().includes(q));
    this.active = 0;
    this.renderPicker();
  }

  renderPicker() {
    const items = this.shownReplies.map((r, i) =>
      h(
        "li",
        {
          role: "option",
          id: `quick-${r.id}`,
          "aria-selected": String(i === this.active),
          dataset: { shortcut: r.shortcut },
          onmousedown: (e) => {
            e.preventDefault();
            this.insert(r);
          },
        },
        h("span", { class: "quick-key" }, "/" + r.shortcut),
        h("span", { class: "quick-scope muted" }, t("quick." + r.scope)),
        h("span", { class: "quick-text" }, r.text),
      ),
    );
    fill(this.picker, items.length ? items : h("li", { class: "muted", role: "presentation" }, t("quick.none")));
    this.picker.hidden = false;
    this.picker.setAttribute("aria-label", t("quick.open"));
    this.text.setAttribute("aria-activedescendant", items.length ? items[this.active].id : "");
    this.text.setAttribute("aria-expanded", "true");
  }

  move(step) {
    const n = this.shownReplies.length;
    if (!n) return;
    this.active = (this.active + step + n) % n;
    this.renderPicker();
  }

  closePicker() {
    this.picker.hidden = true;
    this.shownReplies = [];
    this.text.removeAttribute("aria-activedescendant");
    this.text.setAttribute("aria-expanded", "false");
  }

  insert(r) {
    const filled = fillVariables(r.text, this.entry && this.entry.session, this.desk.me);
    this.text.value = this.text.value.startsWith("/") ? filled : this.text.value + filled;
    this.closePicker();
    this.typed();
    this.text.focus();
  }

  async submit() {
    const text = this.text.value.trim();
    if (!text || !this.entry || [...text].length > MAX_TEXT) return;
    const id = this.entry.session.id;
    this.text.value = "";
    this.typed();
    if (this.mode === "note") {
      try {
        const n = await this.desk.api.post(`/agent/sessions/${id}/notes`, { text });
        this.actions.noted(n);
      } catch (err) {
        this.text.value = text;
        this.typed();
        this.actions.problem(err);
      }
      return;
    }
    this.deliver(id, text, crypto.randomUUID());
  }

  /** Sends one reply, showing its state; a failed one keeps its client_id for a retry. */
  async deliver(id, text, clientId) {
    let item = this.pending.querySelector(`[data-client-id="${clientId}"]`);
    if (!item) {
      item = h("li", { class: "pending-msg", dataset: { clientId } });
      this.pending.append(item);
    }
    fill(item, h("span", { class: "pending-text" }, text), " ", h("span", { class: "muted pending-state" }, t("composer.sending")));
    item.dataset.state = "sending";
    try {
      const m = await this.desk.send(id, text, clientId);
      this.actions.sent(id, m);
      item.remove();
    } catch (err) {
      item.dataset.state = "failed";
      const retry = err.code !== "session_not_active" && err.code !== "validation_failed";
      fill(
        item,
        h("span", { class: "pending-text" }, text),
        " ",
        h("span", { class: "pending-state error", role: "alert" }, this.actions.errorText(err)),
        retry ? h("button", { type: "button", class: "link retry", onclick: () => this.deliver(id, text, clientId) }, t("composer.retry")) : null,
      );
    }
  }

  /** A message of the session arrived: the pending copy of it, if any, goes. */
  settle(m) {
    if (!m.client_id) return;
    const item = this.pending.querySelector(`[data-client-id="${CSS.escape(m.client_id)}"]`);
    if (item && item.dataset.state === "sending") item.remove();
  }
}
