// Model output as Markdown, rendered progressively and safely.
//
// markdown-it (raw HTML off) renders, highlight.js colours fenced code, KaTeX typesets math (math.js), and
// DOMPurify sanitises every piece of HTML before it reaches the DOM: model output is untrusted. While an answer
// streams, the blocks that are complete (ended by a blank line outside a code fence) are rendered once and frozen
// — never replaced, so a selection in them survives and the cost per frame does not grow with the answer — and only
// the open last block is rendered again. The libraries come from Debian packages under /vendor/
// (scripts/setup-web-vendor.sh); without them the text is shown as plain text.

import { copyFormulasAsTeX, mathPlugin } from "./math.js";
import { withIcon } from "./icons.js";

const md = globalThis.markdownit
  ? globalThis.markdownit({ html: false, linkify: true, typographer: false, highlight })
  : null;
if (md && globalThis.katex) {
  md.use(mathPlugin, globalThis.katex);
  document.addEventListener("copy", copyFormulasAsTeX);
}
const purify = globalThis.DOMPurify ?? null;
export const markdownAvailable = Boolean(md && purify);

if (purify) {
  // Links open in a new tab without handing it this page (`window.opener`).
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
}

function highlight(code, language) {
  const hljs = globalThis.hljs;
  if (!hljs || !language || !hljs.getLanguage(language)) return "";  // markdown-it escapes it as plain code
  try {
    return hljs.highlight(language, code, true).value;
  } catch {
    return "";
  }
}

/** Sanitised DOM for a piece of Markdown, with a Copy button on every code block. */
export function toFragment(source) {
  // Sanitised to a string, then parsed by an inert <template>.
  const template = document.createElement("template");
  template.innerHTML = purify.sanitize(md.render(source));
  const fragment = template.content;
  // A remote image in model output is not loaded (the page's policy would refuse it anyway): its address may carry
  // the conversation away, written there by a prompt injection. It becomes a link the user may open. (A <template>'s
  // content is inert: nothing is fetched before this.)
  for (const image of fragment.querySelectorAll("img")) {
    let address;
    try {
      address = new URL(image.getAttribute("src") ?? "", location.href);
    } catch {
      image.remove();
      continue;
    }
    if (address.protocol === "data:" || address.protocol === "blob:" || address.origin === location.origin) continue;
    const link = Object.assign(document.createElement("a"), {
      href: address.href, target: "_blank", rel: "noopener noreferrer", className: "remote-image",
    });
    link.append(...withIcon("image", `${image.getAttribute("alt") || "image"} (${address.host || address.protocol})`));
    link.title = `An image at ${address.href}, not loaded: open it only if you trust it.`;
    image.replaceWith(link);
  }
  for (const pre of fragment.querySelectorAll("pre")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code");
    pre.prepend(button);
  }
  return fragment;
}

/** Where the open last block starts: after the last blank line that is not inside a code fence. */
export function openBlockStart(source) {
  let boundary = 0;
  let fence = null;
  let lineStart = 0;
  while (lineStart < source.length) {
    const newline = source.indexOf("\n", lineStart);
    if (newline === -1) break;  // the last line is not finished yet
    const line = source.slice(lineStart, newline);
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (marker && marker[1][0] === fence[0] && marker[1].length >= fence.length && !line.slice(marker[0].length).trim()) fence = null;
    } else if (marker) {
      fence = marker[1];
    } else if (!line.trim()) {
      boundary = newline + 1;
    }
    lineStart = newline + 1;
  }
  return boundary;
}

const views = new WeakMap();

/** The Markdown view of a message's text element, created with `source` the first time. */
export function markdownView(element, source = "") {
  let view = views.get(element);
  if (!view) {
    view = new MarkdownView(element, source);
    views.set(element, view);
  }
  return view;
}

class MarkdownView {
  constructor(element, source) {
    this.element = element;
    this.reset(source);
    element.addEventListener("click", (event) => {
      const button = event.target.closest?.(".copy-code");
      if (button) copyCode(button);
    });
  }

  /** Replaces everything shown with `source` (rendered whole). */
  reset(source) {
    this.source = source;
    this.frozenLength = 0;
    this.element.replaceChildren();
    this.live = document.createElement("div");
    this.live.className = "md-live";
    this.element.append(this.live);
    this.render(true);
  }

  append(text) {
    this.source += text;
    this.render(false);
  }

  /** The stream ended: render whatever waited (e.g. behind a selection). */
  finish() { this.render(true); }

  render(force) {
    if (!markdownAvailable) {
      this.element.textContent = this.source;
      return;
    }
    const start = openBlockStart(this.source);
    if (start > this.frozenLength) {
      const block = document.createElement("div");
      block.className = "md-block";
      block.append(toFragment(this.source.slice(this.frozenLength, start)));
      this.element.insertBefore(block, this.live);
      this.frozenLength = start;
    }
    // Never replace the DOM under the user's selection: the open block waits until the selection goes.
    const selection = document.getSelection();
    if (!force && selection && !selection.isCollapsed && selection.rangeCount
        && this.live.contains(selection.getRangeAt(0).commonAncestorContainer)) return;
    this.live.replaceChildren(toFragment(this.source.slice(this.frozenLength)));
  }
}

function copyCode(button) {
  return copyText(button.parentElement.querySelector("code")?.textContent ?? "", button);
}

/** Copies `text` to the clipboard (by a hidden text area where the Clipboard API is not offered: plain http on a
 * LAN address) and says so on `button` for a moment. */
export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
}
