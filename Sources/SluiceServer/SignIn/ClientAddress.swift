import Foundation
import HTTPTypes
import NIOCore

/// Who a request came from, for the sign-in's limit per address and the list of signed-in browsers: the connection's
/// peer, or — when the peer is one of `trustedProxies` (`serve --trusted-proxy`, e.g. nginx on the same machine) —
/// the address that proxy put in `X-Forwarded-For`, read from the right as nginx's `real_ip_recursive` does: the
/// rightmost entry that is not itself a trusted proxy. An entry a client wrote itself sits left of it and is never
/// believed, so a client cannot pick the address it is counted under.
public struct ClientAddresses: Sendable {
    /// The proxies' own addresses, as written (`127.0.0.1`, `::1`, `10.0.0.5`).
    public let trustedProxies: Set<String>

    public init(trustedProxies: some Sequence<String> = []) {
        self.trustedProxies = Set(trustedProxies.map(Self.normalized))
    }

    /// The client's address; `nil` when the connection has none (a Unix socket, or a test's request without one).
    func address(peer: SocketAddress?, headers: HTTPFields) -> String? {
        guard let peerAddress = peer?.ipAddress.map(Self.normalized) else { return nil }
        guard trustedProxies.contains(peerAddress) else { return peerAddress }
        let forwarded = headers[values: Self.forwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { Self.normalized(String($0)) }
            .filter { !$0.isEmpty }
        return forwarded.last { !trustedProxies.contains($0) } ?? forwarded.first ?? peerAddress
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// Without spaces or brackets, and an IPv4 address that came over IPv6 (`::ffff:192.0.2.7`) as IPv4.
    private static func normalized(_ address: String) -> String {
        var text = address.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") { text = String(text[text.index(after: text.startIndex)..<end]) }
        let lower = text.lowercased()
        if lower.hasPrefix("::ffff:"), lower.dropFirst(7).contains(".") { return String(lower.dropFirst(7)) }
        return lower
    }
}
