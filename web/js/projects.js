// Projects in the sidebar (ChatGPT's Projects, Open WebUI's folders): each a fold holding its conversations, with + to
// start a conversation in it and ✎ to open its form — its name, and instructions that go with every message of its
// conversations (after the user's own, before each conversation's) — where it can be deleted too (its conversations
// stay, out of the project). A fold opened or closed by hand stays so in this browser; one never touched is open while it
// holds the open conversation.

import * as api from "./api.js";

const OPEN_KEY = "sluice.projectFolds";

export class ProjectShelf {
  /**
   * `section` holds the `list`; `form` is the project form; `onStart(projectId)` starts a conversation in a project;
   * `onChanged()` runs after a project is made, changed or deleted (the list is drawn again).
   */
  constructor({ section, list, newButton, form, onStart, onChanged, showBanner }) {
    Object.assign(this, { section, list, form, onStart, onChanged, showBanner });
    this.projects = [];
    this.editing = null;
    /** Project id → unfolded (true) or folded (false), for the folds opened or closed by hand. */
    this.folds = new Map(Object.entries(JSON.parse(localStorage.getItem(OPEN_KEY) ?? "{}") ?? {}));
    this.nameField = form.querySelector(".project-name");
    this.instructionsField = form.querySelector(".project-instructions");
    this.status = form.querySelector(".instructions-status");
    this.deleteButton = form.querySelector(".project-delete");
    newButton.addEventListener("click", () => this.edit(null));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    form.querySelector(".instructions-cancel").addEventListener("click", () => this.close());
    this.deleteButton.addEventListener("click", () => this.remove());
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.stopPropagation(); this.close(); }
    });
  }

  /** Fetches the user's projects (most recently changed first). */
  async load() {
    this.projects = (await api.listProjects()).projects;
    return this.projects;
  }

  name(id) { return this.projects.find((project) => project.id === id)?.name; }

  /**
   * Draws each project with its conversations (`item(conversation)` draws one) and hides the section while it
   * is not to be shown (a search, the archived list); a project holding the open conversation (`current`) is unfolded.
   */
  draw(conversations, item, { current, shown = true } = {}) {
    this.section.hidden = !shown;
    if (!shown) return;
    this.list.replaceChildren(...this.projects.map((project) => {
      const members = conversations.filter((conversation) => conversation.project_id === project.id);
      const unfolded = this.folds.get(project.id) ?? members.some((conversation) => conversation.id === current);
      const row = document.createElement("li");
      row.className = "project";
      row.dataset.id = project.id;
      const head = document.createElement("div");
      head.className = "project-head";
      const toggle = Object.assign(document.createElement("button"), { type: "button", className: "project-open" });
      toggle.append(`📁 ${project.name}`, Object.assign(document.createElement("span"), { className: "project-count", textContent: ` ${members.length}` }));
      toggle.setAttribute("aria-expanded", String(unfolded));
      toggle.title = project.instructions ? `Instructions: ${project.instructions}` : "No instructions of its own";
      toggle.addEventListener("click", () => {
        this.setFold(project.id, !unfolded);
        this.onChanged();
      });
      const start = this.action("project-new", "+", `New conversation in “${project.name}”`, () => {
        this.setFold(project.id, true);
        this.onStart(project.id);
      });
      const edit = this.action("project-edit", "✎", `Edit project “${project.name}”`, () => this.edit(project));
      head.append(toggle, start, edit);
      row.append(head);
      if (unfolded) {
        const inner = document.createElement("ul");
        inner.className = "project-conversations";
        inner.setAttribute("aria-label", `Conversations in ${project.name}`);
        if (members.length === 0) {
          inner.append(Object.assign(document.createElement("li"), {
            className: "no-matches", textContent: "No conversations yet: + starts one, 📁 beside a conversation moves it here." }));
        } else {
          inner.append(...members.map(item));
        }
        row.append(inner);
      }
      return row;
    }));
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

  /** Opens the form for `project`, or for a new one. */
  edit(project) {
    this.editing = project;
    this.form.hidden = false;
    this.form.querySelector(".project-form-title").textContent = project ? `Project “${project.name}”` : "New project";
    this.nameField.value = project?.name ?? "";
    this.instructionsField.value = project?.instructions ?? "";
    this.deleteButton.hidden = !project;
    this.status.textContent = "";
    this.nameField.focus();
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
      const saved = this.editing ? await api.updateProject(this.editing.id, fields) : await api.createProject(fields);
      if (!this.editing) this.projects.push(saved);
      this.setFold(saved.id, true);
      this.close();
      await this.onChanged();
    } catch (error) {
      this.showBanner(error.message);
    }
  }

  async remove() {
    const project = this.editing;
    if (!project) return;
    if (!confirm(`Delete the project “${project.name}”? Its conversations are kept, outside any project.`)) return;
    try {
      await api.deleteProject(project.id);
      this.close();
      await this.onChanged();
    } catch (error) {
      this.showBanner(error.message);
    }
  }
}
