// "Read aloud" on an answer (ChatGPT's, Open WebUI's): the browser's own speech (the Web Speech API's
// speechSynthesis) reads the answer as it is shown — its words, not its Markdown — and the button stops it. Nothing
// leaves the browser. Offered only where the browser can speak.

/** The button that is reading now, if any: one answer is read at a time. */
let reading = null;

function idle(button) {
  button.textContent = "Read aloud";
  button.setAttribute("aria-pressed", "false");
  if (reading === button) reading = null;
}

/** Adds "Read aloud" to an answer's completion line `meta`. */
export function offerReadAloud(meta) {
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance !== "function") return;
  const button = Object.assign(document.createElement("button"), { type: "button", className: "read-aloud" });
  button.setAttribute("aria-label", "Read the answer aloud");
  idle(button);
  button.addEventListener("click", () => {
    const wasReading = reading === button;
    // Whatever is being read stops: this answer (a second click) or another one.
    if (reading) {
      const other = reading;
      speechSynthesis.cancel();
      idle(other);
    }
    if (wasReading) return;
    const text = meta.closest("article")?.querySelector(".text")?.innerText.trim();
    if (!text) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = document.documentElement.lang || "en";
    utterance.addEventListener("end", () => { if (reading === button) idle(button); });
    utterance.addEventListener("error", () => { if (reading === button) idle(button); });
    reading = button;
    button.textContent = "Stop reading";
    button.setAttribute("aria-pressed", "true");
    speechSynthesis.speak(utterance);
  });
  meta.append(" ", button);
}
