import HearthCore
import HearthCrypto
import HearthTestSupport
import Testing

/// The audit hash chain as pure logic (invariant 6): every kind of tampering is named, and the
/// entry named is the first one affected.
@Suite("audit chain")
struct AuditChainTests {
    // MARK: Fixtures

    /// A chain of `count` well-formed entries, hashed with ``AuditChain/hash(previous:seq:at:event:)``.
    static func chain(_ count: Int = 20) throws -> [AuditEntry] {
        let actors = ["cli", "staff:1", "staff:2", "survivor", "system", "unknown"]
        let roles = ["", "caseworker", "supervisor", "", "", ""]
        let actions = ["staff.add", "case.assign", "case.open", "consent.grant", "retention.shred", "session.login"]
        let scopes = ["", "support", "review", "police", "prosecution", ""]
        let outcomes = ["ok", "ok", "no-consent", "ok", "ok", "failed"]
        var entries: [AuditEntry] = []
        var previous = AuditChain.genesis
        for i in 0..<count {
            let seq = Int64(i + 1)
            let at = 1_750_000_000 + Int64(i) * 3600
            let event = AuditEvent(
                actor: actors[i % 6], role: roles[i % 6], action: actions[i % 6], subject: "case:\(1000 + i)", scope: scopes[i % 6],
                outcome: outcomes[i % 6])
            let hash = try AuditChain.hash(previous: previous, seq: seq, at: at, event: event)
            entries.append(AuditEntry(seq: seq, at: at, event: event, previousHash: previous, hash: hash))
            previous = hash
        }
        return entries
    }

    /// A checkpoint of `entry`, signed with `key` (or claiming `hash` instead of the entry's).
    static func checkpoint(
        _ entry: AuditEntry, key: borrowing Ed25519PrivateKey, version: UInt32 = 1, hash: [UInt8]? = nil
    ) -> AuditCheckpoint {
        let claimed = hash ?? entry.hash
        return AuditCheckpoint(
            seq: entry.seq, hash: claimed, at: entry.at + 60, keyVersion: version,
            signature: key.signature(for: AuditChain.checkpointMessage(seq: entry.seq, hash: claimed)))
    }

    /// `entry` with its contents changed and its stored hashes (and seq) kept.
    static func replacing(_ entry: AuditEntry, seq: Int64? = nil, at: Int64? = nil, event: AuditEvent? = nil) -> AuditEntry {
        AuditEntry(seq: seq ?? entry.seq, at: at ?? entry.at, event: event ?? entry.event, previousHash: entry.previousHash, hash: entry.hash)
    }

    /// `entry` re-hashed after its contents changed, as a forger without the signing key would.
    static func rehashed(_ entry: AuditEntry, previous: [UInt8]) throws -> AuditEntry {
        AuditEntry(
            seq: entry.seq, at: entry.at, event: entry.event, previousHash: previous,
            hash: try AuditChain.hash(previous: previous, seq: entry.seq, at: entry.at, event: entry.event))
    }

    enum Field: String, CaseIterable, CustomTestStringConvertible {
        case actor, role, action, subject, scope, outcome, at
        var testDescription: String { rawValue }

        func alter(_ e: AuditEntry) -> AuditEntry {
            let v = e.event
            switch self {
            case .actor:
                return AuditChainTests.replacing(
                    e, event: AuditEvent(actor: v.actor + "x", role: v.role, action: v.action, subject: v.subject, scope: v.scope, outcome: v.outcome)
                )
            case .role:
                return AuditChainTests.replacing(
                    e,
                    event: AuditEvent(
                        actor: v.actor, role: v.role == "admin" ? "caseworker" : "admin", action: v.action, subject: v.subject, scope: v.scope,
                        outcome: v.outcome))
            case .action:
                return AuditChainTests.replacing(
                    e, event: AuditEvent(actor: v.actor, role: v.role, action: "record.erase", subject: v.subject, scope: v.scope, outcome: v.outcome)
                )
            case .subject:
                return AuditChainTests.replacing(
                    e, event: AuditEvent(actor: v.actor, role: v.role, action: v.action, subject: v.subject + "0", scope: v.scope, outcome: v.outcome)
                )
            case .scope:
                return AuditChainTests.replacing(
                    e,
                    event: AuditEvent(
                        actor: v.actor, role: v.role, action: v.action, subject: v.subject, scope: v.scope == "police" ? "support" : "police",
                        outcome: v.outcome))
            case .outcome:
                return AuditChainTests.replacing(
                    e,
                    event: AuditEvent(
                        actor: v.actor, role: v.role, action: v.action, subject: v.subject, scope: v.scope,
                        outcome: v.outcome == "ok" ? "denied" : "ok"))
            case .at: return AuditChainTests.replacing(e, at: e.at + 1)
            }
        }
    }

