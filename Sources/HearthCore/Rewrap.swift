import HearthCrypto
import Logging

/// A consent wrap, with the conversation wrap beside it, due to be moved to the primary key version.
public struct WrapToRewrap: Sendable {
    /// Where this wrap stands in the store's order (resume after it).
    public let cursor: RewrapCursor
    public let recordID: RecordID
    public let commitment: [UInt8]
    public let scope: Scope
    public let keyVersion: UInt32
    public let wrap: [UInt8]
    /// The conversation wrap stored with it (SECURITY.md §3.13), sealed to the same version.
    public let conversationWrap: [UInt8]

    public init(
        cursor: RewrapCursor, recordID: RecordID, commitment: [UInt8], scope: Scope, keyVersion: UInt32, wrap: [UInt8], conversationWrap: [UInt8]
    ) {
        self.conversationWrap = conversationWrap
        self.cursor = cursor
        self.recordID = recordID
        self.commitment = commitment
        self.scope = scope
        self.keyVersion = keyVersion
        self.wrap = wrap
    }
}

/// A re-sealed wrap and conversation wrap to store, replacing `old` only if it is still there unchanged.
public struct RewrappedWrap: Sendable {
    public let old: WrapToRewrap
    public let newVersion: UInt32
    public let newWrap: [UInt8]
    public let newConversationWrap: [UInt8]

    /// Both wraps of `old`, sealed to `newVersion`.
    public init(old: WrapToRewrap, newVersion: UInt32, newWrap: [UInt8], newConversationWrap: [UInt8]) {
        self.old = old
        self.newVersion = newVersion
        self.newWrap = newWrap
        self.newConversationWrap = newConversationWrap
    }
}

/// Moves consent wraps from older key versions to the primary one, in short batches, while the
/// service runs. Idempotent and resumable: it only ever looks for wraps not yet at the primary.
public struct RewrapJob: Sendable {
    /// Progress so far.
    public struct Progress: Sendable {
        public var done: Int
        public var skipped: Int
        public let total: Int
    }

    let store: any RewrapStore
    let files: any ScopeKeyFiles
    let clock: any WallClock
    let logger: Logger

    /// A job over `store`, opening old versions and sealing to the primary through `files`.
    public init(store: any RewrapStore, files: any ScopeKeyFiles, clock: any WallClock, logger: Logger) {
        self.store = store
        self.files = files
        self.clock = clock
        self.logger = logger
    }

    /// Re-wraps every wrap of `scope` not at its primary version. Every old version that has
    /// wraps must open with `master` before anything is written; otherwise this throws naming the file.
    public func run(
        scope: Scope, master: borrowing SecretKey, batch: Int = 500, actor: String = "cli", progress: (Progress) -> Void = { _ in }
    ) async throws -> Progress {
        let ring = try files.publicKeyRing()
        guard let primary = ring.primary[scope] else {
            throw KeyFileError(path: "\(scope.rawValue).v1.pub", reason: "it is missing", hint: "restore it")
        }
        let counts = try await store.wrapCounts()[scope] ?? [:]
        let old = counts.filter { $0.key != primary.version && $0.value > 0 }.keys.sorted()
        // Load every old private key first: a corrupt or missing version stops the job before any write.
        var keys: [UInt32: ScopePrivateKey] = [:]
        for v in old {
            keys[v] = ScopePrivateKey(scope: scope, version: v, key: try files.scopePrivateKey(scope, version: v, master: master))
        }
        var p = Progress(done: 0, skipped: 0, total: old.reduce(0) { $0 + (counts[$1] ?? 0) })
        try await store.appendAudit(
            AuditEvent(
                actor: actor, action: "keys.rewrap.start", subject: "\(scope.rawValue).v\(primary.version)", scope: scope.rawValue,
                outcome: "\(p.total)"), at: clock.unixSeconds())
        progress(p)
        for v in old {
            guard let key = keys[v] else { continue }
            var after: RewrapCursor?
            while true {
                let rows = try await store.wrapsToRewrap(scope: scope, version: v, after: after, limit: batch)
                guard let last = rows.last else { break }
                after = last.cursor
                let resealed = try await Self.reseal(rows, key: key, primary: primary)
                let replaced = try await store.replaceWraps(resealed.done)
                p.done += replaced
                p.skipped += rows.count - replaced
                if !resealed.failed.isEmpty {
                    logger.error(
                        "wraps that do not open were left alone",
                        metadata: ["rewrap.failed": "\(resealed.failed.count)", "rewrap.scope": "\(scope.rawValue)"])
                }
                progress(p)
            }
        }
        try await store.appendAudit(
            AuditEvent(
                actor: actor, action: "keys.rewrap.done", subject: "\(scope.rawValue).v\(primary.version)", scope: scope.rawValue,
                outcome: "\(p.done)"), at: clock.unixSeconds())
        return p
    }

    /// Opens and re-seals a batch on every core (X25519 dominates the cost).
    static func reseal(
        _ rows: [WrapToRewrap], key: ScopePrivateKey, primary: PublicKeyRing.Entry
    ) async throws -> (done: [RewrappedWrap], failed: [WrapToRewrap]) {
        let chunks = max(1, min(4, rows.count / 32))
        let size = (rows.count + chunks - 1) / chunks
        return try await withThrowingTaskGroup(of: ([RewrappedWrap], [WrapToRewrap]).self) { group in
            for start in stride(from: 0, to: rows.count, by: size) {
                let slice = Array(rows[start..<min(start + size, rows.count)])
                group.addTask {
                    var done: [RewrappedWrap] = []
                    var failed: [WrapToRewrap] = []
                    for row in slice {
                        do {
                            let dek = try Envelope.openScopeWrap(
                                row.wrap, with: key.key, recordID: row.recordID, scope: row.scope, keyVersion: row.keyVersion,
                                commitment: row.commitment)
                            let wrap = try Envelope.wrapForScope(
                                dek, recordID: row.recordID, scope: row.scope, keyVersion: primary.version, publicKey: primary.key)
                            // The conversation key moves with it: a retired version must leave no wrap of either kind.
                            let conversation = try Envelope.wrapConversation(
                                Envelope.openConversationWrap(
                                    row.conversationWrap, with: key.key, recordID: row.recordID, scope: row.scope, keyVersion: row.keyVersion),
                                recordID: row.recordID, scope: row.scope, keyVersion: primary.version, publicKey: primary.key)
                            done.append(
                                RewrappedWrap(old: row, newVersion: primary.version, newWrap: wrap, newConversationWrap: conversation))
                        } catch {
                            failed.append(row)
                        }
                    }
                    return (done, failed)
                }
            }
            var done: [RewrappedWrap] = []
            var failed: [WrapToRewrap] = []
            for try await (d, f) in group {
                done += d
                failed += f
            }
            return (done, failed)
        }
    }
}
