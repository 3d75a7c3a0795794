// A list of conversations the sidebar reads a page at a time (`GET /api/conversations?limit=&cursor=`), as Open WebUI
// reads 50 at a time: a refresh reads it again from the top as far as was shown, so that what was scrolled to stays,
// and "Show more" — pressed, or scrolled into view — reads the next page onto its end.

import * as api from "./api.js";

/** The conversations a page holds. */
export const PAGE_SIZE = 50;
/** The most the server gives in one page (`ConversationListQuery.maxLimit`). */
const MAX_LIMIT = 200;

export class PagedList {
  /** `filter`: what to list (`api.listConversations`' `archived` and `projectId`). */
  constructor(filter) {
    this.filter = filter;
    this.conversations = [];
    /** Where the next page starts, while more remain. */
    this.next = null;
    this.observer = null;
  }

  /** Reads the list again from the top, as far as it was shown (a page at least). */
  async reload() {
    const wanted = Math.max(PAGE_SIZE, this.conversations.length);
    const conversations = [];
    let cursor = null;
    do {
      const page = await api.listConversations({ ...this.filter, limit: Math.min(MAX_LIMIT, wanted - conversations.length), cursor });
      conversations.push(...page.conversations);
      cursor = page.next_cursor ?? null;
    } while (cursor && conversations.length < wanted);
    this.conversations = conversations;
    this.next = cursor;
    return conversations;
  }

  /** Reads the next page onto the end. */
  async more() {
    if (!this.next) return;
    const page = await api.listConversations({ ...this.filter, limit: PAGE_SIZE, cursor: this.next });
    // One that moved to the top meanwhile (a new message) is shown there already: once only.
    const shown = new Set(this.conversations.map((conversation) => conversation.id));
    this.conversations.push(...page.conversations.filter((conversation) => !shown.has(conversation.id)));
    this.next = page.next_cursor ?? null;
  }

  /**
   * The item at the end of the drawn list while more remain: a "Show more" button that reads the next page and then
   * runs `drawn()` (to draw the list again), when pressed or once it comes into view; `null` at the end.
   */
  moreItem(drawn, showBanner) {
    this.observer?.disconnect();
    this.observer = null;
    if (!this.next) return null;
    const item = Object.assign(document.createElement("li"), { className: "list-more" });
    const button = Object.assign(document.createElement("button"), { type: "button", className: "show-more", textContent: "Show more" });
    let busy = false;
    const load = async () => {
      if (busy) return;
      busy = true;
      this.observer?.disconnect();
      button.disabled = true;
      button.textContent = "Loading…";
      try {
        await this.more();
        drawn();
      } catch (error) {
        showBanner(`More conversations could not be loaded (${error.message}).`);
        button.disabled = false;
        button.textContent = "Show more";
        busy = false;
      }
    };
    button.addEventListener("click", load);
    this.observer = new IntersectionObserver((entries) => { if (entries.some((entry) => entry.isIntersecting)) load(); });
    this.observer.observe(item);
    item.append(button);
    return item;
  }
}
