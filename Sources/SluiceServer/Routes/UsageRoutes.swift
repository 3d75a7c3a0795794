import Foundation
import Hummingbird
import SluiceCore

/// `GET /api/usage/limits`: the caller's plan and token budget for the current period.
struct UsageRoutes {
    let budgets: (any BudgetStore)?

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("usage/limits", use: limits)
    }

    @Sendable func limits(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard let budgets else {
            throw APIError(.notFound, code: "not_found", message: "Token budgets are not enabled on this server.")
        }
        let budget = try await budgets.budget(userID: user.id, now: Date())
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: WireBudget(budget).json)))
    }
}
