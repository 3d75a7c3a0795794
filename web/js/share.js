// The page of a shared link (/share/{token}): the copy of a conversation its owner shared, read-only, for anyone
// with the link and without signing in. Questions are shown as text, answers as sanitised Markdown (markdown.js).

import { markdownView } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeStyle: "short" });

async function show() {
  const response = await fetch(`${location.pathname.replace(/\/$/, "")}/data`, { cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    $("shared-title").textContent = "Not found";
    $("shared-note").textContent = body?.error?.message ?? `This shared conversation could not be loaded (${response.status}).`;
    return;
  }
  document.title = `${body.title} · Sluice`;
  $("shared-title").textContent = body.title;
  $("shared-note").textContent = `A copy of a conversation, shared on ${dateFormat.format(new Date(body.shared_at))}. `
    + "Messages sent after that are not in it.";
  const log = $("messages");
  for (const message of body.messages) {
    const element = Object.assign(document.createElement("article"), { className: `message ${message.role}` });
    const text = Object.assign(document.createElement("div"), { className: "text" });
    if (message.role === "assistant") {
      text.classList.add("markdown");
      markdownView(text, message.content);
    } else {
      text.textContent = message.content;
    }
    element.append(text);
    const about = [];
    if (message.attachments?.length) about.push(`files ${message.attachments.join(", ")} (not shared)`);
    if (message.images) about.push(`${message.images} image${message.images === 1 ? "" : "s"} (not shared)`);
    if (message.model) about.push(message.model);
    if (about.length) element.append(Object.assign(document.createElement("div"), { className: "meta", textContent: about.join(" · ") }));
    log.append(element);
  }
  offerContinue();
}

/**
 * Signed in on this browser (the web app's token): "Continue this conversation" makes the copy a conversation of the
 * reader's own and opens it in the web app, as ChatGPT's shared links offer.
 */
function offerContinue() {
  const token = localStorage.getItem("sluice.token");
  const button = $("shared-continue");
  if (!token) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const response = await fetch(`/api/shares/${encodeURIComponent(location.pathname.split("/").filter(Boolean).at(-1))}/continue`, {
      method: "POST", headers: { Authorization: `Bearer ${token}` },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      button.disabled = false;
      $("shared-note").textContent = body?.error?.message ?? `The conversation could not be copied (${response.status}).`;
      return;
    }
    // The web app opens it (app.js reads this once).
    sessionStorage.setItem("sluice.open", body.id);
    location.href = "/";
  });
}

show().catch((error) => { $("shared-note").textContent = `This shared conversation could not be loaded (${error.message}).`; });
