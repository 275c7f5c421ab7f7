// Agents: the list with filters and each agent's live status; create, edit (with skill
// groups and their priorities), set a new password, deactivate and reactivate; an
// agent's time per status today.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { allGroups } from "./data.js";
import { checkbox, confirm, duration, field, formDialog, heading, infoDialog, input, pager, run, select, table, toast, value } from "./ui.js";

const STATUSES = ["free", "busy", "notReady", "rest", "afterCallWork", "offline"];
const ROLES = ["agent", "supervisor", "admin"];

export async function render(root, ctx) {
  const groups = await allGroups(ctx.api);
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  const filters = { q: "", role: "", active: "true", skill_group_id: "", page: 1 };
  const list = h("div", { class: "list-area", "aria-live": "polite" });

  const q = input({ type: "search", name: "q", placeholder: t("agents.search"), "aria-label": t("agents.search") });
  const role = select([["", t("agents.anyRole")], ...ROLES.map((r) => [r, t("role." + r)])], "", { name: "role", "aria-label": t("agents.role") });
  const active = select([["true", t("agents.active")], ["false", t("agents.inactive")], ["", t("agents.anyState")]], "true", { name: "active", "aria-label": t("agents.state") });
  const group = select([["", t("agents.anyGroup")], ...groups.map((g) => [g.id, g.name])], "", { name: "skill_group_id", "aria-label": t("agents.group") });
  let timer = 0;
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(1), 250);
  });
  for (const s of [role, active, group]) s.addEventListener("change", () => load(1));

  async function load(page = filters.page) {
    Object.assign(filters, { q: q.value.trim(), role: role.value, active: active.value, skill_group_id: group.value, page });
    const params = new URLSearchParams({ page: String(page), page_size: "20" });
    for (const k of ["q", "role", "active", "skill_group_id"]) if (filters[k]) params.set(k, filters[k]);
    const answer = await ctx.api.get("/agents?" + params);
    const ids = answer.items.filter((a) => a.active).map((a) => a.id);
    const board = ids.length
      ? await ctx.api.get("/monitor/agents?" + new URLSearchParams({ agent_ids: ids.join(",") })).catch(() => ({ items: [] }))
      : { items: [] };
    const live = new Map(board.items.map((s) => [s.agent_id, s]));
    fill(
      list,
      table(
        [
          [t("agents.name"), (a) => h("div", {}, h("strong", {}, a.name), h("div", { class: "muted" }, a.email))],
          [t("agents.nickname"), (a) => a.nickname],
          [t("agents.staffNo"), (a) => a.staff_no || "—"],
          [t("agents.role"), (a) => t("role." + a.role)],
          [t("agents.cap"), (a) => String(a.max_concurrent_sessions)],
          [t("agents.groups"), (a) => a.skill_groups.map((m) => `${groupName.get(m.skill_group_id) || "?"} (${m.priority})`).join(", ") || "—"],
          [t("agents.status"), (a) => statusCell(a, live.get(a.id))],
          [t("agents.actions"), (a) => h("div", { class: "row-actions" },
            h("button", { type: "button", class: "link", dataset: { act: "edit" }, onclick: () => edit(ctx, groups, a, load) }, t("form.edit")),
            h("button", { type: "button", class: "link", dataset: { act: "password" }, onclick: () => password(ctx, a) }, t("agents.setPassword")),
            h("button", { type: "button", class: "link", dataset: { act: "day" }, onclick: () => day(ctx, a) }, t("agents.today")),
            a.active
              ? h("button", { type: "button", class: "link danger", dataset: { act: "deactivate" }, onclick: () => deactivate(ctx, a, load) }, t("agents.deactivate"))
              : h("button", { type: "button", class: "link", dataset: { act: "reactivate" }, onclick: () => run(async () => {
                await ctx.api.post(`/agents/${a.id}/reactivate`);
                toast(t("agents.reactivated", { name: a.name }));
                await load();
              }) }, t("agents.reactivate")),
          )],
        ],
        answer.items,
        t("agents.none"),
      ),
      pager(answer, (p) => run(() => load(p))),
    );
  }

  root.append(
    heading(t("nav.agents"), h("button", { type: "button", class: "primary", id: "agent-new", onclick: () => edit(ctx, groups, null, load) }, t("agents.new"))),
    h("div", { class: "filters" }, q, role, active, group),
    list,
  );
  await load(1);
}

function statusCell(agent, live) {
  if (!agent.active) return h("span", { class: "muted" }, t("agents.deactivated"));
  const st = live ? live.status : "offline";
  return h("span", { class: "status" }, h("span", { class: "dot", dataset: { status: st } }), " ", t("status." + st),
    live && live.active_sessions ? h("span", { class: "muted" }, " · " + t("agents.sessions", { n: live.active_sessions })) : null);
}

