import Foundation

/// The parts of a project's files that a turn sends when the files are too long to go whole — what ChatGPT's projects
/// and Open WebUI's knowledge do by retrieval: each file cut into passages of whole lines, the passages ranked by
/// BM25 against the question, and the best sent, up to a budget of characters, in the files' order with their line
/// numbers. Without a question, or when none of its words is in the files, the files' beginnings go instead.
public struct ProjectExcerpts: Sendable, Equatable {
    /// Whole lines of one file.
    public struct Passage: Sendable, Equatable {
        /// The file's index in the project's files.
        public var file: Int
        /// The passage's first and last line, counted from 1 (one line for each piece of a line longer than a passage).
        public var lines: ClosedRange<Int>
        public var text: String
        /// Its place among all the files' passages.
        public var position = 0
    }

    /// The passages chosen, in the files' order and then the lines'.
    public var passages: [Passage]
    /// How many passages the files were cut into.
    public var passageCount: Int
    /// Whether the question's words chose them (`false`: the files' beginnings).
    public var matched: Bool

    /// About this many characters per passage (Open WebUI's default chunk is 1 000).
    public static let passageCharacters = 1_000

    /// The files cut into passages, with their terms counted: what every question about the same files reads (the
    /// costly part — about 400 000 characters a turn at most — done once per set of files, see `ProjectIndexCache`).
    public struct Index: Sendable {
        public let passages: [Passage]
        let ranking: BM25

        public init(files: [ProjectFile]) {
            passages = files.enumerated().flatMap { ProjectExcerpts.passages(of: $0.element.text, file: $0.offset) }
                .enumerated().map { position, passage in
                    var placed = passage
                    placed.position = position
                    return placed
                }
            ranking = BM25(passages.map { ProjectExcerpts.terms(in: $0.text) })
        }
    }

    /// Chooses at most `budget` characters of passages of `files` for `question`.
    public static func select(files: [ProjectFile], question: String?, earlier: String? = nil, budget: Int) -> ProjectExcerpts {
        select(from: Index(files: files), question: question, earlier: earlier, budget: budget)
    }

    /// Chooses at most `budget` characters of the indexed passages for `question`; the words of the `earlier`
    /// question of the conversation count half as much (a follow-up — "and on Sundays?" — says little by itself).
    /// Room left after the matching passages goes to their neighbours, best first: an answer may run on past a
    /// passage's end.
    public static func select(from index: Index, question: String?, earlier: String? = nil, budget: Int) -> ProjectExcerpts {
        let all = index.passages
        let now = index.ranking.scores(for: terms(in: question ?? ""))
        let before = earlier.map { index.ranking.scores(for: terms(in: $0)) } ?? []
        let scores = before.isEmpty ? now : zip(now, before).map { $0 + $1 / 2 }
        let ranked = all.indices.filter { scores[$0] > 0 }.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let order = ranked.isEmpty ? beginningsFirst(all) : ranked
        var chosen: [Int] = []
        var used = 0
        for index in order where used + all[index].text.count <= budget {
            chosen.append(index)
            used += all[index].text.count
        }
        var taken = Set(chosen)
        let neighbours = ranked.flatMap { [(next: $0 + 1, of: $0), (next: $0 - 1, of: $0)] }.filter { all.indices.contains($0.next) }
        for (index, of) in neighbours
        where all[index].file == all[of].file && taken.contains(of) && !taken.contains(index)
            && used + all[index].text.count <= budget
        {
            chosen.append(index)
            taken.insert(index)
            used += all[index].text.count
        }
        return ProjectExcerpts(passages: chosen.sorted().map { all[$0] }, passageCount: all.count, matched: !ranked.isEmpty)
    }

    /// Each file's first passage, then each one's second, and so on: what goes when nothing matched.
    private static func beginningsFirst(_ all: [Passage]) -> [Int] {
        var positions: [Int] = []
        for index in all.indices {
            positions.append(index > 0 && all[index - 1].file == all[index].file ? positions[index - 1] + 1 : 0)
        }
        return all.indices.sorted { (positions[$0], all[$0].file) < (positions[$1], all[$1].file) }
    }

