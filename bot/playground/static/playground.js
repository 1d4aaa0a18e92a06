// The playground page: shows the stand-in's workspace as Slack's client does (Block Kit,
// threads, ephemeral messages, modals, the App Home) and sends what people do to the
// stand-in, which turns it into the signed requests Slack sends the bot.
"use strict";

const EMOJI = {
  warning: "⚠️", no_entry_sign: "🚫", white_check_mark: "✅", x: "❌",
  hourglass_flowing_sand: "⏳", hourglass: "⌛", arrows_counterclockwise: "🔄",
  heavy_minus_sign: "➖", double_vertical_bar: "⏸️", tada: "🎉", mag: "🔍",
  information_source: "ℹ️", grey_question: "❔", bell: "🔔", test_tube: "🧪",
  heavy_check_mark: "✔️", memo: "📝", lock: "🔒", eyes: "👀", clock3: "🕒",
};

const page = {
  me: localStorage.getItem("playground-user") || "",
  nav: "channel", // channel | home | messages
  thread: null, // ts of the open thread's parent
  version: -1,
  data: null,
  hidden: new Set(), // ephemeral messages dismissed
  modalErrors: {},
  modalValues: {}, // view id → values typed so far (kept across redraws)
};

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// -- mrkdwn ------------------------------------------------------------------------------

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function unescapeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userName(id) {
  if (!page.data) return id;
  if (id === page.data.bot.id) return page.data.bot.name;
  const user = page.data.users.find((u) => u.id === id);
  return user ? user.name : id;
}

function formatInline(html) {
  return html
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(>])\*([^*\n]+)\*(?=$|[\s).,:;!?<])/g, "$1<b>$2</b>")
    .replace(/(^|[\s(>])_([^_\n]+)_(?=$|[\s).,:;!?<])/g, "$1<i>$2</i>")
    .replace(/(^|[\s(>])~([^~\n]+)~(?=$|[\s).,:;!?<])/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

function renderTag(inner) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const mine = id === page.me ? " me" : "";
    return `<span class="mention${mine}" data-user="${escapeHtml(id)}">@${escapeHtml(label || userName(id))}</span>`;
  }
  if (target.startsWith("#")) {
    const name = label || (page.data && target.slice(1) === page.data.channel.id ? page.data.channel.name : target.slice(1));
    return `<span class="mention">#${escapeHtml(name)}</span>`;
  }
  if (target.startsWith("!date^")) {
    const [, epoch, format] = target.split("^");
    return `<time class="date">${escapeHtml(slackDate(Number(epoch), format || "", label || ""))}</time>`;
  }
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0];
    return `<span class="mention">@${escapeHtml(label || special)}</span>`;
  }
  const url = unescapeSlack(target);
  const safe = /^(https?:|mailto:)/i.test(url) ? url : "#";
  // The bot's permalinks point into this page (#/archives/…): they open the thread here.
  const here = safe.startsWith(`${location.origin}/#`);
  return `<a href="${escapeHtml(safe)}"${here ? "" : ' target="_blank" rel="noopener"'}>${escapeHtml(unescapeSlack(label || target))}</a>`;
}

// <!date^EPOCH^FORMAT|fallback>: the tokens Slack replaces, in the reader's time zone.
function slackDate(epoch, format, fallback) {
  if (!Number.isFinite(epoch)) return fallback;
  const date = new Date(epoch * 1000);
  const day = (d) => d.toDateString();
  const now = new Date();
  const yesterday = new Date(now.getTime() - 86400000);
  const pretty = day(date) === day(now) ? "Today" : day(date) === day(yesterday) ? "Yesterday" : null;
  const short = date.toLocaleDateString("en-US", { month: "short", day: "numeric", year: "numeric" });
  const long = date.toLocaleDateString("en-US", { month: "long", day: "numeric", year: "numeric" });
  const tokens = {
    date_num: date.toISOString().slice(0, 10),
    date: long,
    date_short: short,
    date_long: date.toLocaleDateString("en-US", { weekday: "long", month: "long", day: "numeric", year: "numeric" }),
    date_pretty: pretty || long,
    date_short_pretty: pretty || short,
    date_long_pretty: pretty || long,
    time: date.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }),
    time_secs: date.toLocaleTimeString("en-US"),
  };
  return format.replace(/\{(\w+)\}/g, (whole, name) => tokens[name] || whole);
}

