// Renders messages into the log. A user's words are shown as text; model output as sanitised Markdown
// (markdown.js).

import * as api from "./api.js";
import { markdownView, copyText } from "./markdown.js";
import { offerReadAloud } from "./read-aloud.js";
import { icon, withIcon } from "./icons.js";
import { memoryNote } from "./memory-panel.js";

const numberFormat = new Intl.NumberFormat();

/** Creates the DOM of one message and returns handles to update it while it streams. */
export function renderMessage(container, message) {
  const element = document.createElement("article");
  element.className = `message ${message.role}`;
  element.dataset.id = message.id ?? "";
  const text = document.createElement("div");
  text.className = "text";
  if (message.role === "assistant") {
    text.classList.add("markdown");
    markdownView(text, message.content ?? "");
  } else if (message.role === "tool") {
    // A gateway caller's function result: the program's output, as text, folded away.
    text.append(disclosure(`Result of ${message.tool_call_id ?? "a function"}`, message.content ?? ""));
  } else {
    text.textContent = message.content ?? "";
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  element.append(text);
  // What its question asked of the user's memory ("Memory updated: …"), above the answer as ChatGPT shows it.
  if (message.memory) element.insertBefore(memoryNote(message.memory), text);
  // A question's text files: each folded away under its name and size, shown as text (never as HTML).
  if (message.attachments?.length) element.insertBefore(attachedFiles(message.attachments), text);
  // Its images, above its words, as ChatGPT shows them.
  if (message.images?.length) element.insertBefore(attachedImages(message.images), text);
  // The functions an answer called (a gateway caller offered tools): name, then the arguments as the model wrote them.
  for (const call of message.tool_calls ?? []) {
    const block = disclosure(`Called ${call.name}`, prettyJSON(call.arguments));
    block.classList.add("tool-call");
    element.append(block);
  }
  element.append(meta);
  container.append(element);
  const view = { element, text, meta };
  // A reasoning model's thinking, folded away above the answer.
  if (message.reasoning) {
    const thoughts = thoughtsOf(view, { open: false });
    thoughts.body.textContent = message.reasoning;
    if (message.reasoning_ms != null) thoughts.summary.textContent = thoughtForText(message.reasoning_ms);
  }
  if (message.role === "assistant") describeStored(view, message);
  if (message.status === "rejected") describeRejected(view, message);
  return view;
}

/** The completion line, e.g. "gpt-4o-mini · 35 tokens · 9 in · 2.3 s · TTFT 180 ms". */
export function completionLine({
  model, usage, duration_ms: duration, ttft_ms: ttft, finish_reason: reason, cost_usd: cost, personal_data_masked: masked,
}) {
  const parts = [];
  // Which model wrote it: a conversation may mix models (the picker, a regeneration with another model).
  if (model) parts.push(model);
  const output = usage?.output_tokens;
  // "counted": the upstream reported no usage, so these are Sluice's own counts with the model's tokenizer.
  const counted = usage?.source === "counted" ? " (counted by Sluice)" : "";
  parts.push(output == null ? "tokens not reported" : `${numberFormat.format(output)} tokens${counted}`);
  if (usage?.input_tokens != null) {
    // The provider read part of the prompt from its prompt cache: billed at the cheaper cached-input rate.
    const cached = usage.cached_input_tokens ? ` (${numberFormat.format(usage.cached_input_tokens)} cached)` : "";
    parts.push(`${numberFormat.format(usage.input_tokens)} in${cached}`);
  }
  if (duration != null) parts.push(`${(duration / 1000).toFixed(1)} s`);
  if (ttft != null) parts.push(`TTFT ${ttft} ms`);
  // An exact decimal string from the server; shown as is, never through floating point.
  if (cost != null) parts.push(`$${cost}`);
  // Personal details went to the model as placeholders (--mask-personal-data) and were put back in the answer.
  const maskedCount = Object.values(masked ?? {}).reduce((sum, count) => sum + count, 0);
  if (maskedCount) parts.push(`${maskedCount} personal ${maskedCount === 1 ? "detail" : "details"} masked`);
  if (reason === "cancelled") parts.push("stopped");
  else if (reason === "length") parts.push("cut at the length limit");
  return parts.join(" · ");
}

/**
 * Shows the completion line with the answer's usage behind it: a "Usage" disclosure (works by keyboard and on
 * touch, unlike a hover) with input, output and total tokens, who counted them, and the exact cost.
 */
export function describeCompletion(meta, data) {
  meta.textContent = completionLine(data);
  // Every model failed; this is the earlier answer to the identical question, served from Sluice's cache.
  if (data.cached) meta.prepend("Saved answer (the models are not responding right now) · ");
  // A gateway call identical to an earlier one, answered from the response cache (--response-cache-seconds).
  if (data.cache_hit) meta.prepend("From the response cache, charged nothing · ");
  offerCopy(meta);
  offerReadAloud(meta);
  describeSources(meta, data.sources);
  const usage = data.usage;
  if (!usage) return;
  const details = document.createElement("details");
  details.className = "usage-details";
  const summary = document.createElement("summary");
  summary.textContent = "Usage";
  const list = document.createElement("dl");
  const rows = [
    ["Input", usage.input_tokens],
    ...(usage.cached_input_tokens != null ? [["From the prompt cache", usage.cached_input_tokens]] : []),
    ...(usage.cache_write_tokens ? [["Written to the prompt cache", usage.cache_write_tokens]] : []),
    ["Output", usage.output_tokens],
    ["Total", usage.total_tokens],
  ];
  for (const [label, value] of rows) {
    list.append(Object.assign(document.createElement("dt"), { textContent: label }),
      Object.assign(document.createElement("dd"), { textContent: value == null ? "not reported" : `${numberFormat.format(value)} tokens` }));
  }
  const source = usage.source === "counted" ? "counted by Sluice (the provider reported none)"
    : usage.source === "provider" ? "reported by the provider" : "unknown";
  list.append(Object.assign(document.createElement("dt"), { textContent: "Source" }),
    Object.assign(document.createElement("dd"), { textContent: source }));
  if (data.counted_usage) {
    const counted = data.counted_usage;
    list.append(Object.assign(document.createElement("dt"), { textContent: "Sluice's count" }),
      Object.assign(document.createElement("dd"), { textContent: `${counted.input_tokens ?? "?"} in, ${counted.output_tokens ?? "?"} out` }));
  }
  if (data.personal_data_masked) {
    list.append(Object.assign(document.createElement("dt"), { textContent: "Masked" }),
      Object.assign(document.createElement("dd"), { textContent: maskedDetails(data.personal_data_masked) }));
  }
  list.append(Object.assign(document.createElement("dt"), { textContent: "Cost" }),
    Object.assign(document.createElement("dd"), { textContent: data.cost_usd == null ? "no price known for this model" : `$${data.cost_usd}` }));
  details.append(summary, list);
  meta.append(" ", details);
}

const maskedKinds = {
  email: ["email address", "email addresses"], phone: ["phone number", "phone numbers"], card: ["card number", "card numbers"],
  iban: ["IBAN", "IBANs"], ssn: ["social security number", "social security numbers"],
};

/** "1 email address and 2 card numbers went to the model as placeholders, and were put back in its answer". */
export function maskedDetails(counts) {
  // In one order whatever the JSON's (email, phone, card, IBAN, SSN; a kind this page does not know last).
  const rank = (kind) => { const at = Object.keys(maskedKinds).indexOf(kind); return at < 0 ? 99 : at; };
  const parts = Object.entries(counts).filter(([, count]) => count > 0).sort(([a], [b]) => rank(a) - rank(b)).map(([kind, count]) => {
    const [one, many] = maskedKinds[kind] ?? [kind, kind];
    return `${count} ${count === 1 ? one : many}`;
  });
  const listed = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  const one = Object.values(counts).reduce((sum, count) => sum + count, 0) === 1;
  return one ? `${listed} went to the model as a placeholder, and was put back in its answer`
    : `${listed} went to the model as placeholders, and were put back in its answer`;
}

/** The parts of the project's files the answer was sent as excerpts (files too long to go whole), as a "Sources"
 * disclosure: each file with its lines. File names are the user's own words: text, never markup. */
function describeSources(meta, sources) {
  if (!sources?.length) return;
  const details = Object.assign(document.createElement("details"), { className: "answer-sources" });
  const summary = document.createElement("summary");
  summary.textContent = `Sources (${sources.length} ${sources.length === 1 ? "excerpt" : "excerpts"} of the project's files)`;
  const list = document.createElement("ul");
  for (const source of sources) {
    const lines = source.lines.includes("-") ? `lines ${source.lines.replace("-", "–")}` : `line ${source.lines}`;
    list.append(Object.assign(document.createElement("li"), { textContent: `${source.file}, ${lines}` }));
  }
  details.append(summary, list);
  meta.append(" ", details);
}

/** A "Copy" button that copies the answer as the model wrote it (its Markdown), as ChatGPT's does. */
function offerCopy(meta) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "copy-answer", textContent: "Copy" });
  button.setAttribute("aria-label", "Copy the answer (Markdown)");
  button.addEventListener("click", () => {
    const text = meta.closest("article")?.querySelector(".text");
    if (text) copyText(markdownView(text).source, button);
  });
  meta.append(" ", button);
}