    static func verify(
        _ entries: [AuditEntry], _ checkpoints: [AuditCheckpoint] = [], keys: [UInt32: Ed25519PublicKey] = [:]
    ) throws -> AuditChain.Problem? {
        try AuditChain.verify(entries: entries, checkpoints: checkpoints, publicKeys: keys)
    }

    // MARK: Intact chains

    @Test("an intact chain of 20 entries with signed checkpoints verifies")
    func intactChainVerifies() throws {
        let entries = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let checkpoints = [Self.checkpoint(entries[19], key: key), Self.checkpoint(entries[9], key: key), Self.checkpoint(entries[0], key: key)]
        #expect(try Self.verify(entries) == nil)
        #expect(try Self.verify(entries, checkpoints, keys: [1: key.publicKey]) == nil)
        #expect(entries[0].previousHash == AuditChain.genesis)
        #expect(AuditChain.genesis == [UInt8](repeating: 0, count: 32))
        for i in 1..<entries.count {
            #expect(entries[i].previousHash == entries[i - 1].hash)
        }
    }

    @Test("an empty trail verifies; an empty trail under a signed checkpoint is named truncated at entry 1")
    func emptyTrail() throws {
        #expect(try Self.verify([]) == nil)
        let entries = try Self.chain(3)
        let key = try Ed25519PrivateKey.generate()
        let problem = try #require(try Self.verify([], [Self.checkpoint(entries[2], key: key)], keys: [1: key.publicKey]))
        #expect(problem.kind == "truncated")
        #expect(problem.seq == 1)
    }

    @Test("checkpoints signed by an older audit key version still verify")
    func checkpointsUnderSeveralKeyVersions() throws {
        let entries = try Self.chain()
        let old = try Ed25519PrivateKey.generate()
        let new = try Ed25519PrivateKey.generate()
        let checkpoints = [Self.checkpoint(entries[4], key: old, version: 1), Self.checkpoint(entries[14], key: new, version: 2)]
        #expect(try Self.verify(entries, checkpoints, keys: [1: old.publicKey, 2: new.publicKey]) == nil)
    }

    // MARK: Altered entries

    @Test("altering any field of entry k is named altered at k", arguments: Field.allCases, [1, 2, 7, 13, 20])
    func alteringAFieldIsNamed(field: Field, k: Int) throws {
        var entries = try Self.chain()
        entries[k - 1] = field.alter(entries[k - 1])
        #expect(entries[k - 1] != (try Self.chain())[k - 1], "the fixture really changed \(field)")
        let problem = try #require(try Self.verify(entries))
        #expect(problem.kind == "altered")
        #expect(problem.seq == Int64(k))
        #expect(problem.description.contains("entry \(k) "), "\(problem.description)")
    }

    @Test("altering the stored hash or previous hash of entry k is named at k", arguments: [1, 8, 20])
    func alteringStoredHashesIsNamed(k: Int) throws {
        let original = try Self.chain()
        var entries = original
        let e = original[k - 1]
        entries[k - 1] = AuditEntry(seq: e.seq, at: e.at, event: e.event, previousHash: e.previousHash, hash: flipping(e.hash, at: 31))
        let badHash = try #require(try Self.verify(entries))
        #expect(badHash.kind == "altered")
        #expect(badHash.seq == Int64(k))

        entries = original
        entries[k - 1] = AuditEntry(seq: e.seq, at: e.at, event: e.event, previousHash: flipping(e.previousHash, at: 0), hash: e.hash)
        let badPrevious = try #require(try Self.verify(entries))
        #expect(badPrevious.kind == "altered")
        #expect(badPrevious.seq == Int64(k))
    }

    @Test("an entry forged and re-hashed without the key is named where the chain breaks, at k+1")
    func rehashedForgeryBreaksTheLinkToTheNextEntry() throws {
        var entries = try Self.chain()
        let k = 6
        let forged = Field.outcome.alter(entries[k - 1])
        entries[k - 1] = try Self.rehashed(forged, previous: entries[k - 2].hash)
        let problem = try #require(try Self.verify(entries))
        #expect(problem.kind == "reordered")
        #expect(problem.seq == Int64(k + 1))
        #expect(problem.description.contains("entry \(k + 1)") && problem.description.contains("entry \(k)"), "\(problem.description)")
    }

