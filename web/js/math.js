// Math in model output, typeset by KaTeX as ChatGPT and Open WebUI show it: `$…$` and `\(…\)` inline, `$$…$$` and
// `\[…\]` on lines of their own as a display block. A markdown-it plugin, so that the TeX is taken out before
// Markdown reads it (otherwise `\(` loses its backslash and `a_1 … b_2` turns into emphasis). Debian packages no
// markdown-it math plugin, hence these few rules. KaTeX runs without `trust` (no \href, \url or \includegraphics) and
// its HTML still goes through DOMPurify with everything else; a formula KaTeX cannot read is shown as its source.
//
// A single `$` opens inline math only as pandoc's does: not followed by a space, closed by a `$` with no space
// before it and no digit after it — so "costs $5 and $10" stays text — and with no code span inside. Nor does a `$`
// followed by a letter close it: that is a shell's variable, as in "$HOME/$USER". `\$` is a dollar sign.
//
// Copying a selection gives each formula's TeX (`copyFormulasAsTeX`), as ChatGPT does.

/** Adds the math rules to markdown-it instance `md`, typesetting with `katex`. */
export function mathPlugin(md, katex) {
  md.inline.ruler.before("escape", "math_inline", inlineMath);
  md.block.ruler.before("fence", "math_block", blockMath, { alt: ["paragraph", "reference", "blockquote", "list"] });
  md.renderer.rules.math_inline = (tokens, index) => typeset(md, katex, tokens[index].content, tokens[index].meta.display);
  md.renderer.rules.math_block = (tokens, index) =>
    `<div class="math-block">${typeset(md, katex, tokens[index].content, true)}</div>\n`;
}

/**
 * KaTeX's HTML (what is seen) and MathML (what a screen reader reads). DOMPurify does not allow MathML's `semantics`
 * and `annotation` (mutation-XSS vectors): it would unwrap them and leave the annotation's TeX source as stray text
 * inside the formula, so the annotation goes here — KaTeX escapes the TeX in it, so it holds no markup.
 */
function typeset(md, katex, tex, displayMode) {
  try {
    // The TeX goes on the formula (`data-tex`, which DOMPurify keeps), for copying.
    return katex.renderToString(tex, { displayMode, throwOnError: false, trust: false, strict: "ignore" })
      .replace(/<annotation encoding="application\/x-tex">[^<]*<\/annotation>/g, "")
      .replace('<span class="katex">', `<span class="katex" data-tex="${md.utils.escapeHtml(tex)}">`);
  } catch {
    return `<code>${md.utils.escapeHtml(tex)}</code>`;
  }
}

const delimiters = [
  { open: "\\(", close: "\\)", display: false },
  { open: "\\[", close: "\\]", display: true },
  { open: "$$", close: "$$", display: true },
  { open: "$", close: "$", display: false },
];

function inlineMath(state, silent) {
  const { src, pos } = state;
  const delimiter = delimiters.find(({ open }) => src.startsWith(open, pos));
  if (!delimiter) return false;
  const from = pos + delimiter.open.length;
  let end = src.indexOf(delimiter.close, from);
  if (delimiter.open === "$") {
    if (/\s/.test(src[from] ?? " ")) return false;
    while (end !== -1 && (/\s/.test(src[end - 1]) || src[end - 1] === "\\" || /[\dA-Za-z_]/.test(src[end + 1] ?? ""))) {
      end = src.indexOf("$", end + 1);
    }
  }
  // A backtick between the marks belongs to a code span: "costs $5, `$x$` is code" is not math.
  if (end === -1 || end === from || src.slice(from, end).includes("`")) return false;
  if (!silent) {
    const token = state.push("math_inline", "math", 0);
    token.content = src.slice(from, end);
    token.meta = { display: delimiter.display };
  }
  state.pos = end + delimiter.close.length;
  return true;
}

/** `$$` or `\[` at the start of a line, up to the line that ends with its closing mark; a blank line ends the search. */
function blockMath(state, startLine, endLine, silent) {
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;  // an indented code block
  const lineText = (line) => state.src.slice(state.bMarks[line] + state.tShift[line], state.eMarks[line]);
  const first = lineText(startLine);
  const delimiter = delimiters.find(({ open, display }) => display && first.startsWith(open));
  if (!delimiter) return false;
  const { close } = delimiter;
  const lines = [];
  let last = startLine;
  let rest = first.slice(delimiter.open.length).trimEnd();
  while (!(rest.endsWith(close) && (last > startLine || rest.length >= close.length))) {
    lines.push(rest);
    last += 1;
    if (last >= endLine) return false;
    rest = lineText(last).trimEnd();
    if (rest === "") return false;
  }
  lines.push(rest.slice(0, -close.length));
  if (silent) return true;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = lines.join("\n").trim();
  token.map = [startLine, last + 1];
  state.line = last + 1;
  return true;
}

/**
 * A `copy` listener: when the selection holds formulas, the clipboard gets their TeX — `$…$` inline, `$$…$$` for a
 * display block — in place of what KaTeX drew followed by its MathML's text ("E=mc2E = mc^2"). A selection that
 * begins or ends inside a formula takes the whole formula. Other selections are left to the browser.
 */
export function copyFormulasAsTeX(event) {
  const selection = document.getSelection();
  if (!event.clipboardData || !selection || selection.isCollapsed || !selection.rangeCount) return;
  const range = selection.getRangeAt(0).cloneRange();
  const formulaAround = (node) =>
    (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)?.closest(".katex[data-tex]");
  const whole = (formula) => formula.closest(".katex-display") ?? formula;
  const first = formulaAround(range.startContainer);
  const last = formulaAround(range.endContainer);
  if (first) range.setStartBefore(whole(first));
  if (last) range.setEndAfter(whole(last));
  const fragment = range.cloneContents();
  const formulas = fragment.querySelectorAll(".katex[data-tex]");
  if (!formulas.length) return;
  for (const formula of formulas) {
    const display = formula.parentElement?.classList.contains("katex-display");
    whole(formula).replaceWith(display ? `$$${formula.dataset.tex}$$` : `$${formula.dataset.tex}$`);
  }
  for (const button of fragment.querySelectorAll("button")) button.remove();
  // Laid out off screen, so that the plain text breaks lines between paragraphs as the browser's own copy does.
  const holder = Object.assign(document.createElement("div"), { className: "copy-holder" });
  holder.style.cssText = "position:fixed;left:-10000px;top:0;white-space:normal";
  holder.append(fragment);
  document.body.append(holder);
  event.clipboardData.setData("text/plain", holder.innerText);
  event.clipboardData.setData("text/html", holder.innerHTML);
  holder.remove();
  event.preventDefault();
}
