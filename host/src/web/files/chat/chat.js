'use strict';
(() => {
const zh = /^zh\b/i.test(navigator.language || '');
const T = zh ? {
  title: '在线客服', connecting: '正在连接…', online: '在线', offline: '离线', unavailable: '不可用',
  reconnecting: '连接已断开，正在重新连接…', gone: '该客服入口不存在', goneText: '链接可能有误，或该入口已停用。',
  welcome: '您好！', welcomeText: '有什么可以帮您？直接发送消息即可。', messages: '消息记录', input: '消息',
  placeholder: '输入消息…', placeholderEnded: '发送消息即可开始新的会话', send: '发送', hint: '按 Enter 发送，Shift+Enter 换行',
  sending: '发送中…', sent: '已发送', failed: '发送失败', retry: '重试', newMsgs: '有新消息 ↓',
  visitor: '访客', bot: '智能助手', agent: '客服', nameAsk: '怎么称呼您？（选填）', namePh: '您的称呼', save: '好的', dismiss: '关闭',
  today: '今天', yesterday: '昨天', tooLong: '消息过长', error: '出错了，请稍后再试',
  queued: '正在为您排队，请稍候…', offered: '正在为您转接人工客服…', with_agent: '人工客服已接入',
  survey: '请对本次服务进行评价', ended: '会话已结束', restarted: '新的会话已开始', hQueued: '排队中', hAgent: '人工客服服务中',
  custom: '[自定义消息]', TIMImageElem: '[图片]', TIMFileElem: '[文件]', TIMSoundElem: '[语音]',
  TIMVideoFileElem: '[视频]', TIMLocationElem: '[位置]', TIMFaceElem: '[表情]', other: '[消息]',
} : {
  title: 'Customer service', connecting: 'Connecting…', online: 'Online', offline: 'Offline', unavailable: 'Unavailable',
  reconnecting: 'Connection lost. Reconnecting…', gone: 'This chat does not exist', goneText: 'The link may be wrong, or this chat has been switched off.',
  welcome: 'Hi there!', welcomeText: 'How can we help you today? Just send us a message.', messages: 'Messages', input: 'Message',
  placeholder: 'Type a message…', placeholderEnded: 'Send a message to start a new conversation', send: 'Send', hint: 'Enter to send, Shift+Enter for a new line',
  sending: 'Sending…', sent: 'Sent', failed: 'Not sent', retry: 'Retry', newMsgs: 'New messages ↓',
  visitor: 'Visitor', bot: 'Assistant', agent: 'Agent', nameAsk: 'What should we call you? (optional)', namePh: 'Your name', save: 'OK', dismiss: 'Dismiss',
  today: 'Today', yesterday: 'Yesterday', tooLong: 'Message is too long', error: 'Something went wrong, please try again',
  queued: 'You are in the queue for an agent…', offered: 'Connecting you to an agent…', with_agent: 'An agent has joined the conversation',
  survey: 'Please rate this conversation', ended: 'The conversation has ended', restarted: 'A new conversation has started', hQueued: 'Waiting in queue', hAgent: 'Chatting with an agent',
  custom: '[Custom message]', TIMImageElem: '[Image]', TIMFileElem: '[File]', TIMSoundElem: '[Voice message]',
  TIMVideoFileElem: '[Video]', TIMLocationElem: '[Location]', TIMFaceElem: '[Sticker]', other: '[Message]',
};
const MAX = 2000, WARN_AT = 1800, ACK_MS = 10000, PING_MS = 25000, DEAD_MS = 65000;
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text != null) n.textContent = text;
  return n;
};
const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { /* storage off: this tab only */ } },
};
const randomId = () => {
  if (crypto.randomUUID) return crypto.randomUUID().replace(/-/g, '');
  // randomUUID needs a secure context; a demo served over plain http still gets a v4-shaped id.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
};

// The page is <prefix>/chat/<channel_id>[/]; building URLs from it keeps working behind a path prefix.
const base = location.pathname.replace(/\/+$/, '');
const channelId = (() => { const seg = base.slice(base.lastIndexOf('/') + 1); try { return decodeURIComponent(seg); } catch { return seg; } })();
// The visitor's secret: only this browser holds it, and the server only ever shows an
// account derived from it. A site that embeds the chat for its signed-in users passes
// its identity token in the fragment (#identity=…), which never reaches a server log.
const tokenKey = `kefu.visitor-token.${channelId}`;
const randomToken = () => {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
let token = store.get(tokenKey);
if (!/^[A-Za-z0-9_-]{43,128}$/.test(token || '')) { token = randomToken(); store.set(tokenKey, token); }
const identity = new URLSearchParams(location.hash.slice(1)).get('identity') || null;
if (identity) history.replaceState(null, '', location.pathname + location.search);
// A site whose user signs in while the chat is open hands the new token the same way.
addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).get('identity')) location.reload();
});
const queryName = (new URLSearchParams(location.search).get('nickname') || '').trim().slice(0, 32);
let nickname = queryName || store.get('kefu.nickname') || '';

