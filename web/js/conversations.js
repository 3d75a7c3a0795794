// The conversation list in the sidebar: search it, open one, rename it in place, pin it to the top, move it into one of
// the user's projects (drawn by `ProjectShelf`, each holding its conversations) or out, archive it out of the list
// (and see the archived ones, and bring one back), delete it (after asking).

import * as api from "./api.js";
import { PagedList } from "./paged-list.js";
import { icon, withIcon } from "./icons.js";
import { opensMenu } from "./menu.js";

/** The drag data type of a conversation dragged from the list onto a project (or back onto the list). */
export const CONVERSATION_DRAG = "application/x-sluice-conversation";

export class ConversationList {
  /**
   * `onOpen(id)` opens a conversation; `onDeleted(id)` runs after one is deleted; `onArchived(id, archived)` after
   * one is archived or brought back; `showBanner(text)` shows what went wrong. `archivedToggle` (an item of the
   * account menu) switches the list between the conversations and the archived ones; `archivedBar`, shown over the
   * archived ones, names them and has a button back. `projects`: the `ProjectShelf` that draws the projects.
   * `onListed()` runs after every refresh, however it came about (a move, a drop, a rename).
   */
  constructor({ list, archivedToggle, archivedBar, projects, onOpen, onDeleted, onArchived, onListed, showBanner }) {
    Object.assign(this, { list, archivedToggle, projects, onOpen, onDeleted, onArchived, onListed, showBanner });
    this.current = null;
    /** The project the open conversation is in (`null`: none), which the header names and whose fold opens. */
    this.currentProject = null;
    // A page at a time: the conversations in no project (each project's are under it), and the archived ones.
    this.main = new PagedList({ projectId: "none" });
    this.archived = new PagedList({ archived: true });
    this.renaming = false;
    /** Whether the server's model writes titles (`GET /api/models`' `titles`). */
    this.writesTitles = false;
    this.query = "";
    this.sequence = 0;
    this.showingArchived = false;
    /** The conversations drawn in the list by id, as listed (for the shortcut that deletes the open one). */
    this.drawn = new Map();
    // A conversation dropped on the list leaves its project (one dragged onto a project joins it: `ProjectShelf`).
    list.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes(CONVERSATION_DRAG) && !this.showingArchived) event.preventDefault();
    });
    list.addEventListener("drop", (event) => {
      const id = event.dataTransfer?.getData(CONVERSATION_DRAG);
      if (!id || this.showingArchived) return;
      event.preventDefault();
      this.moveTo(id, null);
    });
    const switchList = () => {
      this.showingArchived = !this.showingArchived;
      archivedToggle?.setAttribute("aria-checked", String(this.showingArchived));
      if (archivedBar) archivedBar.hidden = !this.showingArchived;
      this.refresh().catch((error) => this.showBanner(error.message));
    };
    archivedToggle?.addEventListener("click", switchList);
    archivedBar?.querySelector("button")?.addEventListener("click", switchList);
  }

  /**
   * Lists the user's conversations again — the projects with the conversations of each one unfolded, then those in
   * none, pinned first, then most recently active; or the archived ones while they are shown; or the search's hits —
   * as far as they were shown (`PagedList`).
   */
  async refresh(current = this.current) {
    this.current = current;
    if (this.query) await Promise.all([this.projects?.load(), this.search(this.query)]);
    else if (this.showingArchived) await Promise.all([this.projects?.load(), this.archived.reload()]);
    else await Promise.all([this.projects?.reload(this.currentProject), this.main.reload()]);
    // A search draws itself; a refresh meanwhile must not draw the list over its hits.
    if (!this.query) this.showingArchived ? this.drawArchived() : this.draw();
    this.onListed?.();
  }

  drawArchived() {
    if (this.renaming) return;
    this.projects?.draw(null, { shown: false });
    const { conversations } = this.archived;
    if (conversations.length === 0) {
      this.list.replaceChildren(Object.assign(document.createElement("li"), {
        className: "no-matches", textContent: "No archived conversations." }));
      return;
    }
    const more = this.archived.moreItem(() => this.drawArchived(), this.showBanner);
    this.list.replaceChildren(...conversations.map((conversation) => this.item(conversation)), ...(more ? [more] : []));
  }

  /** Shows only the conversations with `text` in their title or messages (the list again when it is empty). */
  async search(text) {
    this.query = text.trim();
    const sequence = ++this.sequence;
    if (!this.query) {
      await this.refresh();
      return;
    }
    const conversations = await api.searchConversations(this.query);
    // A later search (or a cleared box) has answered meanwhile: this one is stale.
    if (sequence !== this.sequence || this.renaming) return;
    this.projects?.draw(null, { shown: false });
    this.main.observer?.disconnect();
    if (conversations.length === 0) {
      this.list.replaceChildren(Object.assign(document.createElement("li"), {
        className: "no-matches", textContent: `No conversation has ${searchTerms(this.query).map((term) => `“${term}”`).join(" and ")}.` }));
      return;
    }
    this.list.replaceChildren(...conversations.map((conversation) => this.item(conversation)));
  }

  /** Draws the projects (each with its conversations, when unfolded) and the conversations in none below them. */
  draw() {
    // Not under a name being typed: the rename draws the list again when it ends.
    if (this.renaming) return;
    this.projects?.draw((conversation) => this.item(conversation), { currentProject: this.currentProject, redraw: () => this.draw() });
    const { conversations } = this.main;
    const items = [];
    const pinned = conversations.filter((conversation) => conversation.pinned_at);
    // Pinned ones above the rest, the rest under when they were last active, as ChatGPT and Open WebUI list them.
    if (pinned.length > 0) items.push(this.heading("Pinned"), ...pinned.map((conversation) => this.item(conversation)));
    const now = new Date();
    let shown = null;
    for (const conversation of conversations.filter((conversation) => !conversation.pinned_at)) {
      const period = periodOf(conversation.updated_at, now);
      if (period !== shown) items.push(this.heading(period));
      shown = period;
      items.push(this.item(conversation));
    }
    const more = this.main.moreItem(() => this.draw(), this.showBanner);
    if (more) items.push(more);
    this.list.replaceChildren(...items);
  }

  heading(text) {
    const item = Object.assign(document.createElement("li"), { className: "list-heading", textContent: text });
    item.setAttribute("role", "presentation");
    return item;
  }

  item(conversation) {
    const item = document.createElement("li");
    item.dataset.id = conversation.id;
    // Dragged onto a project (Open WebUI's folders), it moves there.
    item.draggable = true;
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData(CONVERSATION_DRAG, conversation.id);
      event.dataTransfer.effectAllowed = "move";
    });
    this.drawn.set(conversation.id, conversation);
    if (conversation.pinned_at) item.classList.add("pinned");
    if (conversation.archived_at) item.classList.add("archived");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "conversation-open";
    const terms = this.query ? searchTerms(this.query) : [];
    // One line, cut with an ellipsis as ChatGPT's list does; the whole title shows on hover.
    const title = Object.assign(document.createElement("span"), { className: "conversation-title" });
    highlight(title, conversation.title, terms);
    if (conversation.pinned_at) title.prepend(icon("pin", { lead: true }));
    open.append(title);
    open.title = conversation.title;
    // A gateway call that named its end user (OpenAI's `user`): whom the conversation is for.
    if (conversation.end_user) {
      const endUser = document.createElement("span");
      endUser.className = "end-user";
      endUser.textContent = `for ${conversation.end_user}`;
      open.append(endUser);
    }
    // A search's hit in a project: which one.
    const project = this.query && this.projects?.name(conversation.project_id);
    if (project) {
      const where = Object.assign(document.createElement("span"), { className: "end-user in-project" });
      where.append("in ", ...withIcon("folder", project));
      open.append(where);
    }
    // A search's hit: the words in the message that has the most of them, each marked (as in ChatGPT's search).
    if (conversation.snippet) {
      const snippet = document.createElement("span");
      snippet.className = "snippet";
      highlight(snippet, conversation.snippet, terms);
      open.append(snippet);
    }
    open.setAttribute("aria-current", String(conversation.id === this.current));
    open.addEventListener("click", () => this.onOpen(conversation.id));
    // ChatGPT's "⋯": one button with the conversation's actions in a menu, so the title has the list's width.
    const archived = Boolean(conversation.archived_at);
    const pinned = Boolean(conversation.pinned_at);
    const choices = [
      ...(archived ? [] : [
        { className: "conversation-pin", icon: icon("pin", { lead: true }), label: pinned ? "Unpin" : "Pin",
          run: () => this.change(conversation, { pinned: !pinned }) },
        { className: "conversation-rename", icon: icon("pencil", { lead: true }), label: "Rename", run: () => this.rename(item, conversation) },
        ...(this.projects?.projects.length
          ? [{ className: "conversation-move", icon: icon("folder", { lead: true }), label: "Move to project", run: () => this.move(item, conversation) }]
          : []),
      ]),
      { className: "conversation-archive", icon: icon(archived ? "unarchive" : "archive", { lead: true }), label: archived ? "Unarchive" : "Archive",
        run: () => this.change(conversation, { archived: !archived }) },
      { className: "conversation-delete", icon: icon("trash", { lead: true }), label: "Delete", danger: true, run: () => this.remove(conversation) },
    ];
    const label = `Options for “${conversation.title}”`;
    // The row's own click (which opens the conversation) is stopped by `action`.
    item.append(open, opensMenu(this.action("conversation-more", "⋯", label, () => {}), choices, label));
    return item;
  }

  /** Pins, unpins, archives or unarchives (`fields`), then lists again. */
  async change(conversation, fields) {
    try {
      await api.updateConversation(conversation.id, fields);
    } catch (error) {
      this.showBanner(error.message);
      return;
    }
    await this.refresh().catch((error) => this.showBanner(error.message));
    if ("archived" in fields) await this.onArchived?.(conversation.id, fields.archived);
  }

  /** A small button beside a conversation: `symbol` a text or an icon, `label` what it does (its tooltip and name). */
  action(className, symbol, label, run) {
    const button = Object.assign(document.createElement("button"), { type: "button", className, title: label });
    button.append(symbol);
    button.setAttribute("aria-label", label);
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      run(event);
    });
    return button;
  }

  /**
   * Turns the title into a text field: Enter or leaving it saves, Escape keeps the old name. Where the server's model
   * writes titles (`writesTitles`), a sparkles button beside it has the model name the conversation from its first question and
   * answer instead (Open WebUI's "generate" in its rename field).
   */
  rename(item, conversation) {
    const field = Object.assign(document.createElement("input"), { type: "text", value: conversation.title, className: "rename-field", maxLength: 200 });
    field.setAttribute("aria-label", "New name of the conversation");
    item.replaceChildren(field);
    if (this.writesTitles) {
      const generate = this.action("conversation-name", icon("sparkles"), "Let the model name it from the first answer", async () => {
        done = true;
        this.renaming = false;
        field.disabled = generate.disabled = true;
        generate.textContent = "…";
        try {
          await api.writeTitle(conversation.id);
        } catch (error) {
          this.showBanner(error.message);
        }
        await this.refresh().catch((error) => this.showBanner(error.message));
      });
      // Pressing it does not take the focus from the field first (whose blur would save the typed name).
      generate.addEventListener("mousedown", (event) => event.preventDefault());
      item.append(generate);
    }
    field.focus();
    field.select();
    this.renaming = true;
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      this.renaming = false;
      const title = field.value.trim();
      if (save && title && title !== conversation.title) {
        try {
          await api.updateConversation(conversation.id, { title });
        } catch (error) {
          this.showBanner(error.message);
        }
      }
      await this.refresh().catch((error) => this.showBanner(error.message));
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); finish(false); }
    });
    field.addEventListener("blur", () => finish(true));
  }

  /** Moves conversation `id` into project `projectId` (`null`: out of any), then lists again. */
  async moveTo(id, projectId) {
    try {
      await api.updateConversation(id, { project_id: projectId });
      if (id === this.current) this.currentProject = projectId;
    } catch (error) {
      this.showBanner(error.message);
    }
    await this.refresh().catch((error) => this.showBanner(error.message));
  }

  /**
   * Turns the item into the user's projects (and "No project") as buttons: pressing one moves the conversation there;
   * Escape, or leaving them, changes nothing.
   */
  move(item, conversation) {
    const choices = document.createElement("div");
    choices.className = "move-choices";
    choices.setAttribute("role", "group");
    choices.setAttribute("aria-label", `Move “${conversation.title}” to`);
    const options = [{ id: null, name: "No project" }, ...this.projects.projects];
    this.renaming = true;
    let done = false;
    const finish = async (projectId) => {
      if (done) return;
      done = true;
      this.renaming = false;
      if (projectId !== undefined && projectId !== (conversation.project_id ?? null)) await this.moveTo(conversation.id, projectId);
      else await this.refresh().catch((error) => this.showBanner(error.message));
    };
    choices.append(...options.map((project) => {
      const button = Object.assign(document.createElement("button"), { type: "button", className: "move-choice" });
      button.append(...(project.id ? withIcon("folder", project.name) : [project.name]));
      button.setAttribute("aria-pressed", String(project.id === (conversation.project_id ?? null)));
      button.addEventListener("click", (event) => { event.stopPropagation(); finish(project.id); });
      // A press keeps the focus where it is, so that leaving the choices does not end them before the click.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      return button;
    }));
    choices.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); finish(undefined); }
    });
    choices.addEventListener("focusout", (event) => {
      if (!choices.contains(event.relatedTarget)) finish(undefined);
    });
    item.replaceChildren(choices);
    (choices.querySelector('[aria-pressed="true"]') ?? choices.firstChild).focus();
  }

  async remove(conversation) {
    if (!confirm(`Delete “${conversation.title}” and all its messages? This cannot be undone.`)) return;
    try {
      await api.deleteConversation(conversation.id);
    } catch (error) {
      this.showBanner(error.message);
      return;
    }
    await this.onDeleted(conversation.id);
  }
}