    /// The chosen passages as the system prompt carries them: a line that says they are excerpts, then one
    /// `<file name="…" lines="a-b">` block per run of adjacent passages of one file.
    public func blocks(of files: [ProjectFile]) -> String {
        let heading = matched
            ? "Excerpts of this project's files: the parts that best match the question (the files are longer)."
            : "The beginnings of this project's files (they are longer than what fits here)."
        let blocks = runs.map { run in
            "<file name=\"\(Attachment.escaped(files[run.file].name))\" lines=\"\(Self.lines(run))\">\n\(run.text)\n</file>"
        }
        return ([heading] + blocks).joined(separator: "\n\n")
    }

    /// Which parts of which files the blocks carry, for the answer to show as its sources (once each: two pieces of
    /// one long line are two blocks of the same line).
    public func sources(of files: [ProjectFile]) -> [ExcerptSource] {
        var seen = Set<String>()
        return runs.map { ExcerptSource(file: files[$0.file].name, lines: Self.lines($0)) }
            .filter { seen.insert("\($0.file)\u{0}\($0.lines)").inserted }
    }

    private static func lines(_ run: Passage) -> String {
        run.lines.count == 1 ? "\(run.lines.lowerBound)" : "\(run.lines.lowerBound)-\(run.lines.upperBound)"
    }

    /// The chosen passages, each run of passages that follow one another in a file joined: the next lines, or the
    /// next piece of one long line (joined without a line break, as the line has none). Pieces of a line with a piece
    /// between them that was not chosen stay apart.
    private var runs: [Passage] {
        var runs: [Passage] = []
        for passage in passages {
            guard let last = runs.last, passage.position == last.position + 1, last.file == passage.file else {
                runs.append(passage)
                continue
            }
            let pieceOfTheSameLine = last.lines.upperBound == passage.lines.lowerBound
            guard pieceOfTheSameLine || last.lines.upperBound + 1 == passage.lines.lowerBound else {
                runs.append(passage)
                continue
            }
            runs[runs.count - 1] = Passage(
                file: last.file, lines: last.lines.lowerBound...passage.lines.upperBound,
                text: last.text + (pieceOfTheSameLine ? "" : "\n") + passage.text, position: passage.position)
        }
        return runs
    }

