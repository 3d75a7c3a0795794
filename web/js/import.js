// Import: ChatGPT's conversations.json (from its "Export data") or a conversation Sluice exported as JSON, read in
// the browser and sent in parts (POST /api/conversations/import takes at most 16 MiB at a time).

import * as api from "./api.js";

/** About the most one request carries, as JSON text: well under the server's limit. */
const PART_CHARACTERS = 8_000_000;

/** The conversations in groups whose JSON stays under `limit` characters (one larger than it goes alone). */
export function parts(conversations, limit = PART_CHARACTERS) {
  const groups = [];
  let group = [];
  let size = 2;
  for (const conversation of conversations) {
    const length = JSON.stringify(conversation).length + 1;
    if (group.length > 0 && size + length > limit) {
      groups.push(group);
      group = [];
      size = 2;
    }
    group.push(conversation);
    size += length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Imports `file`; resolves to `{conversations, messages, notSent}` over all its parts. */
export async function importFile(file) {
  let data;
  try {
    data = JSON.parse(await file.text());
  } catch {
    throw new Error(`${file.name} is not JSON. Import ChatGPT's conversations.json (from its Export data) or a conversation Sluice exported as JSON.`);
  }
  const result = { conversations: [], messages: 0, notSent: 0 };
  for (const part of parts(Array.isArray(data) ? data : [data])) {
    const reply = await api.importConversations(part);
    result.conversations.push(...reply.conversations);
    result.messages += reply.messages;
    result.notSent += reply.not_sent;
  }
  return result;
}

/** What an import did, in a sentence. */
export function describeImport(name, { conversations, messages, notSent }) {
  if (conversations.length === 0) return `${name} has no conversation with messages to import.`;
  const count = `${conversations.length} conversation${conversations.length === 1 ? "" : "s"}`;
  const refused = notSent > 0
    ? `; ${notSent} question${notSent === 1 ? "" : "s"} the prompt guard would not send ${notSent === 1 ? "is" : "are"} kept but never sent`
    : "";
  return `Imported ${count} (${messages} messages) from ${name}${refused}.`;
}

/** Wires the sidebar's Import: the button opens the file picker; `onImported(firstId)` runs after an import. */
export function offerImport({ button, input, showBanner, onImported }) {
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    showBanner(`Importing ${file.name}…`);
    try {
      const result = await importFile(file);
      showBanner(describeImport(file.name, result));
      await onImported(result.conversations[0]?.id);
    } catch (error) {
      showBanner(error.message);
    }
  });
}
