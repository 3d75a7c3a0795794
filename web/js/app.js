// Wires the page: sign-in, the conversation list, the open conversation and the composer.

import * as api from "./api.js";
import { drawThread } from "./thread.js";
import { liveAnnouncer } from "./announcer.js";
import { bindSidebar } from "./sidebar.js";
import { FirstAnswerTitles } from "./first-titles.js";
import { runTurn, followAnswer, GIVEN_BACK } from "./turn.js";
import { bindMessageActions } from "./message-actions.js";
import { UsageView } from "./usage.js";
import { ContextPanel } from "./context.js";
import { UsagePage } from "./usage-page.js";
import { KeysPage } from "./keys-page.js";
import { UsersPage } from "./users-page.js";
import { ModelPicker } from "./models.js";
import { ConversationList } from "./conversations.js";
import { ProjectShelf } from "./projects.js";
import { PromptsPage } from "./prompts-page.js";
import { SlashPrompts } from "./slash-prompts.js";
import { ShareMenu } from "./share-menu.js";
import { SharesPage } from "./shares-page.js";
import { offerJumpToLatest } from "./jump-latest.js";
import { InstructionsPanel } from "./instructions.js";
import { PersonalInstructions } from "./personalize.js";
import { memoryNote, MANAGE_MEMORY_EVENT } from "./memory-panel.js";
import { exportConversation } from "./export.js";
import { AttachmentTray } from "./attachments.js";
import { offerImport } from "./import.js";
import { TemporaryChat } from "./temporary.js";
import { offerDataControls } from "./data-controls.js";
import { bindShortcuts } from "./shortcuts.js";
import { Account } from "./account.js";
import { SignIn } from "./sign-in.js";
import { PasswordForm } from "./password.js";
import { withIcon } from "./icons.js";

const $ = (id) => document.getElementById(id);
const log = $("messages");
const input = $("input");
const sendButton = $("send");
const stopButton = $("stop");
const banner = $("banner");
let current = null;
/** How many messages the open conversation showed when it was opened: none means the next answer is its first. */
let shownMessages = 0;
let stopCurrent = null;

const announce = liveAnnouncer();

function showBanner(text) {
  banner.textContent = text;
  banner.hidden = !text;
}

// Which model answers the next message; a pick also changes what the estimate counts against.
const picker = new ModelPicker({
  select: $("model-picker"),
  facts: $("model-facts"),
  effort: $("effort-picker"),
  effortLabel: $("effort-label"),
  onChange: () => usage.estimate(current, input.value, tray.files),
});

let blocked = { send: false, input: false };
const tray = new AttachmentTray({
  list: $("attachments"), button: $("attach"), fileInput: $("attach-input"), dropTarget: $("composer"),
  showBanner: (text) => showBanner(text),
  // The estimate counts the files with the words.
  onChange: () => usage.estimate(current, input.value, tray.files),
  seesImages: () => picker.seesImages,
});
/** Whether the open conversation is archived: it can be read, not continued, until it is unarchived. */
let archived = false;
const usage = new UsageView({
  model: () => picker.value,
  bar: $("usage"),
  estimate: $("estimate"),
  options: $("limit-options"),
  showBanner,
  setBlocked: (state) => {
    blocked = state;
    sendButton.disabled = blocked.send || archived || Boolean(stopCurrent);
    input.disabled = blocked.input || archived;
    if (blocked.input) announce("You have reached your token limit; sending is disabled until it resets.");
  },
});

const usagePage = new UsagePage({
  section: $("usage-page"), button: $("usage-open"), showBanner,
  openConversation: (id) => open(id).catch((error) => showBanner(error.message)),
});
new KeysPage({ section: $("keys-page"), button: $("keys-open"), showBanner });
new UsersPage({ section: $("users-page"), button: $("users-open"), showBanner });
const personal = new PersonalInstructions({ button: $("personalize-open"), form: $("personal-instructions"), showBanner });
document.addEventListener(MANAGE_MEMORY_EVENT, () => personal.openMemory());
// Who is signed in, Sign out, and this browser's theme and notifications.
const account = new Account({ showBanner });
new PasswordForm({ button: $("password-open"), form: $("password-form"), account });
const signIn = new SignIn({ onSignedIn: (notice) => start().then(() => { if (notice) showBanner(notice); }) });

const contextPanel = new ContextPanel({ panel: $("context-panel"), toggle: $("context-toggle"), showBanner });

function showSignIn(show) {
  $("sign-in").hidden = !show;
  if (show) account.signedOut();
  if (show) $("password-form").hidden = true;
  if (show) { signIn.offerSignUp(); signIn.offerSingleSignOn(); }
  $("composer").hidden = show;
  if (show) {
    $("model-label").hidden = $("export-menu").hidden = $("personal-instructions").hidden = true;
    shareMenu.show(null);
    picker.hide();
  }
  $("instructions-toggle").hidden = show;
}