    @Test("a whole tail forged and re-hashed from entry k is caught by the first signed checkpoint after k")
    func rehashedTailIsCaughtByTheFirstCheckpointAfterIt() throws {
        let original = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let checkpoints = [Self.checkpoint(original[9], key: key), Self.checkpoint(original[19], key: key)]
        for (k, expectedCheckpoint) in [(5, 10), (10, 10), (12, 20)] {
            var entries = original
            entries[k - 1] = Field.subject.alter(entries[k - 1])
            var previous = entries[k - 2].hash
            for i in (k - 1)..<entries.count {
                entries[i] = try Self.rehashed(entries[i], previous: previous)
                previous = entries[i].hash
            }
            #expect(try Self.verify(entries) == nil, "without checkpoints a fully re-hashed chain is self-consistent")
            let problem = try #require(try Self.verify(entries, checkpoints, keys: [1: key.publicKey]))
            #expect(problem.kind == "altered")
            #expect(problem.seq == Int64(expectedCheckpoint), "forged from \(k)")
        }
    }

    // MARK: Removed entries

    @Test("removing entry k from the trail is named missing at k", arguments: [1, 2, 10, 19])
    func removingAnEntryIsNamedMissing(k: Int) throws {
        var entries = try Self.chain()
        entries.remove(at: k - 1)
        let problem = try #require(try Self.verify(entries))
        #expect(problem.kind == "missing")
        #expect(problem.seq == Int64(k))
        #expect(problem.description.contains("entry \(k) "), "\(problem.description)")
    }

    @Test("removing several entries in a row is named missing at the first of them")
    func removingARunIsNamedAtItsStart() throws {
        var entries = try Self.chain()
        entries.removeSubrange(6..<11)  // entries 7…11
        let problem = try #require(try Self.verify(entries))
        #expect(problem.kind == "missing")
        #expect(problem.seq == 7)
    }

    @Test("removing the last entries under a signed checkpoint is named truncated at the first removed")
    func removingTheTailUnderACheckpointIsNamedTruncated() throws {
        let original = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let checkpoints = [Self.checkpoint(original[9], key: key), Self.checkpoint(original[19], key: key)]
        for kept in [19, 17, 12] {
            let entries = Array(original.prefix(kept))
            #expect(try Self.verify(entries) == nil, "the chain alone cannot tell a shortened trail")
            let problem = try #require(try Self.verify(entries, checkpoints, keys: [1: key.publicKey]))
            #expect(problem.kind == "truncated")
            #expect(problem.seq == Int64(kept + 1))
            #expect(problem.description.contains("entries \(kept + 1) to 20"), "\(problem.description)")
        }
        // Cut below the first checkpoint too: the earliest checkpoint past the end is the one named.
        let problem = try #require(try Self.verify(Array(original.prefix(4)), checkpoints, keys: [1: key.publicKey]))
        #expect(problem.kind == "truncated")
        #expect(problem.seq == 5)
        #expect(problem.description.contains("entries 5 to 10"), "\(problem.description)")
    }

    @Test("entries appended after the last checkpoint may be removed undetected (the gap checkpoints narrow)")
    func removingUncheckpointedTailIsTheKnownLimit() throws {
        let original = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let checkpoints = [Self.checkpoint(original[14], key: key)]
        #expect(try Self.verify(Array(original.prefix(15)), checkpoints, keys: [1: key.publicKey]) == nil)
        #expect(try Self.verify(Array(original.prefix(14)), checkpoints, keys: [1: key.publicKey])?.kind == "truncated")
    }

    // MARK: Re-ordered entries

    @Test(
        "swapping two entries and renumbering seq to stay contiguous is named at the first swapped position",
        arguments: [(1, 2), (2, 3), (4, 15), (9, 10), (19, 20), (1, 20)])
    func swappingAndRenumberingIsNamedAtTheFirstSwap(i: Int, j: Int) throws {
        let original = try Self.chain()
        var entries = original
        entries.swapAt(i - 1, j - 1)
        entries = entries.enumerated().map { Self.replacing($0.element, seq: Int64($0.offset + 1)) }
        #expect(entries.map(\.seq) == Array(1...20))
        let problem = try #require(try Self.verify(entries))
        #expect(["altered", "reordered"].contains(problem.kind), "\(problem.kind)")
        #expect(problem.seq == Int64(i))
    }