/** Adds "Regenerate" with a temperature slider to the latest answer, set to the conversation's own `temperature`
 * when it has one (within the slider's 0–1), else 0.7. */
export function offerRegenerate(view, { temperature } = {}) {
  const group = document.createElement("span");
  group.className = "regenerate-group";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "regenerate";
  button.textContent = "Regenerate";
  const label = document.createElement("label");
  label.textContent = "temperature ";
  const slider = document.createElement("input");
  Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.1", className: "temperature" });
  slider.value = String(temperature == null ? 0.7 : Math.min(1, temperature));
  const value = document.createElement("output");
  value.textContent = slider.value;
  slider.addEventListener("input", () => { value.textContent = slider.value; });
  label.append(slider, " ", value);
  group.append(button, " ", label);
  view.meta.append(" ", group);
}

/** Adds "Edit" to the latest question (app.js turns its text into a field). */
export function offerEdit(view) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "edit", textContent: "Edit" });
  button.setAttribute("aria-label", "Edit this question and ask it again");
  view.meta.append(" ", button);
}

/** Adds "Edit" to a written answer: its Markdown in a field, saved as the user rewrites it (Open WebUI's edit). */
export function offerEditAnswer(view) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "edit-answer", textContent: "Edit" });
  button.setAttribute("aria-label", "Rewrite this answer (the model reads your text from the next message on)");
  view.meta.append(" ", button);
}

