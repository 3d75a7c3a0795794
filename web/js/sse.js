// Reads a text/event-stream from a fetch Response, following the WHATWG parsing rules (LF, CRLF and CR line
// ends, comments, multi-line data). Yields {event, data, id} objects as they complete.

export async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let event = "";
  let id = null;
  let pendingCR = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    let chunk = value;
    if (pendingCR && chunk.startsWith("\n")) chunk = chunk.slice(1);
    pendingCR = chunk.endsWith("\r");
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
        data = [];
        event = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let fieldValue = colon === -1 ? "" : line.slice(colon + 1);
      if (fieldValue.startsWith(" ")) fieldValue = fieldValue.slice(1);
      if (field === "data") data.push(fieldValue);
      else if (field === "event") event = fieldValue;
      else if (field === "id") id = fieldValue;
    }
  }
}