/** Lists the user's models in the picker; without them the server's default answers, as before. */
async function loadModels() {
  try {
    await picker.load();
    conversationList.writesTitles = picker.writesTitles;
    personal.titlesAvailable = picker.writesTitles;
    $("model-label").hidden = false;
  } catch (error) {
    if (error.status === 401) throw error;
    showBanner(`The list of models could not be loaded (${error.message}); messages go to the conversation's model.`);
  }
}

const projects = new ProjectShelf({
  section: $("projects"), list: $("project-list"), newButton: $("project-create"), form: $("project-form"), showBanner,
  onStart: (projectId) => newConversation({ projectId }).catch((error) => showBanner(error.message)),
  onChanged: () => refreshList().catch((error) => showBanner(error.message)),
  onDrop: (conversationId, projectId) => conversationList.moveTo(conversationId, projectId),
  currentModel: () => picker.models.find((model) => model.id === picker.value) ?? null,
});
const conversationList = new ConversationList({
  list: $("conversation-list"),
  archivedToggle: $("archived-toggle"),
  archivedBar: $("archived-bar"),
  projects,
  // The header names the open conversation's project, after any refresh (a conversation moved or dragged too).
  onListed: () => {
    const project = current && projects.name(conversationList.currentProject);
    $("project-crumb").hidden = !project;
    $("project-crumb").replaceChildren(...(project ? withIcon("folder", project) : []));
  },
  onOpen: (id) => open(id).catch((error) => showBanner(error.message)),
  // The open conversation archived or brought back from the list: its page says so at once.
  onArchived: async (id) => { if (id === current) await open(id); },
  onDeleted: (id) => afterDeleting(id),
  showBanner,
});

/** After conversation `id` (or, without one, every conversation) was deleted: lists again, and when the open one is
 * gone shows the next one, or an empty page for a new one. */
async function afterDeleting(id) {
  await refreshList();
  if (id && id !== current) return;
  current = null;
  conversationList.currentProject = null;
  showArchived(false);
  log.replaceChildren();
  instructions.show(null);
  $("export-menu").hidden = true;
  shareMenu.show(null);
  const [newest] = (await api.listConversations({ limit: 1 })).conversations;
  if (newest) await open(newest.id);
  else picker.show(picker.preferred());
}

offerDataControls({
  exportButton: $("export-all"), archiveButton: $("archive-all"), deleteButton: $("delete-all"), showBanner,
  onArchived: async () => { await refreshList(); if (current) await open(current); },
  onDeleted: () => afterDeleting(null),
});

/** Lists the conversations and projects again (the header's project follows: `onListed`). */
const refreshList = () => conversationList.refresh(current);
// Import: ChatGPT's history or Sluice's JSON export becomes the user's conversations; the first one imported opens.
offerImport({
  button: $("import-open"), input: $("import-input"), showBanner,
  onImported: async (first) => { await refreshList(); if (first) await open(first); },
});

$("export-menu").addEventListener("click", (event) => {
  const format = event.target.closest("button[data-format]")?.dataset.format;
  if (!format || !current) return;
  $("export-menu").open = false;
  exportConversation(current, format).catch((error) => showBanner(error.message));
});

const shareMenu = new ShareMenu({ menu: $("share-menu"), showBanner });
offerJumpToLatest(log, $("jump-latest"));
// A link stopped from the list: the open conversation's Share menu learns it.
new SharesPage({
  section: $("shares-page"), button: $("shares-open"), showBanner,
  onChanged: (id) => { if (id === current) open(current).catch((error) => showBanner(error.message)); },
});

const sidebar = bindSidebar({ sidebar: $("sidebar"), menu: $("menu"), searchBox: $("conversation-search"), conversationList, showBanner });

const instructions = new InstructionsPanel({
  toggle: $("instructions-toggle"),
  form: $("instructions"),
  showBanner,
  conversationId: async () => {
    if (!current) await newConversation();
    return current;
  },
});

/** Shows or hides that the open conversation is archived, and locks or frees the message box with it. */
function showArchived(isArchived) {
  archived = isArchived;
  $("archived-notice").hidden = !isArchived;
  input.disabled = blocked.input || archived;
  sendButton.disabled = blocked.send || archived || Boolean(stopCurrent);
}

$("unarchive").addEventListener("click", async () => {
  if (!current) return;
  try {
    await api.updateConversation(current, { archived: false });
    await open(current);
  } catch (error) {
    showBanner(error.message);
  }
});

/**
 * Shows conversation `id` (`loaded`: as already fetched). `keep`: `{id, top}`, a message to leave where it was on screen
 * (after another version was selected) instead of scrolling to the end.
 */