/** Adds "Branch" to a written answer: ChatGPT's "Branch in new chat" — a new conversation with the thread up to it. */
export function offerBranch(view) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "branch", textContent: "Branch" });
  button.setAttribute("aria-label", "Branch in new chat: a new conversation with the messages up to this answer");
  view.meta.append(" ", button);
}

/**
 * The question's text as a field with Send and Cancel; `onSend(text)` runs with the new words. For an answer,
 * `answer: true`: its Markdown as the model wrote it, and Save. `text`: other words to start with (an edit given back).
 */
export function editInPlace(element, onSend, onCancel, { answer = false, text: words } = {}) {
  const text = element.querySelector(".text");
  const original = words ?? (answer ? markdownView(text).source : text.textContent);
  const form = Object.assign(document.createElement("form"), { className: "edit-form" });
  const field = Object.assign(document.createElement("textarea"), { value: original, rows: answer ? 8 : 3 });
  field.setAttribute("aria-label", answer ? "The answer, rewritten" : "Your question, edited");
  const send = Object.assign(document.createElement("button"), { type: "submit", textContent: answer ? "Save" : "Send" });
  const cancel = Object.assign(document.createElement("button"), { type: "button", textContent: "Cancel" });
  form.append(field, send, " ", cancel);
  text.hidden = true;
  element.querySelector(".meta").hidden = true;
  text.after(form);
  const close = () => { form.remove(); text.hidden = false; element.querySelector(".meta").hidden = false; };
  cancel.addEventListener("click", () => { close(); onCancel?.(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!field.value.trim()) return;
    const words = field.value;
    close();
    onSend(words);
  });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.stopPropagation(); close(); onCancel?.(); }
    // Ctrl+Enter (⌘+Enter) sends; Enter alone is a new line, as in a long question.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
  });
  field.focus();
}

