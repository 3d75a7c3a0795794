// One chat turn in the browser: sends the message, reads the event stream, and paints tokens at most once
// per animation frame so that a fast stream never blocks the page. If the connection drops mid-answer it
// resumes from the last event id, so no text is repeated or lost.

import { sendMessage, cancelMessage, followMessage, continueMessage, regenerateMessage, editMessage } from "./api.js";
import { readEvents } from "./sse.js";
import { renderMessage, describeCompletion, offerContinue, thoughtsOf, thoughtForText } from "./messages.js";
import { markdownView } from "./markdown.js";

const RESUME_ATTEMPTS = 5;
/** How long Stop pressed before the answer has an id waits for it before it closes the stream instead. */
const STOP_WAIT_MS = 3000;
/** Refusals before any answer exists: the page shows them its own way, not as a failed answer. */
const REFUSALS = new Set([
  "budget_exceeded", "rate_limit_exceeded", "prompt_rejected", "message_too_long", "context_overflow", "busy", "model_not_allowed",
  "attachments_too_large", "too_large", "invalid_request", "images_unsupported",
]);

/** Errors of a request Sluice did not take — it could not be reached, or could not reach its database — so nothing
 * of it was stored: the page gives the message (or the edit) back to send again, and puts back what it had replaced. */
export const UNSENT = new Set(["unreachable", "database_unavailable"]);

/** Refusals after which the question comes back to the message box, to be rephrased or sent again: stored as rejected
 * (the guard, a length), or — busy, a model that is not the user's, Sluice or its database out of reach — not stored. */
export const GIVEN_BACK = new Set([
  "prompt_rejected", "message_too_long", "context_overflow", "busy", "model_not_allowed", "attachments_too_large",
  "too_large", "invalid_request", "images_unsupported", ...UNSENT,
]);

/** Sends `content` (with its `attachments`, text files `{name, text}`, and `images`, `{url}`) and streams the answer
 * into `log`. Throws a refusal (`REFUSALS`) or an `UNSENT` error, its question taken off the page for the latter.
 * `onMemory(memory, view)`: what the question did to the user's memory ("Remember that …", "Forget that …";
 * `meta.memory`), with the answer's view. */
export async function runTurn({ conversationId, content, attachments, images = [], model, effort, log, announce, onStateChange, onMemory = () => {} }) {
  const question = renderMessage(log, { role: "user", content, attachments, images });
  const view = renderMessage(log, { role: "assistant", content: "" });
  const controller = new AbortController();
  try {
    await streamInto(view, {
      log, announce, onStateChange, controller, onMemory,
      unsent: "so your message was not sent. It is back in the message box: send it again once Sluice is back.",
      open: () => sendMessage(conversationId, content, { signal: controller.signal, model, effort, attachments, images }),
    });
  } catch (error) {
    if (UNSENT.has(error.code)) { question.element.remove(); view.element.remove(); }
    throw error;
  }
}

/** Follows an answer that is still being written (e.g. after a reload), replaying it from the start. */
export async function followAnswer({ view, messageId, log, announce, onStateChange }) {
  markdownView(view.text).reset("");
  const controller = new AbortController();
  await streamInto(view, {
    log, announce, onStateChange, controller, messageId,
    open: () => followMessage(messageId, null, { signal: controller.signal }),
  });
}

/** Continues an answer that ended early, appending to the text it shows. */
export async function continueAnswer({ view, messageId, effort, log, announce, onStateChange }) {
  view.element.classList.remove("error");
  const controller = new AbortController();
  await streamInto(view, {
    log, announce, onStateChange, controller, messageId,
    open: () => continueMessage(messageId, { signal: controller.signal, effort }),
  });
}

/** Replaces the latest answer's view with a new version generated at `temperature` (by `model`, when given). */
export async function regenerateAnswer({ element, messageId, temperature, model, effort, log, announce, onStateChange }) {
  const view = renderMessage(log, { role: "assistant", content: "" });
  element.replaceWith(view.element);
  const controller = new AbortController();
  try {
    await streamInto(view, {
      log, announce, onStateChange, controller,
      unsent: "so no new answer was asked for. Try again once Sluice is back.",
      open: () => regenerateMessage(messageId, temperature, { signal: controller.signal, model, effort }),
    });
  } catch (error) {
    // Nothing changed on the server: the answer that was there comes back.
    if (UNSENT.has(error.code)) view.element.replaceWith(element);
    throw error;
  }
}

