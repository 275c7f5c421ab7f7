// Skill groups: the list, each group's members with their priorities (added, changed
// and removed through the agents' memberships), and the group's routing settings,
// each with a sentence saying what it does.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { all, allGroups } from "./data.js";
import { checkbox, confirm, duration, field, formDialog, heading, input, run, select, table, toast, value } from "./ui.js";

export async function render(root, ctx, [openId]) {
  const list = h("div", { class: "list-area" });
  const detail = h("section", { class: "detail", "aria-live": "polite" });

  async function load() {
    const groups = await allGroups(ctx.api);
    fill(
      list,
      table(
        [
          [t("groups.name"), (g) => h("button", { type: "button", class: "link strong", dataset: { open: g.id }, onclick: () => run(() => open(g.id)) }, g.name)],
          [t("groups.description"), (g) => g.description || "—"],
          [t("groups.members"), (g) => String(g.agent_count)],
          [t("groups.strategy"), (g) => t("strategy." + g.routing.strategy)],
          [t("groups.accept"), (g) => t("accept." + g.routing.accept_mode)],
        ],
        groups,
        t("groups.none"),
      ),
    );
    return groups;
  }

  async function open(id) {
    const g = await ctx.api.get(`/skill-groups/${id}`);
    const members = (await all(ctx.api, "/agents")).filter((a) => a.active);
    const inGroup = members.filter((a) => a.skill_groups.some((m) => m.skill_group_id === id));
    const others = members.filter((a) => !inGroup.includes(a));
    const prio = (a) => a.skill_groups.find((m) => m.skill_group_id === id).priority;
    inGroup.sort((a, b) => prio(a) - prio(b));
    const pick = select([["", t("groups.pickAgent")], ...others.map((a) => [a.id, `${a.nickname} (${a.email})`])], "", { id: "member-add", "aria-label": t("groups.pickAgent") });
    const r = g.routing;
    fill(
      detail,
      h("div", { class: "page-head" }, h("h2", {}, g.name),
        h("div", { class: "page-actions" },
          h("button", { type: "button", id: "group-edit", onclick: () => edit(ctx, g, reopen) }, t("form.edit")),
          h("button", { type: "button", class: "danger", id: "group-delete", onclick: () => remove(ctx, g, reopen) }, t("form.delete")))),
      h("h3", {}, t("groups.routing")),
      h("dl", { class: "facts" },
        fact(t("groups.strategy"), t("strategy." + r.strategy), t("strategy." + r.strategy + ".explain")),
        fact(t("groups.preferLast"), r.prefer_last_agent ? t("groups.preferLastOn", { window: duration(r.last_agent_window_secs) }) : t("form.no"), t("groups.preferLast.explain")),
        fact(t("groups.accept"), r.accept_mode === "manual" ? t("groups.acceptManual", { n: r.offer_timeout_secs }) : t("accept.auto"), t("accept." + r.accept_mode + ".explain")),
        fact(t("groups.queue"), t("groups.queueValue", { n: r.queue_max_length, wait: duration(r.queue_max_wait_secs) }), t("groups.queue.explain"))),
      h("h3", {}, t("groups.members")),
      h("p", { class: "hint" }, t("agents.priorityHint")),
      table(
        [
          [t("agents.name"), (a) => `${a.nickname} (${a.email})`],
          [t("agents.priority"), (a) => {
            const box = input({ type: "number", min: 1, max: 10, value: prio(a), class: "narrow", "aria-label": t("agents.priorityOf", { group: a.nickname }) });
            box.addEventListener("change", () => run(() => membership(ctx, a, id, Number(box.value)).then(() => toast(t("groups.prioritySaved")))));
            return box;
          }],
          ["", (a) => h("button", { type: "button", class: "link danger", dataset: { remove: a.id }, onclick: () => run(async () => {
            await membership(ctx, a, id, null);
            await reopen();
          }) }, t("groups.removeMember"))],
        ],
        inGroup,
        t("groups.noMembers"),
      ),
      h("div", { class: "inline-form" }, pick, h("button", { type: "button", id: "member-add-go", onclick: () => run(async () => {
        const a = others.find((x) => x.id === pick.value);
        if (!a) return;
        await membership(ctx, a, id, 5);
        await reopen();
      }) }, t("groups.addMember"))),
    );
    async function reopen() {
      const groups = await load();
      if (groups.some((x) => x.id === id)) await open(id);
      else detail.replaceChildren();
    }
  }

  root.append(
    heading(t("nav.groups"), h("button", { type: "button", class: "primary", id: "group-new", onclick: () => edit(ctx, null, async (g) => {
      await load();
      if (g) await open(g.id);
    }) }, t("groups.new"))),
    h("div", { class: "split" }, list, detail),
  );
  const groups = await load();
  const first = openId || groups[0]?.id;
  if (first) await open(first);
}

