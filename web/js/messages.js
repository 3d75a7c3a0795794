// Renders messages into the log. A user's words are shown as text; model output as sanitised Markdown
// (markdown.js).

import { markdownView } from "./markdown.js";

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
  } else {
    text.textContent = message.content ?? "";
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  element.append(text, meta);
  container.append(element);
  const view = { element, text, meta };
  if (message.role === "assistant") describeStored(view, message);
  if (message.status === "rejected") describeRejected(view, message);
  return view;
}

/** The completion line, e.g. "35 tokens · 9 in · 2.3 s · TTFT 180 ms". */
export function completionLine({ usage, duration_ms: duration, ttft_ms: ttft, finish_reason: reason, cost_usd: cost }) {
  const parts = [];
  const output = usage?.output_tokens;
  // "counted": the upstream reported no usage, so these are Sluice's own counts with the model's tokenizer.
  const counted = usage?.source === "counted" ? " (counted by Sluice)" : "";
  parts.push(output == null ? "tokens not reported" : `${numberFormat.format(output)} tokens${counted}`);
  if (usage?.input_tokens != null) parts.push(`${numberFormat.format(usage.input_tokens)} in`);
  if (duration != null) parts.push(`${(duration / 1000).toFixed(1)} s`);
  if (ttft != null) parts.push(`TTFT ${ttft} ms`);
  // An exact decimal string from the server; shown as is, never through floating point.
  if (cost != null) parts.push(`$${cost}`);
  if (reason === "cancelled") parts.push("stopped");
  else if (reason === "length") parts.push("cut at the length limit");
  return parts.join(" · ");
}

/** Adds "Regenerate" with a temperature slider to the latest answer. */
export function offerRegenerate(view) {
  const group = document.createElement("span");
  group.className = "regenerate-group";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "regenerate";
  button.textContent = "Regenerate";
  const label = document.createElement("label");
  label.textContent = "temperature ";
  const slider = document.createElement("input");
  Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.1", value: "0.7", className: "temperature" });
  const value = document.createElement("output");
  value.textContent = slider.value;
  slider.addEventListener("input", () => { value.textContent = slider.value; });
  label.append(slider, " ", value);
  group.append(button, " ", label);
  view.meta.append(" ", group);
}

/** Shows "‹ 2 / 3 ›" on an answer with several versions; app.js swaps the text shown. */
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
  const label = Object.assign(document.createElement("span"), { className: "version-label", textContent: ` ${index + 1} / ${versions.length} ` });
  nav.append(previous, label, next);
  view.element.insertBefore(nav, view.meta);
}

/** Adds a Continue button to an answer that ended early (handled by app.js). */
export function offerContinue(view) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "continue";
  button.textContent = "Continue";
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
      view.meta.textContent = completionLine(message);
      break;
    case "cancelled":
      view.meta.textContent = completionLine({ ...message, finish_reason: "cancelled" });
      offerContinue(view);
      break;
    case "partial":
    case "error":
      view.element.classList.add("error");
      view.meta.textContent = message.error ?? "This answer did not finish.";
      offerContinue(view);
      break;
    case "streaming":
      view.meta.textContent = "Still being written…";
      break;
  }
}
