import HearthCrypto

/// One entry of the audit trail: ids, actions, roles, scopes and reason codes, never content.
public struct AuditEvent: Sendable, Equatable {
    /// Who: `staff:<id>`, `survivor`, `cli`, `system`, or `unknown`.
    public let actor: String
    /// The actor's role, if staff.
    public let role: String
    /// What happened, e.g. `case.open`, `consent.withdraw`.
    public let action: String
    /// What it happened to: a case reference, a staff id, a key name.
    public let subject: String
    /// The scope involved, if any.
    public let scope: String
    /// A short code: `ok`, `no-consent`, `not-assigned`, … Never free text.
    public let outcome: String

    public init(actor: String, role: String = "", action: String, subject: String = "", scope: String = "", outcome: String = "ok") {
        self.actor = actor
        self.role = role
        self.action = action
        self.subject = subject
        self.scope = scope
        self.outcome = outcome
    }
}

/// A stored audit entry with its place in the chain.
public struct AuditEntry: Sendable, Equatable {
    public let seq: Int64
    public let at: Int64
    public let event: AuditEvent
    public let previousHash: [UInt8]
    public let hash: [UInt8]

    public init(seq: Int64, at: Int64, event: AuditEvent, previousHash: [UInt8], hash: [UInt8]) {
        self.seq = seq
        self.at = at
        self.event = event
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// A signed statement of the chain's head at one entry. Encodes as `hearth audit checkpoint
/// --json` prints it, to keep off the host: `seq`, `hash` and `signature` in lowercase hex, `at`
/// in RFC 3339, `keyVersion`.
public struct AuditCheckpoint: Sendable, Equatable, Encodable {
    public let seq: Int64
    public let hash: [UInt8]
    public let at: Int64
    public let keyVersion: UInt32
    public let signature: [UInt8]

    public init(seq: Int64, hash: [UInt8], at: Int64, keyVersion: UInt32, signature: [UInt8]) {
        self.seq = seq
        self.hash = hash
        self.at = at
        self.keyVersion = keyVersion
        self.signature = signature
    }

    enum Key: String, CodingKey {
        case seq, hash, at, keyVersion, signature
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(Self.hex(hash), forKey: .hash)
        try c.encode(rfc3339(unixSeconds: at), forKey: .at)
        try c.encode(keyVersion, forKey: .keyVersion)
        try c.encode(Self.hex(signature), forKey: .signature)
    }

    /// Lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}

/// The hash chain (SECURITY.md, "Audit trail").
///
/// `hash = BLAKE2b-256("hearth/v1/audit" || previous hash || seq u64 || at i64 || six u16-length-prefixed
/// UTF-8 fields: actor, role, action, subject, scope, outcome)`; the first entry's previous hash is 32 zero bytes.
public enum AuditChain {
    /// The previous hash of entry 1.
    public static let genesis = [UInt8](repeating: 0, count: 32)
    static let label = Array("hearth/v1/audit".utf8)
    static let checkpointLabel = Array("hearth/v1/audit-checkpoint".utf8)

    /// The longest field an entry can hold, in UTF-8 bytes: its length prefix is a u16.
    public static let maximumFieldBytes = Int(UInt16.max)

    /// Whether every field of `event` fits its u16 length prefix.
    static func fitsEncoding(_ event: AuditEvent) -> Bool {
        [event.actor, event.role, event.action, event.subject, event.scope, event.outcome].allSatisfy { $0.utf8.count <= maximumFieldBytes }
    }

    /// The canonical bytes hashed for an entry. Fields longer than ``maximumFieldBytes`` are
    /// cut here, so ``hash(previous:seq:at:event:)`` refuses them rather than let two events collide.
    public static func encoding(seq: Int64, at: Int64, event: AuditEvent) -> [UInt8] {
        var out = UInt64(bitPattern: seq).bigEndianBytes8 + UInt64(bitPattern: at).bigEndianBytes8
        for field in [event.actor, event.role, event.action, event.subject, event.scope, event.outcome] {
            let bytes = Array(field.utf8.prefix(Int(UInt16.max)))
            out += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
        }
        return out
    }

    /// The hash of an entry given its predecessor's.
    public static func hash(previous: [UInt8], seq: Int64, at: Int64, event: AuditEvent) throws -> [UInt8] {
        guard fitsEncoding(event) else {
            throw CryptoError(.malformedInput, "an audit entry field is longer than \(maximumFieldBytes) bytes")
        }
        return try Blake2b.hash(label + previous + encoding(seq: seq, at: at, event: event))
    }

    /// The bytes an audit checkpoint signs.
    public static func checkpointMessage(seq: Int64, hash: [UInt8]) -> [UInt8] {
        checkpointLabel + UInt64(bitPattern: seq).bigEndianBytes8 + hash
    }

    /// The first problem in a chain, named for a person.
    public struct Problem: Error, Equatable, CustomStringConvertible, Sendable {
        /// The entry concerned.
        public let seq: Int64
        /// `altered`, `missing`, `reordered`, `truncated`, `bad-checkpoint`.
        public let kind: String
        public let description: String
    }

    /// Verifies entries (in `seq` order as stored) and checkpoints; returns the first problem.
    public static func verify(
        entries: [AuditEntry], checkpoints: [AuditCheckpoint], publicKeys: [UInt32: Ed25519PublicKey]
    ) throws -> Problem? {
        var verifier = Verifier(publicKeys: publicKeys)
        verifier.expect(checkpoints.sorted(by: { $0.seq < $1.seq }))
        for e in entries {
            if let problem = try verifier.add(e) { return problem }
        }
        return verifier.finish()
    }

    /// What a streamed verification found: the first problem, or nil, and what it read.
    public struct Verification: Sendable {
        /// The first problem, or nil when the trail verified.
        public let problem: Problem?
        /// Entries read (up to the problem, if one was found in an entry).
        public let entries: Int
        /// Signed checkpoints read.
        public let checkpoints: Int
        /// The entry the latest checkpoint read covers (0 for none).
        public let lastCheckpoint: Int64
    }

    /// Verifies the trail in `store` as ``verify(entries:checkpoints:publicKeys:)`` does, reading
    /// entries and checkpoints a page at a time, so memory stays flat however long the trail is.
    public static func verify(_ store: any AuditStore, publicKeys: [UInt32: Ed25519PublicKey]) async throws -> Verification {
        try await verify(store, publicKeys: publicKeys, pageSize: 10_000)
    }

    /// ``verify(_:publicKeys:)`` with pages of `pageSize` rows (tests use small pages).
    @_spi(Inspection) public static func verify(
        _ store: any AuditStore, publicKeys: [UInt32: Ed25519PublicKey], pageSize: Int
    ) async throws -> Verification {
        precondition(pageSize > 0)
        var verifier = Verifier(publicKeys: publicKeys)
        var lastEntry: Int64 = 0
        var lastCheckpoint: Int64 = 0
        var checkpointsLeft = true
        func outcome(_ problem: Problem?) -> Verification {
            Verification(problem: problem, entries: verifier.entries, checkpoints: verifier.checkpoints, lastCheckpoint: lastCheckpoint)
        }
        // Reads checkpoints until one past `seq` is known (or none are left), so every checkpoint an
        // entry up to `seq` answers is expected before that entry is added.
        func readCheckpoints(through seq: Int64) async throws {
            while checkpointsLeft && lastCheckpoint <= seq {
                let page = try await store.auditCheckpoints(after: lastCheckpoint, limit: pageSize)
                verifier.expect(page)
                lastCheckpoint = page.last?.seq ?? lastCheckpoint
                checkpointsLeft = page.count == pageSize
            }
        }
        while true {
            let page = try await store.auditEntries(after: lastEntry, limit: pageSize)
            guard let end = page.last?.seq else {
                // The end of the trail as read. A checkpoint signed meanwhile may cover entries
                // appended after that read: if the remaining checkpoints reach past it, read on.
                try await readCheckpoints(through: .max)
                if verifier.lastExpected > lastEntry {
                    let more = try await store.auditEntries(after: lastEntry, limit: 1)
                    if !more.isEmpty { continue }
                }
                return outcome(verifier.finish())
            }
            try await readCheckpoints(through: end)
            for e in page {
                if let problem = try verifier.add(e) { return outcome(problem) }
            }
            lastEntry = end
        }
    }

    /// Verifies a trail fed in order, entry by entry, holding only the previous hash and the
    /// checkpoints not yet reached. The verdicts are those of ``verify(entries:checkpoints:publicKeys:)``:
    /// the first problem in an entry, else the first problem in a checkpoint (in `seq` order).
    public struct Verifier: Sendable {
        private let publicKeys: [UInt32: Ed25519PublicKey]
        private var previous = AuditChain.genesis
        private var expectedSeq: Int64 = 1
        /// Checkpoints expected and not yet reached, in `seq` order from `pendingStart`.
        private var pending: [AuditCheckpoint] = []
        private var pendingStart = 0
        private var checkpointProblem: Problem?
        /// Entries added.
        public private(set) var entries = 0
        /// Checkpoints expected.
        public private(set) var checkpoints = 0
        /// The highest `seq` of a checkpoint expected (0 for none).
        public private(set) var lastExpected: Int64 = 0

        /// A verifier that checks checkpoint signatures with `publicKeys` (by key version).
        public init(publicKeys: [UInt32: Ed25519PublicKey]) {
            self.publicKeys = publicKeys
        }

        /// Expects `checkpoints`, in `seq` order, each before the entry it covers is added.
        public mutating func expect(_ checkpoints: [AuditCheckpoint]) {
            if pendingStart > 1024 && pendingStart * 2 > pending.count {
                pending.removeFirst(pendingStart)
                pendingStart = 0
            }
            pending += checkpoints
            self.checkpoints += checkpoints.count
            lastExpected = max(lastExpected, checkpoints.last?.seq ?? 0)
        }

        /// Adds the next entry: the problem in it (the verdict: stop there), or nil.
        public mutating func add(_ e: AuditEntry) throws -> Problem? {
            if e.seq != expectedSeq {
                return Problem(seq: expectedSeq, kind: "missing", description: "entry \(expectedSeq) is missing (the next entry found is \(e.seq))")
            }
            // No entry with an over-long field can have been appended, so one found here was altered.
            guard fitsEncoding(e.event) else {
                return Problem(seq: e.seq, kind: "altered", description: "entry \(e.seq) was altered: a field is longer than any entry can hold")
            }
            let recomputed = try hash(previous: e.previousHash, seq: e.seq, at: e.at, event: e.event)
            if !Sodium.constantTimeEqual(recomputed, e.hash) {
                return Problem(seq: e.seq, kind: "altered", description: "entry \(e.seq) was altered: its contents do not match its hash")
            }
            if !Sodium.constantTimeEqual(e.previousHash, previous) {
                return Problem(
                    seq: e.seq, kind: "reordered",
                    description: "entry \(e.seq) does not follow entry \(e.seq - 1): entries were re-ordered, replaced or removed")
            }
            previous = e.hash
            expectedSeq += 1
            entries += 1
            while pendingStart < pending.count && pending[pendingStart].seq <= e.seq {
                let c = pending[pendingStart]
                pendingStart += 1
                check(c, against: c.seq == e.seq ? e.hash : nil, last: e.seq)
            }
            return nil
        }

        /// The verdict once every entry was added without a problem: the first checkpoint problem, or nil.
        public mutating func finish() -> Problem? {
            let last = expectedSeq - 1
            while pendingStart < pending.count {
                check(pending[pendingStart], against: nil, last: last)
                pendingStart += 1
            }
            return checkpointProblem
        }

        /// Checks one checkpoint against `hash`, the hash of the entry at its `seq` (nil if there is
        /// none), when the trail read so far ends at `last`; keeps the first problem.
        private mutating func check(_ c: AuditCheckpoint, against hash: [UInt8]?, last: Int64) {
            guard checkpointProblem == nil else { return }
            guard let key = publicKeys[c.keyVersion], key.isValidSignature(c.signature, for: checkpointMessage(seq: c.seq, hash: c.hash)) else {
                checkpointProblem = Problem(
                    seq: c.seq, kind: "bad-checkpoint", description: "the checkpoint at entry \(c.seq) has no valid signature")
                return
            }
            guard c.seq <= last else {
                checkpointProblem = Problem(
                    seq: last + 1, kind: "truncated",
                    description:
                        "entries \(last + 1) to \(c.seq) were removed: a signed checkpoint covers entry \(c.seq) but the trail ends at \(last)")
                return
            }
            guard let hash, Sodium.constantTimeEqual(hash, c.hash) else {
                checkpointProblem = Problem(seq: c.seq, kind: "altered", description: "entry \(c.seq) does not match the signed checkpoint")
                return
            }
        }
    }
}

extension UInt64 {
    var bigEndianBytes8: [UInt8] { (0..<8).reversed().map { UInt8((self >> (UInt64($0) * 8)) & 0xFF) } }
}
