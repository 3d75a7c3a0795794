// Menus as the WAI-ARIA menu button pattern has them, for the account menu at the foot of the sidebar and the
// "⋯" menu of each conversation in the list (as ChatGPT's and Open WebUI's): a click on the button opens or closes
// the menu, a key press that opens it puts the focus on its first item, ↑ / ↓ / Home / End move between the items,
// Escape closes it and gives the focus back to the button, and choosing an item or clicking anywhere else closes it.

const itemsOf = (menu) => [...menu.querySelectorAll("button:not([hidden]):not(:disabled)")];

/** The keys of an open menu: ↑ ↓ Home End between the items, Escape closes it back to its button, Tab closes it. */
function handleKeys(menu, close) {
  menu.addEventListener("keydown", (event) => {
    const items = itemsOf(menu);
    const at = items.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (to !== undefined) {
      event.preventDefault();
      items[(to + items.length) % items.length]?.focus();
    } else if (event.key === "Escape") {
      event.stopPropagation();  // the menu closes, not the sidebar's overlay on a narrow screen
      close({ refocus: true });
    } else if (event.key === "Tab") {
      close({ refocus: false });
    }
  });
}

/** A menu that is part of the page (`menu`, hidden until opened) and the button that opens it. */
export function offerMenu(button, menu) {
  const setOpen = (open, { focusFirst = false } = {}) => {
    menu.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open && focusFirst) itemsOf(menu)[0]?.focus();
  };
  // `detail` is 0 for a click made with the keyboard (Enter or Space on the button).
  button.addEventListener("click", (event) => setOpen(menu.hidden, { focusFirst: event.detail === 0 }));
  menu.addEventListener("click", (event) => { if (event.target.closest("button")) setOpen(false); });
  document.addEventListener("click", (event) => {
    if (!menu.hidden && !menu.contains(event.target) && !button.contains(event.target)) setOpen(false);
  });
  handleKeys(menu, ({ refocus }) => {
    setOpen(false);
    if (refocus) button.focus();
  });
}

/** Makes `button` (a list row's "⋯") open a `popUpMenu` of `items`, named `label`, and say so to screen readers. */
export function opensMenu(button, items, label) {
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", (event) => popUpMenu(button, items, { label, focusFirst: event.detail === 0 }));
  return button;
}

/** The menu a `popUpMenu` button has open now, to close it when another opens or the button is clicked again. */
let openNow = null;

/**
 * Opens a menu of `items` (`{label, className, icon?, danger?, run}`) under `button` (or above it, where the window
 * ends), over everything else: fixed to the window, so a scrolled list does not cut it off, and made anew each
 * time, so a list drawn again leaves nothing behind. A second click on the button closes it; so do scrolling and the
 * button's leaving the page (its list drawn again: the menu would float beside nothing, its labels perhaps out of
 * date). `label` names the menu for screen readers.
 */
export function popUpMenu(button, items, { label, focusFirst = false }) {
  const wasOpen = openNow?.button === button;
  openNow?.close({ refocus: false });
  if (wasOpen) return;
  const menu = Object.assign(document.createElement("div"), { className: "popup-menu" });
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", label);
  const onOutside = (event) => { if (!menu.contains(event.target) && !button.contains(event.target)) close({ refocus: false }); };
  const onScroll = (event) => { if (!menu.contains(event.target)) close({ refocus: false }); };
  const detached = new MutationObserver(() => { if (!button.isConnected) close({ refocus: false }); });
  function close({ refocus }) {
    detached.disconnect();
    menu.remove();
    document.removeEventListener("click", onOutside, true);
    document.removeEventListener("scroll", onScroll, true);
    window.removeEventListener("resize", onScroll);
    button.setAttribute("aria-expanded", "false");
    if (openNow?.menu === menu) openNow = null;
    if (refocus && button.isConnected) button.focus();
  }
  for (const item of items) {
    const choice = Object.assign(document.createElement("button"), { type: "button", className: item.className ?? "" });
    choice.setAttribute("role", "menuitem");
    if (item.danger) choice.classList.add("danger");
    if (item.icon) choice.append(item.icon);
    choice.append(item.label);
    choice.addEventListener("click", () => {
      close({ refocus: false });
      item.run();
    });
    menu.append(choice);
  }
  handleKeys(menu, close);
  document.body.append(menu);
  const box = button.getBoundingClientRect();
  const below = box.bottom + 4 + menu.offsetHeight <= window.innerHeight;
  menu.style.top = `${below ? box.bottom + 4 : Math.max(4, box.top - 4 - menu.offsetHeight)}px`;
  menu.style.left = `${Math.min(Math.max(4, box.left), window.innerWidth - menu.offsetWidth - 4)}px`;
  button.setAttribute("aria-expanded", "true");
  document.addEventListener("click", onOutside, true);
  document.addEventListener("scroll", onScroll, true);
  window.addEventListener("resize", onScroll);
  detached.observe(document.body, { childList: true, subtree: true });
  openNow = { button, menu, close };
  if (focusFirst) itemsOf(menu)[0]?.focus();
}
