import Foundation
import HTTPTypes
import NIOCore

/// Who a request came from, for the sign-in's limit per address and the list of signed-in browsers: the connection's
/// peer, or — when the peer is one of `trustedProxies` (`serve --trusted-proxy`, e.g. nginx on the same machine) —
/// the address that proxy put in `X-Forwarded-For`, read from the right as nginx's `real_ip_recursive` does: the
/// rightmost entry that is not itself a trusted proxy. An entry a client wrote itself sits left of it and is never
/// believed, so a client cannot pick the address it is counted under. `sluice serve` trusts the machine's own
/// loopback addresses unless told otherwise, as uvicorn's `--forwarded-allow-ips` does.
public struct ClientAddresses: Sendable {
    /// The proxies' own addresses, as written (`127.0.0.1`, `::1`, `10.0.0.5`).
    public let trustedProxies: Set<String>
    /// What `sluice serve` trusts without `--trusted-proxy`: a proxy on the same machine.
    public static let loopback = ["127.0.0.1", "::1"]

    public init(trustedProxies: some Sequence<String> = []) {
        self.trustedProxies = Set(trustedProxies.map(Self.normalized))
    }

    /// The client's address; `nil` when the connection has none (a Unix socket, or a test's request without one).
    func address(peer: SocketAddress?, headers: HTTPFields) -> String? {
        client(peer: peer, headers: headers)?.address
    }

    /// The client's address, and whether it stands for one client (`distinct`): one a trusted proxy forwarded, or a
    /// public address that connected itself. A loopback or private address that connected itself may be a proxy
    /// that names no client (nginx without `X-Forwarded-For`, Docker's bridge): counting tries under it would let
    /// one stranger's wrong passwords hold back everyone behind it.
    func client(peer: SocketAddress?, headers: HTTPFields) -> (address: String, distinct: Bool)? {
        guard let peerAddress = peer?.ipAddress.map(Self.normalized) else { return nil }
        guard trustedProxies.contains(peerAddress) else { return (peerAddress, !Self.isLocal(peerAddress)) }
        let forwarded = headers[values: Self.forwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { Self.normalized(String($0)) }
            .filter { !$0.isEmpty }
        guard let client = forwarded.last(where: { !trustedProxies.contains($0) }) ?? forwarded.first else {
            return (peerAddress, !Self.isLocal(peerAddress))
        }
        return (client, true)
    }

    /// Loopback, private (RFC 1918, IPv6 unique local) or link-local: an address that many clients may reach us from.
    static func isLocal(_ address: String) -> Bool {
        if address.contains(":") {
            return address == "::1" || address.hasPrefix("fc") || address.hasPrefix("fd") || address.hasPrefix("fe8")
                || address.hasPrefix("fe9") || address.hasPrefix("fea") || address.hasPrefix("feb")
        }
        let parts = address.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4 else { return false }
        switch (parts[0], parts[1]) {
        case (127, _), (10, _), (192, 168), (169, 254): return true
        case (172, 16...31): return true
        default: return false
        }
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
