/// Other names for served models, as LiteLLM's `model_group_alias`: a gateway client that asks for a model by a name
/// it was built with (Claude Code's `claude-sonnet-4-5-20250929`, an SDK's `gpt-4o`) gets the model the operator
/// chose. A name ending in `*` is a prefix (`claude-*` takes every `claude-` name); an exact name wins over a
/// prefix, and a longer prefix over a shorter one. Exact names are listed beside the models (`GET /v1/models`), as
/// LiteLLM lists its aliases, unless hidden; a prefix is no name to list.
public struct ModelAliases: Sendable, Equatable {
    /// Exact names and what they stand for.
    public private(set) var exact: [String: String] = [:]
    /// Exact names that work but are not listed (LiteLLM's `hidden: true`).
    public private(set) var hidden: Set<String> = []
    /// Prefixes (without the `*`) and what they stand for, longest first.
    public private(set) var prefixes: [(prefix: String, model: String)] = []
    /// The served models' own names, which no prefix takes.
    private var served: Set<String> = []

    public init() {}

    /// `aliases`: alias → model, an alias ending in `*` being a prefix; `hidden`: exact aliases left out of the list.
    /// Throws when an alias is empty, names a served model (it would hide it), or points at a model that is not
    /// served, or when a hidden name is no exact alias.
    public init(_ aliases: [String: String], served: [String], hidden: Set<String> = []) throws(AliasError) {
        self.served = Set(served)
        for name in hidden.sorted() where aliases[name] == nil || name.hasSuffix("*") {
            throw AliasError("'\(name)' is hidden but is no alias's exact name (a prefix ending in '*' is never listed)")
        }
        self.hidden = hidden
        for (alias, model) in aliases.sorted(by: { $0.key < $1.key }) {
            let name = alias.hasSuffix("*") ? String(alias.dropLast()) : alias
            guard !name.isEmpty, !name.contains("*") else {
                throw AliasError("the alias '\(alias)' must be a name, or a name's beginning followed by one '*'")
            }
            guard served.contains(model) else {
                throw AliasError("the alias '\(alias)' points at '\(model)', which is not a served model (served: \(served.joined(separator: ", ")))")
            }
            if alias.hasSuffix("*") {
                prefixes.append((name, model))
            } else {
                guard !served.contains(alias) else {
                    throw AliasError("the alias '\(alias)' is a served model's own name; an alias cannot hide a model")
                }
                exact[alias] = model
            }
        }
        prefixes.sort { $0.prefix.count > $1.prefix.count }
    }

    public var isEmpty: Bool { exact.isEmpty && prefixes.isEmpty }

    /// The exact aliases to list with the models, by name, each with the model it stands for.
    public var listed: [(name: String, model: String)] {
        exact.filter { !hidden.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The served model `name` stands for: itself when it is no alias. A served model's own name is never taken by a
    /// prefix.
    public func resolve(_ name: String) -> String {
        if let model = exact[name] { return model }
        if served.contains(name) { return name }
        return prefixes.first { name.hasPrefix($0.prefix) }?.model ?? name
    }

    public static func == (lhs: ModelAliases, rhs: ModelAliases) -> Bool {
        lhs.exact == rhs.exact && lhs.hidden == rhs.hidden && lhs.prefixes.elementsEqual(rhs.prefixes) { $0.prefix == $1.prefix && $0.model == $1.model }
    }
}

/// Why a set of aliases cannot be used, in one line.
public struct AliasError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
