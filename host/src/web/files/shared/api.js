// The JSON API client every kefu page uses. It signs in, keeps the access token fresh
// (rotating the refresh token a minute before the access token expires, one refresh at
// a time), and turns kefu's error body {"error": {"code", "message", "fields"}} into an
// ApiError a form can show beside its fields.
//
// Tokens live in sessionStorage: they survive a reload but not the tab. Each tab signs
// in on its own, because refresh tokens are single-use: two tabs sharing one would spend
// it twice, and kefu revokes a sign-in whose spent refresh token is presented again.

const BASE = "/api/v1";
const KEY = "kefu.tokens";
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "http_" + status);
    this.fields = e.fields || {};
    this.retryAfter = retryAfter;
  }
}

export class Api {
  constructor({ storage = sessionStorage } = {}) {
    this.storage = storage;
    this.tokens = null;
    this.refreshing = null;
    this.timer = 0;
    /** Called once when the sign-in ends on its own (revoked, expired, deactivated). */
    this.onSignedOut = () => {};
    try {
      this.tokens = JSON.parse(storage.getItem(KEY) || "null");
    } catch {
      this.tokens = null;
    }
    if (this.tokens) this.schedule();
  }

  get signedIn() {
    return !!this.tokens;
  }

  keep(pair) {
    this.tokens = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
    };
    this.storage.setItem(KEY, JSON.stringify(this.tokens));
    this.schedule();
  }

  forget() {
    clearTimeout(this.timer);
    this.tokens = null;
    this.storage.removeItem(KEY);
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.tokens) return;
    const wait = Math.max(0, this.tokens.expiresAt - Date.now() - EARLY_MS);
    this.timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  async login(tenant, email, password) {
    const pair = await this.raw("POST", "/auth/login", { tenant, email, password });
    this.keep(pair);
    return pair;
  }

  /** Rotates the tokens; concurrent callers share one refresh. */
  refresh() {
    if (!this.tokens) return Promise.reject(new ApiError(401, null));
    if (!this.refreshing) {
      const spent = this.tokens.refresh;
      this.refreshing = this.raw("POST", "/auth/refresh", { refresh_token: spent })
        .then((pair) => this.keep(pair))
        .catch((e) => {
          if (e.status === 401) this.ended();
          throw e;
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async token() {
    if (!this.tokens) throw new ApiError(401, null);
    if (this.tokens.expiresAt - Date.now() < EARLY_MS / 2) await this.refresh();
    return this.tokens.access;
  }

  async logout() {
    try {
      if (this.tokens) await this.request("POST", "/auth/logout");
    } finally {
      this.forget();
    }
  }

  ended() {
    if (!this.tokens) return;
    this.forget();
    this.onSignedOut();
  }

  /**
   * An authenticated call; an expired token is refreshed and the call made again.
   * With `type`, `body` goes as it is (a file) under that content type, not as JSON.
   */
  async request(method, path, body, type) {
    const go = async () => this.raw(method, path, body, await this.token(), type);
    try {
      return await go();
    } catch (e) {
      if (e.status === 401 && e.code === "token_expired") {
        await this.refresh();
        return go();
      }
      if (e.status === 401) this.ended();
      throw e;
    }
  }

  get(path) {
    return this.request("GET", path);
  }
  post(path, body) {
    return this.request("POST", path, body ?? {});
  }
  put(path, body) {
    return this.request("PUT", path, body);
  }
  patch(path, body) {
    return this.request("PATCH", path, body);
  }
  del(path) {
    return this.request("DELETE", path);
  }
  /** Sends a file as the body (such as a module's `.wasm`). */
  upload(path, blob, type) {
    return this.request("POST", path, blob, type);
  }

  async raw(method, path, body, token, type) {
    const headers = { accept: "application/json" };
    if (type) headers["content-type"] = type;
    else if (body !== undefined) headers["content-type"] = "application/json";
    if (token) headers.authorization = "Bearer " + token;
    let resp;
    try {
      resp = await fetch(BASE + path, {
        method,
        headers,
        body: body === undefined ? undefined : type ? body : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, null);
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!resp.ok) {
      const after = Number(resp.headers.get("retry-after")) || undefined;
      throw new ApiError(resp.status, data, after);
    }
    return data;
  }
}

/**
 * Shows an ApiError on a form: each field's message in the element named by
 * `[data-error-for=field]`, the rest in `[data-error-for=form]`. `text` maps a code to
 * the sentence shown (the page's i18n); the server's message is the fallback.
 */
export function showErrors(form, error, text) {
  for (const el of form.querySelectorAll("[data-error-for]")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  if (!error) return;
  let rest = text(error) || error.message;
  for (const [field, message] of Object.entries(error.fields || {})) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (slot) {
      slot.textContent = message;
      const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
      if (rest === error.message) rest = "";
    }
  }
  const general = form.querySelector('[data-error-for="form"]');
  if (general) general.textContent = rest;
}
