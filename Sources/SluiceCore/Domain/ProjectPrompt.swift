/// A project's part of a turn's system prompt (`Project.prompt`), with what it was made from: a model with a smaller
/// window than the one it was made for — a fallback's, the local model's above all — gets the files cut again for
/// its own window (`fitted(to:)`) instead of a prompt that cannot fit it.
///
/// A class equal only to itself: it carries the project's files (up to 400 000 characters), made once per turn and
/// never compared by content. Sendable: every property is a `let` of a Sendable type.
public final class ProjectPrompt: Sendable, Equatable {
    /// The project's instructions, then its files whole or as excerpts; `nil` when it has neither.
    public let text: String?
    /// The passages sent when the files went as excerpts (empty when they went whole).
    public let sources: [ExcerptSource]
    /// The most characters of files it was made to carry; `nil`: whole, however long (no known window).
    public let budget: Int?
    private let instructions: String?
    private let files: [ProjectFile]
    private let question: String?
    private let earlier: String?
    private let index: @Sendable ([ProjectFile]) -> ProjectExcerpts.Index

    /// The prompt for `question` (and, counting half, the `earlier` one) with at most `budget` characters of `files`.
    public init(
        instructions: String?, files: [ProjectFile], question: String?, earlier: String?, budget: Int?,
        index: @escaping @Sendable ([ProjectFile]) -> ProjectExcerpts.Index = ProjectExcerpts.Index.init
    ) {
        (text, sources) = Project.prompt(
            instructions: instructions, files: files, question: question, earlier: earlier, budget: budget, index: index)
        self.budget = budget
        self.instructions = instructions
        self.files = files
        self.question = question
        self.earlier = earlier
        self.index = index
    }

    /// The same prompt with at most `budget` characters of files; `nil` when that changes nothing: no files, no
    /// budget, one that is not smaller, or files that fit it whole as they went whole before. Never larger: the
    /// turn's budget hold was counted with this one.
    public func fitted(to budget: Int?) -> ProjectPrompt? {
        guard let budget, !files.isEmpty, self.budget.map({ budget < $0 }) ?? true else { return nil }
        let wentWhole = sources.isEmpty
        if wentWhole, files.reduce(0, { $0 + $1.text.count }) <= budget { return nil }
        return ProjectPrompt(
            instructions: instructions, files: files, question: question, earlier: earlier, budget: budget, index: index)
    }

    public static func == (left: ProjectPrompt, right: ProjectPrompt) -> Bool { left === right }
}

extension Conversation {
    /// `personalized(by:project:)` with a project's prompt that a smaller window can cut again
    /// (`fittingProject(to:)`).
    public func personalized(by instructions: String?, projectPrompt: ProjectPrompt?) -> Conversation {
        var copy = personalized(by: instructions, project: projectPrompt?.text)
        copy.personalization = projectPrompt.map { Personalization(instructions: instructions, ownSystemPrompt: systemPrompt, project: $0) }
        return copy
    }

    /// The conversation personalized again with its project's files cut to at most `budget` characters (a model with
    /// a smaller window); `nil` when that changes nothing (`ProjectPrompt.fitted(to:)`).
    public func fittingProject(to budget: Int?) -> Conversation? {
        guard let personalization, let fitted = personalization.project.fitted(to: budget) else { return nil }
        var own = self
        own.systemPrompt = personalization.ownSystemPrompt
        own.personalization = nil
        return own.personalized(by: personalization.instructions, projectPrompt: fitted)
    }

    /// The parts of its project's files that its system prompt carries as excerpts, for the turn's answer to name as
    /// its sources.
    public var excerptSources: [ExcerptSource] { personalization?.project.sources ?? [] }
}

/// What a conversation's personalized system prompt was made of, when it carries a project: enough to make it again.
public struct Personalization: Sendable, Equatable {
    /// The user's instructions for all their conversations.
    public var instructions: String?
    /// The conversation's own system prompt, before anything was put in front of it.
    public var ownSystemPrompt: String?
    public var project: ProjectPrompt
}
