// Projects in the sidebar (ChatGPT's Projects, Open WebUI's folders): each a fold holding its conversations, with + to
// start a conversation in it and a "⋯" menu (as each conversation's) that starts one too, opens its form — its name,
// instructions and text files that go with every message of its conversations (after the user's own instructions,
// before each conversation's) — or deletes it (its conversations stay, out of the project). A fold opened or closed by
// hand stays so in this browser; one never touched is open while it holds the open conversation.

import * as api from "./api.js";
import { CONVERSATION_DRAG } from "./conversations.js";
import { PagedList } from "./paged-list.js";
import { icon, withIcon } from "./icons.js";
import { opensMenu } from "./menu.js";

const OPEN_KEY = "sluice.projectFolds";

export class ProjectShelf {
  /**
   * `section` holds the `list`; `form` is the project form; `onStart(projectId)` starts a conversation in a project;
   * `onChanged()` runs after a project is made, changed or deleted (the list is drawn again); `onDrop(conversationId,
   * projectId)` when a conversation is dragged onto a project; `currentModel()` is the picked model (`GET /api/models`'
   * entry), whose window decides whether the files go whole.
   */
  constructor({ section, list, newButton, form, onStart, onChanged, onDrop, showBanner, currentModel = () => null }) {
    Object.assign(this, { section, list, form, onStart, onChanged, onDrop, showBanner, currentModel });
    this.projects = [];
    /** Project id → its conversations (`PagedList`), read while it is unfolded. */
    this.members = new Map();
    this.editing = null;
    /** Project id → unfolded (true) or folded (false), for the folds opened or closed by hand. */
    this.folds = new Map(Object.entries(JSON.parse(localStorage.getItem(OPEN_KEY) ?? "{}") ?? {}));
    this.nameField = form.querySelector(".project-name");
    this.instructionsField = form.querySelector(".project-instructions");
    this.status = form.querySelector(".instructions-status");
    this.deleteButton = form.querySelector(".project-delete");
    this.filesBox = form.querySelector(".project-files-box");
    this.fileList = form.querySelector(".project-files");
    this.filesNote = form.querySelector(".project-files-note");
    const fileInput = form.querySelector(".project-files-input");
    form.querySelector(".project-files-add").addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", () => {
      this.addFiles([...fileInput.files]).finally(() => { fileInput.value = ""; });
    });
    newButton.addEventListener("click", () => this.edit(null));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    form.querySelector(".instructions-cancel").addEventListener("click", () => this.close());
    this.deleteButton.addEventListener("click", () => this.remove(this.editing));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.stopPropagation(); this.close(); }
    });
  }

  /** Fetches the user's projects (most recently changed first), each with how many conversations it holds. */
  async load() {
    this.projects = (await api.listProjects()).projects;
    return this.projects;
  }

  /** Fetches the projects, then the conversations of each unfolded one (`currentProject`'s, unless folded by hand). */
  async reload(currentProject) {
    await this.load();
    for (const id of this.members.keys()) {
      if (!this.projects.some((project) => project.id === id)) this.members.delete(id);
    }
    await Promise.all(this.projects.filter((project) => this.unfolded(project.id, currentProject)).map((project) => {
      if (!this.members.has(project.id)) this.members.set(project.id, new PagedList({ projectId: project.id }));
      return this.members.get(project.id).reload();
    }));
  }

  unfolded(id, currentProject) { return this.folds.get(id) ?? id === currentProject; }

  name(id) { return this.projects.find((project) => project.id === id)?.name; }

  /**
   * Draws each project with its conversations (`item(conversation)` draws one; `redraw()` draws the list again once
   * more of them are read) and hides the section while it is not to be shown (a search, the archived list); the
   * project holding the open conversation (`currentProject`) is unfolded unless it was folded by hand.
   */
  draw(item, { currentProject, redraw, shown = true } = {}) {
    this.section.hidden = !shown;
    for (const members of this.members.values()) members.observer?.disconnect();
    if (!shown) return;
    // Without projects, only "+ New project": no heading that would seem to hold the conversations below it.
    this.section.classList.toggle("empty", this.projects.length === 0);
    this.list.replaceChildren(...this.projects.map((project) => {
      const pages = this.members.get(project.id);
      const members = pages?.conversations ?? [];
      const unfolded = this.unfolded(project.id, currentProject) && Boolean(pages);
      const row = document.createElement("li");
      row.className = "project";
      row.dataset.id = project.id;
      const head = document.createElement("div");
      head.className = "project-head";
      const toggle = Object.assign(document.createElement("button"), { type: "button", className: "project-open" });
      toggle.append(...withIcon("folder", project.name), Object.assign(document.createElement("span"), {
        className: "project-count", textContent: ` ${project.conversation_count ?? members.length}` }));
      toggle.setAttribute("aria-expanded", String(unfolded));
      toggle.title = project.instructions ? `Instructions: ${project.instructions}` : "No instructions of its own";
      toggle.addEventListener("click", () => {
        this.setFold(project.id, !unfolded);
        this.onChanged();
      });
      const startHere = () => {
        this.setFold(project.id, true);
        this.onStart(project.id);
      };
      const start = this.action("project-new", "+", `New conversation in “${project.name}”`, startHere);
      const label = `Options for the project “${project.name}”`;
      const choices = [
        { className: "project-start", icon: icon("pencil", { lead: true }), label: "New conversation", run: startHere },
        { className: "project-edit", icon: icon("folder", { lead: true }), label: "Instructions and files", run: () => this.edit(project) },
        { className: "project-remove", icon: icon("trash", { lead: true }), label: "Delete project", danger: true, run: () => this.remove(project) },
      ];
      head.append(toggle, start, opensMenu(this.action("project-more", "⋯", label, () => {}), choices, label));
      row.append(head);
      this.acceptDrops(row, project.id);
      if (unfolded) {
        const inner = document.createElement("ul");
        inner.className = "project-conversations";
        inner.setAttribute("aria-label", `Conversations in ${project.name}`);
        if (members.length === 0) {
          inner.append(Object.assign(document.createElement("li"), {
            className: "no-matches", textContent: "No conversations yet: + starts one; a conversation's “Move to project” (in its ⋯ menu) or dragging it here moves it in." }));
        } else {
          inner.append(...members.map(item));
          const more = pages.moreItem(redraw, this.showBanner);
          if (more) inner.append(more);
        }
        row.append(inner);
      }
      return row;
    }));
  }

  /** A conversation dragged onto `row` joins project `projectId`; the row is marked while one is over it. */
  acceptDrops(row, projectId) {
    const carries = (event) => event.dataTransfer?.types.includes(CONVERSATION_DRAG);
    row.addEventListener("dragover", (event) => {
      if (!carries(event)) return;
      event.preventDefault();
      event.stopPropagation();
      row.classList.add("drop-target");
    });
    row.addEventListener("dragleave", (event) => { if (!row.contains(event.relatedTarget)) row.classList.remove("drop-target"); });
    row.addEventListener("drop", (event) => {
      if (!carries(event)) return;
      event.preventDefault();
      event.stopPropagation();
      row.classList.remove("drop-target");
      this.onDrop(event.dataTransfer.getData(CONVERSATION_DRAG), projectId);
    });
  }

  setFold(id, unfolded) {
    this.folds.set(id, unfolded);
    // Only the user's projects: a deleted one's state goes with it.
    const known = [...this.folds].filter(([key]) => this.projects.some((project) => project.id === key));
    localStorage.setItem(OPEN_KEY, JSON.stringify(Object.fromEntries(known)));
  }

  action(className, symbol, label, run) {
    const button = Object.assign(document.createElement("button"), { type: "button", className, textContent: symbol, title: label });
    button.setAttribute("aria-label", label);
    button.addEventListener("click", run);
    return button;
  }

  /** Opens the form for `project` (with its files), or for a new one (files come once it is made). */
  edit(project) {
    this.editing = project;
    this.form.hidden = false;
    this.form.querySelector(".project-form-title").textContent = project ? `Project “${project.name}”` : "New project";
    this.nameField.value = project?.name ?? "";
    this.instructionsField.value = project?.instructions ?? "";
    this.deleteButton.hidden = !project;
    this.filesBox.hidden = !project;
    this.fileList.replaceChildren();
    this.filesNote.hidden = true;
    this.status.textContent = "";
    this.nameField.focus();
    if (project) this.showFiles().catch((error) => this.showBanner(`The project's files could not be loaded (${error.message}).`));
  }

  async showFiles() {
    const project = this.editing;
    const { files } = await api.getProject(project.id);
    if (this.editing !== project) return;
    this.fileList.replaceChildren(...files.map((file) => {
      const row = document.createElement("li");
      row.append(`${file.name} · ${file.characters.toLocaleString()} characters`);
      const remove = Object.assign(document.createElement("button"), { type: "button", className: "project-file-remove", textContent: "×" });
      remove.setAttribute("aria-label", `Remove ${file.name} from the project`);
      remove.addEventListener("click", async () => {
        try {
          await api.deleteProjectFile(project.id, file.id);
        } catch (error) {
          this.showBanner(error.message);
        }
        await this.showFiles().catch((error) => this.showBanner(error.message));
      });
      row.append(remove);
      return row;
    }));
    if (files.length === 0) {
      this.fileList.append(Object.assign(document.createElement("li"), { className: "no-matches", textContent: "No files yet." }));
    }
    this.describeFiles(files.reduce((sum, file) => sum + file.characters, 0));
  }

  /** Says whether the files go whole with each message for the picked model: up to a quarter of its window (at 3
   * characters a token, as the server reckons), beyond that the passages that best match each message. */
  describeFiles(characters) {
    const model = this.currentModel();
    const tokens = model?.context_window;
    this.filesNote.hidden = characters === 0 || tokens == null;
    if (this.filesNote.hidden) return;
    const budget = Math.floor(tokens / 4) * 3;
    const size = `${characters.toLocaleString()} characters`;
    const share = `a quarter of ${model.id}'s ${tokens.toLocaleString()}-token window`;
    this.filesNote.textContent = characters > budget
      ? `${size} together: more than ${share} (${budget.toLocaleString()} characters), so each message sends the passages of the files that best match it, not the whole files.`
      : `${size} together: sent whole with each message (up to ${budget.toLocaleString()} characters, ${share}).`;
  }

  /** Adds text files to the project being edited, one by one: one the server refuses (too large, not text) says why. */
  async addFiles(files) {
    const project = this.editing;
    if (!project) return;
    for (const file of files) {
      const text = await file.text();
      if (file.type.startsWith("image/") || text.includes("\0")) {
        this.showBanner(`${file.name} is not a text file; a project keeps text files: notes, code, CSV, JSON.`);
        continue;
      }
      try {
        await api.addProjectFile(project.id, file.name, text);
      } catch (error) {
        this.showBanner(error.message);
        break;
      }
    }
    await this.showFiles().catch((error) => this.showBanner(error.message));
  }

  close() {
    this.form.hidden = true;
    this.editing = null;
  }

  async save() {
    const name = this.nameField.value.trim();
    if (!name) {
      this.status.textContent = "Type a name for the project.";
      this.nameField.focus();
      return;
    }
    const fields = { name, instructions: this.instructionsField.value };
    try {
      const made = !this.editing;
      const saved = made ? await api.createProject(fields) : await api.updateProject(this.editing.id, fields);
      if (made) this.projects.push(saved);
      this.setFold(saved.id, true);
      // A new project's form stays open, now for adding its files.
      if (made) {
        this.edit(saved);
        this.status.textContent = "Project made. Add files its conversations should read, or close the form.";
      } else {
        this.close();
      }
      await this.onChanged();
    } catch (error) {
      this.showBanner(error.message);
    }
  }

  /** Deletes `project` after asking (from its form or its menu); its conversations stay, outside any project. */
  async remove(project) {
    if (!project) return;
    if (!confirm(`Delete the project “${project.name}”? Its conversations are kept, outside any project.`)) return;
    try {
      await api.deleteProject(project.id);
      if (this.editing?.id === project.id) this.close();
      await this.onChanged();
    } catch (error) {
      this.showBanner(error.message);
    }
  }
}