/** The create / edit dialog; `agent` null creates. */
function edit(ctx, groups, agent, reload) {
  const mine = new Map((agent ? agent.skill_groups : []).map((m) => [m.skill_group_id, m.priority]));
  formDialog({
    title: agent ? t("agents.editTitle", { name: agent.name }) : t("agents.new"),
    build: () => [
      field("email", t("agents.email"), input({ type: "email", required: true, value: agent?.email ?? "", autocomplete: "off" })),
      field("name", t("agents.name"), input({ required: true, value: agent?.name ?? "" })),
      field("nickname", t("agents.nickname"), input({ value: agent?.nickname ?? "" }), t("agents.nicknameHint")),
      field("staff_no", t("agents.staffNo"), input({ value: agent?.staff_no ?? "" }), t("agents.staffNoHint")),
      field("phone", t("agents.phone"), input({ type: "tel", value: agent?.phone ?? "" })),
      field("role", t("agents.role"), select(ROLES.map((r) => [r, t("role." + r)]), agent?.role ?? "agent")),
      field("max_concurrent_sessions", t("agents.cap"), input({ type: "number", min: 1, max: 100, value: agent?.max_concurrent_sessions ?? 5 }), t("agents.capHint")),
      agent ? null : field("password", t("agents.password"), input({ type: "password", autocomplete: "new-password", minlength: 8 }), t("agents.passwordHint")),
      h("fieldset", { class: "memberships" },
        h("legend", {}, t("agents.groups")),
        h("p", { class: "hint" }, t("agents.priorityHint")),
        groups.length ? groups.map((g) => membershipRow(g, mine.get(g.id))) : h("p", { class: "muted" }, t("groups.none")),
        h("div", { class: "error", "data-error-for": "skill_groups" })),
    ],
    submit: async (form) => {
      const skill_groups = groups
        .filter((g) => form.elements.namedItem("member-" + g.id).checked)
        .map((g) => ({ skill_group_id: g.id, priority: Number(value(form, "priority-" + g.id)) || 5 }));
      const body = {
        email: value(form, "email"),
        name: value(form, "name"),
        nickname: value(form, "nickname") || null,
        staff_no: value(form, "staff_no") || null,
        phone: value(form, "phone") || null,
        role: value(form, "role"),
        max_concurrent_sessions: Number(value(form, "max_concurrent_sessions")),
        skill_groups,
      };
      if (agent) {
        if (!body.nickname) delete body.nickname;
        await ctx.api.patch(`/agents/${agent.id}`, body);
        toast(t("agents.saved", { name: body.name }));
      } else {
        body.password = form.elements.namedItem("password").value;
        await ctx.api.post("/agents", body);
        toast(t("agents.created", { name: body.name }));
      }
      await reload();
    },
  });
}

function membershipRow(g, priority) {
  const on = checkbox("member-" + g.id, g.name, priority !== undefined);
  const p = input({ type: "number", min: 1, max: 10, name: "priority-" + g.id, id: "f-priority-" + g.id, value: priority ?? 5, "aria-label": t("agents.priorityOf", { group: g.name }) });
  return h("div", { class: "membership" }, on, h("label", { for: p.id, class: "inline" }, t("agents.priority")), p);
}

function password(ctx, agent) {
  formDialog({
    title: t("agents.passwordTitle", { name: agent.name }),
    build: () => [
      field("password", t("agents.newPassword"), input({ type: "password", autocomplete: "new-password", minlength: 8 }), t("agents.passwordHint")),
    ],
    submit: async (form) => {
      await ctx.api.patch(`/agents/${agent.id}`, { password: form.elements.namedItem("password").value });
      toast(t("agents.passwordSet", { name: agent.name }));
    },
  });
}

function deactivate(ctx, agent, reload) {
  confirm(t("agents.deactivateTitle", { name: agent.name }), t("agents.deactivateText"), t("agents.deactivate"), async () => {
    await ctx.api.post(`/agents/${agent.id}/deactivate`);
    toast(t("agents.deactivatedDone", { name: agent.name }));
    await reload();
  });
}

async function day(ctx, agent) {
  const d = await run(() => ctx.api.get(`/agents/${agent.id}/status`));
  if (!d) return;
  const total = Object.values(d.seconds).reduce((a, b) => a + b, 0) || 1;
  infoDialog(
    t("agents.dayTitle", { name: agent.name }),
    h("p", {}, h("span", { class: "dot", dataset: { status: d.status } }), " ", t("status." + d.status),
      d.reason ? ` — ${d.reason}` : "", " · ", t("agents.sessions", { n: d.active_sessions })),
    h("dl", { class: "facts day" },
      STATUSES.map((s) => [
        h("dt", {}, h("span", { class: "dot", dataset: { status: s } }), " ", t("status." + s)),
        h("dd", {}, h("meter", { min: 0, max: 1, value: (d.seconds[s] || 0) / total }), " ", duration(d.seconds[s] || 0)),
      ])),
  );
}
