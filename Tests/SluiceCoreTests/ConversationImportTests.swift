import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("Reading exported conversations")
struct ConversationImportTests {
    static func read(_ text: String) throws -> [ImportedConversation] {
        try ImportedConversation.read(try JSONValue(parsing: Array(text.utf8)))
    }

    @Test("ChatGPT's export: the branch that ends at current_node, its visible text only, parts joined, times kept; an empty conversation is left out")
    func chatGPT() throws {
        let conversations = try Self.read(ChatGPTExport.sample)
        #expect(conversations.count == 1)
        let trip = try #require(conversations.first)
        #expect(trip.title == "Trip to Porto" && trip.systemPrompt == nil)
        #expect(trip.turns.map(\.content) == [
            "Where is Porto?", "In the north of Portugal,\n\non the Douro.", "Spoken:\n\nWhat to eat there?", "Francesinha, and pastel de nata.",
        ])
        #expect(trip.turns.map(\.role) == [.user, .assistant, .user, .assistant])
        #expect(trip.turns.map(\.model) == [nil, "gpt-4o", nil, "gpt-4o-mini"])
        #expect(trip.turns.first?.createdAt == Date(timeIntervalSince1970: 1732000001))
        #expect(trip.createdAt == Date(timeIntervalSince1970: 1732000000.5))
    }

    @Test("without current_node, the branch of the newest leaf")
    func newestLeaf() throws {
        let edited = ChatGPTExport.sample.replacingOccurrences(of: #""current_node": "a2b","#, with: "")
            .replacingOccurrences(of: #""create_time": 1732000011.0"#, with: #""create_time": 1732000099.0"#)
        let trip = try #require(try Self.read(edited).first)
        #expect(trip.turns.map(\.content).suffix(2) == ["What to eat tehre?", "(the answer to the typo)"])
    }

    @Test("Sluice's own export, one conversation or a list: instructions, user and assistant text with their files")
    func sluice() throws {
        let one = #"""
        {"id": "c1", "title": "Notes", "model": "sim", "system_prompt": "Be brief.", "created_at": "2026-12-01T10:00:00.000Z",
         "messages": [
           {"role": "user", "content": "Summarise", "created_at": "2026-12-01T10:00:01.000Z", "attachments": [{"name": "a.txt", "text": "alpha"}]},
           {"role": "assistant", "content": "Alpha.", "model": "sim", "created_at": "2026-12-01T10:00:02Z"},
           {"role": "assistant", "content": "", "status": "error"},
           {"role": "tool", "content": "42", "tool_call_id": "call_1"}
         ]}
        """#
        let read = try #require(try Self.read(one).first)
        #expect(read.title == "Notes" && read.systemPrompt == "Be brief.")
        #expect(read.turns.map(\.content) == ["Summarise", "Alpha."])
        #expect(read.turns.first?.attachments == [Attachment(name: "a.txt", text: "alpha")])
        #expect(read.turns.last?.createdAt == ISO8601DateFormatter().date(from: "2026-12-01T10:00:02Z"))
        #expect(try Self.read("[\(one), \(one)]").count == 2)
    }

    @Test("Sluice's export keeps a question's images: checked as a sent one's, one that is not an image left out, an image alone a question")
    func sluiceImages() throws {
        let png = TestImages.dataURL(TestImages.png3x2)
        let text = #"""
        {"title": "Photos", "messages": [
           {"role": "user", "content": "", "images": [{"url": "\#(png)", "detail": "low"}, {"url": "data:image/png;base64,bm90"}]},
           {"role": "assistant", "content": "A red square.", "images": [{"url": "\#(png)"}]}
         ]}
        """#
        let read = try #require(try Self.read(text).first)
        #expect(read.turns.map(\.content) == ["", "A red square."])
        #expect(read.turns.first?.images == [ImageInput(url: png, detail: .low, mediaType: "image/png", width: 3, height: 2)])
        #expect(read.turns.last?.images == [], "only a question shows images")
    }

    @Test("anything else is refused with the reason")
    func unreadable() {
        for text in ["42", #"[{"title": "x"}]"#, "[3]"] {
            #expect(throws: ImportedConversation.Unreadable.self) { try Self.read(text) }
        }
    }
}
