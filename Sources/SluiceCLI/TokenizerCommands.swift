import ArgumentParser
import Foundation
import SluiceTokenizer

/// Where the tiktoken vocabularies live: `--vocabulary-dir`, else `SLUICE_TIKTOKEN_DIR`, else the setup cache.
struct VocabularyOptions: ParsableArguments {
    @Option(help: "Folder with tiktoken's vocabulary files (default: $SLUICE_TIKTOKEN_DIR or ~/.cache/sluice/tiktoken).")
    var vocabularyDir: String?

    @Option(help: "cl100k_base or o200k_base.")
    var encoding: String = "o200k_base"

    func tokenizer() throws -> BPETokenizer {
        guard let encoding = Encoding(rawValue: encoding) else {
            throw ValidationError("unknown encoding '\(encoding)': use \(Encoding.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        let environment = ProcessInfo.processInfo.environment
        let folder = vocabularyDir ?? environment["SLUICE_TIKTOKEN_DIR"]
            ?? ((environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/sluice/tiktoken")
        do {
            return try BPETokenizer(encoding: encoding, vocabularyDirectory: URL(fileURLWithPath: folder))
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// `sluice tokenize`: counts (or lists) the tokens of a text, from the argument or standard input.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Count the tokens of a text (argument or stdin).")

    @OptionGroup var vocabulary: VocabularyOptions

    @Flag(help: "Print the token ids, one line, instead of the count.")
    var ids = false

    @Argument(help: "The text; read from standard input when left out.")
    var text: String?

    func run() throws {
        let tokenizer = try vocabulary.tokenizer()
        let input = text ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let tokens = tokenizer.encode(input)
        print(ids ? tokens.map(String.init).joined(separator: " ") : String(tokens.count))
    }
}

/// `sluice bench`: measurements that print figures.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures.", subcommands: [TokenizerBench.self, GuardBench.self, PersonalDataBench.self, LoadBench.self, RelayServer.self])
}
