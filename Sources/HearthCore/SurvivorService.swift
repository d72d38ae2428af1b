import HearthCrypto
import Logging
import Synchronization

/// What the survivor is told when they submit: the only time the receipt is ever shown.
public struct SubmissionResult: Sendable {
    /// The case reference.
    public let reference: String
    /// The receipt, as displayed (shown once, never stored).
    public let receipt: String
    /// Consents given.
    public let consents: [ConsentChoice]
}

/// A survivor who presented a valid receipt. Only ``SurvivorService/authenticate(receipt:)`` and
/// ``SurvivorService/resume(_:)`` make one. It holds what the receipt derives, never the receipt.
public struct AuthenticatedSurvivor: Sendable {
    /// The derived credentials, which a page session keeps between requests.
    public let session: SurvivorSession
    /// The receipt's lookup id: how every store call names the record (for this request only).
    let lookup: [UInt8]
    let record: StoredRecord
    let liveWraps: [StoredWrap]

    /// The case reference.
    public var reference: String { record.id.reference }
}

/// What a survivor's page session keeps between requests instead of the receipt: the receipt's
/// lookup id, the key it derives for the survivor wrap and the keys it derives for the
/// conversation with each group (SECURITY.md §3.13), all in zeroizing memory (wiped when the
/// session ends), and the case reference. Enough to serve the pages until the session ends;
/// the receipt itself is forgotten once `POST /return` has derived these.
public final class SurvivorSession: Sendable {
    let lookup: SecretBytes
    let wrapKey: SecretKey
    /// The conversation keys of every scope, 32 bytes each in `Scope.allCases` order.
    let conversationKeys: SecretBytes
    /// The case reference (to end every session of a record that was erased).
    public let reference: String

    init(lookup: [UInt8], wrapKey: consuming SecretKey, conversationKeys: consuming SecretBytes, reference: String) {
        self.lookup = SecretBytes(copying: lookup)
        self.wrapKey = wrapKey
        self.conversationKeys = conversationKeys
        self.reference = reference
    }

    /// The key of the conversation with `scope`, copied out of the session's keys.
    func conversationKey(with scope: Scope) throws -> ConversationKey {
        let index = Scope.allCases.firstIndex(of: scope)!
        let key = SecretBytes(zeroedCount: SecretKey.byteCount)
        conversationKeys.withUnsafeBytes { all in
            key.withUnsafeMutableBytes { out in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[(index * SecretKey.byteCount)..<((index + 1) * SecretKey.byteCount)]))
            }
        }
        return ConversationKey(key: try SecretKey(key))
    }
}

/// Everything a survivor may see about their own record: the record and its consent history.
@dynamicMemberLookup
public struct SurvivorView: Sendable {
    /// The record, opened.
    public let record: RecordView
    /// Every change of consent, oldest first.
    public let history: [ConsentEvent]

    /// The record's fields (`reference`, `status`, `request`, …).
    public subscript<T>(dynamicMember field: KeyPath<RecordView, T>) -> T { record[keyPath: field] }
}

/// How long records are kept once no consent is live; shown to survivors before they submit.
public struct RetentionPolicy: Sendable {
    /// Days a record is kept with no live consent before it is crypto-shredded.
    public let days: Int

    /// A policy of `days` days.
    public init(days: Int) { self.days = days }

    /// The plain-words explanation shown at intake.
    public var summary: String {
        "If no one has your agreement to read your request for \(days) days in a row, everything you wrote is erased "
            + "automatically. You can erase it yourself at any time with your receipt."
    }
}

/// The survivor side of Hearth: submit, read back, give and withdraw consent, erase.
///
/// Flow: validated input → sealing (per-record key, wraps) → storage. Holds public keys only.
public struct SurvivorService: Sendable {
    let store: any IntakeStore
    let keys: PublicKeyRingHolder
    let clock: any WallClock
    let random: any RandomSource
    /// The retention policy shown to survivors.
    public let retention: RetentionPolicy
    let logger: Logger

    /// Creates the service.
    public init(
        store: any IntakeStore, keys: PublicKeyRingHolder, clock: any WallClock, random: any RandomSource, retention: RetentionPolicy, logger: Logger
    ) {
        self.store = store
        self.keys = keys
        self.clock = clock
        self.random = random
        self.retention = retention
        self.logger = logger
    }

