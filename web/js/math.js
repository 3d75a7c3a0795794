// Math in model output, typeset by KaTeX as ChatGPT and Open WebUI show it: `$…$` and `\(…\)` inline, `$$…$$` and
// `\[…\]` on lines of their own as a display block. A markdown-it plugin, so that the TeX is taken out before
// Markdown reads it (otherwise `\(` loses its backslash and `a_1 … b_2` turns into emphasis). Debian packages no
// markdown-it math plugin, hence these few rules. KaTeX runs without `trust` (no \href, \url or \includegraphics) and
// its HTML still goes through DOMPurify with everything else; a formula KaTeX cannot read is shown as its source.
//
// A single `$` opens inline math only as pandoc's does: not followed by a space, closed by a `$` with no space
// before it and no digit after it — so "costs $5 and $10" stays text — and with no code span inside. `\$` is a
// dollar sign.

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
    return katex.renderToString(tex, { displayMode, throwOnError: false, trust: false, strict: "ignore" })
      .replace(/<annotation encoding="application\/x-tex">[^<]*<\/annotation>/g, "");
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
    while (end !== -1 && (/\s/.test(src[end - 1]) || src[end - 1] === "\\" || /\d/.test(src[end + 1] ?? ""))) {
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
