// Draws an opened conversation's thread into the log: where a branch came from, each message, and what may be done
// with them — other versions, Regenerate on the latest answer, Edit on questions and written answers, Branch on
// answers — as far as the conversation allows (an archived one is read, not changed; a temporary one is not branched).

import { renderMessage, offerRegenerate, offerVersions, offerEdit, offerEditAnswer, offerBranch } from "./messages.js";

/**
 * Draws `conversation` into `log` (emptied first); `openOrigin(id)` opens the conversation a branch came from.
 * Returns `[message, view]` pairs, in order.
 */
export function drawThread(log, conversation, { archived, temporary, openOrigin }) {
  log.replaceChildren();
  // A branch says where it came from, as ChatGPT's does: a link that opens the original.
  if (conversation.branched_from) {
    const origin = Object.assign(document.createElement("p"), { className: "branched-from" });
    const link = Object.assign(document.createElement("button"), { type: "button", textContent: `“${conversation.branched_from.title}”` });
    link.addEventListener("click", () => openOrigin(conversation.branched_from.conversation_id));
    origin.append("Branched from ", link);
    log.append(origin);
  }
  const views = conversation.messages.map((message) => [message, renderMessage(log, message)]);
  for (const [message, view] of views) {
    if (message.versions?.length > 1) offerVersions(view, message.versions, message.id);
  }
  const [latest, latestView] = views.at(-1) ?? [];
  // An archived conversation is read, not changed: no new answer, no edited question.
  if (!archived && latest?.role === "assistant" && latest.status !== "streaming") {
    offerRegenerate(latestView, { temperature: conversation.parameters?.temperature });
  }
  // Any question can be asked again in other words, once the answers are written (as in ChatGPT): the turns after
  // it stay with its earlier version.
  if (!archived && latest?.status !== "streaming") {
    for (const [message, view] of views) {
      if (message.role === "user") offerEdit(view);
      // A written answer may be rewritten in place (Open WebUI's edit): the model reads the new text next.
      else if (message.role === "assistant" && message.content && message.status !== "streaming") offerEditAnswer(view);
    }
  }
  // Any written answer can start a new conversation of its own (archived ones too); a temporary chat is not kept.
  if (!temporary) {
    for (const [message, view] of views) {
      if (message.role === "assistant" && message.status !== "streaming") offerBranch(view);
    }
  }
  return views;
}