    /// The published transparency months, oldest first, as stored (SECURITY.md §13): the intake
    /// serves them and computes nothing.
    public func publishedMonths() async throws -> [PublishedMonth] { try await store.publishedMonths() }

    /// Today in UTC.
    public var today: Day { Day(unixSeconds: clock.unixSeconds()) }

    /// Seals and stores a submission; returns only after it is durably committed.
    public func submit(_ submission: Submission) async throws -> SubmissionResult {
        let id = try RecordID.random(using: random)
        let receipt = try Receipt.generate(using: random)
        let dek = try DataKey.generate()
        let commitment = try Envelope.commitment(to: dek, recordID: id)
        let plaintext = try submission.request.canonicalBody()
        let body = try Envelope.sealBody(plaintext, with: dek, recordID: id, commitment: commitment)
        let ring = keys.current
        var wraps: [StoredWrap] = []
        for choice in submission.consents {
            wraps.append(
                try wrap(dek, id: id, conversation: receipt.conversationKey(recordID: id, scope: choice.scope), choice: choice, ring: ring))
        }
        let hour = floorToHour(clock.unixSeconds())
        let record = NewRecord(
            SealedRecord(
                id: id, createdHour: hour, region: submission.request.region, commitment: commitment, body: body,
                survivorWrap: try Envelope.wrapForSurvivor(dek, recordID: id, receipt: receipt), wraps: wraps),
            lookup: try receipt.lookupID())
        try await store.insert(record, audit: [.recordCreated(id)] + wraps.map { .consentGranted(id, scope: $0.scope) }, at: hour)
        // The access log line and the audit trail already record the submission; this detail is for debugging.
        logger.debug(
            "contact request stored",
            metadata: ["record.ref": "\(id.reference)", "record.scopes": "\(wraps.map(\.scope.rawValue).joined(separator: ","))"])
        return SubmissionResult(reference: id.reference, receipt: receipt.displayed, consents: submission.consents)
    }

    /// The consent wrap and, beside it, the conversation wrap for `choice.scope`: both sealed to
    /// the scope's primary public key (SECURITY.md §3.7, §3.13).
    private func wrap(
        _ dek: borrowing DataKey, id: RecordID, conversation: borrowing ConversationKey, choice: ConsentChoice, ring: PublicKeyRing
    ) throws -> StoredWrap {
        guard let entry = ring.primary[choice.scope] else {
            throw KeyFileError(path: "\(choice.scope.rawValue).vN.pub", reason: "no public key is loaded", hint: "restart with the full key set")
        }
        let bytes = try Envelope.wrapForScope(dek, recordID: id, scope: choice.scope, keyVersion: entry.version, publicKey: entry.key)
        let conversationWrap = try Envelope.wrapConversation(
            conversation, recordID: id, scope: choice.scope, keyVersion: entry.version, publicKey: entry.key)
        return StoredWrap(
            scope: choice.scope, keyVersion: entry.version, wrap: bytes, conversationWrap: conversationWrap, expires: choice.expires)
    }

    /// Checks a receipt (from `Authorization: Receipt …`); a missing, malformed or unknown one
    /// throws the same ``Problem/receiptNotRecognised``. Expired consents seen here are withdrawn now.
    public func authenticate(receipt text: String?) async throws -> AuthenticatedSurvivor {
        guard let text, let receipt = Receipt(parsing: text) else { throw Problem.receiptNotRecognised }
        return try await authenticate(receipt)
    }

    /// Checks a survivor who signed in earlier (a page session) again: reads the record afresh,
    /// withdraws consents that have expired since, and throws ``Problem/receiptNotRecognised`` once
    /// the record is gone. Page routes call this on every request, so what they show and do is
    /// never older than the store.
    public func refresh(_ survivor: AuthenticatedSurvivor) async throws -> AuthenticatedSurvivor {
        try await resume(survivor.session)
    }

    /// The survivor of a page session, checked afresh as ``refresh(_:)`` does, from the derived
    /// credentials the session keeps (never the receipt).
    public func resume(_ session: SurvivorSession) async throws -> AuthenticatedSurvivor {
        let lookup = session.lookup.unsafeExportedBytes()
        guard let record = try await store.record(lookup: lookup) else { throw Problem.receiptNotRecognised }
        return try await survivor(session, lookup: lookup, record: record)
    }