    @Test("swapping two entries' contents while each keeps its own seq and hashes is named at the first swapped position")
    func swappingContentsKeepingHashesIsNamed() throws {
        let original = try Self.chain()
        for (i, j) in [(2, 3), (5, 11)] {
            var entries = original
            let a = original[i - 1]
            let b = original[j - 1]
            entries[i - 1] = AuditEntry(seq: a.seq, at: b.at, event: b.event, previousHash: a.previousHash, hash: a.hash)
            entries[j - 1] = AuditEntry(seq: b.seq, at: a.at, event: a.event, previousHash: b.previousHash, hash: b.hash)
            let problem = try #require(try Self.verify(entries))
            #expect(problem.kind == "altered")
            #expect(problem.seq == Int64(i))
        }
    }

    @Test("moving one entry to a later place (renumbered) is named at the place it left")
    func movingAnEntryIsNamedWhereItLeft() throws {
        var entries = try Self.chain()
        let moved = entries.remove(at: 4)  // entry 5
        entries.insert(moved, at: 12)
        entries = entries.enumerated().map { Self.replacing($0.element, seq: Int64($0.offset + 1)) }
        let problem = try #require(try Self.verify(entries))
        #expect(["altered", "reordered"].contains(problem.kind))
        #expect(problem.seq == 5)
    }

    // MARK: Checkpoints

    @Test("a checkpoint with a bad signature is named bad-checkpoint at its entry")
    func badSignature() throws {
        let entries = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let good = Self.checkpoint(entries[11], key: key)
        let flipped = AuditCheckpoint(seq: good.seq, hash: good.hash, at: good.at, keyVersion: 1, signature: flipping(good.signature, at: 10))
        let problem = try #require(try Self.verify(entries, [Self.checkpoint(entries[4], key: key), flipped], keys: [1: key.publicKey]))
        #expect(problem.kind == "bad-checkpoint")
        #expect(problem.seq == 12)
        #expect(problem.description.contains("entry 12"), "\(problem.description)")
    }

    @Test("a checkpoint signed by another key, with an unknown key version, or with no signature is bad-checkpoint")
    func checkpointFromTheWrongKey() throws {
        let entries = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let stranger = try Ed25519PrivateKey.generate()
        let byStranger = Self.checkpoint(entries[7], key: stranger)
        let unknownVersion = Self.checkpoint(entries[7], key: key, version: 9)
        let unsigned = AuditCheckpoint(seq: 8, hash: entries[7].hash, at: 0, keyVersion: 1, signature: [])
        for c in [byStranger, unknownVersion, unsigned] {
            let problem = try #require(try Self.verify(entries, [c], keys: [1: key.publicKey]))
            #expect(problem.kind == "bad-checkpoint")
            #expect(problem.seq == 8)
        }
    }

    @Test("a signature moved to another entry's checkpoint is bad-checkpoint: the seq is signed")
    func signatureMovedToAnotherSeq() throws {
        let entries = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let signed = Self.checkpoint(entries[9], key: key)
        let moved = AuditCheckpoint(seq: 11, hash: signed.hash, at: signed.at, keyVersion: 1, signature: signed.signature)
        let problem = try #require(try Self.verify(entries, [moved], keys: [1: key.publicKey]))
        #expect(problem.kind == "bad-checkpoint")
        #expect(problem.seq == 11)
    }

    @Test("a validly signed checkpoint whose hash does not match its entry is named at that entry")
    func checkpointHashMismatch() throws {
        let entries = try Self.chain()
        let key = try Ed25519PrivateKey.generate()
        let wrong = Self.checkpoint(entries[9], key: key, hash: entries[8].hash)
        let problem = try #require(try Self.verify(entries, [wrong], keys: [1: key.publicKey]))
        #expect(problem.kind == "altered")
        #expect(problem.seq == 10)
        #expect(problem.description.contains("entry 10") && problem.description.contains("checkpoint"), "\(problem.description)")
    }

    @Test("the checkpoint message binds a label, the seq and the hash")
    func checkpointMessageLayout() throws {
        let hash = [UInt8](repeating: 0xAB, count: 32)
        let message = AuditChain.checkpointMessage(seq: 258, hash: hash)
        let label = Array("hearth/v1/audit-checkpoint".utf8)
        #expect(Array(message.prefix(label.count)) == label)
        #expect(Array(message[label.count..<label.count + 8]) == [0, 0, 0, 0, 0, 0, 1, 2])
        #expect(Array(message.suffix(32)) == hash)
        #expect(message.count == label.count + 8 + 32)
        #expect(AuditChain.checkpointMessage(seq: 1, hash: hash) != AuditChain.checkpointMessage(seq: 2, hash: hash))
    }

    // MARK: Canonical encoding