const log = $('log'), input = $('input'), sendBtn = $('send'), pill = $('pill'), statusEl = $('status');
document.documentElement.lang = zh ? 'zh-CN' : 'en';
for (const n of document.querySelectorAll('[data-t]')) n.textContent = T[n.dataset.t];
for (const n of document.querySelectorAll('[data-ph]')) n.placeholder = T[n.dataset.ph];
for (const n of document.querySelectorAll('[data-aria]')) n.setAttribute('aria-label', T[n.dataset.aria]);

// ---- conversation -------------------------------------------------------
// `order` is the log top to bottom: stored messages, the visitor's messages not yet
// stored, and local status notes. Records keep their DOM node so re-layout only moves nodes.
const order = [], byId = new Map(), byClient = new Map(), days = new Map();
let status = null, sessionId = null, conn = 'connecting';

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric' });
const oldDateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
const toDate = (at) => { const d = new Date(at); return Number.isNaN(d.getTime()) ? new Date() : d; };
const now = () => new Date().toISOString();

function dayLabel(d) {
  const today = new Date();
  if (dayKey(d) === dayKey(today)) return T.today;
  today.setDate(today.getDate() - 1);
  if (dayKey(d) === dayKey(today)) return T.yesterday;
  return (d.getFullYear() === today.getFullYear() ? dateFmt : oldDateFmt).format(d);
}

function linkify(parent, text) {
  const re = /https?:\/\/[^\s<>"'`]+/gi;
  let last = 0, m;
  while ((m = re.exec(text))) {
    // Punctuation that ends a sentence is rarely part of the link.
    const url = m[0].replace(/[.,;:!?)\]}'"，。；：！？）」』、]+$/, '');
    try { if (!/^https?:$/.test(new URL(url).protocol)) continue; } catch { continue; }
    parent.append(text.slice(last, m.index));
    const a = el('a', '', url);
    a.href = url; a.target = '_blank'; a.rel = 'noopener noreferrer';
    parent.append(a);
    re.lastIndex = last = m.index + url.length;
  }
  parent.append(text.slice(last));
  return parent;
}

const placeholder = (e) => (e.type === 'custom' ? e.desc || T.custom : T[e.msg_type] || T.other);
const summary = (r) => (r.elements.length
  ? r.elements.map((e) => (e.type === 'text' ? e.text : e.type === 'menu' ? e.title : placeholder(e))).join(' ')
  : r.text);
const senderName = (r) => r.sender_name || (r.sender === 'agent' ? T.agent : r.sender === 'bot' ? T.bot : $('title').textContent);
const contentKey = (m) => JSON.stringify([m.text || '', m.elements || []]);

function fillBubble(r) {
  const b = r.bubble;
  b.replaceChildren();
  r.menus = [];
  if (r.pick) { b.append(el('span', 'pick', r.pick.n), r.pick.label); return; }
  if (!r.elements.length) { linkify(b, r.text); return; }
  for (const e of r.elements) {
    if (e.type === 'text') b.append(linkify(el('p'), e.text || ''));
    else if (e.type === 'menu') b.append(buildMenu(r, e));
    else b.append(el('p', 'ph', placeholder(e)));
  }
}

function buildMenu(r, e) {
  const box = el('div');
  if (e.title) box.append(linkify(el('p'), e.title));
  const list = el('div', 'choices');
  list.setAttribute('role', 'group');
  if (e.title) list.setAttribute('aria-label', e.title);
  // Menus are answered by the choice's 1-based number, as an IM user would type it.
  r.menus.push((e.choices || []).map((c, i) => {
    const btn = el('button', 'choice');
    btn.type = 'button';
    btn.append(el('span', 'num', `${i + 1}.`), el('span', '', c.label));
    btn.addEventListener('click', (ev) => {
      sendText(String(i + 1));
      // The button is disabled by the answer; a keyboard user continues in the input.
      if (ev.detail === 0) input.focus();
    });
    list.append(btn);
    return { btn, label: c.label };
  }));
  box.append(list);
  return box;
}