    func authenticate(_ receipt: Receipt) async throws -> AuthenticatedSurvivor {
        let lookup = try receipt.lookupID()
        guard let record = try await store.record(lookup: lookup) else { throw Problem.receiptNotRecognised }
        let session = SurvivorSession(
            lookup: lookup, wrapKey: try receipt.survivorWrapKey(), conversationKeys: try receipt.conversationKeys(recordID: record.id),
            reference: record.id.reference)
        return try await survivor(session, lookup: lookup, record: record)
    }

    /// The survivor of `record`, once consents that have expired are withdrawn.
    private func survivor(_ session: SurvivorSession, lookup: [UInt8], record: StoredRecord) async throws -> AuthenticatedSurvivor {
        let today = today
        var live: [StoredWrap] = []
        for w in record.wraps {
            if w.isLive(on: today) {
                live.append(w)
            } else {
                _ = try await store.removeConsent(
                    w.scope, lookup: lookup, action: .expired, audit: .consentExpired(record.id, scope: w.scope),
                    at: floorToHour(clock.unixSeconds()))
                logger.debug("expired consent withdrawn", metadata: ["record.ref": "\(record.id.reference)", "consent.scope": "\(w.scope.rawValue)"])
            }
        }
        return AuthenticatedSurvivor(session: session, lookup: lookup, record: record, liveWraps: live)
    }

    /// Opens the survivor's own record with their receipt.
    public func view(_ survivor: AuthenticatedSurvivor) async throws -> SurvivorView {
        let r = survivor.record
        let dek = try Envelope.openSurvivorWrap(r.survivorWrap, key: survivor.session.wrapKey, recordID: r.id, commitment: r.commitment)
        return SurvivorView(
            record: try RecordView(opening: r, with: dek, liveWraps: survivor.liveWraps.sorted { $0.scope < $1.scope }),
            history: try await store.consentHistory(lookup: survivor.lookup))
    }

    /// Gives (or changes the expiry of) consent for one scope: the DEK is opened with the survivor
    /// wrap and sealed to the scope's primary public key. Returns the live consents afterwards.
    public func grant(_ choice: ConsentChoice, for survivor: AuthenticatedSurvivor) async throws -> [ConsentChoice] {
        let r = survivor.record
        let dek = try Envelope.openSurvivorWrap(r.survivorWrap, key: survivor.session.wrapKey, recordID: r.id, commitment: r.commitment)
        let stored = try wrap(
            dek, id: r.id, conversation: survivor.session.conversationKey(with: choice.scope), choice: choice, ring: keys.current)
        guard
            try await store.putConsent(
                stored, lookup: survivor.lookup, audit: .consentGranted(r.id, scope: choice.scope), at: floorToHour(clock.unixSeconds()))
        else {
            throw Problem.receiptNotRecognised
        }
        logger.debug("consent granted", metadata: ["record.ref": "\(r.id.reference)", "consent.scope": "\(choice.scope.rawValue)"])
        var live = survivor.liveWraps.filter { $0.scope != choice.scope }.map { ConsentChoice(scope: $0.scope, expires: $0.expires) }
        live.append(choice)
        return live.sorted { $0.scope < $1.scope }
    }

    /// Withdraws consent for one scope: the wrap is deleted in the same transaction that records it.
    public func withdraw(_ scope: Scope, for survivor: AuthenticatedSurvivor) async throws -> [ConsentChoice] {
        let r = survivor.record
        guard
            try await store.removeConsent(
                scope, lookup: survivor.lookup, action: .withdrawn, audit: .consentWithdrawn(r.id, scope: scope), at: floorToHour(clock.unixSeconds())
            )
        else {
            throw Problem(.notFound, code: "consent-not-live", "there is no live consent for '\(scope.rawValue)' to withdraw")
        }
        logger.debug("consent withdrawn", metadata: ["record.ref": "\(r.id.reference)", "consent.scope": "\(scope.rawValue)"])
        return survivor.liveWraps.filter { $0.scope != scope }.map { ConsentChoice(scope: $0.scope, expires: $0.expires) }
    }

