// Once a conversation's first answer is written, the server's title model names it from the question and the answer,
// as ChatGPT and Open WebUI do; until then (and when it cannot: titles off, out of budget, a failure) the first line
// of the question is its name. A temporary chat is not named: it is listed nowhere.

import * as api from "./api.js";

export class FirstAnswerTitles {
  /** `writesTitles()`: whether the server names conversations; `isTemporary(id)`; `onNamed()`: list again. */
  constructor({ writesTitles, isTemporary, onNamed }) {
    Object.assign(this, { writesTitles, isTemporary, onNamed });
    /** The conversations whose title call is on its way, or failed since the page was loaded: opening one of those
     * again does not ask again (a failed call would only fail again, or spend an upstream call each time); a reload
     * does. */
    this.naming = new Set();
  }

  /** Asks for `conversation`'s title if its only answer is written and it was not asked for already. */
  name(conversation) {
    const answer = conversation?.messages.at(-1);
    if (!this.writesTitles() || this.isTemporary(conversation.id) || answer?.role !== "assistant" || answer.status !== "complete") return;
    if (this.naming.has(conversation.id)) return;  // asked already (the conversation opened again meanwhile)
    this.naming.add(conversation.id);
    // `automatic`: refused while the user has turned automatic titles off (Personalize), and the first line stays.
    api.writeTitle(conversation.id, { automatic: true }).then(() => {
      this.naming.delete(conversation.id);
      return this.onNamed();
    }).catch(() => {});
  }
}