function buildNode(r) {
  if (r.sender === 'system') {
    r.node = el('div', 'note');
    r.node.append(linkify(el('span'), summary(r)));
    return r;
  }
  r.node = el('div', `row ${r.direction}`);
  if (r.direction === 'out') r.node.append(r.who = el('div', 'who'));
  r.node.append(r.bubble = el('div', 'bubble'), r.meta = el('div', 'meta'));
  fillBubble(r);
  renderMeta(r);
  return r;
}

function renderMeta(r) {
  if (!r.meta) return;
  const t = el('time', '', timeFmt.format(toDate(r.at)));
  t.dateTime = r.at;
  r.meta.replaceChildren(t);
  r.node.classList.toggle('failed', r.state === 'failed');
  if (r.state === 'sending') r.meta.append(el('span', '', T.sending));
  else if (r.state === 'sent') {
    const s = el('span', '', '✓');
    s.title = T.sent; s.setAttribute('aria-label', T.sent);
    r.meta.append(s);
  } else if (r.state === 'failed') {
    const retry = el('button', '', T.retry);
    retry.type = 'button';
    retry.addEventListener('click', () => { transmit(r); input.focus(); });
    r.meta.append(el('span', 'fail', r.error ? `${T.failed}: ${r.error}` : T.failed), retry);
  }
}

// Finds the record a stored message belongs to (by id, or by client_id for our own
// pending bubble) and brings it up to date; creates it when it is new.
function upsert(m) {
  let r = byId.get(m.id) || (m.client_id && byClient.get(m.client_id));
  const added = !r;
  if (added) {
    r = { client_id: m.client_id || null, direction: m.direction === 'in' ? 'in' : 'out', sender: m.sender, sender_name: m.sender_name };
  }
  if (r.id !== m.id) { r.id = m.id; byId.set(m.id, r); }
  if (r.client_id) byClient.set(r.client_id, r);
  r.at = m.at || r.at || now();
  if (r.direction === 'in' && r.state !== 'sent') setState(r, 'sent');
  const key = contentKey(m);
  if (key !== r.key) {
    Object.assign(r, { key, text: m.text || '', elements: Array.isArray(m.elements) ? m.elements : [] });
    if (!added) fillBubble(r);
  }
  if (added) buildNode(r); else renderMeta(r);
  return { r, added };
}

function setState(r, state, error = null) {
  clearTimeout(r.timer);
  Object.assign(r, { state, error });
  renderMeta(r);
}

function addLive(m) {
  const { r, added } = upsert(m);
  if (added) {
    // Another tab of the same visitor may have sent this: keep our unsent bubbles last.
    const i = order.findIndex((x) => x.state === 'sending' && !x.id);
    order.splice(i < 0 ? order.length : i, 0, r);
    if (r.direction === 'out') announce(`${senderName(r)}: ${summary(r)}`);
  }
  layout({ incoming: added && r.direction === 'out' });
}

function mergeHistory(list) {
  let at = -1;
  for (const m of list) {
    const { r, added } = upsert(m);
    if (added) {
      if (at < 0) {
        // The first unknown message goes after the last stored one that is not newer.
        const t = toDate(r.at);
        at = order.reduce((p, x, i) => (x.id && toDate(x.at) <= t ? i + 1 : p), 0);
      }
      order.splice(at, 0, r);
    }
    at = order.indexOf(r) + 1;
  }
  layout({});
}

function addNote(text) {
  const r = { at: now(), node: el('div', 'note') };
  r.node.append(el('span', '', text));
  order.push(r);
  announce(text);
  layout({ incoming: true });
}

function announce(text) {
  const live = $('announce');
  live.append(el('div', '', text));
  while (live.childNodes.length > 3) live.firstChild.remove();
}