    /// Erases everything: every wrap and the ciphertext, then the WAL is truncated.
    public func erase(_ survivor: AuthenticatedSurvivor) async throws {
        _ = try await store.erase(lookup: survivor.lookup, audit: .recordErased(survivor.record.id), at: floorToHour(clock.unixSeconds()))
        logger.debug("record erased", metadata: ["record.ref": "\(survivor.record.id.reference)"])
    }

    /// Every conversation (one per group), oldest message first, decrypted with keys the receipt
    /// derives. A conversation stays readable to the survivor after its group's consent ends.
    public func messages(_ survivor: AuthenticatedSurvivor) async throws -> [ThreadMessage] {
        let r = survivor.record
        var out: [ThreadMessage] = []
        for note in try await store.messages(lookup: survivor.lookup) {
            guard let scope = note.scope else { throw CryptoError(.malformedInput, "failed to open message: it names no group") }
            out.append(try ThreadMessage.open(note, scope: scope, with: survivor.session.conversationKey(with: scope), recordID: r.id))
        }
        return out
    }

    /// Writes to one group: sealed under the key of the conversation with `scope`, which only
    /// that group's staff can open, and only while the survivor shares their request with it.
    public func writeMessage(_ text: String, to scope: Scope, for survivor: AuthenticatedSurvivor) async throws {
        let r = survivor.record
        guard survivor.liveWraps.contains(where: { $0.scope == scope }) else { throw Problem.groupNotShared(scope) }
        let noteID = try random.bytes(Envelope.noteIDByteCount)
        let sealed = try Envelope.sealMessage(
            SecretBytes(copying: Array(text.utf8)), fromSurvivor: true, with: survivor.session.conversationKey(with: scope),
            recordID: r.id, scope: scope, noteID: noteID)
        let now = clock.unixSeconds()
        guard
            try await store.addSurvivorMessage(
                lookup: survivor.lookup, scope: scope, noteID: noteID, sealed: sealed, audit: .survivorMessage(r.id, scope: scope),
                at: now - now % 60)
        else {
            // Erased, or the consent ended between reading the record and writing.
            throw try await store.record(lookup: survivor.lookup) == nil ? Problem.receiptNotRecognised : Problem.groupNotShared(scope)
        }
        logger.debug("survivor message stored", metadata: ["record.ref": "\(r.id.reference)", "consent.scope": "\(scope.rawValue)"])
    }

    /// Every invitation to an interview, of every group, oldest first, opened with the
    /// conversation keys the receipt derives.
    public func interviews(_ survivor: AuthenticatedSurvivor) async throws -> [Interview] {
        let r = survivor.record
        return try await store.interviews(lookup: survivor.lookup).map {
            try Interview.open($0, with: survivor.session.conversationKey(with: $0.scope), recordID: r.id)
        }
    }

    /// Answers an invitation: accept a time, propose others, ask, decline (no reason asked) or
    /// withdraw an acceptance. Sealed in the group's conversation; the state and accepted time
    /// are metadata. Answering is open while contact is paused: the pause is the survivor's.
    /// Nothing else changes, a decline included.
    public func answerInterview(_ id: String, _ draft: InterviewAnswerDraft, for survivor: AuthenticatedSurvivor) async throws -> Interview {
        let r = survivor.record
        let notFound = Problem(.notFound, code: "not-found", "there is no invitation with that id")
        guard let bytes = Interview.id(parsing: id), let current = try await interviews(survivor).first(where: { $0.id == id }) else {
            throw notFound
        }
        let answer = try InterviewAnswer.validate(draft, invitation: current.invitation, state: current.state)
        guard survivor.liveWraps.contains(where: { $0.scope == current.group }) else { throw Problem.answerNotShared(current.group) }
        let revision = current.revision + 1
        let sealed = try Interview.seal(
            answer, revision: revision, with: survivor.session.conversationKey(with: current.group), recordID: r.id, scope: current.group,
            interviewID: bytes)
        let now = clock.unixSeconds()
        switch try await store.answerInterview(
            lookup: survivor.lookup, interviewID: bytes, revision: current.revision, action: answer.action, chosen: answer.time, sealed: sealed,
            audit: .interviewAnswered(r.id, scope: current.group, action: answer.action), at: now - now % 60)
        {
        case .done: break
        case .gone: throw notFound
        case .consentGone: throw Problem.answerNotShared(current.group)
        case .stale:
            throw Problem(
                .conflict, code: "answer-changed", "your answer to this invitation changed meanwhile (perhaps in another window); read it again first"
            )
        }
        logger.debug("interview answered", metadata: ["record.ref": "\(r.id.reference)", "consent.scope": "\(current.group.rawValue)"])
        guard let updated = try await interviews(survivor).first(where: { $0.id == id }) else { throw notFound }
        return updated
    }

