// One chat turn in the browser: sends the message, reads the event stream, and paints tokens at most once
// per animation frame so that a fast stream never blocks the page.

import { sendMessage, cancelMessage } from "./api.js";
import { readEvents } from "./sse.js";
import { renderMessage, completionLine } from "./messages.js";

export async function runTurn({ conversationId, content, log, announce, onStateChange }) {
  const controller = new AbortController();
  const state = { assistantId: null, stopped: false };
  renderMessage(log, { role: "user", content });
  const view = renderMessage(log, { role: "assistant", content: "" });
  view.element.classList.add("streaming");
  const started = performance.now();
  view.meta.innerHTML = "";
  const thinking = document.createElement("span");
  thinking.className = "thinking";
  view.meta.append(thinking);
  const tick = setInterval(() => {
    thinking.textContent = `thinking… ${((performance.now() - started) / 1000).toFixed(1)} s`;
  }, 100);
  thinking.textContent = "thinking…";

  let pending = "";
  let frame = 0;
  let firstToken = true;
  const paint = () => {
    frame = 0;
    // Appending a text node leaves earlier text (and any selection in it) untouched.
    view.text.append(document.createTextNode(pending));
    pending = "";
    if (nearBottom) log.scrollTop = log.scrollHeight;
  };
  let nearBottom = true;
  const onScroll = () => { nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40; };
  log.addEventListener("scroll", onScroll);

  const finish = () => {
    clearInterval(tick);
    if (frame) { cancelAnimationFrame(frame); paint(); }
    view.element.classList.remove("streaming");
    log.removeEventListener("scroll", onScroll);
    onStateChange({ streaming: false });
  };

  onStateChange({
    streaming: true,
    stop: async () => {
      state.stopped = true;
      if (state.assistantId) {
        try { await cancelMessage(state.assistantId); return; } catch { /* fall back to closing the stream */ }
      }
      controller.abort();
    },
  });

  try {
    const response = await sendMessage(conversationId, content, { signal: controller.signal });
    for await (const event of readEvents(response)) {
      const data = JSON.parse(event.data);
      switch (event.event) {
        case "meta":
          state.assistantId = data.assistant_message_id;
          view.element.dataset.id = state.assistantId;
          break;
        case "token":
          if (firstToken) {
            firstToken = false;
            clearInterval(tick);
            view.meta.textContent = "";
            announce("Answer started");
          }
          pending += data.token;
          if (!frame) frame = requestAnimationFrame(paint);
          break;
        case "status":
          view.meta.textContent = data.state === "retrying"
            ? `Service busy, retrying in ${Math.round((data.wait_ms ?? 0) / 1000)} s (attempt ${data.attempt} of ${data.max_attempts})`
            : data.state;
          break;
        case "done":
          finish();
          view.meta.textContent = completionLine(data);
          announce(`Answer complete, ${data.usage?.output_tokens ?? "unknown"} tokens`);
          return;
        case "error":
          finish();
          view.element.classList.add("error");
          view.meta.textContent = data.message;
          announce(`Answer failed: ${data.message}`);
          return;
      }
    }
    finish();
    view.meta.textContent = "The connection closed before the answer finished. Reload to see what was saved.";
  } catch (error) {
    finish();
    view.element.classList.add("error");
    if (error.name === "AbortError") view.meta.textContent = "Stopped.";
    else view.meta.textContent = error.message;
    if (error.status === 401) throw error;
  }
}