async function open(id, { loaded, keep } = {}) {
  current = id;
  temporaryChat.show(id);
  const conversation = loaded ?? await api.getConversation(id);
  conversationList.currentProject = conversation.project_id ?? null;
  shownMessages = conversation.messages.length;
  showArchived(Boolean(conversation.archived_at));
  picker.show(conversation.model);
  instructions.show(conversation);
  $("export-menu").hidden = false;
  shareMenu.show(conversation);
  const views = drawThread(log, conversation, {
    archived, temporary: temporaryChat.is(id),
    openOrigin: (origin) => open(origin).catch((error) => showBanner(error.message)),
  });
  const kept = keep && views.find(([message]) => message.id === keep.id)?.[1].element;
  if (kept) log.scrollTop += kept.getBoundingClientRect().top - keep.top;
  else log.scrollTop = log.scrollHeight;
  await refreshList();
  usage.refresh();
  contextPanel.show(id).catch((error) => showBanner(error.message));
  // To the message box, unless the user is typing elsewhere meanwhile (a new name, the search, the instructions).
  const typing = document.activeElement?.matches("input, textarea") && document.activeElement !== input;
  if (!typing) input.focus();
  // An answer still being written (the page was reloaded mid-stream): follow it to its end.
  const [last, lastView] = views.at(-1) ?? [];
  const firstAnswer = conversation.messages.filter((message) => message.role === "assistant").length === 1;
  if (last?.role === "assistant" && last.status === "streaming" && !stopCurrent) {
    await followAnswer({ view: lastView, messageId: last.id, log, announce, onStateChange: setStreaming });
    // The conversation's first answer: named at its end, as the page that sent the question would have named it.
    if (firstAnswer && current === id) nameAfterFirstAnswer(await api.getConversation(id));
  } else if (firstAnswer && conversation.title_from_question) {
    // Its first answer ended while no page followed it (the tab was closed): named now, as it would have been then.
    nameAfterFirstAnswer(conversation);
  }
  return conversation;
}

// A conversation is named by the server's title model once its first answer is written (first-titles.js).
const titles = new FirstAnswerTitles({
  writesTitles: () => picker.writesTitles, isTemporary: (id) => temporaryChat.is(id), onNamed: () => refreshList(),
});
const nameAfterFirstAnswer = (conversation) => titles.name(conversation);

function setStreaming({ streaming, stop, answered }) {
  if (answered != null) account.answered(answered);
  stopCurrent = streaming ? stop : null;
  stopButton.hidden = !streaming;
  sendButton.disabled = streaming || blocked.send || archived;
  if (!streaming) input.focus();
}

const temporaryChat = new TemporaryChat({ toggle: $("temporary-toggle"), notice: $("temporary-notice") });
// On in a temporary chat: back to a conversation that is kept. Off: a new temporary chat.
$("temporary-toggle").addEventListener("click", () =>
  newConversation({ temporary: !temporaryChat.is(current) }).catch((error) => showBanner(error.message)));

/** `temporary`: a temporary chat (out of the list, deleted when left); `projectId`: in that project. */
async function newConversation({ temporary = false, projectId } = {}) {
  // With the model last picked (the open conversation's may differ), as ChatGPT starts a new chat.
  const conversation = await api.createConversation({
    model: picker.preferred() ?? undefined, temporary: temporary || undefined, project_id: projectId ?? undefined });
  if (temporary) temporaryChat.started(conversation.id);
  await open(conversation.id);
}

async function send() {
  const content = input.value;
  if (stopCurrent || blocked.send || archived) return;
  // Images alone are a question ("what is this?"); files alone are not.
  if (!content.trim() && !tray.images.length) {
    if (tray.files.length) showBanner("Type what you want to know about the attached files, then send.");
    return;
  }
  if (!current) {
    try {
      await newConversation();
    } catch (error) {
      if (error.code === "model_not_allowed") await loadModels().catch(() => {});
      showBanner(error.message);
      return;
    }
  }
  const firstAnswer = shownMessages === 0;
  input.value = "";
  const attachments = tray.take();
  const images = tray.takeImages();
  usage.estimate(null, "");
  showBanner("");
  try {
    await runTurn({
      conversationId: current,
      content,
      attachments,
      images,
      model: picker.value,
      effort: picker.effort,
      log,
      announce,
      onStateChange: setStreaming,
      // What the question did to the user's memory, above the answer while it streams (the store keeps it with the
      // answer for the conversation shown again).
      onMemory: (memory, view) => view.element.insertBefore(memoryNote(memory), view.text),
    });
    const shown = await open(current);
    if (firstAnswer) nameAfterFirstAnswer(shown);
  } catch (error) {
    if (error.status === 401) { api.clearToken(); showSignIn(true); }
    const givenBack = GIVEN_BACK.has(error.code);
    // The user's models changed since the page loaded: list them again.
    if (error.code === "model_not_allowed") await loadModels().catch(() => {});
    // Over budget: the message is stored, and the options are shown instead of a bare error.
    if (error.code === "budget_exceeded") usage.refused(error);
    // Stored as refused or rejected (a rate limit's is back within a minute): the thread shows what was kept.
    if (givenBack || ["budget_exceeded", "rate_limit_exceeded"].includes(error.code)) await open(current).catch(() => {});
    if (givenBack) {
      // The text and files come back to rephrase or send again (or take out the file the guard refused).
      input.value = content;
      tray.restore(attachments, images);
      usage.estimate(current, content, attachments);
    }
    if (error.code !== "budget_exceeded") showBanner(error.message);
  }
  refreshList().catch(() => {});
}