/** Asks the latest question (`element`) again as `content`: its text changes, and a new answer streams in place of its
 * answer (the earlier pair stays as the question's earlier version). An edit Sluice did not take (`UNSENT`) leaves the
 * question and its answer as they were. */
export async function editQuestion({ element, messageId, content, model, effort, log, announce, onStateChange }) {
  const text = element.querySelector(".text");
  const meta = element.querySelector(".meta");
  const before = { rejected: element.classList.contains("rejected"), text: text.textContent, meta: [...meta.childNodes] };
  element.classList.remove("rejected");
  text.textContent = content;
  meta.textContent = "";
  const view = renderMessage(log, { role: "assistant", content: "" });
  const previous = element.nextElementSibling;
  const replaced = previous?.matches("article.assistant") ? previous : null;
  if (replaced) replaced.replaceWith(view.element);
  else element.after(view.element);
  const controller = new AbortController();
  try {
    await streamInto(view, {
      log, announce, onStateChange, controller,
      unsent: "so your edit was not sent. It is back in the edit box: send it again once Sluice is back.",
      open: () => editMessage(messageId, content, { signal: controller.signal, model, effort }),
    });
  } catch (error) {
    if (UNSENT.has(error.code)) {
      element.classList.toggle("rejected", before.rejected);
      text.textContent = before.text;
      meta.replaceChildren(...before.meta);
      if (replaced) view.element.replaceWith(replaced);
      else view.element.remove();
    }
    throw error;
  }
}

/** `unsent`: `open` asks for a new answer (a message sent, regenerated or edited), and a request that fails before Sluice
 * answers at all (or because Sluice cannot reach its database) was not taken: it is thrown as such (`UNSENT`, the
 * unreachable case's words ending in `unsent`) rather than shown as a failed answer, and the caller puts the page back. */
