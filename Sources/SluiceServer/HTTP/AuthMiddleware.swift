import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// Resolves `Authorization: Bearer <token>` to a user, or answers 401.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let store: any ConversationStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized
        }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, let user = try await store.user(tokenHash: AccessToken.hash(token)) else {
            throw APIError.unauthorized
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }
}
