import Foundation
import HTTPTypes
import Hummingbird

/// Azure OpenAI's deployment URLs (`POST /openai/deployments/{deployment}/chat/completions?api-version=…`, and the
/// resource's `GET /openai/models`): the same answers as `/v1/chat/completions`, after Azure's own checks — the key in `api-key` (a bearer token is not
/// it) and an `api-version` in the query — refused in Azure's words when either is missing.
enum AzureMode {
    static func refusal(of request: Request) -> Response? {
        guard request.uri.queryParameters.get("api-version")?.isEmpty == false else {
            return error(.notFound, code: "404", "Resource not found")
        }
        guard request.headers[HTTPField.Name("api-key")!]?.isEmpty == false else {
            return error(
                .unauthorized, code: "401",
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
        }
        return nil
    }

    private static func error(_ status: HTTPResponse.Status, code: String, _ message: String) -> Response {
        Response.json(status, "{\"error\":{\"code\":\"\(code)\",\"message\":\"\(message)\"}}")
    }
}
