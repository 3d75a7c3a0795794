import Foundation
@testable import SluiceCore
import SluiceTestSupport
import Testing

@Suite("Excerpts of a project's long files")
struct ProjectExcerptsTests {
    /// `count` paragraphs of filler about gardening, each of a few sentences, a blank line between.
    static func filler(_ count: Int, seed: Int) -> String {
        let words = ["soil", "compost", "seedlings", "water", "sunlight", "mulch", "pruning", "roots", "leaves", "garden",
                     "tomatoes", "beans", "spring", "autumn", "harvest", "weeds", "trellis", "frost"]
        var generator = SeededGenerator(seed: UInt64(seed))
        return (0..<count).map { paragraph in
            (0..<4).map { _ in
                (0..<12).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ") + "."
            }.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    static func file(_ name: String, _ text: String) -> ProjectFile {
        ProjectFile(id: name, projectID: "p", name: name, text: text, createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test("a question's terms: lower-cased, accents gone, the commonest words and single letters left out, digits kept")
    func terms() {
        #expect(ProjectExcerpts.terms(in: "When does the Ferry to ZANZIBAR leave? Pier 3, 07:40.")
            == ["ferry", "zanzibar", "leave", "pier", "3", "07", "40"])
        #expect(ProjectExcerpts.terms(in: "Café Zürich — crème brûlée, naïve façade") == ["cafe", "zurich", "creme", "brulee", "naive", "facade"])
        #expect(ProjectExcerpts.terms(in: "Cafe\u{301} x y z") == ["cafe"], "a combining accent stays in its word")
        #expect(ProjectExcerpts.terms(in: "snake_case-and.dots") == ["snake", "case", "dots"])
        // Written without spaces: two characters in a row make a term.
        #expect(ProjectExcerpts.terms(in: "東京の天気") == ["東京", "京の", "の天", "天気"])
        #expect(ProjectExcerpts.terms(in: "Tokyo東京 2024年 한국어") == ["tokyo", "東京", "2024", "年", "한국", "국어"])
    }

    @Test("passages are whole lines in order, each line in exactly one, none longer than a passage")
    func passagesCoverTheFile() {
        for seed in 0..<20 {
            var generator = SeededGenerator(seed: UInt64(seed))
            // Lines of 0…300 characters, now and then one longer than a passage, blank lines between some.
            let lines = (0..<Int.random(in: 1...200, using: &generator)).map { _ -> String in
                let length = Int.random(in: 0...10, using: &generator) == 0 ? Int.random(in: 1_001...2_600, using: &generator)
                    : Int.random(in: 0...300, using: &generator)
                return String(repeating: "x", count: length)
            }
            let text = lines.joined(separator: "\n")
            let excerpts = ProjectExcerpts.select(files: [Self.file("f", text)], question: nil, budget: .max)
            var next = 1
            for passage in excerpts.passages {
                #expect(passage.text.count <= ProjectExcerpts.passageCharacters)
                #expect(passage.lines.lowerBound >= next, "in order, no line twice (seed \(seed))")
                // Lines skipped between passages are blank ones only.
                #expect(lines[(next - 1)..<(passage.lines.lowerBound - 1)].allSatisfy { $0.isEmpty }, "seed \(seed)")
                let covered = lines[(passage.lines.lowerBound - 1)...(passage.lines.upperBound - 1)]
                if covered.count == 1, covered.first!.count > ProjectExcerpts.passageCharacters {
                    // A piece of a long line: the line's pieces follow one another.
                    #expect(covered.first!.contains(passage.text))
                    if passage.text.count == ProjectExcerpts.passageCharacters { continue }
                } else {
                    #expect(passage.text == covered.joined(separator: "\n"), "seed \(seed)")
                }
                next = passage.lines.upperBound + 1
            }
            #expect(lines[(next - 1)...].allSatisfy { $0.isEmpty }, "every line with text is in a passage (seed \(seed))")
        }
    }

    @Test("a question in Japanese finds its passage: terms of two characters where words have no spaces")
    func japanese() {
        let answer = "東京から大阪までの新幹線は毎時十本あります。"
        let text = (0..<40).map { "庭の土と水と日光についての覚え書き、その\($0)。植物の根と葉の世話。" }.joined(separator: "\n\n")
            + "\n\n" + answer + "\n\n" + (0..<40).map { "秋の収穫と冬の霜の覚え書き\($0)。" }.joined(separator: "\n\n")
        let excerpts = ProjectExcerpts.select(files: [Self.file("旅行.md", text)], question: "大阪への新幹線は？", budget: ProjectExcerpts.passageCharacters)
        #expect(excerpts.matched)
        #expect(excerpts.passages.contains { $0.text.contains(answer) })
    }

    @Test("the passage that answers the question is chosen from a long file, within the budget")
    func questionFindsItsPassage() {
        let answer = "The ferry to Zanzibar leaves from pier 3 at 07:40 every weekday."
        let text = Self.filler(60, seed: 1) + "\n\n" + answer + "\n\n" + Self.filler(60, seed: 2)
        let budget = 3_000
        let excerpts = ProjectExcerpts.select(files: [Self.file("trip.md", text)], question: "When does the ferry to Zanzibar leave?", budget: budget)
        #expect(excerpts.matched)
        #expect(excerpts.passages.contains { $0.text.contains(answer) })
        #expect(excerpts.passages.map(\.text.count).reduce(0, +) <= budget)
        #expect(excerpts.passageCount > 20)
        // In the files' order: passages sorted by line.
        #expect(excerpts.passages.map(\.lines.lowerBound) == excerpts.passages.map(\.lines.lowerBound).sorted())
    }

    @Test("rarer words weigh more: the passage with the rare word wins over many with a common one")
    func rareWordsWeighMore() {
        let common = (0..<30).map { "garden garden notes \($0)" }.joined(separator: "\n\n")
        let rare = "The quince tree stands at the garden's far end."
        let text = common + "\n\n" + rare + "\n\n" + common
        // Room for one passage: the one with "quince", though every other has "garden" three times as often.
        let excerpts = ProjectExcerpts.select(files: [Self.file("a", text)], question: "garden quince", budget: ProjectExcerpts.passageCharacters)
        #expect(excerpts.passages.contains { $0.text.contains("quince") })
        #expect(excerpts.passageCount > 2)
    }

    @Test("a follow-up is read with the question before it: its words count half, enough to pick the right passage")
    func followUp() throws {
        let ferry = "Ferry to Zanzibar: on Sundays it leaves at 09:15."
        let garden = "Sundays: the garden centre opens late on Sundays."
        let text = [Self.filler(6, seed: 7), ferry, Self.filler(6, seed: 8), garden, Self.filler(6, seed: 9)].joined(separator: "\n\n")
        let file = [Self.file("notes.md", text)]
        let all = ProjectExcerpts.select(files: file, question: nil, budget: .max).passages
        let budget = try #require(all.filter { $0.text.contains(ferry) || $0.text.contains(garden) }.map(\.text.count).max())
        #expect(all.filter { $0.text.contains(ferry) || $0.text.contains(garden) }.count == 2, "two passages")
        let alone = ProjectExcerpts.select(files: file, question: "And on Sundays?", budget: budget)
        #expect(alone.passages.contains { $0.text.contains(garden) }, "twice \"Sundays\" wins by itself")
        let followUp = ProjectExcerpts.select(
            files: file, question: "And on Sundays?", earlier: "When does the ferry to Zanzibar leave?", budget: budget)
        #expect(followUp.passages.contains { $0.text.contains(ferry) })
        #expect(!followUp.passages.contains { $0.text.contains(garden) })
    }

    @Test("room left after the matching passages goes to their neighbours in the same file, not to other passages")
    func neighbours() {
        let answer = "The quince tree is pruned in late winter."
        let text = Self.filler(30, seed: 10) + "\n\n" + answer + "\n\n" + Self.filler(30, seed: 11)
        let excerpts = ProjectExcerpts.select(files: [Self.file("a", text)], question: "quince", budget: 3 * ProjectExcerpts.passageCharacters)
        let all = ProjectExcerpts.select(files: [Self.file("a", text)], question: nil, budget: .max).passages
        let hit = try! #require(all.firstIndex { $0.text.contains(answer) })
        #expect(excerpts.passages.count == 3)
        #expect(excerpts.passages == Array(all[(hit - 1)...(hit + 1)]), "the passage with the word and the one on each side")
    }

    @Test("without a matching word the files' beginnings go, each file's first passage before any second one")
    func beginningsWithoutAMatch() {
        let files = [Self.file("a", Self.filler(20, seed: 3)), Self.file("b", Self.filler(20, seed: 4))]
        let excerpts = ProjectExcerpts.select(files: files, question: "Summarise this please", budget: 1_500)
        #expect(!excerpts.matched)
        #expect(Set(excerpts.passages.map(\.file)) == [0, 1])
        #expect(excerpts.passages.allSatisfy { $0.lines.lowerBound == 1 })
    }

    @Test("the prompt sends files whole within the budget, and over it one block per run of adjacent passages with its lines")
    func prompt() throws {
        let small = [Self.file("notes.txt", "alpha beta gamma")]
        let whole = Project.prompt(instructions: nil, files: small, question: "x", budget: 100)
        #expect(whole.text == "<file name=\"notes.txt\">\nalpha beta gamma\n</file>")
        #expect(whole.sources.isEmpty, "a file sent whole is no excerpt")

        let answer = "Quokkas live on Rottnest Island."
        let text = Self.filler(30, seed: 5) + "\n\n" + answer + "\n\n" + Self.filler(30, seed: 6)
        let excerpted = Project.prompt(
            instructions: "Be brief.", files: [Self.file("a\"b.md", text)], question: "Where do quokkas live?", budget: 1_200)
        let prompt = try #require(excerpted.text)
        #expect(prompt.hasPrefix("Be brief.\n\nExcerpts of this project's files"))
        #expect(prompt.contains(answer))
        #expect(prompt.contains("<file name=\"a&quot;b.md\" lines=\""))
        #expect(prompt.count < 1_200 + 300, "the budget and the framing, not the file")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let answerLine = try #require(lines.firstIndex { $0 == answer }) + 1
        let range = try #require(prompt.firstMatch(of: /lines="(\d+)-(\d+)"/))
        #expect(Int(range.1)! <= answerLine && answerLine <= Int(range.2)!, "the block's lines are the file's")
        // The sources name the same blocks: the file as it is called (not escaped) and their lines.
        #expect(excerpted.sources.first == ExcerptSource(file: "a\"b.md", lines: "\(range.1)-\(range.2)"))
        #expect(excerpted.sources.count == prompt.matches(of: /<file name=/).count)
    }

    @Test("a project's prompt is cut again for a smaller budget only, with the conversation's layers kept in their order")
    func fittedToASmallerBudget() throws {
        let answer = "Quokkas live on Rottnest Island."
        let text = Self.filler(30, seed: 7) + "\n\n" + answer + "\n\n" + Self.filler(30, seed: 8)
        let files = [Self.file("notes.md", text)]
        let whole = ProjectPrompt(instructions: "Project.", files: files, question: "Where do quokkas live?", earlier: nil, budget: 100_000)
        #expect(whole.sources.isEmpty && whole.text?.contains(text) == true)
        #expect(whole.fitted(to: nil) == nil && whole.fitted(to: 100_000) == nil && whole.fitted(to: 200_000) == nil)
        #expect(whole.fitted(to: text.count + 10) == nil, "still whole: nothing changes")
        let cut = try #require(whole.fitted(to: 1_200))
        #expect(cut.budget == 1_200)
        #expect(cut.text?.hasPrefix("Project.\n\nExcerpts of this project's files") == true)
        #expect(cut.text?.contains(answer) == true, "chosen for the same question")
        #expect(!cut.sources.isEmpty && (cut.text?.count ?? .max) < 1_200 + 300)
        #expect(cut.fitted(to: 1_200) == nil && cut.fitted(to: 5_000) == nil, "never larger than the turn's hold counted")
        #expect(try #require(cut.fitted(to: 600)).text!.count < 600 + 300)
        #expect(ProjectPrompt(instructions: "Project.", files: [], question: nil, earlier: nil, budget: 100).fitted(to: 10) == nil)

        let conversation = Conversation(
            id: "c", userID: "u", title: "t", model: "m", systemPrompt: "Own.", createdAt: Date(), updatedAt: Date())
        let personal = conversation.personalized(by: "User.", projectPrompt: whole)
        #expect(personal.systemPrompt == "User.\n\n" + whole.text! + "\n\nOwn.")
        #expect(personal.fittingProject(to: 100_000) == nil)
        let fitted = try #require(personal.fittingProject(to: 1_200))
        #expect(fitted.systemPrompt == "User.\n\n" + cut.text! + "\n\nOwn.")
        #expect(fitted.excerptSources == cut.sources && personal.excerptSources.isEmpty)
        #expect(conversation.fittingProject(to: 1_200) == nil, "not personalized: nothing to cut")
    }

    @Test("pieces of one long line are joined without a break when they follow one another, and stay apart with a piece between them")
    func piecesOfALongLine() throws {
        func piece(_ word: String) -> String { String(String(repeating: word + " ", count: 200).prefix(ProjectExcerpts.passageCharacters)) }
        let (first, second, third) = (piece("quokka"), piece("filler"), piece("wombat"))
        let file = Self.file("data.json", "An intro line.\n" + first + second + third + "\nA last line.")
        let apart = ProjectExcerpts.select(files: [file], question: "quokka wombat", budget: 2 * ProjectExcerpts.passageCharacters)
        let apartBlocks = apart.blocks(of: [file])
        #expect(apartBlocks.contains("<file name=\"data.json\" lines=\"2\">\n\(first)\n</file>"), "\(apartBlocks.prefix(300))")
        #expect(apartBlocks.contains("<file name=\"data.json\" lines=\"2\">\n\(third)\n</file>"))
        #expect(!apartBlocks.contains(first + "\n" + third), "not joined as if they followed one another")
        #expect(apart.sources(of: [file]) == [ExcerptSource(file: "data.json", lines: "2")], "the line once")

        let together = ProjectExcerpts.select(files: [file], question: "quokka filler", budget: 2 * ProjectExcerpts.passageCharacters)
        #expect(together.blocks(of: [file]).hasSuffix("<file name=\"data.json\" lines=\"2\">\n\(first + second)\n</file>"))
    }
}
