// "Try it": a chat with the draft (or the revision on the canvas) inside the editor.
// Each turn goes to POST /flows/{id}/try, which runs the flow's steps with the
// installed modules but opens no session: the flow's state comes back with the
// answer and is sent with the next message. Each step shows its node, module, exit
// and actions; the node it stopped on is marked on the canvas.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { errorText } from "./ui.js";
import { actionText } from "./modules.js";

export function tryPanel(ed, box) {
  let state = null;
  const log = h("ol", { class: "try-log", id: "try-log", "aria-live": "polite" });
  const text = h("input", { id: "try-text", placeholder: t("flows.tryPlaceholder"), "aria-label": t("flows.tryPlaceholder"), maxlength: 2000 });
  const form = h("form", { class: "try-form", id: "try-form" }, text, h("button", { type: "submit", class: "primary" }, t("flows.trySend")));
  const what = h("p", { class: "muted", id: "try-what" });

  const describe = () => (what.textContent = ed.readOnly ? t("flows.tryRevision", { n: ed.readOnly.number }) : t("flows.tryDraft"));

  async function turn(input) {
    describe();
    if (input.type === "user_message") log.append(h("li", { class: "try-user" }, input.text));
    try {
      if (!ed.readOnly && JSON.stringify(ed.graph) !== ed.saved) await ed.save();
      const answer = await ed.ctx.api.post(`/flows/${ed.flow.id}/try`, {
        revision: ed.readOnly ? ed.readOnly.number : null,
        state,
        input,
      });
      state = answer.state;
      for (const s of answer.steps) log.append(stepItem(s));
      log.append(h("li", { class: "try-outcome", dataset: { outcome: answer.outcome.type } }, outcomeText(answer.outcome)));
      mark(ed, answer.outcome.type === "ended" ? null : answer.node);
    } catch (err) {
      log.append(h("li", { class: "error" }, errorText(err)));
      for (const p of (err.fields && Object.entries(err.fields)) || []) log.append(h("li", { class: "error" }, `${p[0]}: ${p[1]}`));
    }
    log.lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = text.value.trim();
    if (!v) return;
    text.value = "";
    turn({ type: "user_message", text: v });
  });
  const restart = h("button", { type: "button", id: "try-restart", onclick: () => {
    state = null;
    log.replaceChildren();
    turn({ type: "entered" });
  } }, t("flows.tryRestart"));
  fill(box, h("div", { class: "page-head" }, h("h2", {}, t("flows.try")), restart), h("p", { class: "hint" }, t("flows.tryExplain")), what, log, form);
  turn({ type: "entered" });
}

function stepItem(s) {
  return h("li", { class: "try-step", dataset: { node: s.node } },
    h("div", { class: "try-step-head" }, h("strong", {}, s.node), " ", h("span", { class: "muted" }, `${s.module} ${s.version}`),
      s.exit ? h("span", { class: "try-exit" }, " → " + s.exit) : null,
      s.waits ? h("span", { class: "muted" }, " · " + t("flows.tryWaits")) : null),
    s.failure ? h("div", { class: "error" }, t("flows.tryFailed", { kind: s.failure.kind, message: s.failure.message })) : null,
    s.actions.length ? h("ul", { class: "actions" }, s.actions.map((a) => h("li", {}, actionText(a)))) : null);
}

function outcomeText(o) {
  switch (o.type) {
    case "waiting": return t("flows.outWaiting");
    case "suspended": return t("flows.outSuspended");
    case "transfer": return t("flows.outTransfer", { group: o.skill_group_id });
    case "ended": return t("flows.outEnded", { status: o.end_status });
    default: return o.type;
  }
}

function mark(ed, nodeId) {
  for (const el of ed.canvas.el.querySelectorAll(".node.trying")) el.classList.remove("trying");
  if (nodeId) ed.canvas.el.querySelector(`.node[data-id="${CSS.escape(nodeId)}"]`)?.classList.add("trying");
}
