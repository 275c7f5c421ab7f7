// <kefu-user-panel>: who the user of the open session is — id, nickname, channel —
// what the flow collected (the session's variables), and the user's earlier sessions,
// each of which opens read-only.

import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { clock, endText } from "./format.js";

class UserPanel extends HTMLElement {
  connect(desk, actions) {
    this.desk = desk;
    this.actions = actions;
    this.setAttribute("aria-labelledby", "panel-title");
    this.sid = null;
    desk.addEventListener("change", (e) => {
      if (e.detail.what === "open") this.show(e.detail.id);
      else if (e.detail.what === "lang" && this.sid) this.show(this.sid);
    });
    this.show(null);
  }

  async show(id) {
    this.sid = id;
    const e = id ? this.desk.sessions.get(id) : null;
    if (!e) {
      fill(this, h("h2", { id: "panel-title", class: "visually-hidden" }, t("panel.title")));
      return;
    }
    const s = e.session;
    const vars = Object.entries(s.variables || {});
    this.history = h("ul", { class: "history", "aria-busy": "true" });
    fill(
      this,
      h("div", { class: "panel-head" }, h("h2", { id: "panel-title" }, t("panel.title")), h("button", { type: "button", class: "panel-close", onclick: () => this.actions.panel(false) }, t("panel.close"))),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("panel.nickname")),
        h("dd", {}, s.user_nickname || "—"),
        h("dt", {}, t("panel.userId")),
        h("dd", { class: "user-id" }, s.user_id),
        h("dt", {}, t("panel.channel")),
        h("dd", {}, `${t("source." + s.source)} · ${s.variables?.ClientAppName ?? s.channel_id}`),
        h("dt", {}, t("panel.started")),
        h("dd", {}, clock(s.created_at)),
      ),
      h("h3", {}, t("panel.variables")),
      vars.length
        ? h(
            "dl",
            { class: "facts vars" },
            vars.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "string" ? v : JSON.stringify(v))]),
          )
        : h("p", { class: "muted" }, t("panel.noVariables")),
      h("h3", {}, t("panel.history")),
      this.history,
    );
    try {
      const page = await this.desk.api.get(`/agent/sessions/${id}/history?page_size=20`);
      if (this.sid !== id) return;
      fill(
        this.history,
        page.items.length
          ? page.items.map((p) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "link", onclick: () => this.actions.history(p) },
                  `${clock(p.created_at)} · ${p.end_status != null ? endText(p.end_status) : t("session." + p.status)}`,
                ),
              ),
            )
          : h("li", { class: "muted" }, t("panel.noHistory")),
      );
    } catch (err) {
      this.actions.problem(err);
    } finally {
      this.history.removeAttribute("aria-busy");
    }
  }
}

customElements.define("kefu-user-panel", UserPanel);