input.addEventListener("input", () => usage.estimate(current, input.value, tray.files));
// A pasted picture goes with the message; a paste longer than a message may be becomes a file of it.
tray.takePastes(input, () => picker.maxMessageCharacters);
// The options at the budget's limit: summarise the older messages, choose what is sent, or start afresh.
$("limit-summarize").addEventListener("click", () => {
  if (current) contextPanel.summarizeOlder(current, 2).then(() => usage.estimate(current, input.value, tray.files)).catch((e) => showBanner(e.message));
});
$("limit-context").addEventListener("click", () => contextPanel.setOpen(true));
$("limit-new-conversation").addEventListener("click", () =>
  newConversation().then(() => usage.estimate(current, input.value, tray.files)).catch((e) => showBanner(e.message)));

// `/` in the message box offers the saved prompts (a prompt's {{USER_NAME}} is the signed-in user's); the Prompts page
// keeps them.
const slashPrompts = new SlashPrompts({ input, menu: $("slash-menu"), user: () => account.user, showBanner });
new PromptsPage({ section: $("prompts-page"), button: $("prompts-open"), showBanner, onChanged: () => slashPrompts.reload() });
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !event.shiftKey && stopCurrent) stopCurrent();
});
bindShortcuts({
  log, input,
  newConversation: () => newConversation().catch((error) => showBanner(error.message)),
  search: () => sidebar.focusSearch(),
  toggleList: () => { const shortcuts = $("shortcuts"); if (shortcuts.open) shortcuts.close(); else shortcuts.showModal(); },
  // The open conversation, whether or not the sidebar shows it (its list is read a page at a time).
  deleteCurrent: () => {
    const listed = conversationList.drawn.get(current);
    if (listed) conversationList.remove(listed);
    else if (current) api.getConversation(current).then((conversation) => conversationList.remove(conversation)).catch((error) => showBanner(error.message));
  },
});
// The buttons on the messages: continue, regenerate, edit a question or an answer, branch, earlier/later versions.
bindMessageActions({
  log, announce, showBanner, onStateChange: setStreaming,
  busy: () => Boolean(stopCurrent),
  turnOptions: () => ({ model: picker.value, effort: picker.effort }),
  open: (id, options) => open(id, options),
  current: () => current,
});

$("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
stopButton.addEventListener("click", () => stopCurrent?.());
$("new-conversation").addEventListener("click", () => newConversation().catch((e) => showBanner(e.message)));

async function start() {
  // A trip to the sign-in provider that came back without a sign-in: why, on the sign-in page (or, signed in already,
  // in the banner) — or that the user's account there is connected.
  const outcome = api.takeSingleSignOnOutcome();
  const said = outcome?.error ? SignIn.singleSignOnError(outcome.error)
    : outcome?.connected ? "Single sign-on is connected: your account at the provider signs you in here from now on." : "";
  if (!api.adoptTokenFromLocation()) {
    showSignIn(true);
    if (said) signIn.showError(said);
    $("sign-in-name").focus();
    return;
  }
  if (said) showBanner(said);
  try {
    // The newest conversation, in a project or not (pinned ones first), opens unless another is asked for.
    const [[newest], user] = await Promise.all([
      api.listConversations({ limit: 1 }).then((page) => page.conversations), api.getMe(), refreshList()]);
    account.signedIn(user);
    showSignIn(false);
    await loadModels();
    // A shared conversation just continued here (share.js) opens first; otherwise the newest.
    const continued = sessionStorage.getItem("sluice.open");
    sessionStorage.removeItem("sluice.open");
    if (continued) await open(continued);
    else if (newest) await open(newest.id);
    input.focus();
  } catch (error) {
    if (error.status === 401) { api.clearToken(); showSignIn(true); }
    // A suspended account's token is kept (it works again once restored); the sign-in form offers another meanwhile.
    if (error.code === "account_suspended" || error.code === "account_pending") showSignIn(true);
    showBanner(error.message);
  }
}

start();
