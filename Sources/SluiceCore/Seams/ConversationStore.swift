import Foundation

/// Errors a store reports that callers act on.
public enum StoreError: Error, Sendable, Equatable {
    case notFound
    case conflict(String)
    /// The database cannot be reached (down, restarting, or refusing connections); nothing was changed.
    case unavailable(String)
}

/// Persistence of users, conversations and messages. SQLite is the embedded implementation; PostgreSQL follows.
public protocol ConversationStore: StopRequestStore, SignInStore, TwoStepStore, SecurityLogStore, TeamStore, AuditLogStore, MemoryStore, IdentityStore {
    /// Brings the schema to the newest version.
    func migrate() async throws
    /// Throws unless the store answers a trivial query.
    func ping() async throws

    /// Makes a user; the first user there is is an administrator (`User.isAdmin`).
    func createUser(name: String, plan: Plan, tokenHash: String) async throws -> User
    /// Makes the user an administrator or not; `false` (and nothing changed) when that would leave no administrator
    /// who can sign in (one not suspended).
    func setAdmin(userID: String, isAdmin: Bool) async throws -> Bool
    /// Suspends the user now (their token and keys are refused), or with `false` restores them (approving one who
    /// waits for approval).
    func setSuspended(userID: String, suspended: Bool) async throws
    /// Deletes what the user made (conversations, projects, saved prompts, memories, cached answers), revokes their keys and
    /// frees their name, keeping their usage ledger; `false` (nothing changed) for the last administrator.
    func deleteUser(userID: String) async throws -> Bool
    /// Who a bearer token with this hash is: a user's own token, a session of theirs that has not expired
    /// (`SignInStore`), or one of the user's keys that is not revoked (an expired one too, with its `expiresAt`: the
    /// caller refuses it with a message that says so).
    func credential(tokenHash: String) async throws -> Credential?
    func user(named name: String) async throws -> User?
    func users() async throws -> [User]
    /// Sets the models the user may chat with (`nil`: every model).
    func setAllowedModels(userID: String, models: [String]?) async throws
    /// Replaces a user's token hash (issuing a new token).
    func setTokenHash(userID: String, tokenHash: String) async throws
    /// The user's instructions for all their conversations (ChatGPT's custom instructions); `nil` when none.
    func userInstructions(userID: String) async throws -> String?
    /// Sets (or, with `nil`, removes) the user's instructions for all their conversations.
    func setUserInstructions(userID: String, instructions: String?) async throws
    /// Whether the web app names the user's conversations by itself after their first answer (on unless they turned
    /// it off; an unknown user reads as on).
    func autoTitles(userID: String) async throws -> Bool
    func setAutoTitles(userID: String, enabled: Bool) async throws
    /// Adds a labelled key (`APIKey`); `StoreError.conflict` when the user already has a key with that label.
    /// `terms`: when it stops working by itself, the only models it may use, what it may spend a day.
    func addAPIKey(userID: String, label: String, tokenHash: String, terms: APIKey.Terms) async throws -> APIKey
    /// The user's keys, revoked ones too, oldest first.
    func apiKeys(userID: String) async throws -> [APIKey]
    /// Stops the user's key with that label from working; `false` when there is no such working key.
    func revokeAPIKey(userID: String, label: String) async throws -> Bool
    /// Changes a working key's terms (`APIKey.Changes`); the key as it now is, or `nil` when the user has no working
    /// key with that label.
    func updateAPIKey(userID: String, label: String, changes: APIKey.Changes) async throws -> APIKey?

