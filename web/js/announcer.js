// A polite live region: what it is given is read out by screen readers without moving the focus.

/** Adds the region to the page; returns `announce(text)`. */
export function liveAnnouncer() {
  const live = document.createElement("div");
  live.setAttribute("aria-live", "polite");
  live.className = "visually-hidden";
  live.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)";
  document.body.append(live);
  return (text) => { live.textContent = text; };
}
