/// A ChatGPT `conversations.json` (the shape of its "Export data"), small but with what real exports have: a
/// hidden system message, custom instructions as hidden context, an edited question (two branches, the second one
/// shown: `current_node`), an answer in two parts, a tool's output, an image part and a voice transcription beside text, and a conversation
/// with nothing to keep.
public enum ChatGPTExport {
    public static let sample = #"""
    [
      {
        "title": "Trip to Porto",
        "create_time": 1732000000.5,
        "update_time": 1732000600.0,
        "default_model_slug": "gpt-4o",
        "current_node": "a2b",
        "mapping": {
          "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
          "sys": {"id": "sys", "parent": "root", "children": ["ctx"], "message": {
            "id": "sys", "author": {"role": "system"}, "create_time": null,
            "content": {"content_type": "text", "parts": [""]},
            "metadata": {"is_visually_hidden_from_conversation": true}}},
          "ctx": {"id": "ctx", "parent": "sys", "children": ["q1"], "message": {
            "id": "ctx", "author": {"role": "user"}, "create_time": null,
            "content": {"content_type": "user_editable_context", "user_profile": "I live in Lisbon."},
            "metadata": {"is_visually_hidden_from_conversation": true}}},
          "q1": {"id": "q1", "parent": "ctx", "children": ["a1"], "message": {
            "id": "q1", "author": {"role": "user"}, "create_time": 1732000001.0,
            "content": {"content_type": "text", "parts": ["Where is Porto?"]}, "metadata": {}}},
          "a1": {"id": "a1", "parent": "q1", "children": ["q2a", "q2b"], "message": {
            "id": "a1", "author": {"role": "assistant"}, "create_time": 1732000002.0,
            "content": {"content_type": "text", "parts": ["In the north of Portugal,", "on the Douro."]},
            "metadata": {"model_slug": "gpt-4o"}}},
          "q2a": {"id": "q2a", "parent": "a1", "children": ["a2a"], "message": {
            "id": "q2a", "author": {"role": "user"}, "create_time": 1732000010.0,
            "content": {"content_type": "text", "parts": ["What to eat tehre?"]}, "metadata": {}}},
          "a2a": {"id": "a2a", "parent": "q2a", "children": [], "message": {
            "id": "a2a", "author": {"role": "assistant"}, "create_time": 1732000011.0,
            "content": {"content_type": "text", "parts": ["(the answer to the typo)"]}, "metadata": {"model_slug": "gpt-4o"}}},
          "q2b": {"id": "q2b", "parent": "a1", "children": ["tool"], "message": {
            "id": "q2b", "author": {"role": "user"}, "create_time": 1732000020.0,
            "content": {"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, {"content_type": "audio_transcription", "text": "Spoken:"}, "What to eat there?"]},
            "metadata": {}}},
          "tool": {"id": "tool", "parent": "q2b", "children": ["a2b"], "message": {
            "id": "tool", "author": {"role": "tool", "name": "web"}, "create_time": 1732000021.0,
            "content": {"content_type": "tether_browsing_display", "result": "…"}, "metadata": {}}},
          "a2b": {"id": "a2b", "parent": "tool", "children": [], "message": {
            "id": "a2b", "author": {"role": "assistant"}, "create_time": 1732000022.0,
            "content": {"content_type": "text", "parts": ["Francesinha, and pastel de nata."]}, "metadata": {"model_slug": "gpt-4o-mini"}}}
        }
      },
      {
        "title": "Empty",
        "create_time": 1732000700.0,
        "current_node": "only",
        "mapping": {"only": {"id": "only", "message": null, "parent": null, "children": []}}
      }
    ]
    """#
}
