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

/**
 * What is read of answer text `element`: its words as shown (`innerText`: a list's items and paragraphs apart), each
 * formula once — KaTeX draws it and keeps a MathML copy for screen readers, and both are text — and no button
 * (a code block's Copy).
 */
function spokenText(element) {
  const copy = element.cloneNode(true);
  for (const formula of copy.querySelectorAll(".katex")) {
    formula.replaceWith(formula.querySelector(".katex-mathml")?.textContent ?? "");
  }
  for (const button of copy.querySelectorAll("button")) button.remove();
  // innerText needs a laid-out element: the copy is put out of sight for as long as it is read.
  copy.style.cssText = "position: fixed; left: -10000px; top: 0; width: 40em;";
  copy.setAttribute("aria-hidden", "true");
  document.body.append(copy);
  const text = copy.innerText.trim();
  copy.remove();
  return text;
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
    const shown = meta.closest("article")?.querySelector(".text");
    const text = shown ? spokenText(shown) : "";
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
