// Requests to the Sluice HTTP API. Every call sends the bearer token; errors become ApiError with the
// server's human-readable message.

const TOKEN_KEY = "sluice.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Takes a token from the address fragment (#token=…) into localStorage and removes it from the address bar. */
export function adoptTokenFromLocation() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token) { localStorage.setItem(TOKEN_KEY, token); }
export function clearToken() { localStorage.removeItem(TOKEN_KEY); }

/** Signs this browser out: the token and everything else the page kept here (the model picked, the projects folded,
 * a conversation to open) are forgotten, so the next person at this browser finds nothing of the user's. */
export function signOut() {
  for (const key of Object.keys(localStorage)) if (key.startsWith("sluice.")) localStorage.removeItem(key);
  sessionStorage.clear();
}

/**
 * Signs in with a name and password (`POST /api/sign-in`, sent without a token) and, with two-step verification on,
 * `code` (the authenticator's or a recovery code); resolves to `{token, expires_at, user, recovery_codes_left?}`, a
 * session of this browser's own, or throws ApiError (401 `invalid_credentials`, `two_step_required`, `wrong_code`,
 * `code_used`; 429 `too_many_attempts`, …).
 */
export async function signInWithPassword(name, password, code) {
  const response = await fetch("/api/sign-in", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(code ? { name, password, code } : { name, password }),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** `{enabled, name?, password_sign_in}`: whether the sign-in page offers single sign-on with a provider, its name, and
 * whether names and passwords sign in too; asked without a token. */
export const singleSignOnOffer = () => withoutToken("/api/sign-in/oidc");

/** How a trip to the sign-in provider came back without a token, removed from the address bar: `{error: code}`
 * (`#sign-in-error=…`), `{connected: true}` (`#sso=connected`, the user's account there now signs them in) or `null`. */
export function takeSingleSignOnOutcome() {
  const error = location.hash.match(/sign-in-error=([a-z_]+)/);
  const connected = /(^#|&)sso=connected(&|$)/.test(location.hash);
  if (!error && !connected) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return error ? { error: error[1] } : { connected: true };
}

/** `{mode}`: whether people may make their own accounts here (`off`, `approval`, `open`); asked without a token. */
export const signUpMode = () => withoutToken("/api/sign-up");

/** A GET the sign-in page makes before anyone signs in: no token sent. */
async function withoutToken(path) {
  const response = await fetch(path);
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * Makes an account (`POST /api/sign-up`, without a token); resolves to `{token, expires_at, user}` when it may chat at
 * once, or `{pending: true, message}` when it waits for an administrator's approval.
 */
export async function signUp(name, password) {
  const response = await fetch("/api/sign-up", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name, password }),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Ends this browser's session on the server (one from a password; a token link's token stays as it is). */
export const endSession = () => json("POST", "/api/sign-out");

/** Signs the user out of every other browser (their sessions); resolves to `{ended_sessions}`. */
export const endOtherSessions = () => json("DELETE", "/api/me/sessions");
/** `{enabled, name?, connected, password_sign_in}`: whether the user's account at the sign-in provider signs them in. */
export const signInProvider = () => json("GET", "/api/me/sign-in-provider");
/** `{url}`: where to send the browser to connect the user's account at the provider (its cookie is set). */
export const connectSignInProvider = () => json("POST", "/api/me/sign-in-provider");
export const disconnectSignInProvider = () => json("DELETE", "/api/me/sign-in-provider");

/** The browsers signed in with the user's password; resolves to `{sessions: [{id, user_agent, address, created_at, expires_at, current}]}`. */
export const listSessions = () => json("GET", "/api/me/sessions");

/** Signs one of the user's browsers out. */
export const endSessionById = (id) => json("DELETE", `/api/me/sessions/${encodeURIComponent(id)}`);

/** The user's latest `limit` security events, the newest first: `{events: [{id, kind, at, user_agent, address, detail}]}`. */
export const securityLog = (limit) => json("GET", `/api/me/security-log?limit=${limit}`);

/** The user's two-step verification: `{on, waiting, enabled_at, recovery_codes_left}`. */
export const twoStep = () => json("GET", "/api/me/two-step");

/** Starts setting two-step verification up (the password asked again); resolves to `{secret, uri}`. */
export const beginTwoStep = (password) => json("POST", "/api/me/two-step", { password });

/** Turns two-step verification on with the authenticator's first code; resolves to `{recovery_codes}`, shown once. */
export const confirmTwoStep = (code) => json("POST", "/api/me/two-step/confirm", { code });

/** Ten new recovery codes in place of the old; resolves to `{recovery_codes}`. */
export const renewRecoveryCodes = (password) => json("POST", "/api/me/two-step/recovery-codes", { password });

/** Turns two-step verification off. */
export const turnOffTwoStep = (password) => json("DELETE", "/api/me/two-step", { password });

/** Sets the user's password (`current`: the one there is, if any); resolves to `{ended_sessions}`. */
export const changePassword = (password, current) =>
  json("PUT", "/api/me/password", current ? { current_password: current, password } : { password });

function headers(extra = {}) {
  return { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY) ?? ""}`, ...extra };
}

async function failure(response) {
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch { /* not JSON: keep the generic message */ }
  return new ApiError(response.status, code, message);
}

async function json(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

/**
 * The conversations that are not archived, pinned ones first; with `archived`, the archived ones instead; with
 * `projectId`, only one project's (`"none"`: those in none). At most `limit` after `cursor` (a page's `next_cursor`);
 * resolves to `{conversations, next_cursor}` (`next_cursor` while more remain).
 */
export function listConversations({ archived = false, projectId, limit, cursor } = {}) {
  const query = new URLSearchParams();
  if (archived) query.set("archived", "true");
  if (projectId) query.set("project_id", projectId);
  if (limit) query.set("limit", String(limit));
  if (cursor) query.set("cursor", cursor);
  const text = query.toString();
  return json("GET", `/api/conversations${text ? `?${text}` : ""}`);
}
/** The conversations whose title or messages have `text`, each with a `snippet` of the first message that has it. */
export const searchConversations = (text) =>
  json("GET", `/api/conversations?q=${encodeURIComponent(text)}`).then((r) => r.conversations);
export const getConversation = (id) => json("GET", `/api/conversations/${encodeURIComponent(id)}`);
export const createConversation = (fields = {}) => json("POST", "/api/conversations", fields);
/** Imports exported conversations (ChatGPT's or Sluice's JSON); resolves to `{conversations, messages, not_sent}`. */
export const importConversations = (conversations) => json("POST", "/api/conversations/import", conversations);
/** Says that temporary chat `id` is still open, so that the server does not let it lapse. */
export const keepTemporaryChat = (id) => json("POST", `/api/conversations/${encodeURIComponent(id)}/keep-alive`);
/** Archives every conversation that is not archived; resolves to `{archived: n}`. */
export const archiveAllConversations = () => json("POST", "/api/conversations/archive-all");
/** Deletes every conversation, archived and temporary ones too; resolves to `{deleted: n}`. */
export const deleteAllConversations = () => json("POST", "/api/conversations/delete-all");
export const deleteConversation = (id) => json("DELETE", `/api/conversations/${encodeURIComponent(id)}`);
/** Deletes conversation `id` without waiting, in a request that outlives the page (a temporary chat being left). */
export function deleteOnLeaving(id) {
  fetch(`/api/conversations/${encodeURIComponent(id)}`, { method: "DELETE", headers: headers(), keepalive: true }).catch(() => {});
}
/** `{instructions}`: the user's instructions for all their conversations, or null. */
export const getMyInstructions = () => json("GET", "/api/me/instructions");
/** Saves them ("" removes them); resolves to `{instructions}` as stored. */
export const setMyInstructions = (instructions) => json("PUT", "/api/me/instructions", { instructions });
/** Makes (or updates the copy of) the conversation's shared link: `{url, token, shared_at, messages}`. */
export const shareConversation = (id) => json("POST", `/api/conversations/${encodeURIComponent(id)}/share`);
/** The user's shared links: `{shares: [{conversation_id, title, url, shared_at}]}`, newest first. */
export const listShares = () => json("GET", "/api/shares");
export const unshareConversation = (id) => json("DELETE", `/api/conversations/${encodeURIComponent(id)}/share`);
/** Has the server's title model name the conversation from its first question and answer; resolves to `{title, …}`. */
export const writeTitle = (id, { automatic = false } = {}) =>
  json("POST", `/api/conversations/${encodeURIComponent(id)}/title${automatic ? "?automatic=true" : ""}`);
/** `{enabled, limit, memories: [{id, content, created_at, updated_at}]}`: what the user asked to be remembered, newest first. */
export const listMemories = () => json("GET", "/api/memories");
/** Keeps a memory; resolves to it (409 `memory_full` when the user keeps as many as they may). */
export const createMemory = (content) => json("POST", "/api/memories", { content });
export const updateMemory = (id, content) => json("PATCH", `/api/memories/${encodeURIComponent(id)}`, { content });
export const deleteMemory = (id) => json("DELETE", `/api/memories/${encodeURIComponent(id)}`);
/** Forgets every memory of the user's; resolves to `{deleted: n}`. */
export const deleteAllMemories = () => json("DELETE", "/api/memories");
/** `{auto_titles, memory}`: the user's settings, kept with the user. */
export const getMySettings = () => json("GET", "/api/me/settings");
/** `{id, name, plan, created_at, models, admin, has_password}`: whom the token belongs to. */
export const getMe = () => json("GET", "/api/me");
/** Changes the settings given (`{auto_titles: false}`); resolves to all of them as stored. */
export const updateMySettings = (changes) => json("PATCH", "/api/me/settings", changes);
/** `{prompts: [{id, command, title, content, created_at, updated_at}]}`: the user's saved prompts, by command. */
export const listPrompts = () => json("GET", "/api/prompts");
/** Keeps a prompt `{command, title, content}`; resolves to it (409 `command_taken` when the command is in use). */
export const createPrompt = (fields) => json("POST", "/api/prompts", fields);
export const updatePrompt = (id, fields) => json("PATCH", `/api/prompts/${encodeURIComponent(id)}`, fields);
export const deletePrompt = (id) => json("DELETE", `/api/prompts/${encodeURIComponent(id)}`);
/** `{projects: [{id, name, instructions, created_at, updated_at}]}`: the user's projects, latest change first. */
export const listProjects = () => json("GET", "/api/projects");
/** Makes a project from `{name, instructions}`; resolves to it. */
export const createProject = (fields) => json("POST", "/api/projects", fields);
/** Changes a project's `name` and/or `instructions` ("" removes them); resolves to it. */
export const updateProject = (id, fields) => json("PATCH", `/api/projects/${encodeURIComponent(id)}`, fields);
/** `{id, name, instructions, files: [{id, name, characters, created_at}]}`: a project with its files. */
export const getProject = (id) => json("GET", `/api/projects/${encodeURIComponent(id)}`);
/** Adds a text file to a project; resolves to `{id, name, characters, created_at}`. */
export const addProjectFile = (id, name, text) => json("POST", `/api/projects/${encodeURIComponent(id)}/files`, { name, text });
export const deleteProjectFile = (id, fileId) =>
  json("DELETE", `/api/projects/${encodeURIComponent(id)}/files/${encodeURIComponent(fileId)}`);
/** Deletes a project; its conversations stay, in no project. */
export const deleteProject = (id) => json("DELETE", `/api/projects/${encodeURIComponent(id)}`);
/**
 * Renames (`title`), sets the system prompt (`system_prompt`, "" removes it), pins or archives (`pinned`, `archived`:
 * true or false), moves it into a project or out (`project_id`: an id or null); resolves to the conversation.
 */
export const updateConversation = (id, fields) => json("PATCH", `/api/conversations/${encodeURIComponent(id)}`, fields);
/** Rewrites an answer's text (`PATCH /api/messages/{id}`); resolves to the message. */
export const editAnswer = (id, content) => json("PATCH", `/api/messages/${encodeURIComponent(id)}`, { content });
/** Branch in new chat: a new conversation with the thread up to answer `id`; resolves to the conversation. */
export const branchFrom = (id) => json("POST", `/api/messages/${encodeURIComponent(id)}/branch`);
export const cancelMessage = (id) => json("POST", `/api/messages/${encodeURIComponent(id)}/cancel`);
/** Rates an answer `good` or `bad`, with an optional comment; resolves to the feedback as stored. */
export const rateAnswer = (id, rating, comment) =>
  json("PUT", `/api/messages/${encodeURIComponent(id)}/feedback`, comment ? { rating, comment } : { rating });
export const clearRating = (id) => json("DELETE", `/api/messages/${encodeURIComponent(id)}/feedback`);

/** Starts a turn; resolves to the streaming Response, or throws ApiError for a JSON 4xx/5xx. */
export async function sendMessage(conversationId, content, { signal, temperature, model, effort, attachments, images } = {}) {
  const response = await fetch(`/api/conversations/${encodeURIComponent(conversationId)}/messages`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({
      content, temperature, model: model ?? undefined, attachments: attachments?.length ? attachments : undefined,
      images: images?.length ? images.map(({ url }) => ({ url })) : undefined, reasoning_effort: effort ?? undefined,
    }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response;
}

/** Follows an answer's events after the given event id (resume after a dropped connection or a reload). */
export async function followMessage(messageId, lastEventId, { signal } = {}) {
  const response = await fetch(`/api/messages/${encodeURIComponent(messageId)}/events`, {
    headers: headers(lastEventId ? { "Last-Event-ID": lastEventId, Accept: "text/event-stream" } : { Accept: "text/event-stream" }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response;
}

/** Continues an answer that ended early; resolves to the streaming Response. */
export async function continueMessage(messageId, { signal, effort } = {}) {
  const response = await fetch(`/api/messages/${encodeURIComponent(messageId)}/continue`, {
    method: "POST",
    headers: headers(effort ? { "Content-Type": "application/json", Accept: "text/event-stream" } : { Accept: "text/event-stream" }),
    body: effort ? JSON.stringify({ reasoning_effort: effort }) : undefined,
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response;
}

/** Asks for a new version of the latest answer; resolves to the streaming Response. */
export async function regenerateMessage(messageId, temperature, { signal, model, effort } = {}) {
  const response = await fetch(`/api/messages/${encodeURIComponent(messageId)}/regenerate`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ temperature, model: model ?? undefined, reasoning_effort: effort ?? undefined }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response;
}

/** Asks the latest question again in other words (`content`); resolves to the streaming Response of its new answer. */
export async function editMessage(messageId, content, { signal, model, effort } = {}) {
  const response = await fetch(`/api/messages/${encodeURIComponent(messageId)}/edit`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ content, model: model ?? undefined, reasoning_effort: effort ?? undefined }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response;
}

export const getLimits = () => json("GET", "/api/usage/limits");
/** `{keys: [{label, created_at, revoked_at?, expires_at?, models?, last_turn_at?, turns, total_tokens, cost_usd}],
 * current_key?}`: the user's keys, never their secrets, and the label of the key this page signed in with, if any. */
export const listKeys = () => json("GET", "/api/keys");
/** `{label, key, created_at, expires_at?, models?}`: the new key, whose secret is shown only now. */
/** Makes a key; `terms` has the API's field names (`expires_in_days`, `models`, `daily_usd`, `requests_per_minute`,
 * `tokens_per_minute`, `max_parallel_requests`), each optional (`null`: none). */
export const createKey = (label, terms = {}) => json("POST", "/api/keys", { label, ...terms });
/** Changes a key's terms in place: `changes` has the API's field names; `null` removes a limit, a field left out
 * stays as it is. */
export const updateKey = (label, changes) => json("PATCH", `/api/keys/${encodeURIComponent(label)}`, changes);
export const revokeKey = (label) => json("DELETE", `/api/keys/${encodeURIComponent(label)}`);
/** The administrator's list of users: `{users: [{name, plan, admin, models, tokens_used, token_limit, …}]}`. */
export const listUsers = () => json("GET", "/api/admin/users");
/** `{user, token}`: a new user and the token shown only now. */
export const addUser = (name, plan, admin, password) =>
  json("POST", "/api/admin/users", password ? { name, plan, admin, password } : { name, plan, admin });
/** Changes a user: `changes` has the API's field names; `null` removes a limit (or gives every model). */
export const updateUser = (name, changes) => json("PATCH", `/api/admin/users/${encodeURIComponent(name)}`, changes);
/** `{user, token}`: the user's new token; the old one stops working. */
export const issueUserToken = (name) => json("POST", `/api/admin/users/${encodeURIComponent(name)}/token`);
/** Deletes what the user made, revokes their keys and frees the name; their usage stays. */
export const deleteUser = (name) => json("DELETE", `/api/admin/users/${encodeURIComponent(name)}`);
/** `{teams: [{id, name, daily_usd_limit, monthly_usd_limit, spent_today_usd, spent_this_month_usd, models, members,
 * created_at}]}`, for an administrator. */
export const listTeams = () => json("GET", "/api/admin/teams");
/** Makes a team: `terms` has `name` and optionally `daily_usd`, `monthly_usd`, `models` and `members` (user names). */
export const addTeam = (terms) => json("POST", "/api/admin/teams", terms);
/** Changes a team's `name`, `daily_usd`, `monthly_usd` or `models` (`null`: no limit, every model). */
export const updateTeam = (name, changes) => json("PATCH", `/api/admin/teams/${encodeURIComponent(name)}`, changes);
/** `{tag_budgets: [{tag, daily_usd_limit, monthly_usd_limit, spent_today_usd, spent_this_month_usd, created_at}]}`. */
export const listTagBudgets = () => json("GET", "/api/admin/tag-budgets");
/** Sets a tag's `daily_usd` and `monthly_usd` (`null`: no such limit; at least one given); the budget as listed. */
export const setTagBudget = (tag, limits) => json("PUT", `/api/admin/tag-budgets/${encodeURIComponent(tag)}`, limits);
/** Removes a tag's budget. */
export const removeTagBudget = (tag) => json("DELETE", `/api/admin/tag-budgets/${encodeURIComponent(tag)}`);
/** Deletes a team; its members stay, in no team. */
export const deleteTeam = (name) => json("DELETE", `/api/admin/teams/${encodeURIComponent(name)}`);
/** Signs a user out of every browser that signed in with their password; resolves to `{ended_sessions}`. */
export const signOutUserEverywhere = (name) => json("DELETE", `/api/admin/users/${encodeURIComponent(name)}/sessions`);

/** A user's signed-in browsers, for an administrator: `{sessions: [...]}` as `listSessions`. */
export const userSessions = (name) => json("GET", `/api/admin/users/${encodeURIComponent(name)}/sessions`);

/** Signs one of a user's browsers out, for an administrator. */
export const endUserSession = (name, id) =>
  json("DELETE", `/api/admin/users/${encodeURIComponent(name)}/sessions/${encodeURIComponent(id)}`);

/**
 * A page of the audit log, the newest first: `{entries: [{id, at, actor: {name, user_id}, action, target: {kind, name,
 * label?}, changes: [{field, from, to}], user_agent, address}], next_before}`; `name`, `kind` and `before` (the last
 * entry's id, for the page after) when given.
 */
export function auditLog({ name, kind, before, limit = 50 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (name) query.set("name", name);
  if (kind) query.set("kind", kind);
  if (before) query.set("before", before);
  return json("GET", `/api/admin/audit-log?${query}`);
}

/** The audit log's entries `name` and `kind` ask for (all when not given), as CSV (a Blob). */
export async function auditLogCSV({ name, kind } = {}) {
  const query = new URLSearchParams({ format: "csv" });
  if (name) query.set("name", name);
  if (kind) query.set("kind", kind);
  const response = await fetch(`/api/admin/audit-log?${query}`, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/** The query of a call log's filters (`scope`, `model`, `outcome`, `tag`) and page. */
function callQuery(filters, extra = {}) {
  const query = new URLSearchParams(extra);
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  return query;
}

/** A page of calls, newest first: `{calls: [...], next_before}` (`GET /api/usage/calls`). */
export const callLog = ({ before, limit = 50, ...filters }) =>
  json("GET", `/api/usage/calls?${callQuery({ ...filters, before }, { limit: String(limit) })}`);

/** Every call the filters ask for, as CSV (a Blob). */
export async function callLogCSV(filters) {
  const response = await fetch(`/api/usage/calls?${callQuery(filters, { format: "csv" })}`, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/** A user's latest `limit` security events, for an administrator: `{events: [...]}` as `securityLog`. */
export const userSecurityLog = (name, limit) => json("GET", `/api/admin/users/${encodeURIComponent(name)}/security-log?limit=${limit}`);

/** Turns off a user's two-step verification (they lost their authenticator and recovery codes). */
export const turnOffUserTwoStep = (name) => json("DELETE", `/api/admin/users/${encodeURIComponent(name)}/two-step`);
export const resetUser = (name) => json("POST", `/api/admin/users/${encodeURIComponent(name)}/reset`);
/** Usage history; `scope` "all" is everyone's (an administrator's, by day, model or user). */
/** How fast each model answered over `period`: `{models: [{model, answers, ttft_ms: {p50, p95, p99}, tokens_per_second_p50}]}`. */
export const getLatency = (period, scope = "mine") =>
  json("GET", `/api/usage/latency?period=${encodeURIComponent(period)}&scope=${scope}`);
export const getUsage = (period, group, scope = "mine") =>
  json("GET", `/api/usage?period=${encodeURIComponent(period)}&group=${encodeURIComponent(group)}&scope=${scope}`);
/** The usage as CSV (a Blob): fetched with the token, since a plain link cannot send it. */
export async function getUsageCSV(period, group, scope = "mine") {
  const response = await fetch(
    `/api/usage?period=${encodeURIComponent(period)}&group=${encodeURIComponent(group)}&scope=${scope}&format=csv`,
    { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.blob();
}
/** A message's image (`/api/messages/{id}/images/{n}`) as an object URL the page can show: fetched with the token, since
 * an `<img src>` cannot send it; each is fetched once (a message's images never change). */
const imageURLs = new Map();
export function imageObjectURL(path) {
  if (!imageURLs.has(path)) {
    imageURLs.set(path, fetch(path, { headers: headers() }).then(async (response) => {
      if (!response.ok) throw await failure(response);
      return URL.createObjectURL(await response.blob());
    }).catch((error) => {
      imageURLs.delete(path);
      throw error;
    }));
  }
  return imageURLs.get(path);
}
export const estimate = (conversationId, content, model, attachments) =>
  json("POST", `/api/conversations/${encodeURIComponent(conversationId)}/estimate`,
    { content, model: model ?? undefined, attachments: attachments?.length ? attachments : undefined });
/** `{default, models: [{id, context_window?, input_usd_per_million?, output_usd_per_million?, cached_input_usd_per_million?}]}`: the user's models. */
export const listModels = () => json("GET", "/api/models");
export const getContext = (conversationId) => json("GET", `/api/conversations/${encodeURIComponent(conversationId)}/context`);
export const setContextMode = (messageId, action) => json("POST", `/api/messages/${encodeURIComponent(messageId)}/${action}`);
export const summarizeContext = (conversationId, keepLast = 4) =>
  json("POST", `/api/conversations/${encodeURIComponent(conversationId)}/summarize`, { keep_last: keepLast });
export const getMessage = (id) => json("GET", `/api/messages/${encodeURIComponent(id)}`);
/** Puts this version of an answer or question into the thread with the turns that followed it; the conversation as it now is. */
export const selectVersion = (id) => json("POST", `/api/messages/${encodeURIComponent(id)}/select`);
