// The order-number flow module, in JavaScript.
//
// Asks for an order number, checks it (digits only, of a configured length), asks
// again when it is wrong, stores it in a session variable and confirms it. Leaves by
// `next` once it has a number, by `invalid` after too many wrong answers and by
// `timeout` when the user says nothing. Every step runs in a fresh instance, so the
// number of attempts so far travels in the step's `state`.

import { log } from "kefu:flow/host@0.1.0";

const NAME = "order-number-js";
const VERSION = "1.0.0";

const EXITS = [
  { name: "next", description: "The order number is stored in the variable." },
  { name: "invalid", description: "The user gave no valid order number in the attempts allowed." },
  { name: "timeout", description: "The user did not answer in time." },
];

const DEFAULTS = {
  prompt: "请输入您的订单号",
  retry_prompt: "订单号应为 {min}–{max} 位数字，请重新输入",
  confirmation: "好的，已记录订单号 {order}",
  variable: "order_number",
  min_digits: 6,
  max_digits: 20,
  max_attempts: 3,
  timeout_ms: 120000,
};

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    prompt: { type: "string", minLength: 1 },
    retry_prompt: { type: "string", minLength: 1 },
    confirmation: { type: "string", minLength: 1 },
    variable: { type: "string", pattern: "^[a-z][a-z0-9_]{0,63}$" },
    min_digits: { type: "integer", minimum: 1, maximum: 64 },
    max_digits: { type: "integer", minimum: 1, maximum: 64 },
    max_attempts: { type: "integer", minimum: 1, maximum: 10 },
    timeout_ms: { type: "integer", minimum: 1000, maximum: 86400000 },
  },
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Every problem with a configuration, with its JSON pointer, and the configuration.
function check(raw) {
  let given;
  try {
    given = JSON.parse(raw);
  } catch (e) {
    return [[{ path: "", message: `not JSON: ${e.message}` }], null];
  }
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    return [[{ path: "", message: "expected an object" }], null];
  }
  const problems = [];
  const config = { ...DEFAULTS };
  for (const [key, value] of Object.entries(given)) {
    const rule = SCHEMA.properties[key];
    if (!rule) {
      problems.push({ path: `/${key}`, message: "unknown field" });
    } else if (rule.type === "string") {
      if (typeof value !== "string" || value === "") {
        problems.push({ path: `/${key}`, message: "expected a non-empty string" });
      } else {
        config[key] = value;
      }
    } else if (!Number.isInteger(value)) {
      problems.push({ path: `/${key}`, message: "expected an integer" });
    } else if (value < rule.minimum || value > rule.maximum) {
      problems.push({ path: `/${key}`, message: `must be ${rule.minimum} to ${rule.maximum}` });
    } else {
      config[key] = value;
    }
  }
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(config.variable)) {
    problems.push({ path: "/variable", message: "lower-case letters, digits and _, at most 64" });
  }
  if (config.min_digits > config.max_digits) {
    problems.push({ path: "/min_digits", message: "must not exceed max_digits" });
  }
  return [problems, config];
}

// A result's error is thrown: jco turns the thrown value into `err`.
function load(raw) {
  const [problems, config] = check(raw);
  if (problems.length > 0) {
    throw { tag: "invalid-config", val: problems };
  }
  return config;
}

// The order number in what the user wrote (spaces and dashes ignored), if valid.
function orderNumber(text, config) {
  const digits = text.replace(/[\s-]/g, "");
  const ok = /^[0-9]+$/.test(digits) && digits.length >= config.min_digits &&
    digits.length <= config.max_digits;
  return ok ? digits : null;
}

function ask(text, config, attempts) {
  return {
    actions: [{ tag: "send", val: { tag: "text", val: text } }],
    next: { tag: "wait", val: BigInt(config.timeout_ms) },
    state: encoder.encode(JSON.stringify({ attempts })),
  };
}

export const module = {
  describe() {
    return {
      name: NAME,
      version: VERSION,
      description: "Asks for an order number, checks it and stores it in a variable.",
      configSchema: JSON.stringify(SCHEMA),
      exits: EXITS,
    };
  },

  validateConfig(config) {
    load(config);
    return { exits: EXITS, waits: true };
  },

  prepare(config) {
    load(config);
    return new Uint8Array(0);
  },

  step(input) {
    const config = load(input.config);
    const attempts = input.state ? JSON.parse(decoder.decode(input.state)).attempts : 0;
    const trigger = input.trigger;
    switch (trigger.tag) {
      case "entered":
      case "resumed":
        return ask(config.prompt, config, 0);
      case "wait-timed-out":
        return { actions: [], next: { tag: "exit", val: "timeout" }, state: undefined };
      case "user-message":
        break;
      default:
        throw { tag: "failed", val: `unknown trigger ${trigger.tag}` };
    }
    const number = orderNumber(trigger.val.text, config);
    if (number !== null) {
      log("info", `order number of ${number.length} digits`);
      return {
        actions: [
          { tag: "set-variable", val: { name: config.variable, value: JSON.stringify(number) } },
          { tag: "send", val: { tag: "text", val: config.confirmation.replace("{order}", number) } },
        ],
        next: { tag: "exit", val: "next" },
        state: undefined,
      };
    }
    if (attempts + 1 >= config.max_attempts) {
      return { actions: [], next: { tag: "exit", val: "invalid" }, state: undefined };
    }
    const retry = config.retry_prompt
      .replace("{min}", String(config.min_digits))
      .replace("{max}", String(config.max_digits));
    return ask(retry, config, attempts + 1);
  },
};