// Slack's mrkdwn: links and mentions in <…>, *bold*, _italic_, ~strike~, `code`, ```blocks```,
// > quotes, :emoji:. The text arrives with &, < and > escaped as Slack requires.
function mrkdwn(text) {
  const out = [];
  const parts = String(text || "").split(/```/);
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      out.push(`<pre>${escapeHtml(unescapeSlack(part.replace(/^\n/, "")))}</pre>`);
      return;
    }
    const lines = part.split("\n").map((line) => {
      let quoted = false;
      if (line.startsWith("&gt;") || line.startsWith(">")) {
        quoted = true;
        line = line.replace(/^(&gt;|>) ?/, "");
      }
      let html = "";
      let rest = line;
      const tag = /<([^<>]+)>/;
      let match;
      while ((match = tag.exec(rest))) {
        html += formatInline(escapeHtml(unescapeSlack(rest.slice(0, match.index)))) + renderTag(match[1]);
        rest = rest.slice(match.index + match[0].length);
      }
      html += formatInline(escapeHtml(unescapeSlack(rest)));
      return quoted ? `<blockquote>${html}</blockquote>` : html;
    });
    out.push(lines.join("<br>").replace(/<\/blockquote><br><blockquote>/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>"));
  });
  return out.join("");
}

function textObject(object) {
  if (!object) return el("span");
  if (object.type === "mrkdwn") return el("span", { class: "mrkdwn", html: mrkdwn(object.text) });
  return el("span", { class: "plain" }, object.text || "");
}

function plain(object) {
  return object ? object.text || "" : "";
}

// -- Block Kit ---------------------------------------------------------------------------

// `source` says where an element lives: {channel, ts} for a message, {view_id} for a view.
function renderBlocks(blocks, source) {
  return el("div", { class: "blocks" }, (blocks || []).map((block) => renderBlock(block, source)));
}

function renderBlock(block, source) {
  const id = block.block_id || "";
  switch (block.type) {
    case "header":
      return el("div", { class: "block block-header", "data-block-id": id }, plain(block.text));
    case "divider":
      return el("hr", { class: "block-divider", "data-block-id": id });
    case "section": {
      const main = el("div", { class: "section-main" });
      if (block.text) main.append(textObject(block.text));
      if (block.fields) main.append(el("div", { class: "fields" }, block.fields.map(textObject)));
      const accessory = block.accessory ? renderElement(block.accessory, id, source) : null;
      return el("div", { class: "block block-section", "data-block-id": id }, main, accessory);
    }
    case "context":
      return el("div", { class: "block block-context", "data-block-id": id },
        (block.elements || []).map((element) => element.type === "image"
          ? el("img", { src: element.image_url, alt: element.alt_text || "" })
          : textObject(element)));
    case "actions":
      return el("div", { class: "block block-actions", "data-block-id": id },
        (block.elements || []).map((element) => renderElement(element, id, source)));
    case "image":
      return el("div", { class: "block block-image", "data-block-id": id },
        el("img", { src: block.image_url, alt: block.alt_text || "" }));
    case "input":
      return renderInput(block, source);
    default:
      return el("div", { class: "block" }, block.text ? textObject(block.text) : "");
  }
}

function renderElement(element, blockId, source) {
  if (element.type === "button") {
    return el("button", {
      class: `btn ${element.style || ""}`,
      type: "button",
      "data-action-id": element.action_id,
      onclick: (event) => {
        if (element.url) window.open(element.url, "_blank", "noopener");
        if (!element.action_id) return;
        const send = () => act(source, { type: "button", block_id: blockId, action_id: element.action_id }, event.target);
        if (element.confirm) confirmThen(element.confirm, send); else send();
      },
    }, plain(element.text));
  }
  if (element.type === "static_select" || element.type === "radio_buttons" || element.type === "overflow") {
    const select = el("select", { "data-action-id": element.action_id },
      el("option", { value: "" }, plain(element.placeholder) || "Select…"),
      (element.options || []).map((option) => el("option", { value: option.value }, plain(option.text))));
    select.addEventListener("change", () => {
      const option = (element.options || []).find((o) => o.value === select.value);
      if (option) act(source, { type: element.type, block_id: blockId, action_id: element.action_id, selected_option: option });
    });
    return select;
  }
  if (element.type === "image") return el("img", { src: element.image_url, alt: element.alt_text || "", width: 64 });
  return el("span", {}, `[${element.type}]`);
}

function renderInput(block, source) {
  const id = block.block_id;
  const element = block.element || {};
  const values = (page.modalValues[source.view_id] ||= {});
  const saved = values[id];
  const error = (page.modalErrors[source.view_id] || {})[id];
  const label = el("label", { for: `input-${id}` }, plain(block.label),
    block.optional ? el("span", { class: "optional" }, " (optional)") : null);
  let control;
  const remember = (value) => { values[id] = value; };
  if (element.type === "plain_text_input") {
    const attrs = {
      id: `input-${id}`, "data-block-id": id, "data-action-id": element.action_id,
      placeholder: plain(element.placeholder), maxlength: element.max_length,
      oninput: (event) => remember(event.target.value),
    };
    control = element.multiline ? el("textarea", attrs) : el("input", { ...attrs, type: "text" });
    control.value = saved !== undefined ? saved : element.initial_value || "";
  } else if (element.type === "static_select") {
    control = el("select", {
      id: `input-${id}`, "data-block-id": id, "data-action-id": element.action_id,
      onchange: (event) => remember(event.target.value),
    }, el("option", { value: "" }, plain(element.placeholder) || "Select an item"),
    (element.options || []).map((option) => el("option", { value: option.value }, plain(option.text))));
    control.value = saved !== undefined ? saved : (element.initial_option || {}).value || "";
  } else if (element.type === "radio_buttons" || element.type === "checkboxes") {
    const kind = element.type === "radio_buttons" ? "radio" : "checkbox";
    const chosen = saved !== undefined ? saved : (element.initial_option || {}).value;
    control = el("div", { id: `input-${id}`, "data-block-id": id, "data-action-id": element.action_id },
      (element.options || []).map((option) => el("label", { class: "radio-option" },
        el("input", {
          type: kind, name: `input-${id}`, value: option.value, checked: option.value === chosen,
          onchange: (event) => remember(event.target.value),
        }), plain(option.text))));
  } else {
    control = el("div", {}, `[${element.type}]`);
  }
  return el("div", { class: `input-block${error ? " has-error" : ""}`, "data-block-id": id },
    label, control,
    block.hint ? el("div", { class: "hint" }, plain(block.hint)) : null,
    error ? el("div", { class: "error", role: "alert" }, error) : null);
}

// The state of a modal's inputs, as Slack sends it in view.state.values.
function inputValues(view) {
  const typed = page.modalValues[view.id] || {};
  const values = {};
  for (const block of view.blocks || []) {
    if (block.type !== "input") continue;
    const element = block.element || {};
    const value = typed[block.block_id] !== undefined ? typed[block.block_id]
      : element.initial_value || (element.initial_option || {}).value || "";
    let state;
    if (element.type === "plain_text_input") {
      state = { type: element.type, value: value === "" ? null : value };
    } else {
      const option = (element.options || []).find((o) => o.value === value);
      state = { type: element.type, selected_option: option || null };
    }
    values[block.block_id] = { [element.action_id]: state };
  }
  return values;
}

function missingInputs(view) {
  const errors = {};
  const values = inputValues(view);
  for (const block of view.blocks || []) {
    if (block.type !== "input" || block.optional) continue;
    const state = values[block.block_id][(block.element || {}).action_id];
    if (!state.value && !state.selected_option) errors[block.block_id] = "Please complete this required field.";
  }
  return errors;
}

// -- talking to the stand-in -------------------------------------------------------------

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  await refresh();
  return answer;
}

async function act(source, action, button) {
  if (button) button.disabled = true;
  const body = { user: page.me, action, ...source };
  if (source.view_id) {
    const view = currentView(source.view_id);
    if (view) body.values = inputValues(view);
  }
  const answer = await call("/play/action", body);
  if (button) button.disabled = false;
  if (!answer.ok) showComposerError(answer.error || "That did not work.");
}

function currentView(viewId) {
  const data = page.data;
  if (!data) return null;
  if (data.modal && data.modal.id === viewId) return data.modal;
  if (data.home && data.home.id === viewId) return data.home;
  return null;
}

function confirmThen(confirm, then) {
  const overlay = $("#overlay");
  const close = () => { overlay.hidden = true; overlay.replaceChildren(); render(); };
  const dialog = el("div", { class: "dialog confirm-dialog", id: "confirm-dialog", role: "dialog" },
    el("header", {}, el("span", {}, plain(confirm.title) || "Are you sure?")),
    el("div", { class: "dialog-body" }, textObject(confirm.text)),
    el("footer", {},
      el("button", { class: "btn", id: "confirm-deny", onclick: close }, plain(confirm.deny) || "Cancel"),
      el("button", {
        class: `btn ${confirm.style || "primary"}`, id: "confirm-ok",
        onclick: () => { close(); then(); },
      }, plain(confirm.confirm) || "Yes")));
  overlay.replaceChildren(dialog);
  overlay.hidden = false;
}

function showComposerError(text) {
  $("#composer-error").textContent = text;
}

async function refresh() {
  if (!page.me) return;
  const response = await fetch(`/play/state?user=${encodeURIComponent(page.me)}&since=${page.version}`);
  if (!response.ok) return;
  const data = await response.json();
  if (data.unchanged) return;
  page.data = data;
  page.version = data.version;
  render();
}

// -- drawing -----------------------------------------------------------------------------

function time(ts) {
  const date = new Date(parseFloat(ts.split(".")[0]) * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function renderMessage(message, { inThread = false } = {}) {
  const data = page.data;
  const fromBot = message.user === data.bot.id;
  const replies = data.messages.filter((m) => m.thread_ts === message.ts && m.ts !== message.ts && m.channel === message.channel);
  const body = el("div", { class: "msg-body" },
    el("div", { class: "meta" },
      el("span", { class: "name" }, userName(message.user)),
      fromBot ? el("span", { class: "app-label" }, "APP") : null,
      el("time", {}, time(message.ts)),
      message.edited ? el("span", { class: "edited" }, "(edited)") : null),
    message.blocks.length
      ? renderBlocks(message.blocks, { channel: message.channel, ts: message.ts })
      : el("div", { class: "mrkdwn", html: mrkdwn(message.text) }));
  if (message.ephemeral) {
    body.append(el("div", { class: "ephemeral-note" }, "👁 Only visible to you · ",
      el("a", { onclick: () => { page.hidden.add(message.ts); render(); } }, "Dismiss message")));
  }
  if (!inThread && replies.length) {
    body.append(el("div", {
      class: "thread-summary", "data-thread": message.ts,
      onclick: () => openThread(message.ts),
    }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`));
  }
  return el("div", {
    class: `message${message.ephemeral ? " ephemeral" : ""}`,
    "data-ts": message.ts, "data-channel": message.channel,
  }, el("div", { class: `avatar${fromBot ? "" : " person"}` }, fromBot ? "CO" : userName(message.user).slice(0, 2)), body);
}