// One pass over `order` decides day separators, sender labels and which menu is live,
// then moves only the nodes that are out of place (so focus and scroll survive).
function layout({ incoming = false, own = false }) {
  const stick = own || nearBottom();
  const want = [];
  let lastDay = null, prevWho = null, menu = null;
  for (const r of order) {
    const d = toDate(r.at), k = dayKey(d);
    if (k !== lastDay) {
      if (!days.has(k)) { const sep = el('div', 'day'); sep.append(el('span')); days.set(k, sep); }
      const sep = days.get(k);
      sep.firstChild.textContent = dayLabel(d);
      want.push(sep);
      lastDay = k; prevWho = null;
    }
    want.push(r.node);
    if (!r.bubble) { prevWho = null; continue; }
    if (r.direction === 'in') {
      // A bare number right after a menu answered it: show the label it picked.
      const n = /^\s*(\d{1,3})\s*$/.exec(r.text);
      const choice = menu && n ? menu.choices[Number(n[1]) - 1] : null;
      if (choice) choice.btn.classList.add('chosen');
      if (choice?.label !== r.pick?.label) {
        r.pick = choice ? { n: n[1], label: choice.label } : null;
        fillBubble(r);
      }
      if (menu) { setMenu(menu.r, false); menu = null; }
      prevWho = null;
      continue;
    }
    const who = senderName(r);
    r.who.textContent = who;
    r.who.hidden = who === prevWho;
    r.node.classList.toggle('first', who !== prevWho);
    prevWho = who;
    if (r.menus.length) {
      // Only the newest unanswered menu stays clickable: a number answers the latest prompt.
      if (menu) setMenu(menu.r, false);
      menu = { r, choices: r.menus[r.menus.length - 1] };
      setMenu(r, true);
    }
  }
  let cur = log.firstChild;
  for (const n of want) {
    if (cur === n) cur = cur.nextSibling;
    else log.insertBefore(n, cur);
  }
  while (cur) { const next = cur.nextSibling; cur.remove(); cur = next; }
  $('empty').hidden = order.length > 0;
  if (stick) scrollToEnd();
  else if (incoming) pill.hidden = false;
}

function setMenu(r, live) {
  for (const group of r.menus) for (const { btn } of group) btn.disabled = !live;
}

const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
  pill.hidden = true;
}
log.addEventListener('scroll', () => { if (nearBottom()) pill.hidden = true; });
pill.addEventListener('click', () => { scrollToEnd(); log.focus({ preventScroll: true }); });

// ---- sending ------------------------------------------------------------
const charCount = (s) => [...s].length;

function sendText(text) {
  const r = buildNode({ id: null, client_id: randomId(), direction: 'in', sender: 'user', at: now(), text, elements: [] });
  r.key = contentKey(r);
  byClient.set(r.client_id, r);
  order.push(r);
  transmit(r);
  layout({ own: true });
}

// Resending keeps the client_id, so the server stores the message at most once.
function transmit(r) {
  setState(r, 'sending');
  r.timer = setTimeout(() => fail(r), ACK_MS);
  if (ws?.ready) ws.send(JSON.stringify({ type: 'message', client_id: r.client_id, text: r.text }));
}

const fail = (r, error) => { if (r.state === 'sending') setState(r, 'failed', error); };