function fact(label, shown, explain) {
  return [h("dt", {}, label), h("dd", {}, h("div", {}, shown), h("div", { class: "hint" }, explain))];
}

/** Sets (or with `priority` null, removes) the agent's membership of the group. */
async function membership(ctx, agent, groupId, priority) {
  const rest = agent.skill_groups.filter((m) => m.skill_group_id !== groupId);
  const next = priority === null ? rest : [...rest, { skill_group_id: groupId, priority }];
  const saved = await ctx.api.patch(`/agents/${agent.id}`, { skill_groups: next });
  agent.skill_groups = saved.skill_groups;
}

function edit(ctx, group, done) {
  const r = group?.routing ?? {
    strategy: "longest_idle", prefer_last_agent: true, last_agent_window_secs: 86400,
    accept_mode: "auto", offer_timeout_secs: 30, queue_max_length: 200, queue_max_wait_secs: 600,
  };
  const num = (name, v, min, max, hint) =>
    field("routing." + name, t("routing." + name), input({ type: "number", min, max, value: v }), hint);
  formDialog({
    title: group ? t("groups.editTitle", { name: group.name }) : t("groups.new"),
    build: () => [
      field("name", t("groups.name"), input({ required: true, value: group?.name ?? "" })),
      field("description", t("groups.description"), h("textarea", { rows: 2 }, group?.description ?? "")),
      h("fieldset", {}, h("legend", {}, t("groups.routing")),
        field("routing.strategy", t("groups.strategy"),
          select(["longest_idle", "least_loaded", "round_robin"].map((s) => [s, t("strategy." + s)]), r.strategy),
          t("groups.strategy.explain")),
        checkbox("routing.prefer_last_agent", t("groups.preferLast"), r.prefer_last_agent),
        h("div", { class: "hint" }, t("groups.preferLast.explain")),
        num("last_agent_window_secs", r.last_agent_window_secs, 0, 2592000, t("routing.last_agent_window_secs.explain")),
        field("routing.accept_mode", t("groups.accept"), select(["auto", "manual"].map((m) => [m, t("accept." + m)]), r.accept_mode), t("groups.accept.explain")),
        num("offer_timeout_secs", r.offer_timeout_secs, 5, 600, t("routing.offer_timeout_secs.explain")),
        num("queue_max_length", r.queue_max_length, 1, 100000, t("routing.queue_max_length.explain")),
        num("queue_max_wait_secs", r.queue_max_wait_secs, 10, 86400, t("routing.queue_max_wait_secs.explain"))),
    ],
    submit: async (form) => {
      const routing = {
        strategy: value(form, "routing.strategy"),
        prefer_last_agent: form.elements.namedItem("routing.prefer_last_agent").checked,
        accept_mode: value(form, "routing.accept_mode"),
      };
      for (const k of ["last_agent_window_secs", "offer_timeout_secs", "queue_max_length", "queue_max_wait_secs"]) {
        routing[k] = Number(value(form, "routing." + k));
      }
      const body = { name: value(form, "name"), description: value(form, "description"), routing };
      const saved = group
        ? await ctx.api.patch(`/skill-groups/${group.id}`, body)
        : await ctx.api.post("/skill-groups", body);
      toast(t("groups.saved", { name: saved.name }));
      await done(saved);
    },
  });
}

function remove(ctx, group, done) {
  confirm(t("groups.deleteTitle", { name: group.name }), t("groups.deleteText"), t("form.delete"), async () => {
    await ctx.api.del(`/skill-groups/${group.id}`);
    toast(t("groups.deleted", { name: group.name }));
    await done();
  });
}
