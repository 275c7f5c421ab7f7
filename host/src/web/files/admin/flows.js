// Flows: the list (name, live and latest revision), create, rename, delete; a flow
// opens in the editor (#/flows/<id>).

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { all } from "./data.js";
import { confirm, field, formDialog, heading, input, table, toast, value, when } from "./ui.js";

export async function render(root, ctx, [id]) {
  if (id) {
    const { openEditor } = await import("./editor.js");
    return openEditor(root, ctx, id);
  }
  const list = h("div", { class: "list-area" });
  async function load() {
    const flows = await all(ctx.api, "/flows");
    fill(list, table(
      [
        [t("flows.name"), (f) => h("a", { href: `#/flows/${f.id}`, class: "strong", dataset: { open: f.id } }, f.name)],
        [t("flows.description"), (f) => f.description || "—"],
        [t("flows.live"), (f) => (f.live_revision ? t("flows.revisionN", { n: f.live_revision }) : t("flows.notLive"))],
        [t("flows.nodes"), (f) => String(f.draft.nodes.length)],
        [t("flows.changed"), (f) => when(f.updated_at)],
        [t("agents.actions"), (f) => h("div", { class: "row-actions" },
          h("button", { type: "button", class: "link", onclick: () => edit(ctx, f, load) }, t("flows.rename")),
          h("button", { type: "button", class: "link danger", onclick: () => confirm(t("flows.deleteTitle", { name: f.name }), t("flows.deleteText"), t("form.delete"), async () => {
            await ctx.api.del(`/flows/${f.id}`);
            await load();
          }) }, t("form.delete")))],
      ],
      flows,
      t("flows.none"),
    ));
  }
  root.append(heading(t("nav.flows"), h("button", { type: "button", class: "primary", id: "flow-new", onclick: () => edit(ctx, null, load) }, t("flows.new"))), list);
  await load();
}

function edit(ctx, flow, reload) {
  formDialog({
    title: flow ? t("flows.renameTitle", { name: flow.name }) : t("flows.new"),
    build: () => [
      field("name", t("flows.name"), input({ value: flow?.name ?? "", maxlength: 100 })),
      field("description", t("flows.description"), h("textarea", { rows: 2 }, flow?.description ?? "")),
    ],
    submit: async (form) => {
      const body = { name: value(form, "name"), description: value(form, "description") };
      if (flow) {
        await ctx.api.patch(`/flows/${flow.id}`, body);
        await reload();
      } else {
        const made = await ctx.api.post("/flows", body);
        toast(t("flows.created", { name: made.name }));
        location.hash = `#/flows/${made.id}`;
      }
    },
  });
}
