// A form generated from a module's JSON Schema: strings (one line or several),
// numbers with their bounds, booleans, enums, nested objects, arrays of objects (menu
// choices, FAQs) and of strings (one per line), and variants told apart by a constant
// (a branch's condition types). What the form cannot draw is edited as JSON in place.
// Every control carries the JSON pointer of its value (`data-pointer`), so that a
// problem the server reports can be shown beside the field it names.

import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

/** Longest line-sized string; longer ones get a text area. */
const LINE_MAX = 120;
/** Deepest nesting drawn as a form; deeper values are edited as JSON. */
const MAX_DEPTH = 8;

/**
 * The form for `value` (changed in place) under `schema`; `changed()` is called after
 * every edit. Answers the form's element.
 */
export function schemaForm(schema, value, changed) {
  const root = schema || {};
  const box = { v: value };
  const el = h("div", { class: "schema-form" });
  el.append(control(root, root, () => box.v, (v) => (box.v = v), "", "", true, changed, 0));
  el.value = () => box.v;
  return el;
}

function resolve(root, s) {
  let out = s || {};
  for (let i = 0; i < 10 && out.$ref; i++) {
    const path = out.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    let at = root;
    for (const p of path) at = at && at[p];
    out = { ...(at || {}), ...Object.fromEntries(Object.entries(out).filter(([k]) => k !== "$ref")) };
  }
  if (Array.isArray(out.allOf)) {
    const merged = { ...out, allOf: undefined, properties: { ...(out.properties || {}) }, required: [...(out.required || [])] };
    for (const part of out.allOf.map((p) => resolve(root, p))) {
      Object.assign(merged.properties, part.properties || {});
      merged.required.push(...(part.required || []));
      if (!merged.type && part.type) merged.type = part.type;
    }
    out = merged;
  }
  return out;
}

/** The schema's type, ignoring `null` in a list of types. */
function typeOf(s) {
  if (Array.isArray(s.type)) return s.type.find((x) => x !== "null");
  if (s.type) return s.type;
  if (s.properties) return "object";
  if (s.items) return "array";
  return undefined;
}

function defaultFor(root, schema) {
  const s = resolve(root, schema);
  if (s.default !== undefined) return structuredClone(s.default);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const variants = s.oneOf || s.anyOf;
  if (variants) return defaultFor(root, variants.find((v) => resolve(root, v).type !== "null") || {});
  switch (typeOf(s)) {
    case "object": {
      const o = {};
      for (const k of s.required || []) o[k] = defaultFor(root, (s.properties || {})[k]);
      return o;
    }
    case "array": return [];
    case "string": return "";
    case "integer": case "number": return s.minimum ?? 0;
    case "boolean": return false;
    default: return null;
  }
}