/**
 * The heading a conversation last active at `iso` is listed under, in the browser's time zone: Today, Yesterday,
 * Previous 7 days, Previous 30 days, then its month ("October"; "October 2024" in an earlier year), as ChatGPT's and
 * Open WebUI's lists say.
 */
export function periodOf(iso, now = new Date()) {
  const date = new Date(iso);
  const day = (moment) => new Date(moment.getFullYear(), moment.getMonth(), moment.getDate());
  // Whole days between the two calendar days (rounded: a day with a clock change is 23 or 25 hours long).
  const days = Math.round((day(now) - day(date)) / 86_400_000);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  if (days <= 30) return "Previous 30 days";
  const month = date.toLocaleString(undefined, { month: "long" });
  return date.getFullYear() === now.getFullYear() ? month : `${month} ${date.getFullYear()}`;
}

/** The words and "quoted phrases" of a search, as the server reads them (`SearchTerms`). */
export function searchTerms(query) {
  return [...query.matchAll(/"([^"]*)"?|([^\s"]+)/g)].map((match) => (match[1] ?? match[2]).trim()).filter(Boolean);
}

/** Appends `text` to `element` with each place of a term (ignoring case) in a <mark>; text nodes only, never HTML. */
function highlight(element, text, terms) {
  if (terms.length === 0) { element.append(text); return; }
  // Longer terms first, so that a phrase is marked whole rather than by a word inside it.
  const pattern = new RegExp([...terms].sort((a, b) => b.length - a.length).map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gi");
  let end = 0;
  for (const match of text.matchAll(pattern)) {
    element.append(text.slice(end, match.index), Object.assign(document.createElement("mark"), { textContent: match[0] }));
    end = match.index + match[0].length;
  }
  element.append(text.slice(end));
}