function openThread(ts) {
  page.thread = ts;
  render();
}

function render() {
  const data = page.data;
  if (!data) return;
  $("#team-name").textContent = data.team;
  $("#sandbox-note").textContent = data.sandbox_note ? `${data.sandbox_note}: Slack and SOGET are stand-ins.` : "";
  renderUsers();
  document.querySelectorAll("[data-nav]").forEach((node) => {
    const active = node.dataset.nav === page.nav || (node.id === "nav-app" && page.nav !== "channel");
    node.classList.toggle("active", active);
  });
  const inChannel = page.nav === "channel";
  $("#main-title").textContent = inChannel ? `# ${data.channel.name}` : data.bot.name;
  $("#app-tabs").hidden = inChannel;
  $("#composer").hidden = page.nav === "home" || page.nav === "messages";
  $("#readonly-note").hidden = page.nav !== "messages";
  const timeline = $("#timeline");
  const keepBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
  if (page.nav === "home") {
    timeline.replaceChildren(data.home
      ? el("div", { class: "home", id: "home" }, renderBlocks(data.home.blocks, { view_id: data.home.id }))
      : el("div", { class: "empty" }, "Opening the Home tab…"));
  } else {
    const channel = inChannel ? data.channel.id : data.me;
    const shown = data.messages.filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts) && !page.hidden.has(m.ts));
    timeline.replaceChildren(...(shown.length ? shown.map((m) => renderMessage(m))
      : [el("div", { class: "empty" }, inChannel ? "No messages yet: type a command below." : "No messages from the app yet.")]));
  }
  if (keepBottom) timeline.scrollTop = timeline.scrollHeight;
  renderThread();
  renderModal();
}

