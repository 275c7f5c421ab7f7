// Channels: the virtual accounts end users write to. Create and edit (flow, default
// group, IM settings, web chat); the secret key and callback token shown once, when
// made or rotated, with copy buttons; the IM set-up written out for the channel; the
// web chat link and a snippet that embeds it.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { allFlows, allGroups } from "./data.js";
import { checkbox, confirm, copyable, field, formDialog, heading, infoDialog, input, pager, run, select, table, toast, value, when } from "./ui.js";

export async function render(root, ctx, [openId]) {
  const [flows, groups] = await Promise.all([allFlows(ctx.api), allGroups(ctx.api)]);
  const refs = { flows, groups };
  const list = h("div", { class: "list-area" });
  const detail = h("section", { class: "detail", "aria-live": "polite" });
  let page = 1;

  async function load(p = page) {
    page = p;
    const answer = await ctx.api.get(`/channels?page=${p}&page_size=20`);
    fill(list,
      table(
        [
          [t("channels.name"), (c) => h("button", { type: "button", class: "link strong", dataset: { open: c.id }, onclick: () => run(() => open(c.id)) }, c.name)],
          [t("channels.account"), (c) => h("code", {}, c.account)],
          [t("channels.flow"), (c) => flows.find((f) => f.id === c.flow_id)?.name || t("channels.noFlow")],
          [t("channels.webchat"), (c) => (c.webchat_enabled ? t("form.yes") : t("form.no"))],
        ],
        answer.items,
        t("channels.none"),
      ),
      pager(answer, (n) => run(() => load(n))));
    return answer.items;
  }

  async function open(id) {
    const c = await ctx.api.get(`/channels/${id}`);
    fill(detail, ...channelDetail(ctx, c, refs, {
      edit: () => edit(ctx, c, refs, async () => {
        await load();
        await open(id);
      }),
      rotate: () => confirm(t("channels.rotateTitle", { name: c.name }), t("channels.rotateText"), t("channels.rotate"), async () => {
        const fresh = await ctx.api.post(`/channels/${id}/rotate-secrets`);
        await open(id);
        secrets(fresh);
        return "keep";
      }),
      remove: () => confirm(t("channels.deleteTitle", { name: c.name }), t("channels.deleteText"), t("form.delete"), async () => {
        await ctx.api.del(`/channels/${id}`);
        toast(t("channels.deleted", { name: c.name }));
        detail.replaceChildren();
        await load();
      }),
    }));
  }

  root.append(
    heading(t("nav.channels"), h("button", { type: "button", class: "primary", id: "channel-new", onclick: () => edit(ctx, null, refs, async (made) => {
      secrets(made);
      await load();
      await open(made.id);
    }) }, t("channels.new"))),
    h("div", { class: "split" }, list, detail),
  );
  const items = await load(1);
  const first = openId || items[0]?.id;
  if (first) await open(first);
}

/** The secrets of a channel just made or rotated: shown this once. */
function secrets(c) {
  infoDialog(
    t("channels.secretsTitle", { name: c.name }),
    h("p", { class: "warning" }, t("channels.secretsOnce")),
    copyable(t("channels.secretKey"), c.secret_key, "secret_key"),
    copyable(t("channels.callbackToken"), c.callback_token, "callback_token"),
    c.webchat_identity_secret ? copyable(t("channels.identitySecret"), c.webchat_identity_secret, "identity_secret") : null,
    c.webchat_identity_secret ? h("p", { class: "hint" }, t("channels.identitySecretHint")) : null,
  );
}