    /// `text` cut into passages of whole lines of about `passageCharacters`, ending at a blank line where one comes
    /// after the passage is half full; a line longer than a passage is cut into pieces of its own.
    static func passages(of text: String, file: Int) -> [Passage] {
        var passages: [Passage] = []
        var current: [Substring] = []
        var size = 0
        var first = 1
        func close(through line: Int) {
            if current.contains(where: { !$0.allSatisfy(\.isWhitespace) }) {
                passages.append(Passage(file: file, lines: first...max(first, line), text: current.joined(separator: "\n")))
            }
            current = []
            size = 0
            first = line + 1
        }
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            if line.count > passageCharacters {
                close(through: number - 1)
                var rest = line[...]
                while !rest.isEmpty {
                    let piece = rest.prefix(passageCharacters)
                    passages.append(Passage(file: file, lines: number...number, text: String(piece)))
                    rest = rest.dropFirst(piece.count)
                }
                first = number + 1
                continue
            }
            if size + line.count + 1 > passageCharacters, !current.isEmpty { close(through: number - 1) }
            current.append(line)
            size += line.count + 1
            if line.allSatisfy(\.isWhitespace), size >= passageCharacters / 2 { close(through: number) }
        }
        close(through: first + current.count - 1)
        return passages
    }

    /// The words of `text` that say what it is about: lower-cased, without accents, at least two letters or one digit,
    /// without the commonest English words. ASCII words are read byte by byte; only a word with other letters is
    /// folded by Foundation (which, on Linux, costs a bridge per call: folding whole files took most of a turn).
    /// Chinese, Japanese and Korean, written without spaces, give each two characters in a row as a term (a single
    /// one alone), as Lucene's CJK analyzer does.
    static func terms(in text: String) -> [String] {
        var terms: [String] = []
        var word: [UInt8] = []
        var folded = false
        var run: [Unicode.Scalar] = []
        func endRun() {
            defer { run.removeAll(keepingCapacity: true) }
            if run.count == 1 { terms.append(String(run[0])) }
            for index in run.indices.dropLast() {
                var pair = String(run[index])
                pair.unicodeScalars.append(run[index + 1])
                terms.append(pair)
            }
        }
        func end() {
            endRun()
            defer { word.removeAll(keepingCapacity: true); folded = false }
            guard !word.isEmpty else { return }
            var term = String(decoding: word, as: UTF8.self)
            if folded { term = term.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }
            guard term.count >= 2 || term.first?.isNumber == true, !stopWords.contains(term) else { return }
            terms.append(term)
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                switch value {
                case 0x61...0x7A, 0x30...0x39:
                    if !run.isEmpty { endRun() }
                    word.append(UInt8(value))
                case 0x41...0x5A:
                    if !run.isEmpty { endRun() }
                    word.append(UInt8(value + 0x20))
                default: end()
                }
            } else if isCJK(value) {
                if !word.isEmpty { end() }  // a word and a run never pend together
                run.append(scalar)
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || scalar.properties.generalCategory == .nonspacingMark
            {
                if !run.isEmpty { endRun() }
                word.append(contentsOf: String(scalar).utf8)
                folded = true
            } else {
                end()
            }
        }
        end()
        return terms
    }

    /// Han (with extension A), hiragana, katakana and Hangul syllables.
    private static func isCJK(_ value: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value) || (0x3040...0x30FF).contains(value)
            || (0xAC00...0xD7AF).contains(value)
    }

    static let stopWords: Set<String> = [
        "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do",
        "does", "for", "from", "had", "has", "have", "how", "if", "in", "into", "is", "it", "its", "me", "my", "no",
        "not", "of", "on", "or", "our", "please", "say", "says", "should", "so", "tell", "that", "the", "their", "them",
        "then", "there", "these", "they", "this", "to", "us", "was", "we", "were", "what", "when", "where", "which",
        "who", "why", "will", "with", "would", "you", "your",
    ]
}

/// A part of a project file that a turn sent as an excerpt: the file's name and its lines ("120-148"), shown with the
/// answer as its sources.
public struct ExcerptSource: Sendable, Equatable, Codable {
    public var file: String
    public var lines: String

    public init(file: String, lines: String) {
        self.file = file
        self.lines = lines
    }
}

/// Okapi BM25 over a fixed set of documents (k1 1.2, b 0.75): how well each document answers a query's terms, rarer
/// terms counting more, long documents not winning by length alone.
struct BM25 {
    private let frequencies: [[String: Int]]
    private let lengths: [Int]
    private let documentCounts: [String: Int]
    private let averageLength: Double

    init(_ documents: [[String]]) {
        frequencies = documents.map { $0.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
        lengths = documents.map(\.count)
        documentCounts = frequencies.reduce(into: [:]) { counts, document in
            for term in document.keys { counts[term, default: 0] += 1 }
        }
        averageLength = documents.isEmpty ? 1 : max(1, Double(lengths.reduce(0, +)) / Double(documents.count))
    }

    /// Each document's score for `query` (0 when it has none of its terms).
    func scores(for query: [String]) -> [Double] {
        let terms = Array(Set(query))
        let count = Double(frequencies.count)
        let weights = terms.map { term -> Double in
            let found = Double(documentCounts[term] ?? 0)
            return log(1 + (count - found + 0.5) / (found + 0.5))
        }
        return frequencies.indices.map { index in
            var score = 0.0
            for (term, weight) in zip(terms, weights) {
                guard let tf = frequencies[index][term].map(Double.init) else { continue }
                let norm = 1.2 * (0.25 + 0.75 * Double(lengths[index]) / averageLength)
                score += weight * tf * 2.2 / (tf + norm)
            }
            return score
        }
    }
}