function refreshComposer() {
  const n = charCount(input.value), counter = $('counter');
  counter.hidden = n < WARN_AT;
  counter.textContent = `${n}/${MAX}`;
  counter.classList.toggle('over', n > MAX);
  counter.title = n > MAX ? T.tooLong : '';
  sendBtn.disabled = n > MAX || !input.value.trim();
  const stick = nearBottom();
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight + 2, 140)}px`;
  if (stick) log.scrollTop = log.scrollHeight;
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || charCount(text) > MAX) return;
  input.value = '';
  refreshComposer();
  sendText(text);
  input.focus();
});
input.addEventListener('input', refreshComposer);
input.addEventListener('keydown', (e) => {
  // While an IME is composing (pinyin), Enter picks a candidate and must not send.
  if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
  e.preventDefault();
  sendBtn.click();
});

// ---- optional name, asked once ------------------------------------------
const namebar = $('namebar');
namebar.hidden = Boolean(queryName || nickname || store.get('kefu.nickname.asked'));
function closeNamebar() {
  namebar.hidden = true;
  store.set('kefu.nickname.asked', '1');
  input.focus();
}
namebar.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('name').value.trim().slice(0, 32);
  closeNamebar();
  if (!name) return;
  nickname = name;
  store.set('kefu.nickname', name);
  // The server learns the name from the connection URL: reconnect quietly so it sees it now.
  if (ws) { const old = ws; ws = null; old.close(1000); connect(); }
});
$('name-close').addEventListener('click', closeNamebar);

// ---- connection -----------------------------------------------------------
let ws = null, attempt = 0, retryTimer = null, pingTimer = null, lastFrame = 0, stopped = false;

function setConn(c) {
  conn = c;
  $('banner').hidden = c !== 'reconnecting';
  $('banner').textContent = c === 'reconnecting' ? T.reconnecting : '';
  statusEl.dataset.conn = c;
  statusEl.textContent = c !== 'online' ? T[c === 'reconnecting' ? 'offline' : c]
    : status === 'with_agent' ? T.hAgent : status === 'queued' ? T.hQueued : T.online;
}

function connect() {
  clearTimeout(retryTimer);
  if (stopped || ws) return;
  const url = new URL(`${base}/ws`, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let s;
  try { s = new WebSocket(url); } catch { scheduleReconnect(); return; }
  ws = s;
  s.onopen = () => {
    s.send(JSON.stringify({ type: 'hello', token, identity, nickname: nickname || T.visitor }));
    lastFrame = Date.now();
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      // Silence longer than two pings (not even a pong) means a half-open connection.
      if (Date.now() - lastFrame > DEAD_MS) { s.close(); onClosed(s); } else s.send('{"type":"ping"}');
    }, PING_MS);
  };
  s.onmessage = (e) => {
    if (ws !== s) return;
    lastFrame = Date.now();
    let f;
    try { f = JSON.parse(e.data); } catch { return; }
    if (f && typeof f === 'object') handle(s, f);
  };
  s.onclose = () => onClosed(s);
}

function onClosed(s) {
  if (ws !== s) return;
  ws = null;
  clearInterval(pingTimer);
  if (!stopped) scheduleReconnect();
}

function scheduleReconnect() {
  setConn('reconnecting');
  const delay = Math.min(30000, 1000 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
  attempt = Math.min(attempt + 1, 5);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, Math.min(delay, 30000));
}

function reconnectNow() {
  if (stopped || ws) return;
  attempt = 0;
  connect();
}
window.addEventListener('online', reconnectNow);
document.addEventListener('visibilitychange', () => { if (!document.hidden) reconnectNow(); });

function handle(s, f) {
  if (f.type === 'ready') {
    s.ready = true;
    attempt = 0;
    applySession(f.session, false);
    setConn('online');
    // What was typed while offline goes out now.
    for (const r of order) if (r.state === 'sending') transmit(r);
  } else if (f.type === 'history' && Array.isArray(f.messages)) {
    mergeHistory(f.messages.filter((m) => m && m.id));
  } else if (f.type === 'message' && f.message && f.message.id) {
    addLive(f.message);
  } else if (f.type === 'ack') {
    const r = byClient.get(f.client_id);
    if (!r) return;
    if (f.message_id && r.id !== f.message_id) byId.set(r.id = f.message_id, r);
    setState(r, 'sent');
  } else if (f.type === 'session') {
    applySession(f.session, true);
  } else if (f.type === 'error') {
    const r = f.client_id && byClient.get(f.client_id);
    if (r) fail(r, f.message || null);
    else if (f.code === 'channel_not_found') showGone();
    else if (f.code === 'identity_required' || f.code === 'invalid_identity') { stopped = true; addNote(f.message || T.error); setConn('offline'); }
    else addNote(f.message || T.error);
  }
}

// `live` is false for the status in `ready`: a reload must not repeat old notes, but a
// change that happened while we were disconnected is still worth a line.
function applySession(s, live) {
  const prev = status, prevId = sessionId;
  status = s?.status || null;
  sessionId = s?.id || null;
  input.placeholder = status === 'ended' ? T.placeholderEnded : T.placeholder;
  if (conn === 'online') setConn('online');
  if (!live && prev === null) return;
  if (status === 'in_flow') {
    if (prevId && sessionId !== prevId) addNote(T.restarted);
  } else if (status && status !== prev && T[status]) addNote(T[status]);
}

function setTitle(name) {
  $('title').textContent = name;
  $('avatar').textContent = [...name.trim()][0] || '?';
  document.title = name;
}

function showGone() {
  stopped = true;
  clearTimeout(retryTimer);
  if (ws) { const old = ws; ws = null; old.close(1000); }
  setConn('unavailable');
  setTitle(T.title);
  for (const id of ['wrap', 'composer', 'namebar']) $(id).hidden = true;
  $('gone').hidden = false;
}

async function loadInfo() {
  for (let i = 1; i <= 5 && !stopped; i += 1) {
    try {
      const res = await fetch(`${base}/info`, { headers: { Accept: 'application/json' } });
      if (res.status === 404) { showGone(); return; }
      if (res.ok) { const info = await res.json(); if (info && info.name) setTitle(info.name); return; }
    } catch { /* offline: the reconnect banner already says so */ }
    await new Promise((ok) => setTimeout(ok, 2000 * i));
  }
}

setTitle(T.title);
input.placeholder = T.placeholder;
if (!channelId || channelId === 'chat') { showGone(); return; }
setConn('connecting');
refreshComposer();
layout({});
loadInfo();
connect();
})();