async function streamInto(view, { log, announce, onStateChange, controller, open, messageId = null, unsent = null, onMemory = () => {} }) {
  const state = { assistantId: messageId, lastEventId: null, ended: false };
  view.element.classList.add("streaming");
  const started = performance.now();
  const thinking = document.createElement("span");
  thinking.className = "thinking";
  thinking.textContent = "thinking…";
  view.meta.replaceChildren(thinking);
  const tick = setInterval(() => {
    thinking.textContent = `thinking… ${((performance.now() - started) / 1000).toFixed(1)} s`;
  }, 100);

  let pending = "";
  let frame = 0;
  let firstToken = true;
  // A reasoning model's thinking, shown as it comes; a stream opened again before any token sends all of it again.
  let thoughtsReplaced = true;
  let thinkingStarted = null;
  // Screen readers hear progress at a calm pace: at most every 10 s, never per token.
  let tokensSoFar = 0;
  let lastProgress = performance.now();
  let nearBottom = true;
  // `sluice bench ui` sets globalThis.__sluiceBench to time each token from arrival to the frame that shows it.
  const bench = globalThis.__sluiceBench;
  let arrivals = [];
  const paint = () => {
    frame = 0;
    const paintStart = performance.now();
    // Complete blocks are frozen; only the open last block is rendered again (and not under a selection).
    markdownView(view.text).append(pending);
    pending = "";
    if (nearBottom) log.scrollTop = log.scrollHeight;
    if (bench) {
      const painted = performance.now();
      for (const arrival of arrivals) bench.latencies.push(painted - arrival);
      bench.paintMs.push(painted - paintStart);
      arrivals = [];
    }
  };
  const onScroll = () => { nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40; };
  log.addEventListener("scroll", onScroll);

  // `answered`: the answer's text, when it ended as it should (app.js may tell the user, `notifications.js`).
  const finish = (answered = null) => {
    state.ended = true;
    clearInterval(tick);
    if (frame) { cancelAnimationFrame(frame); paint(); }
    markdownView(view.text).finish();
    view.element.classList.remove("streaming");
    log.removeEventListener("scroll", onScroll);
    onStateChange({ streaming: false, answered });
  };

  // Stop cancels the answer on the server (kept as cancelled, with Continue), not by hanging up — which Sluice takes
  // for a lost browser. Before `meta` names the answer, the stop waits for it, but not longer than `STOP_WAIT_MS`.
  const cancel = async () => {
    try { await cancelMessage(state.assistantId); return; } catch { /* fall back to closing the stream */ }
    controller.abort();
  };
  onStateChange({
    streaming: true,
    stop: async () => {
      if (state.assistantId) return cancel();
      state.stopWanted = true;
      setTimeout(() => { if (!state.ended && !state.assistantId) controller.abort(); }, STOP_WAIT_MS);
    },
  });

  const handle = (event) => {
    const data = JSON.parse(event.data);
    switch (event.event) {
      case "meta":
        state.assistantId = data.assistant_message_id;
        view.element.dataset.id = state.assistantId;
        if (data.memory) onMemory(data.memory, view);
        if (state.stopWanted) cancel();
        return false;
      case "reasoning": {
        const thoughts = thoughtsOf(view, { open: true });
        if (thoughtsReplaced) {
          thoughts.body.textContent = "";
          thoughtsReplaced = false;
        }
        if (thinkingStarted == null) {
          thinkingStarted = performance.now();
          announce("Thinking");
        }
        thoughts.body.append(data.text);
        if (nearBottom) log.scrollTop = log.scrollHeight;
        return false;
      }
      case "token":
        state.lastEventId = event.id;
        if (firstToken) {
          firstToken = false;
          clearInterval(tick);
          view.meta.textContent = "";
          // The thinking is over: folded away under how long it took, as ChatGPT and Open WebUI do.
          if (view.thoughts && thinkingStarted != null) {
            view.thoughts.summary.textContent = thoughtForText(performance.now() - thinkingStarted);
            view.thoughts.details.open = false;
          }
          announce("Answer started");
          lastProgress = performance.now();
        }
        pending += data.token;
        tokensSoFar += 1;
        if (bench) arrivals.push(performance.now());
        if (performance.now() - lastProgress >= 10_000) {
          lastProgress = performance.now();
          announce(`Still writing, ${tokensSoFar} tokens so far`);
        }
        if (!frame) frame = requestAnimationFrame(paint);
        return false;
      case "status":
        view.meta.textContent = statusText(data);
        if (data.state === "fallback") state.fallbackTo = data.to;
        return false;
      case "done":
        finish(data.finish_reason === "cancelled" ? null : markdownView(view.text).source);
        // After a fallback the line says so and names the model once.
        describeCompletion(view.meta, state.fallbackTo ? { ...data, model: null } : data);
        if (state.fallbackTo) view.meta.prepend(`Answered by ${data.model ?? state.fallbackTo} (fallback) · `);
        if (data.finish_reason === "cancelled") offerContinue(view);
        announce(`Answer complete, ${data.usage?.output_tokens ?? "unknown"} tokens`);
        return true;
      case "error":
        finish();
        view.element.classList.add("error");
        view.meta.textContent = data.message;
        if (state.assistantId) offerContinue(view, Boolean(markdownView(view.text).source));
        announce(`Answer failed: ${data.message}`);
        return true;
    }
    return false;
  };

  let opener = open;
  let answered = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await opener();
      answered = true;
      for await (const event of readEvents(response)) {
        if (handle(event)) return;
      }
    } catch (error) {
      if (error.name === "AbortError") {
        finish();
        view.element.classList.add("error");
        view.meta.textContent = "Stopped.";
        return;
      }
      if (error.status) {  // the server answered with an error: no point resuming
        finish();
        if (unsent && error.code === "database_unavailable") throw error;
        if (REFUSALS.has(error.code)) {
          view.element.remove();
          throw error;
        }
        view.element.classList.add("error");
        view.meta.textContent = error.message;
        if (error.status === 401) throw error;
        return;
      }
      if (unsent && !answered) {  // Sluice could not be reached: the request never got there
        finish();
        throw Object.assign(new Error(`Sluice could not be reached, ${unsent}`), { code: "unreachable" });
      }
    }
    // The connection dropped before the answer ended: resume after the last event we saw.
    if (!state.assistantId || attempt >= RESUME_ATTEMPTS) break;
    view.meta.textContent = "Connection lost, reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 4000)));
    opener = () => followMessage(state.assistantId, state.lastEventId ?? `${state.assistantId}:0`, { signal: controller.signal });
    thoughtsReplaced = state.lastEventId == null;
  }
  finish();
  view.meta.textContent = "The connection to Sluice was lost. Reload the page to see what was saved.";
}

/** What a `status` event says, in words (docs/api.md: retrying, fallback, queued). */
export function statusText(data) {
  switch (data.state) {
    case "retrying":
      return `Service busy, retrying in ${Math.round((data.wait_ms ?? 0) / 1000)} s (attempt ${data.attempt} of ${data.max_attempts})`;
    case "fallback":
      return `${data.from} is not answering; answering with ${data.to} instead`;
    case "queued":
      return `Waiting for a free slot (position ${data.position})`;
    case "cached":
      return "Answering from the response cache";
    case "summarising":
      return "Summarising older messages…";
    default:
      return data.state;
  }
}
