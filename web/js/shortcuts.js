// ChatGPT's keyboard shortcuts: Ctrl+Shift+O (⌘⇧O) starts a conversation, Ctrl+K (⌘K) searches them, Ctrl+Shift+C
// copies the last answer and Ctrl+Shift+; its last code block, Shift+Esc goes back to the message box, Ctrl+Shift+⌫
// deletes the open conversation (after asking), and Ctrl+/ shows or hides the list of them.

export function bindShortcuts({ log, input, newConversation, search, toggleList, deleteCurrent }) {
  document.addEventListener("keydown", (event) => {
    const command = event.ctrlKey || event.metaKey;
    if (command && event.shiftKey && event.key.toLowerCase() === "o") {
      event.preventDefault();
      newConversation();
    } else if (command && !event.shiftKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      search();
    } else if (command && event.shiftKey && event.code === "KeyC") {
      event.preventDefault();
      [...log.querySelectorAll(".message.assistant .copy-answer")].at(-1)?.click();
    } else if (command && event.shiftKey && event.code === "Semicolon") {
      event.preventDefault();
      [...log.querySelectorAll(".message.assistant .copy-code")].at(-1)?.click();
    } else if (event.shiftKey && !command && event.key === "Escape") {
      event.preventDefault();
      input.focus();
    } else if (command && event.shiftKey && event.code === "Backspace") {
      event.preventDefault();
      deleteCurrent();
    } else if (command && !event.shiftKey && event.code === "Slash") {
      event.preventDefault();
      toggleList();
    }
  });
}
