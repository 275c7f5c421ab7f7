// A flow's revision history: who published each one and when, with its note; any
// revision can be viewed read-only on the canvas, and rolled back to from there.

import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { all } from "./data.js";
import { infoDialog, run, table, when } from "./ui.js";

export async function revisionsDialog(ed) {
  const [revisions, agents] = await Promise.all([
    ed.ctx.api.get(`/flows/${ed.flow.id}/revisions`),
    all(ed.ctx.api, "/agents").catch(() => []),
  ]);
  const who = new Map(agents.map((a) => [a.id, a.nickname || a.name]));
  revisions.sort((a, b) => b.number - a.number);
  infoDialog(
    t("flows.revisionsOf", { name: ed.flow.name }),
    table(
      [
        [t("flows.revision"), (r) => h("span", {}, `#${r.number}`, r.number === ed.flow.live_revision ? h("span", { class: "live-mark" }, " " + t("flows.liveMark")) : null)],
        [t("flows.publishedBy"), (r) => (r.published_by ? who.get(r.published_by) || r.published_by : "—")],
        [t("flows.when"), (r) => when(r.published_at)],
        [t("flows.note"), (r) => h("span", {}, r.note || "—", r.restored_from ? h("span", { class: "muted" }, " " + t("flows.restoredFrom", { n: r.restored_from })) : null)],
        ["", (r) => h("button", { type: "button", class: "link", dataset: { view: r.number }, onclick: () => run(async () => {
          const full = await ed.ctx.api.get(`/flows/${ed.flow.id}/revisions/${r.number}`);
          document.getElementById("dialog").close();
          ed.view(full);
        }) }, t("flows.view"))],
      ],
      revisions,
      t("flows.noRevisions"),
    ),
  );
  document.getElementById("dialog").classList.add("wide");
}