    static func event(_ fields: [String]) -> AuditEvent {
        AuditEvent(actor: fields[0], role: fields[1], action: fields[2], subject: fields[3], scope: fields[4], outcome: fields[5])
    }

    @Test("moving bytes across a field boundary never gives the same encoding or hash")
    func lengthShiftedFieldsNeverCollide() throws {
        let a = AuditEvent(actor: "cli", action: "staff.add", subject: "ab", scope: "c")
        let b = AuditEvent(actor: "cli", action: "staff.add", subject: "a", scope: "bc")
        #expect(AuditChain.encoding(seq: 1, at: 0, event: a) != AuditChain.encoding(seq: 1, at: 0, event: b))
        #expect(
            try AuditChain.hash(previous: AuditChain.genesis, seq: 1, at: 0, event: a)
                != (try AuditChain.hash(previous: AuditChain.genesis, seq: 1, at: 0, event: b)))

        // Every adjacent pair of the six fields, shifting one byte either way, and into an empty field.
        let base = ["staff:1", "caseworker", "case.open", "ABCD-EFGH", "support", "ok"]
        var encodings: Set<[UInt8]> = [AuditChain.encoding(seq: 7, at: 42, event: Self.event(base))]
        var variants = 1
        for i in 0..<5 {
            var left = base
            left[i + 1] = String(left[i].removeLast()) + left[i + 1]
            var right = base
            right[i] += String(right[i + 1].removeFirst())
            var emptied = base
            emptied[i + 1] = emptied[i] + emptied[i + 1]
            emptied[i] = ""
            for fields in [left, right, emptied] {
                #expect(fields.joined() == base.joined(), "same concatenated bytes")
                encodings.insert(AuditChain.encoding(seq: 7, at: 42, event: Self.event(fields)))
                variants += 1
            }
        }
        #expect(encodings.count == variants)
    }

    @Test("the encoding is the documented layout: seq and at as 8 bytes big-endian, then six u16-length-prefixed fields")
    func encodingLayout() {
        let e = AuditEvent(actor: "cli", role: "", action: "staff.add", subject: "staff:3", scope: "caseworker", outcome: "ok")
        var expected: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 3] + [0, 0, 0, 0, 0x68, 0x5F, 0x3B, 0x80]
        for f in ["cli", "", "staff.add", "staff:3", "caseworker", "ok"] {
            expected += [0, UInt8(f.utf8.count)] + Array(f.utf8)
        }
        #expect(AuditChain.encoding(seq: 3, at: 1_751_071_616, event: e) == expected)
        // seq and at are not interchangeable, and a negative time is encoded, not refused.
        #expect(AuditChain.encoding(seq: 1, at: 2, event: e) != AuditChain.encoding(seq: 2, at: 1, event: e))
        #expect(AuditChain.encoding(seq: 1, at: -1, event: e).dropFirst(8).prefix(8).allSatisfy { $0 == 0xFF })
    }

    @Test("the same event at another seq or after another entry hashes differently")
    func hashBindsSeqAndPredecessor() throws {
        let e = AuditEvent(actor: "cli", action: "staff.add")
        let h1 = try AuditChain.hash(previous: AuditChain.genesis, seq: 1, at: 0, event: e)
        #expect(h1.count == 32)
        #expect(try AuditChain.hash(previous: AuditChain.genesis, seq: 2, at: 0, event: e) != h1)
        #expect(try AuditChain.hash(previous: flipping(AuditChain.genesis, at: 5), seq: 1, at: 0, event: e) != h1)
    }

    @Test("a field too long for its u16 length prefix is refused, never truncated into a collision")
    func overlongFieldsAreRefused() throws {
        let limit = Int(UInt16.max)
        let atLimit = AuditEvent(actor: "cli", action: "staff.add", subject: String(repeating: "a", count: limit))
        let overLimit = AuditEvent(actor: "cli", action: "staff.add", subject: String(repeating: "a", count: limit + 1))
        _ = try AuditChain.hash(previous: AuditChain.genesis, seq: 1, at: 0, event: atLimit)
        #expect(throws: (any Error).self) { try AuditChain.hash(previous: AuditChain.genesis, seq: 1, at: 0, event: overLimit) }

        // A stored entry whose field grew past the limit (only tampering can put one there) is named altered.
        var entries = try Self.chain(5)
        entries[2] = Self.replacing(entries[2], event: overLimit)
        let problem = try #require(try Self.verify(entries))
        #expect(problem.kind == "altered")
        #expect(problem.seq == 3)
    }
}
