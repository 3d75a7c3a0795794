// The ‹ 2 / 3 › of a regenerated answer or an edited question: another version put into the thread with the turns
// that followed it, as ChatGPT and Open WebUI switch branches (POST /api/messages/{id}/select). The next message goes
// on from the branch shown; the others are kept and come back the same way.

import * as api from "./api.js";

/**
 * Selects the version `step` away from the one `element` shows, then has `show(conversation, keep)` render the
 * conversation as it now stands, with the switched message left where it was on the screen.
 */
export async function showVersion(element, step, { show }) {
  const nav = element.querySelector(".versions");
  const versions = JSON.parse(nav.dataset.versions);
  const index = Number(nav.dataset.index) + step;
  if (index < 0 || index >= versions.length) return;
  const top = element.getBoundingClientRect().top;
  // One switch at a time; on a refusal (an answer still being written) the buttons are as they were.
  const buttons = [...nav.querySelectorAll("button")].map((button) => [button, button.disabled]);
  for (const [button] of buttons) button.disabled = true;
  try {
    const conversation = await api.selectVersion(versions[index]);
    await show(conversation, { id: versions[index], top });
  } finally {
    for (const [button, disabled] of buttons) button.disabled = disabled;
  }
}