function channelDetail(ctx, c, { flows, groups }, act) {
  const origin = location.origin;
  const chat = origin + c.webchat_path;
  const flow = flows.find((f) => f.id === c.flow_id);
  const group = groups.find((g) => g.id === c.default_skill_group_id);
  const snippet = `<iframe src="${chat}" title="${c.name.replace(/["<>&]/g, "")}" width="380" height="600" style="border:0"></iframe>`;
  return [
    h("div", { class: "page-head" }, h("h2", {}, c.name),
      h("div", { class: "page-actions" },
        h("button", { type: "button", id: "channel-edit", onclick: act.edit }, t("form.edit")),
        h("button", { type: "button", id: "channel-rotate", onclick: act.rotate }, t("channels.rotate")),
        h("button", { type: "button", class: "danger", id: "channel-delete", onclick: act.remove }, t("form.delete")))),
    h("dl", { class: "facts" },
      h("dt", {}, t("channels.flow")), h("dd", {}, flow ? h("a", { href: `#/flows/${flow.id}` }, flow.name) : t("channels.noFlow")),
      h("dt", {}, t("channels.group")), h("dd", {}, group ? group.name : t("channels.noGroup")),
      h("dt", {}, t("channels.idle")), h("dd", {}, t("time.minutes", { n: Math.round(c.idle_timeout_secs / 60) })),
      h("dt", {}, t("channels.secretKey")), h("dd", {}, h("code", {}, c.secret_key_hint)),
      h("dt", {}, t("channels.callbackToken")), h("dd", {}, h("code", {}, c.callback_token_hint)),
      h("dt", {}, t("channels.updated")), h("dd", {}, when(c.updated_at))),
    h("h3", {}, t("channels.imSetup")),
    h("ol", { class: "steps", id: "im-setup" },
      h("li", {}, t("channels.step.app", { sdkappid: c.sdkappid, account: c.account })),
      h("li", {}, t("channels.step.ingress"), copyable(t("channels.sendmsg"),
        `${origin}/v4/openim/sendmsg?sdkappid=${c.sdkappid}&identifier=${encodeURIComponent(c.admin_identifier)}&usersig=<UserSig>&random=<random>&contenttype=json`, "sendmsg")),
      h("li", {}, t("channels.step.callback"), copyable(t("channels.callbackUrl"), `${origin}/im/callback`, "callback")),
      h("li", {}, t("channels.step.activate", { identifier: c.admin_identifier, account: c.account })),
      h("li", {}, c.im_base_url ? t("channels.step.egress", { url: c.im_base_url }) : t("channels.step.noEgress"))),
    h("h3", {}, t("channels.webchat")),
    c.webchat_enabled
      ? h("div", { id: "webchat" },
        copyable(t("channels.chatLink"), chat, "chat"),
        h("p", {}, h("a", { href: chat, target: "_blank", rel: "noopener" }, t("channels.openChat"))),
        copyable(t("channels.embed"), snippet, "embed"),
        h("p", { class: "hint" }, t("channels.embedHint")))
      : h("p", { class: "muted" }, t("channels.webchatOff")),
  ];
}

function edit(ctx, c, { flows, groups }, done) {
  formDialog({
    title: c ? t("channels.editTitle", { name: c.name }) : t("channels.new"),
    build: () => [
      field("name", t("channels.name"), input({ value: c?.name ?? "" })),
      c ? null : field("account", t("channels.account"), input({ value: "" }), t("channels.accountHint")),
      c ? null : field("sdkappid", t("channels.sdkappid"), input({ type: "number", min: 1, value: "" })),
      field("admin_identifier", t("channels.identifier"), input({ value: c?.admin_identifier ?? "administrator" }), t("channels.identifierHint")),
      field("flow_id", t("channels.flow"), select([["", t("channels.noFlow")], ...flows.map((f) => [f.id, f.name])], c?.flow_id ?? "")),
      field("default_skill_group_id", t("channels.group"), select([["", t("channels.noGroup")], ...groups.map((g) => [g.id, g.name])], c?.default_skill_group_id ?? ""), t("channels.groupHint")),
      field("im_base_url", t("channels.imBase"), input({ type: "url", value: c?.im_base_url ?? "", placeholder: "https://console.tim.qq.com" }), t("channels.imBaseHint")),
      field("idle_timeout_secs", t("channels.idleSecs"), input({ type: "number", min: 60, value: c?.idle_timeout_secs ?? 1800 })),
      checkbox("webchat_enabled", t("channels.webchatOn"), c ? c.webchat_enabled : true),
    ],
    submit: async (form) => {
      const body = {
        name: value(form, "name"),
        admin_identifier: value(form, "admin_identifier"),
        flow_id: value(form, "flow_id") || null,
        default_skill_group_id: value(form, "default_skill_group_id") || null,
        im_base_url: value(form, "im_base_url") || null,
        idle_timeout_secs: Number(value(form, "idle_timeout_secs")),
        webchat_enabled: form.elements.namedItem("webchat_enabled").checked,
      };
      if (c) {
        await ctx.api.patch(`/channels/${c.id}`, body);
        toast(t("channels.saved", { name: body.name }));
        await done();
      } else {
        body.account = value(form, "account");
        body.sdkappid = Number(value(form, "sdkappid"));
        const made = await ctx.api.post("/channels", body);
        await done(made);
        return "keep";
      }
    },
  });
}
