/// Turns text into a model's tokens. Sluice's own BPE (tiktoken-compatible) is one implementation;
/// a model served by llama-server can count with that model's own vocabulary instead.
public protocol Tokenizer: Sendable {
    /// The token ids of `text`; special-token text is treated as ordinary text.
    func encode(_ text: String) -> [Int]
    /// How many tokens `text` has.
    func count(_ text: String) -> Int
}