    func createConversation(
        userID: String, title: String, model: String, systemPrompt: String?
    ) async throws -> Conversation
    /// Stores a new project (`Project.starting`).
    func createProject(_ project: Project) async throws
    /// The user's projects, most recently changed first.
    func projects(userID: String) async throws -> [Project]
    /// How many of the user's conversations each of their projects holds (the ones the list shows: not archived, not
    /// temporary), by project id; a project with none is left out.
    func projectConversationCounts(userID: String) async throws -> [String: Int]
    func project(id: String) async throws -> Project?
    /// Writes the project's name and instructions, and its `updatedAt`.
    func updateProject(_ project: Project) async throws
    /// Deletes the project with its files; its conversations stay, in no project.
    func deleteProject(id: String) async throws
    /// The project's files, oldest first.
    func projectFiles(projectID: String) async throws -> [ProjectFile]
    /// One of the project's files; `nil` when the project has no such file.
    func projectFile(id: String, projectID: String) async throws -> ProjectFile?
    func addProjectFile(_ file: ProjectFile) async throws
    /// Deletes the project's file; `false` when the project has no such file.
    func deleteProjectFile(id: String, projectID: String) async throws -> Bool
    /// Archives every conversation of the user's that is kept and not archived yet, unpinning them (ChatGPT's "Archive
    /// all chats"); how many.
    func archiveAllConversations(userID: String, at: Date) async throws -> Int
    /// Deletes every conversation of the user's — archived and temporary ones too — with their messages (ChatGPT's
    /// "Delete all chats"); their usage stays in the ledger, their projects stay. How many.
    func deleteAllConversations(userID: String) async throws -> Int
    /// The user's saved prompts, by command.
    func savedPrompts(userID: String) async throws -> [SavedPrompt]
    func savedPrompt(id: String) async throws -> SavedPrompt?
    /// Stores a new saved prompt; `StoreError.conflict` when the user has one with that command.
    func addSavedPrompt(_ prompt: SavedPrompt) async throws
    /// Writes its command, title, text and `updatedAt`; `StoreError.conflict` when another of the user's has that
    /// command.
    func updateSavedPrompt(_ prompt: SavedPrompt) async throws
    func deleteSavedPrompt(id: String) async throws
    /// Completes a branch stored by `createConversation(_:messages:)`: notes the conversation it was made from, and
    /// gives its copied answers the thinking and the sources the shared insert leaves out (`copies`: the branch's
    /// messages, by their new ids, with their `reasoning`, `reasoningMs` and `sources`). One transaction.
    func recordBranch(conversationID: String, from original: String, copies: [Message]) async throws
    /// Puts the conversation in the project (`nil`: in none).
    func moveConversation(id: String, toProject projectID: String?) async throws
    /// Stores a conversation the caller made (`Conversation.starting`) together with its first messages, in one
    /// commit: a gateway call's new conversation, its history and the user's message before the first token.
    func createConversation(_ conversation: Conversation, messages: [Message]) async throws
    /// One page of the user's conversations (`ConversationListing`): those that are not archived, pinned ones first,
    /// each part most recently updated first; or the archived ones, most recently archived first. Temporary chats
    /// are left out.
    func conversationPage(userID: String, listing: ConversationListing) async throws -> ConversationPage
    func conversation(id: String) async throws -> Conversation?
    /// The user's conversations that have every one of the `terms` in their title or any message (ignoring case:
    /// ASCII letters only on SQLite), most recently updated first, at most `limit`.
    func searchConversations(userID: String, terms: SearchTerms, limit: Int) async throws -> [ConversationMatch]
    /// Deletes the conversation with its messages (and its `markUnkept` mark); their usage stays in the ledger.
    func deleteConversation(id: String) async throws
    /// Marks a conversation — which need not exist yet — as not to be kept (a `store: false` turn's, a temporary
    /// chat): it is left out of the user's list and search, and `recoverInterruptedMessages` deletes it when its turn
    /// was interrupted, or `deleteLapsedUnkept` once it lapsed, in case nothing else deleted it.
    func markUnkept(conversationID: String, at: Date) async throws
    /// Whether the conversation is marked not to be kept (`markUnkept`): a temporary chat, or a `store: false` turn's.
    func isUnkept(conversationID: String) async throws -> Bool
    /// Moves an unkept conversation's mark to `at`, so that it lapses an hour after that instead (a temporary chat
    /// still open in a page); false when the conversation is not marked.
    func touchUnkept(conversationID: String, at: Date) async throws -> Bool
    /// Deletes the unkept conversations that lapsed: marked over an hour before `now`, with no message since and
    /// none being written (a temporary chat its user left open, a `store: false` turn whose end was lost). Returns
    /// how many it deleted.
    func deleteLapsedUnkept(now: Date) async throws -> Int
    /// Deletes these messages of the conversation in one commit; the conversation no longer ends as a gateway thread,
    /// and goes too when nothing is left of it. Their usage stays in the ledger.
    func deleteMessages(ids: [String], conversationID: String) async throws
    func renameConversation(id: String, title: String) async throws
    /// Renames the conversation to `title` only while it is still called `expected` — a title written for it must
    /// not replace a name its user gave meanwhile — and says whether it did.
    func retitleConversation(id: String, from expected: String, to title: String) async throws -> Bool
    /// Pins the conversation at `at`, or (with `nil`) unpins it.
    func pinConversation(id: String, at: Date?) async throws
    /// Archives the conversation at `at` — which unpins it, and ends it as a gateway thread (a call with its history
    /// starts a new conversation) — or (with `nil`) brings it back to the list.
    func archiveConversation(id: String, at: Date?) async throws
    /// The model the conversation goes on with: a message that picks another model (the web app's model picker, a
    /// gateway call continuing a thread with another model) makes it the conversation's.
    func setConversationModel(id: String, model: String) async throws
    /// Sets or (with `nil`) removes the conversation's system prompt. The conversation no longer ends as a gateway
    /// client's chat did, so its thread key is cleared with it (in the same statement).
    func setSystemPrompt(id: String, systemPrompt: String?) async throws
    /// Sets a conversation's sampling settings; `nil` (or empty ones) removes them.
    func setConversationParameters(id: String, parameters: ConversationParameters?) async throws
    /// Shares the conversation as `snapshot` (a copy of its thread) at `at` and returns its link: a conversation shared
    /// before keeps its token and gets the new copy; otherwise `token` becomes its link.
    func share(conversationID: String, token: String, snapshot: String, at: Date) async throws -> SharedLink
    /// The conversation's link, if it is shared.
    func sharedLink(conversationID: String) async throws -> SharedLink?
    /// The link with this token, if any conversation is shared by it and its owner is not suspended.
    func sharedLink(token: String) async throws -> SharedLink?
    /// The user's shared links, the most recently shared first.
    func sharedLinks(userID: String) async throws -> [SharedLinkSummary]
    /// Stops sharing the conversation (its link reads nothing any more); whether it was shared.
    func unshare(conversationID: String) async throws -> Bool
    /// Replaces a finished answer's text with the user's, as Open WebUI's edit of a response does: it is sent as
    /// written from the next turn on, its token ends become one piece, and `editedAt` is `at`; its usage and cost stay
    /// what the model's answer was charged. Returns `false`, changing nothing, when the message is not an answer or
    /// is being written.
    func editAnswer(messageID: String, content: String, at: Date) async throws -> Bool
    /// Messages of a conversation, oldest first.
    func messages(conversationID: String) async throws -> [Message]
    func message(id: String) async throws -> Message?

