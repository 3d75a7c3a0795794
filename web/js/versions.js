// The ‹ 2 / 3 › of a regenerated answer or an edited question: another version shown in place of the newest.

import * as api from "./api.js";
import { renderMessage, describeCompletion } from "./messages.js";
import { markdownView } from "./markdown.js";

/**
 * Shows another version of an answer, or of an edited question with the answer it got, in place (the thread and the
 * context keep the newest; back at the newest question, `showNewest()` shows the conversation again as it is).
 */
export async function showVersion(element, step, { showNewest }) {
  const nav = element.querySelector(".versions");
  const versions = JSON.parse(nav.dataset.versions);
  const index = Number(nav.dataset.index) + step;
  if (index < 0 || index >= versions.length) return;
  if (element.matches(".user") && index === versions.length - 1) { await showNewest(); return; }
  const message = await api.getMessage(versions[index]);
  nav.dataset.index = String(index);
  nav.querySelector(".version-label").textContent = ` ${index + 1} / ${versions.length} `;
  if (!element.matches(".user")) {
    markdownView(element.querySelector(".text")).reset(message.content);
    return;
  }
  element.querySelector(".text").textContent = message.content;
  const later = element.parentElement.querySelectorAll(":scope > article.message");
  const followed = [...later].indexOf(element) < later.length - 2;
  element.querySelector(".meta").textContent = message.status === "rejected" ? `Not sent to the model: ${message.error}`
    // The thread went on from the newer version: what followed this one is kept, but is not the thread shown below.
    : followed ? "Earlier version · the turns that followed it are kept, not shown" : "Earlier version";
  let answer = element.nextElementSibling?.matches("article.assistant") ? element.nextElementSibling : null;
  if (!answer && message.answer) {
    // The newest version (refused by the guard, say) has no answer: make room for the earlier one's.
    answer = renderMessage(document.createElement("div"), { role: "assistant", content: "" }).element;
    element.after(answer);
  }
  if (answer) {
    markdownView(answer.querySelector(".text")).reset(message.answer?.content ?? "");
    const meta = answer.querySelector(".meta");
    if (message.answer) describeCompletion(meta, message.answer);
    else meta.textContent = "This version was not answered.";
    answer.querySelector(".versions")?.remove();
  }
  // The newer version's later turns are not this version's: out of sight until the newest is shown again.
  if (followed) {
    for (let next = (answer ?? element).nextElementSibling; next; next = next.nextElementSibling) next.hidden = true;
  }
}
