// The web app's few pictures, drawn as SVG in the text's colour: emoji (📎 📌 📁 👍 👎 ✨ 🖼) look different on every
// system and are empty boxes on one without an emoji font, where an SVG is the same everywhere, as ChatGPT's and
// Open WebUI's icons are. Each is a 24 × 24 outline; buttons that show one keep their own label for screen readers.

const SVG = "http://www.w3.org/2000/svg";

/** Each icon's outline: path data in a 24 × 24 box, stroked. */
const PATHS = {
  paperclip: "M20.5 11.5 12 20a5 5 0 0 1-7-7l8.5-8.5a3.5 3.5 0 0 1 5 5L10 18a2 2 0 0 1-3-3l7.5-7.5",
  pin: "M9 3h6M10 3v6l-3.5 4.5h11L14 9V3M12 13.5V21",
  folder: "M3 7a2 2 0 0 1 2-2h4l2 2.5h8a2 2 0 0 1 2 2V18a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2Z",
  "thumbs-up": "M7 10.5V20M7 10.5 10.5 3a2.2 2.2 0 0 1 3 2.4L13 9h5.6a2 2 0 0 1 2 2.4l-1.4 6.9A2 2 0 0 1 17.2 20H4a1 1 0 0 1-1-1v-7.5a1 1 0 0 1 1-1Z",
  sparkles: "M11 3.5 12.8 8.7 18 10.5l-5.2 1.8L11 17.5l-1.8-5.2L4 10.5l5.2-1.8ZM18.5 15l.8 2.2 2.2.8-2.2.8-.8 2.2-.8-2.2-2.2-.8 2.2-.8Z",
  image: "M4 5h16v14H4ZM4 16l5-5 4 4 2.5-2.5L20 17M15.5 8.5h.01",
  pencil: "M4 20h4L19 9l-4-4L4 16ZM13.5 6.5l4 4",
  archive: "M3 4h18v4H3ZM5 8v11a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8M10 12h4",
  unarchive: "M3 4h18v4H3ZM5 8v11a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8M12 17.5V11M9.5 13.5 12 11l2.5 2.5",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6",
};

/**
 * An icon (`name`: a key of the outlines above, or `thumbs-down`, the thumb turned over) as an `<svg class="icon">`
 * hidden from screen readers. `lead`: it goes before a text, with a little room after it.
 */
export function icon(name, { lead = false } = {}) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}${lead ? " lead" : ""}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name === "thumbs-down" ? "thumbs-up" : name]);
  if (name === "thumbs-down") path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}

/** `text` after an icon, as the children of an element (`element.append(...withIcon("folder", "Thesis"))`). */
export const withIcon = (name, text) => [icon(name, { lead: true }), text];