/** Shows "‹ 2 / 3 ›" on an answer or question with several versions; versions.js switches the thread to another. */
export function offerVersions(view, versions, currentId) {
  const index = versions.indexOf(currentId);
  const nav = document.createElement("span");
  nav.className = "versions";
  nav.dataset.versions = JSON.stringify(versions);
  nav.dataset.index = String(index);
  const previous = Object.assign(document.createElement("button"), { type: "button", className: "version-previous", textContent: "‹" });
  previous.setAttribute("aria-label", "Previous version");
  const next = Object.assign(document.createElement("button"), { type: "button", className: "version-next", textContent: "›" });
  next.setAttribute("aria-label", "Next version");
  previous.disabled = index <= 0;
  next.disabled = index >= versions.length - 1;
  const label = Object.assign(document.createElement("span"), { className: "version-label", textContent: ` ${index + 1} / ${versions.length} ` });
  nav.append(previous, label, next);
  view.element.insertBefore(nav, view.meta);
}

/** Adds Continue (or Retry, when nothing was written yet) to an answer that ended early (handled by app.js). */
export function offerContinue(view, hasText = true) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "continue";
  button.textContent = hasText ? "Continue" : "Retry";
  view.meta.append(" ", button);
}

/** A user's message the prompt guard kept from the model: shown, marked, with the reason. */
function describeRejected(view, message) {
  view.element.classList.add("rejected");
  view.meta.textContent = `Not sent to the model: ${message.error ?? "the prompt guard rejected it."}`;
}

function describeStored(view, message) {
  switch (message.status) {
    case "complete":
      describeCompletion(view.meta, message);
      offerFeedback(view, message);
      break;
    case "cancelled":
      describeCompletion(view.meta, { ...message, finish_reason: "cancelled" });
      offerFeedback(view, message);
      offerContinue(view);
      break;
    case "partial":
    case "error":
      view.element.classList.add("error");
      view.meta.textContent = message.error ?? "This answer did not finish.";
      offerContinue(view, Boolean(message.content));
      break;
    case "streaming":
      view.meta.textContent = "Still being written…";
      break;
  }
  if (message.edited_at) view.meta.prepend("Edited by you · ");
}

/**
 * Thumbs up / thumbs down on a stored answer, as ChatGPT and Open WebUI ask: a click rates it (again: takes the rating
 * back), and thumbs down asks what was wrong, which the operator reads beside the answer.
 */
function offerFeedback(view, message) {
  const group = document.createElement("span");
  group.className = "feedback";
  let rating = message.feedback?.rating ?? null;
  const buttons = {};
  const show = () => {
    for (const [value, button] of Object.entries(buttons)) button.setAttribute("aria-pressed", String(rating === value));
  };
  const form = document.createElement("form");
  form.className = "feedback-comment";
  form.hidden = true;
  const field = Object.assign(document.createElement("input"), {
    type: "text", maxLength: 2000, placeholder: "What was wrong with this answer? (optional)",
    value: message.feedback?.comment ?? "" });
  field.setAttribute("aria-label", "What was wrong with this answer");
  const send = Object.assign(document.createElement("button"), { type: "submit", textContent: "Send" });
  const thanks = Object.assign(document.createElement("span"), { className: "feedback-thanks", textContent: "" });
  thanks.setAttribute("role", "status");
  form.append(field, send);
  for (const [value, symbol, label] of [["good", "thumbs-up", "Good answer"], ["bad", "thumbs-down", "Bad answer"]]) {
    const button = Object.assign(document.createElement("button"), { type: "button", className: `rate-${value}`, title: label });
    button.append(icon(symbol));
    button.setAttribute("aria-label", label);
    button.addEventListener("click", async () => {
      const next = rating === value ? null : value;
      try {
        if (next) await api.rateAnswer(message.id, next);
        else await api.clearRating(message.id);
      } catch (error) {
        thanks.textContent = error.message;
        return;
      }
      rating = next;
      show();
      form.hidden = rating !== "bad";
      thanks.textContent = rating ? "Thanks for the feedback." : "";
      if (rating === "bad") field.focus();
    });
    buttons[value] = button;
    group.append(button);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.rateAnswer(message.id, "bad", field.value.trim());
      form.hidden = true;
      thanks.textContent = "Thanks: the operator can read what went wrong.";
    } catch (error) {
      thanks.textContent = error.message;
    }
  });
  show();
  group.append(form, thanks);
  view.meta.append(" ", group);
}

