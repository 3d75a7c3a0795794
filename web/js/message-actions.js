// The buttons on the messages of the open conversation, handled once for the whole log: continue a cut answer,
// regenerate one (with its temperature), edit a question (the turns after it start again) or an answer in place,
// branch into a new conversation, and step through a message's versions. After each, the conversation is shown again.

import * as api from "./api.js";
import { editInPlace } from "./messages.js";
import { continueAnswer, regenerateAnswer, editQuestion, UNSENT } from "./turn.js";
import { showVersion } from "./versions.js";

/**
 * `busy()`: an answer is being written (the buttons then do nothing); `turnOptions()`: the picked `{model, effort}`;
 * `open(id, options)` shows a conversation; `current()` is the open one's id; `onStateChange` follows a streaming turn.
 */
export function bindMessageActions({ log, announce, showBanner, onStateChange, busy, turnOptions, open, current }) {
  log.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || busy()) return;
    const element = button.closest("article.message");
    if (!element) return;
    const view = { element, text: element.querySelector(".text"), meta: element.querySelector(".meta") };
    const messageId = element.dataset.id;
    const reopen = () => (current() ? open(current()) : Promise.resolve()).catch((error) => showBanner(error.message));
    const streaming = { log, announce, onStateChange };
    // A request Sluice did not take changed nothing: the page is already as it was (turn.js put it back), and loading
    // the conversation again would only fail too, its error hiding the banner that says what happened.
    const reopenUnlessUnsent = (error) => {
      showBanner(error.message);
      return UNSENT.has(error.code) ? Promise.resolve() : reopen();
    };
    if (button.matches(".continue")) {
      continueAnswer({ view, messageId, effort: turnOptions().effort, ...streaming })
        .catch((error) => showBanner(error.message)).finally(reopen);
    } else if (button.matches(".regenerate")) {
      const temperature = Number(element.querySelector("input.temperature")?.value ?? 0.7);
      regenerateAnswer({ element, messageId, temperature, ...turnOptions(), ...streaming })
        .then(reopen, reopenUnlessUnsent);
    } else if (button.matches(".edit")) {
      // An edit Sluice did not take opens again with the edited words, to send once Sluice is back.
      const edit = (words) => editInPlace(element, (content) => {
        showBanner("");
        editQuestion({ element, messageId, content, ...turnOptions(), ...streaming })
          .then(reopen, (error) => {
            reopenUnlessUnsent(error);
            if (UNSENT.has(error.code)) edit(content);
          });
      }, undefined, { text: words });
      edit();
    } else if (button.matches(".edit-answer")) {
      editInPlace(element, (content) => {
        showBanner("");
        api.editAnswer(messageId, content).catch((error) => showBanner(error.message)).finally(reopen);
      }, undefined, { answer: true });
    } else if (button.matches(".branch")) {
      api.branchFrom(messageId).then((branch) => open(branch.id)).catch((error) => showBanner(error.message));
    } else if (button.matches(".version-previous, .version-next")) {
      showVersion(element, button.matches(".version-next") ? 1 : -1, { show: (loaded, keep) => open(current(), { loaded, keep }) })
        .catch((error) => showBanner(error.message));
    }
  });
}