    /// Takes the user's most recently updated conversation marked with `threadKey` and clears the mark in one
    /// atomic step, so that of two calls continuing the same thread only one gets it (the other branches off).
    func claimThread(userID: String, threadKey: String) async throws -> Conversation?
    /// Marks a conversation as ending where `threadKey` says (`nil`: not continuable).
    func setThreadKey(conversationID: String, threadKey: String?) async throws

    /// Stores a new message and touches its conversation's `updatedAt`.
    func insert(_ message: Message) async throws
    /// Stores new messages (a conversation's history) in as few statements as the database allows.
    func insert(_ messages: [Message]) async throws
    /// Writes the text so far of answers that are still streaming, all in one write; an answer that has ended
    /// meanwhile is left as its final write made it.
    func saveProgress(_ updates: [ProgressUpdate]) async throws
    /// Stores `message` as the newest version of `previous` — an answer regenerated, or a question edited — in one
    /// transaction: earlier versions are kept but marked superseded, and so are `others` (an edited question's
    /// answer and the turns after it), marked as hidden with `previous` so that choosing it again
    /// (`selectVersion`) brings them back.
    func addVersion(_ message: Message, replacing previous: Message, alsoSuperseding others: [String]) async throws
    /// Makes `version` — another version of the same question or answer — the one in the thread instead of
    /// `current`, in one transaction, as ChatGPT's ‹ › does: `current` and `later` (the thread's turns after it) are
    /// kept, hidden with `current`; the turns that were hidden with `version` come back. The conversation no longer
    /// ends as a gateway thread.
    func selectVersion(_ version: Message, replacing current: Message, hiding later: [String]) async throws
    /// All versions of a regenerated answer, oldest first.
    func versions(group: String) async throws -> [Message]
    /// Puts an ended assistant message back to `streaming` (for continue), clearing its error; the model may change.
    func reopen(messageID: String, model: String) async throws
    /// Writes the final state of an assistant message.
    func finish(messageID: String, outcome: AssistantOutcome) async throws
    /// Records an answer's sources: the parts of its project's files it was sent as excerpts.
    func setSources(messageID: String, sources: [ExcerptSource]) async throws
    /// Records how many different personal details of each kind an answer's call masked (`Message.personalDataMasked`).
    func setPersonalDataMasked(messageID: String, counts: [String: Int]) async throws
    /// Marks rows left `streaming` by a crash as `partial`, and deletes the unkept conversations such a crash left
    /// (`markUnkept`); returns how many answers it marked.
    func recoverInterruptedMessages() async throws -> Int

