// Downloads the open conversation: as Markdown, to read or share, or as JSON, everything the API returns for it.

import * as api from "./api.js";

/** The conversation as a Markdown document: title, model, instructions, then each message under its author. */
export function conversationMarkdown(conversation, exportedAt = new Date()) {
  const lines = [`# ${conversation.title}`, "", `Model: ${conversation.model} · exported ${exportedAt.toISOString()}`, ""];
  if (conversation.system_prompt) {
    lines.push(...conversation.system_prompt.split("\n").map((line, index) => `> ${index === 0 ? "**Instructions:** " : ""}${line}`), "");
  }
  for (const message of conversation.messages ?? []) {
    const author = message.role === "user" ? "You"
      : message.role === "tool" ? `Function result (${message.tool_call_id ?? "?"})` : (message.model ?? "Assistant");
    const notes = [];
    if (message.status === "rejected") notes.push(`not sent: ${message.error ?? "the prompt guard rejected it"}`);
    if (message.status === "partial" || message.status === "error") notes.push("ended early");
    if (message.status === "cancelled") notes.push("stopped");
    lines.push(`**${author}** · ${message.created_at}${notes.length ? ` (${notes.join("; ")})` : ""}`, "", message.content ?? "", "");
    // A question's files: each under its name, in a fence long enough that no line of the file can close it.
    for (const file of message.attachments ?? []) {
      const fence = "`".repeat(Math.max(3, ...[...file.text.matchAll(/`+/g)].map((run) => run[0].length + 1)));
      lines.push(`Attached \`${file.name}\`:`, "", fence, file.text, fence, "");
    }
    // A question's images, as Markdown images: the picture itself (a data URL), or the link it was sent as.
    (message.images ?? []).forEach((image, index) => {
      const size = image.width && image.height ? ` (${image.width} × ${image.height})` : "";
      lines.push(`![Image ${index + 1}${size}](${image.url.replace(/[()\s]/g, encodeURIComponent)})`, "");
    });
    // An agent's function calls: each name, and its arguments as a JSON block.
    for (const call of message.tool_calls ?? []) {
      lines.push(`Called \`${call.name}\` (${call.id}):`, "", "```json", call.arguments, "```", "");
    }
  }
  return lines.join("\n");
}

/** A file name from the title: letters, digits and dashes. */
export function fileName(title, extension) {
  const slug = title.normalize("NFKD").replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "").toLowerCase().slice(0, 60);
  return `${slug || "conversation"}.${extension}`;
}

/** The conversation with each stored image's bytes in it, as a data URL (the API names them by address): an export
 * shows its pictures, and Sluice's import reads them back. */
async function withImageData(conversation) {
  for (const message of conversation.messages ?? []) {
    for (const image of message.images ?? []) {
      if (!image.url.startsWith("/api/")) continue;
      const blob = await (await fetch(await api.imageObjectURL(image.url))).blob();
      image.url = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(blob);
      });
    }
  }
  return conversation;
}

export async function exportConversation(id, format) {
  const conversation = await withImageData(await api.getConversation(id));
  if (format === "json") {
    download(fileName(conversation.title, "json"), "application/json", JSON.stringify(conversation, null, 2));
  } else {
    download(fileName(conversation.title, "md"), "text/markdown", conversationMarkdown(conversation));
  }
}

/** Every conversation of the user, archived ones too, in one JSON file: a list of Sluice's exports (each as
 * `exportConversation` writes it, its images in it), which Sluice's import reads back — ChatGPT's "Export data", Open
 * WebUI's "Export chats". `progress(done, total)` follows it; resolves to the file's name and how many it holds. */
export async function exportAllConversations(progress = () => {}) {
  const ids = [];
  for (const archived of [false, true]) {
    let cursor = null;
    do {
      const page = await api.listConversations({ archived, limit: 200, cursor });
      ids.push(...page.conversations.map((conversation) => conversation.id));
      cursor = page.next_cursor ?? null;
    } while (cursor);
  }
  const all = [];
  for (const [index, id] of ids.entries()) {
    progress(index, ids.length);
    all.push(await withImageData(await api.getConversation(id)));
  }
  const name = `sluice-conversations-${new Date().toISOString().slice(0, 10)}.json`;
  download(name, "application/json", JSON.stringify(all, null, 2));
  return { name, count: all.length };
}

/** Has the browser save `text` as a file named `name`. */
export function download(name, type, text) {
  const link = Object.assign(document.createElement("a"), {
    href: URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` })), download: name,
  });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
