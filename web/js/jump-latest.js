// "↓ Latest" over the messages while they are scrolled away from their end, as ChatGPT offers: a click goes to the
// newest text (and, mid-answer, the page follows the answer again). Checked at most once a frame. Messages shown at
// their end stay at their end when the bars below them change height (the usage line, a banner).

/** Shows `button` while `log` is more than a screenful's corner away from its end; a click scrolls to the end. */
export function offerJumpToLatest(log, button) {
  let scheduled = 0;
  let atEnd = true;
  const distance = () => log.scrollHeight - log.scrollTop - log.clientHeight;
  const update = () => {
    scheduled = 0;
    button.hidden = distance() < 120;
  };
  const schedule = () => { if (!scheduled) scheduled = requestAnimationFrame(update); };
  log.addEventListener("scroll", () => {
    atEnd = distance() < 40;
    schedule();
  }, { passive: true });
  // The log itself shrank or grew (the page around it changed): at its end before, at its end after.
  new ResizeObserver(() => {
    if (atEnd) log.scrollTop = log.scrollHeight;
    schedule();
  }).observe(log);
  // New messages and a growing answer lengthen the log without a scroll.
  new MutationObserver(schedule).observe(log, { childList: true, subtree: true, characterData: true });
  button.addEventListener("click", () => {
    log.scrollTop = log.scrollHeight;
    button.hidden = true;
  });
  update();
}