    /// Sets how a message is treated when the context is built (auto, pinned, excluded).
    func setContextMode(messageID: String, mode: ContextMode) async throws
    /// Sets (or, with `nil`, removes) what the user thought of an answer; throws `notFound` for an unknown message.
    func setFeedback(messageID: String, feedback: AnswerFeedback?) async throws
    /// Every user's answers rated since `since` (only `rating` ones, when given), most recently rated first, at most
    /// `limit`: what operators review.
    func ratedAnswers(since: Date, rating: AnswerFeedback.Rating?, limit: Int) async throws -> [RatedAnswer]
    /// The conversation's running summary of older messages, if it has one.
    func summary(conversationID: String) async throws -> ConversationSummary?
    /// Replaces the conversation's running summary.
    func saveSummary(conversationID: String, summary: ConversationSummary) async throws
}

extension ConversationStore {
    /// All the user's conversations that are not archived, pinned ones first, each part most recently updated first;
    /// with `archived`, the archived ones instead, most recently archived first (`conversationPage`).
    public func conversations(userID: String, archived: Bool) async throws -> [Conversation] {
        try await conversationPage(userID: userID, listing: ConversationListing(archived: archived)).conversations
    }

    /// The user's conversations that are not archived (`conversations(userID:archived:)`).
    public func conversations(userID: String) async throws -> [Conversation] {
        try await conversations(userID: userID, archived: false)
    }

    /// The user whose token, or one of whose working keys (`APIKey`: not revoked, not expired), has this hash.
    public func user(tokenHash: String) async throws -> User? {
        guard let credential = try await credential(tokenHash: tokenHash), !credential.hasExpired(at: Date()) else { return nil }
        return credential.user
    }

    /// A key that expires at `expiresAt` (`nil`: never), limited to `allowedModels` (`nil`: all of the user's).
    public func addAPIKey(
        userID: String, label: String, tokenHash: String, expiresAt: Date? = nil, allowedModels: [String]? = nil
    ) async throws -> APIKey {
        try await addAPIKey(
            userID: userID, label: label, tokenHash: tokenHash, terms: .init(expiresAt: expiresAt, allowedModels: allowedModels))
    }

    /// `addVersion(_:replacing:alsoSuperseding:)` with nothing else superseded: a regenerated answer.
    public func addVersion(_ message: Message, replacing previous: Message) async throws {
        try await addVersion(message, replacing: previous, alsoSuperseding: [])
    }
}