/** A data URL of an image type a model takes: the only image sources the page shows (a link is shown as a link, never
 * loaded, which would tell its owner the page was opened). */
export function isImageDataURL(url) {
  return typeof url === "string" && /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$/.test(url);
}

/** A question's images (with their size in pixels): stored ones fetched from the server, the one just sent from its
 * data URL, links as links. */
function attachedImages(images) {
  const list = document.createElement("div");
  list.className = "images";
  images.forEach((image, index) => {
    const label = `Image ${index + 1}` + (image.width && image.height ? ` (${image.width} × ${image.height})` : "");
    const picture = () => Object.assign(document.createElement("img"), { alt: label, title: label });
    if (isImageDataURL(image.url)) {
      list.append(Object.assign(picture(), { src: image.url }));
    } else if (/^\/api\/messages\/[^/?#]+\/images\/\d+$/.test(image.url ?? "")) {
      const shown = picture();
      list.append(shown);
      api.imageObjectURL(image.url).then((url) => { shown.src = url; }, () => { shown.alt = `${label}: could not be loaded`; });
    } else if (/^https?:\/\//.test(image.url ?? "")) {
      const link = Object.assign(document.createElement("a"), { href: image.url, target: "_blank", rel: "noopener noreferrer" });
      link.append(...withIcon("image", image.url));
      list.append(link);
    }
  });
  return list;
}

/** "server.log · 12 KB" chips, after a paperclip, that open to the file's text. */
function attachedFiles(files) {
  const list = document.createElement("div");
  list.className = "files";
  for (const file of files) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.className = "file-chip";
    summary.append(...withIcon("paperclip", `${file.name} · ${fileSize(file.text)}`));
    const pre = document.createElement("pre");
    pre.textContent = file.text;
    details.append(summary, pre);
    list.append(details);
  }
  return list;
}

/** A text's size in UTF-8, as a person reads it: "812 B", "12 KB", "1.4 MB". */
export function fileSize(text) {
  return byteSize(new TextEncoder().encode(text).length);
}

/** A size in bytes as a person reads it. */
export function byteSize(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * The fold that holds an answer's thinking (made the first time it is needed): `summary` says how long it thought,
 * `body` is the thinking as plain text — model output, so never HTML.
 */
export function thoughtsOf(view, { open }) {
  if (view.thoughts) return view.thoughts;
  const details = document.createElement("details");
  details.className = "reasoning";
  details.open = open;
  const summary = document.createElement("summary");
  summary.textContent = "Thoughts";
  const body = document.createElement("div");
  body.className = "reasoning-text";
  details.append(summary, body);
  view.element.insertBefore(details, view.text);
  view.thoughts = { details, summary, body };
  return view.thoughts;
}

/** "Thought for 3.1 s". */
export function thoughtForText(ms) {
  return `Thought for ${(ms / 1000).toFixed(1)} s`;
}

function disclosure(title, body) {
  const details = document.createElement("details");
  details.className = "tool";
  const summary = document.createElement("summary");
  summary.textContent = title;
  const pre = document.createElement("pre");
  pre.textContent = body;
  details.append(summary, pre);
  return details;
}

/** Arguments indented when they are JSON, as written otherwise. */
function prettyJSON(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text ?? "";
  }
}
