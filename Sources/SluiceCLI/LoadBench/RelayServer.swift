import ArgumentParser
import AsyncHTTPClient
import Hummingbird
import NIOCore
import SluiceProviders

/// `sluice bench relay`: the floor the load bench measures Sluice against — a bare Hummingbird 2 + AsyncHTTPClient
/// pass-through of `POST /v1/chat/completions` that copies the upstream's bytes to the client as they arrive,
/// with no parsing, persistence, accounting or guard. Started by `sluice bench load` as the `relay` target.
struct RelayServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay", abstract: "A bare pass-through relay (the load bench's floor).", shouldDisplay: false)

    @Option(help: "Port to listen on (127.0.0.1).") var port = 8090
    @Option(help: "The upstream's base URL, e.g. http://127.0.0.1:8081/v1.") var upstream: String

    func run() async throws {
        let client = UpstreamHTTPClient.make()
        let target = upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream
        let router = Router()
        router.get("/health") { _, _ in HTTPResponse.Status.ok }
        for path in ["chat/completions", "completions"] {
        router.post("/v1/\(path)") { request, _ -> Response in
            var outgoing = HTTPClientRequest(url: "\(target)/\(path)")
            outgoing.method = .POST
            outgoing.headers.add(name: "Content-Type", value: "application/json")
            outgoing.body = .bytes(try await request.body.collect(upTo: 1 << 20))
            let answer = try await client.execute(outgoing, timeout: .minutes(10))
            let body = answer.body
            return Response(
                status: .init(code: Int(answer.status.code)), headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    for try await part in body { try await writer.write(part) }
                    try await writer.finish(nil)
                })
        }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        do {
            try await app.runService()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
