import SluiceCore

/// Adds what a pass-through call cost (text completions, embeddings, rerank) to the upstream's answer: `"cost"`, in
/// USD, the exact decimal the ledger charged, as the last member of the body's top-level `usage` object — where
/// Sluice's own chat answers carry it (OpenRouter's field). The body is scanned once rather than parsed and written
/// again: an embeddings answer can be megabytes of numbers. A body without a `usage` object, or whose usage already
/// names a cost, is passed on as it came.
enum UsageCostField {
    static func adding(_ cost: USDAmount?, to body: [UInt8]) -> [UInt8] {
        guard let cost, let usage = usageObject(in: body), !usage.hasCost else { return body }
        let empty = body[(usage.open + 1)..<usage.close].allSatisfy(isWhitespace)
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 40)
        out += body[..<usage.close]
        out += Array(((empty ? "" : ",") + "\"cost\":" + cost.decimalString).utf8)
        out += body[usage.close...]
        return out
    }

    /// Where the top-level `usage` object opens and closes, and whether it has a `cost` member.
    static func usageObject(in body: [UInt8]) -> (open: Int, close: Int, hasCost: Bool)? {
        body.withUnsafeBufferPointer(usageObject(in:))
    }

    private static func usageObject(in body: UnsafeBufferPointer<UInt8>) -> (open: Int, close: Int, hasCost: Bool)? {
        var depth = 0
        var index = 0
        var usageOpen: Int?
        var hasCost = false
        while index < body.count {
            switch body[index] {
            case UInt8(ascii: "\""):
                let start = index + 1
                index = start
                while index < body.count, body[index] != UInt8(ascii: "\"") {
                    index += body[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < body.count else { return nil }
                let name = body[start..<index]
                // A member's name is a string followed by a colon.
                var next = index + 1
                while next < body.count, isWhitespace(body[next]) { next += 1 }
                guard next < body.count, body[next] == UInt8(ascii: ":") else { break }
                if depth == 1, usageOpen == nil, name.elementsEqual("usage".utf8) {
                    next += 1
                    while next < body.count, isWhitespace(body[next]) { next += 1 }
                    // `usage` that is not an object (null): nothing to add to.
                    guard next < body.count, body[next] == UInt8(ascii: "{") else { return nil }
                    usageOpen = next
                    depth += 1
                    index = next
                } else if depth == 2, usageOpen != nil, name.elementsEqual("cost".utf8) {
                    hasCost = true
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 2, let open = usageOpen { return (open, index, hasCost) }
                depth -= 1
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