function wrap(pointer, label, description, required, ...body) {
  return h("div", { class: "sf-field", dataset: { pointer } },
    label ? h("div", { class: "sf-label" }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null) : null,
    ...body,
    description ? h("div", { class: "hint" }, description) : null,
    h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
}

let seq = 0;
const uid = () => "sf-" + ++seq;

function control(root, schema, get, set, pointer, key, required, changed, depth) {
  const s = resolve(root, schema);
  const label = s.title || key;
  const description = s.description;
  if (depth > MAX_DEPTH) return raw(get, set, pointer, label, description, required, changed);
  const variants = s.oneOf || s.anyOf;
  // A oneOf beside properties only constrains which of them are required.
  const constraint = s.properties && variants && variants.every((v) => !resolve(root, v).properties && !resolve(root, v).type);
  if (variants && !constraint) return variant(root, s, variants, get, set, pointer, label, required, changed, depth);
  if (s.const !== undefined) {
    if (get() !== s.const) set(s.const);
    return wrap(pointer, label, description, required, h("code", {}, JSON.stringify(s.const)));
  }
  if (s.enum) {
    const id = uid();
    const sel = h("select", { id, dataset: { pointer } }, s.enum.map((v) => h("option", { value: JSON.stringify(v) }, String(v))));
    // An absent value shows the module's default, and stays absent until chosen.
    sel.value = JSON.stringify(get() ?? s.default ?? s.enum[0]);
    if (get() === undefined && required && s.default === undefined) set(s.enum[0]);
    sel.addEventListener("change", () => {
      set(JSON.parse(sel.value));
      changed();
    });
    return labelled(id, pointer, label, description, required, sel);
  }
  switch (typeOf(s)) {
    case "string": return text(s, get, set, pointer, label, description, required, changed);
    case "integer": case "number": return number(s, get, set, pointer, label, description, required, changed);
    case "boolean": {
      const id = uid();
      const box = h("input", { type: "checkbox", id, dataset: { pointer } });
      box.checked = !!get();
      box.addEventListener("change", () => {
        set(box.checked);
        changed();
      });
      return h("div", { class: "sf-field check", dataset: { pointer } }, box, h("label", { for: id }, label),
        description ? h("div", { class: "hint" }, description) : null, h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
    }
    case "object": return object(root, s, get, set, pointer, label, description, required, changed, depth);
    case "array": return array(root, s, get, set, pointer, label, description, required, changed, depth);
    default: return raw(get, set, pointer, label, description, required, changed);
  }
}

function labelled(id, pointer, label, description, required, input) {
  return h("div", { class: "sf-field", dataset: { pointer } },
    h("label", { for: id }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    input,
    description ? h("div", { class: "hint" }, description) : null,
    h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
}

function text(s, get, set, pointer, label, description, required, changed) {
  const id = uid();
  const long = (s.maxLength ?? Infinity) > LINE_MAX && s.format !== "date" && !s.pattern;
  const attrs = { id, dataset: { pointer }, maxlength: s.maxLength, placeholder: s.examples?.[0] };
  const input = long ? h("textarea", { ...attrs, rows: 3 }) : h("input", { ...attrs, type: s.format === "date" ? "date" : "text" });
  input.value = get() ?? "";
  if (get() === undefined && required) set("");
  input.addEventListener("input", () => {
    set(input.value);
    changed();
  });
  const hint = long ? [description, t("flows.variablesHint")].filter(Boolean).join(" ") : description;
  return labelled(id, pointer, label, hint, required, input);
}

function number(s, get, set, pointer, label, description, required, changed) {
  const id = uid();
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : undefined);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : undefined);
  const input = h("input", { type: "number", id, min, max, step: typeOf(s) === "integer" ? 1 : "any", dataset: { pointer } });
  input.value = get() ?? "";
  input.addEventListener("input", () => {
    const n = Number(input.value);
    set(input.value === "" || Number.isNaN(n) ? undefined : n);
    changed();
  });
  const bounds = min !== undefined || max !== undefined ? t("flows.bounds", { min: min ?? "−∞", max: max ?? "∞" }) : "";
  return labelled(id, pointer, label, [description, bounds].filter(Boolean).join(" "), required, input);
}

function object(root, s, get, set, pointer, label, description, required, changed, depth) {
  const props = s.properties || {};
  if (!Object.keys(props).length) return raw(get, set, pointer, label, description, required, changed);
  if (!get() || typeof get() !== "object" || Array.isArray(get())) set({});
  const obj = get();
  const need = new Set(s.required || []);
  const body = Object.entries(props).map(([k, sub]) =>
    control(root, sub, () => obj[k], (v) => {
      if (v === undefined) delete obj[k];
      else obj[k] = v;
    }, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, k, need.has(k), changed, depth + 1));
  if (!pointer) return h("div", { class: "sf-object" }, body);
  return h("fieldset", { class: "sf-object", dataset: { pointer } }, h("legend", {}, label),
    description ? h("div", { class: "hint" }, description) : null, body,
    h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
}

function array(root, s, get, set, pointer, label, description, required, changed, depth) {
  const items = resolve(root, s.items || {});
  if (!Array.isArray(get())) set([]);
  const list = get();
  if (typeOf(items) === "string" && !items.enum) {
    // A list of words or phrases: one per line.
    const id = uid();
    const area = h("textarea", { id, rows: Math.min(8, Math.max(2, list.length + 1)), dataset: { pointer } });
    area.value = list.join("\n");
    area.addEventListener("input", () => {
      list.splice(0, list.length, ...area.value.split("\n").map((x) => x.trim()).filter(Boolean));
      changed();
    });
    return labelled(id, pointer, label, [description, t("flows.onePerLine")].filter(Boolean).join(" "), required, area);
  }
  const rows = h("ol", { class: "sf-items" });
  const draw = () => {
    rows.replaceChildren(...list.map((_, i) => h("li", { class: "sf-item" },
      control(root, items, () => list[i], (v) => (list[i] = v), `${pointer}/${i}`, `${label} ${i + 1}`, true, changed, depth + 1),
      h("div", { class: "sf-item-actions" },
        h("button", { type: "button", class: "link", disabled: i === 0, onclick: () => {
          [list[i - 1], list[i]] = [list[i], list[i - 1]];
          draw();
          changed();
        } }, t("flows.up")),
        h("button", { type: "button", class: "link danger", onclick: () => {
          list.splice(i, 1);
          draw();
          changed();
        } }, t("flows.removeItem"))))));
  };
  draw();
  const add = h("button", { type: "button", class: "sf-add", onclick: () => {
    list.push(defaultFor(root, items));
    draw();
    changed();
  } }, t("flows.addItem", { what: label }));
  return h("fieldset", { class: "sf-array", dataset: { pointer } }, h("legend", {}, label),
    description ? h("div", { class: "hint" }, description) : null, rows, add,
    h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
}

/** Variants told apart by a constant property (such as `type`); else JSON. */
function variant(root, s, variants, get, set, pointer, label, required, changed, depth) {
  const options = variants.map((v) => resolve(root, v));
  const nonNull = options.filter((o) => o.type !== "null");
  if (nonNull.length === 1) {
    return control(root, nonNull[0], get, set, pointer, label, required, changed, depth);
  }
  const tagKey = tagOf(nonNull);
  if (!tagKey) {
    const keys = nonNull.map((o) => (o.required && o.required.length === 1 ? o.required[0] : null));
    if (keys.every(Boolean) && new Set(keys).size === keys.length) return keyed(root, s, nonNull, keys, get, set, pointer, label, required, changed, depth);
    return raw(get, set, pointer, label, s.description, required, changed);
  }
  const tags = nonNull.map((o) => o.properties[tagKey].const);
  const box = h("div", { class: "sf-variant" });
  const id = uid();
  const sel = h("select", { id, dataset: { pointer: `${pointer}/${tagKey}` } }, tags.map((tag, i) => h("option", { value: String(i) }, nonNull[i].title || String(tag))));
  const current = () => Math.max(0, tags.indexOf(get()?.[tagKey]));
  const draw = () => {
    const i = current();
    sel.value = String(i);
    box.replaceChildren(control(root, nonNull[i], get, set, pointer, "", true, changed, depth + 1));
  };
  sel.addEventListener("change", () => {
    const i = Number(sel.value);
    const next = defaultFor(root, nonNull[i]);
    next[tagKey] = tags[i];
    set(next);
    draw();
    changed();
  });
  if (!get() || typeof get() !== "object") set({ ...defaultFor(root, nonNull[0]), [tagKey]: tags[0] });
  draw();
  return h("fieldset", { class: "sf-object", dataset: { pointer } }, h("legend", {}, label),
    labelled(id, `${pointer}/${tagKey}`, tagKey, s.description, true, sel), box,
    h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
}

/** Variants told apart by the one key each requires (`{text}` or `{menu}`). */
function keyed(root, s, options, keys, get, set, pointer, label, required, changed, depth) {
  const box = h("div", { class: "sf-variant" });
  const id = uid();
  const sel = h("select", { id, dataset: { pointer } }, keys.map((k, i) => h("option", { value: String(i) }, options[i].title || k)));
  const current = () => Math.max(0, keys.findIndex((k) => get() && typeof get() === "object" && k in get()));
  const draw = () => {
    const i = current();
    sel.value = String(i);
    box.replaceChildren(control(root, options[i], get, set, pointer, "", true, changed, depth + 1));
  };
  sel.addEventListener("change", () => {
    set(defaultFor(root, options[Number(sel.value)]));
    draw();
    changed();
  });
  if (!get() || typeof get() !== "object") set(defaultFor(root, options[0]));
  draw();
  return h("fieldset", { class: "sf-object", dataset: { pointer } }, h("legend", {}, label),
    labelled(id, pointer + "/", t("flows.kind"), s.description, true, sel), box,
    h("div", { class: "error sf-error", dataset: { problemFor: pointer } }));
}

function tagOf(objs) {
  if (!objs.length || objs.some((o) => !o.properties)) return null;
  for (const k of Object.keys(objs[0].properties)) {
    if (objs.every((o) => o.properties[k] && o.properties[k].const !== undefined)) return k;
  }
  return null;
}

function raw(get, set, pointer, label, description, required, changed) {
  const id = uid();
  const area = h("textarea", { id, rows: 4, class: "mono", spellcheck: "false", dataset: { pointer } });
  area.value = JSON.stringify(get() ?? null, null, 2);
  const err = h("div", { class: "error" });
  area.addEventListener("input", () => {
    try {
      set(JSON.parse(area.value));
      err.textContent = "";
      changed();
    } catch (e) {
      err.textContent = t("json.invalid", { detail: e.message });
    }
  });
  return labelled(id, pointer, label, [description, t("flows.asJson")].filter(Boolean).join(" "), required, h("div", {}, area, err));
}

/**
 * Shows `problems` (`{pointer, message}` relative to the form's value) beside the
 * fields they name; a pointer with no field of its own goes to its nearest parent.
 */
export function pinProblems(form, problems) {
  for (const el of form.querySelectorAll("[data-problem-for]")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const rest = [];
  for (const p of problems) {
    let at = p.pointer;
    let slot = null;
    for (;;) {
      slot = form.querySelector(`[data-problem-for="${CSS.escape(at)}"]`);
      if (slot || !at) break;
      at = at.slice(0, at.lastIndexOf("/"));
    }
    if (slot && at) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${p.message}` : p.message;
      form.querySelector(`[data-pointer="${CSS.escape(at)}"]:is(input, select, textarea)`)?.setAttribute("aria-invalid", "true");
    } else rest.push(p);
  }
  return rest;
}