    /// Sets, changes or (with nil) removes the verification phrase: the body is opened with the
    /// key the receipt derives (kept by the page session), the phrase replaced, and the whole body sealed again under the same DEK with a new
    /// nonce (SECURITY.md §3.6). `phrase` must already have passed ``VerificationPhrase/validate(_:name:)``.
    public func setVerificationPhrase(_ phrase: String?, for survivor: AuthenticatedSurvivor) async throws {
        let r = survivor.record
        let dek = try Envelope.openSurvivorWrap(r.survivorWrap, key: survivor.session.wrapKey, recordID: r.id, commitment: r.commitment)
        var request = try ContactRequest(canonicalBody: Envelope.openBody(r.body, with: dek, recordID: r.id, commitment: r.commitment))
        request.verificationPhrase = phrase
        let body = try Envelope.sealBody(request.canonicalBody(), with: dek, recordID: r.id, commitment: r.commitment)
        guard
            try await store.replaceBody(
                lookup: survivor.lookup, body: body, audit: .verificationPhraseChanged(r.id), at: floorToHour(clock.unixSeconds()))
        else { throw Problem.receiptNotRecognised }
        logger.debug("verification phrase changed", metadata: ["record.ref": "\(r.id.reference)"])
    }

    /// The pause of all contact in force today, if any.
    public func pause(_ survivor: AuthenticatedSurvivor) -> ContactPause? {
        survivor.record.pause.flatMap { $0.isActive(on: today) ? $0 : nil }
    }

    /// Pauses all contact until the end of `until` (today to ten years on) or, with nil, until
    /// resumed. Consents, messages and everything else stay as they are.
    public func pause(until: Day?, for survivor: AuthenticatedSurvivor) async throws -> ContactPause {
        if let until, until < today || until > today.adding(days: Limits.consentHorizonDays) {
            throw Problem(.badRequest, code: "invalid-value", "'until' must be today or later, and no more than ten years away")
        }
        let pause = ContactPause(until: until)
        let r = survivor.record
        guard try await store.setPause(pause, lookup: survivor.lookup, audit: .contactPaused(r.id), at: floorToHour(clock.unixSeconds())) else {
            throw Problem.receiptNotRecognised
        }
        logger.debug("contact paused", metadata: ["record.ref": "\(r.id.reference)"])
        return pause
    }

    /// Ends a pause (asking again when none holds changes nothing, and is not an error).
    public func resume(for survivor: AuthenticatedSurvivor) async throws {
        let r = survivor.record
        guard r.pause != nil else { return }
        guard try await store.setPause(nil, lookup: survivor.lookup, audit: .contactResumed(r.id), at: floorToHour(clock.unixSeconds())) else {
            throw Problem.receiptNotRecognised
        }
        logger.debug("contact resumed", metadata: ["record.ref": "\(r.id.reference)"])
    }

    /// The groups the survivor shares their request with just now: the ones they can write to.
    public func sharedGroups(_ survivor: AuthenticatedSurvivor) -> [Scope] { survivor.liveWraps.map(\.scope).sorted() }

    /// Who opened the record, when and why (the reasons are sealed under the record's data key).
    public func accessLog(_ survivor: AuthenticatedSurvivor) async throws -> [AccessLogEntry] {
        let r = survivor.record
        let dek = try Envelope.openSurvivorWrap(r.survivorWrap, key: survivor.session.wrapKey, recordID: r.id, commitment: r.commitment)
        var out: [AccessLogEntry] = []
        for note in try await store.accessLog(lookup: survivor.lookup) {
            let reason = try Envelope.openNote(
                note.sealed, kind: .accessReason, with: dek, recordID: r.id, noteID: note.noteID, commitment: r.commitment)
            out.append(
                AccessLogEntry(
                    role: note.role ?? .caseworker, pseudonym: note.pseudonym ?? "", at: note.at,
                    reason: reason.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }))
        }
        return out
    }
}
