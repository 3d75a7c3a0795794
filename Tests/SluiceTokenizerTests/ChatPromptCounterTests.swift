import Foundation
import SluiceCore
import SluiceTokenizer
import Testing

/// Chat prompts counted by Sluice equal the OpenAI cookbook's `num_tokens_from_messages`, run with
/// tiktoken by the reference script (`<reference>-chat.jsonl`), for both encodings.
@Suite(.enabled(if: ReferenceCorpus.isAvailable, "set SLUICE_TOKENIZER_REFERENCE and SLUICE_TIKTOKEN_DIR (./sluice.sh test does)"))
struct ChatPromptCounterTests {
    struct Record: Decodable {
        let name: String
        let messages: [ChatMessage]
        let cl100k_base: Int
        let o200k_base: Int
    }

    @Test("counts equal the cookbook's rule, with and without the count cache (asked twice)",
          arguments: Encoding.allCases, [false, true])
    func countsEqualTheCookbooksRule(encoding: Encoding, cached: Bool) async throws {
        let tokenizer = try BPETokenizer(encoding: encoding, vocabularyDirectory: ReferenceCorpus.vocabularyDirectory)
        let counter = ChatPromptCounter(tokenizer: cached ? CountCachingTokenizer(tokenizer, minimumBytes: 1) : tokenizer)
        let path = (ProcessInfo.processInfo.environment["SLUICE_TOKENIZER_REFERENCE"] ?? "").replacingOccurrences(of: ".jsonl", with: "-chat.jsonl")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let records = try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Record.self, from: Data($0)) }
        #expect(records.count >= 30)
        for record in records {
            let expected = encoding == .cl100kBase ? record.cl100k_base : record.o200k_base
            #expect(try await counter.promptTokens(record.messages) == expected, "\(record.name)")
            if cached { #expect(try await counter.promptTokens(record.messages) == expected, "\(record.name), again") }
        }
    }
}

struct EncodingForModelTests {
    @Test(arguments: [
        ("gpt-4o", Encoding.o200kBase), ("gpt-4o-mini-2024-07-18", .o200kBase), ("openai/gpt-4.1", .o200kBase),
        ("gpt-5", .o200kBase), ("o3-mini", .o200kBase), ("gpt-4", .cl100kBase), ("gpt-4-turbo", .cl100kBase),
        ("gpt-3.5-turbo-0125", .cl100kBase), ("smollm2", .o200kBase),
    ])
    func theEncodingFollowsTheModelFamily(model: String, encoding: Encoding) {
        #expect(Encoding.forModel(model) == encoding)
    }
}