function renderUsers() {
  const data = page.data;
  $("#user-switcher").replaceChildren(...data.users.map((user) => el("a", {
    class: `user-chip${user.id === page.me ? " active" : ""}`, "data-user": user.id, href: "#",
    onclick: (event) => { event.preventDefault(); switchUser(user.id); },
  }, el("span", { class: "dot" }), user.name, el("small", {}, `${user.role} · ${user.id}`))));
}

function renderThread() {
  const pane = $("#thread-pane");
  const data = page.data;
  const parent = page.thread && data.messages.find((m) => m.ts === page.thread);
  if (!parent || page.nav === "home") { pane.hidden = true; return; }
  pane.hidden = false;
  $("#thread-channel").textContent = parent.channel === data.channel.id ? `# ${data.channel.name}` : "";
  const replies = data.messages.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts && m.channel === parent.channel && !page.hidden.has(m.ts));
  $("#thread-body").replaceChildren(
    renderMessage(parent, { inThread: true }),
    el("div", { class: "reply-count" }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`),
    ...replies.map((m) => renderMessage(m, { inThread: true })));
}

function renderModal() {
  const overlay = $("#overlay");
  if (overlay.querySelector("#confirm-dialog")) return; // a confirm dialog is up
  const view = page.data.modal;
  if (!view) { page.modalKey = null; overlay.hidden = true; overlay.replaceChildren(); return; }
  // Redraw only when the view or its errors changed: typing must not be disturbed.
  const key = JSON.stringify([view, page.modalErrors[view.id] || {}]);
  if (key === page.modalKey && overlay.querySelector("#modal")) return;
  page.modalKey = key;
  const focused = document.activeElement && document.activeElement.id;
  const closeModal = () => call("/play/close", { user: page.me, view_id: view.id });
  const dialog = el("div", { class: "dialog", id: "modal", role: "dialog", "data-view-id": view.id },
    el("header", {}, el("span", {}, plain(view.title)), el("button", { title: "Close", onclick: closeModal }, "✕")),
    el("div", { class: "dialog-body" }, renderBlocks(view.blocks, { view_id: view.id })),
    el("footer", {},
      el("button", { class: "btn", id: "modal-close", onclick: closeModal }, plain(view.close) || "Cancel"),
      view.submit ? el("button", {
        class: "btn primary", id: "modal-submit",
        onclick: async () => {
          const missing = missingInputs(view);
          if (Object.keys(missing).length) { page.modalErrors[view.id] = missing; renderModal(); return; }
          page.modalErrors[view.id] = {};
          const answer = await call("/play/submit", { user: page.me, view_id: view.id, values: inputValues(view) });
          if (answer.errors) { page.modalErrors[view.id] = answer.errors; renderModal(); }
          else if (!answer.ok) showComposerError(answer.error || "That did not work.");
        },
      }, plain(view.submit)) : null));
  overlay.replaceChildren(dialog);
  overlay.hidden = false;
  if (focused) { const again = document.getElementById(focused); if (again) again.focus(); }
}

function switchUser(id) {
  page.me = id;
  localStorage.setItem("playground-user", id);
  page.version = -1;
  page.hidden.clear();
  showComposerError("");
  if (page.nav === "home") call("/play/home", { user: page.me });
  refresh();
}

function navigate(where) {
  page.nav = where;
  if (where === "home") call("/play/home", { user: page.me });
  render();
}

// Permalinks the bot shows point at #/archives/CHANNEL/pTS: open that message's thread.
function followHash() {
  const match = /^#\/archives\/([^/]+)\/p(\d+)(\d{6})$/.exec(location.hash);
  if (!match) return;
  const ts = `${match[2]}.${match[3]}`;
  page.nav = match[1].startsWith("U") ? "messages" : "channel";
  openThread(ts);
}

document.addEventListener("DOMContentLoaded", async () => {
  const state = await (await fetch(`/play/state?user=${encodeURIComponent(page.me || "U0PLAYREQ1")}`)).json().catch(() => null);
  if (state && !state.users.some((u) => u.id === page.me)) page.me = state.users[0].id;
  document.querySelectorAll("[data-nav]").forEach((node) => node.addEventListener("click", (event) => {
    event.preventDefault();
    navigate(node.dataset.nav);
  }));
  $("#thread-close").addEventListener("click", () => { page.thread = null; render(); });
  $("#composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#composer-input");
    const text = input.value.trim();
    if (!text) return;
    showComposerError("");
    if (!text.startsWith("/")) { showComposerError("This playground only sends slash commands: try /cancel-order CDE0000000001 customer asked"); return; }
    input.value = "";
    const answer = await call("/play/command", { user: page.me, text, channel: page.data.channel.id });
    if (!answer.ok) showComposerError(answer.error);
  });
  window.addEventListener("hashchange", followHash);
  await refresh();
  followHash();
  setInterval(refresh, 400);
});
