import Foundation
import HearthCrypto
import HearthKeys
import HearthTestSupport
import Testing

@testable import HearthCore

/// One test-vector file from `Vectors/` (format: `Vectors/README.md`).
struct Vector: Sendable, CustomTestStringConvertible {
    let file: String
    let fields: [(key: String, value: String)]
    var testDescription: String { file }

    /// The value of `key`; nil if absent.
    subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

    static let knownKeys: Set<String> = [
        "expect", "scenario", "operation", "error", "record_id", "receipt", "scope", "key_version", "scope_secret_key",
        "dek_commitment", "body", "consent_wrap", "survivor_wrap", "plaintext", "request", "note_kind", "note_id", "note",
        "master_key", "key_name", "public_file", "sealed_file", "secret_key", "manifest", "audit_public_key", "primaries",
        "backup_secret_key", "backup", "conversation_wrap", "author", "message", "key_scope", "interview_id", "part", "revision",
        "interview",
    ]

    /// Parses `key: value` lines; blank lines and lines starting with `#` are ignored.
    init(file: String, text: String) throws {
        self.file = file
        var fields: [(String, String)] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else { throw VectorError("\(file): line without 'key: value': \(line)") }
            let key = String(line[..<colon])
            guard Self.knownKeys.contains(key) else { throw VectorError("\(file): unknown key '\(key)'") }
            guard !fields.contains(where: { $0.0 == key }) else { throw VectorError("\(file): duplicate key '\(key)'") }
            fields.append((key, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        self.fields = fields
    }

    /// The hex field `key` as bytes.
    func bytes(_ key: String) throws -> [UInt8] {
        guard let text = self[key] else { throw VectorError("\(file): missing '\(key)'") }
        guard let value = HearthCoreTests.bytes(hex: text) else { throw VectorError("\(file): '\(key)' is not hex") }
        return value
    }

    /// The directory of vector files shipped as a test resource.
    static func directory() throws -> URL {
        guard let url = Bundle.module.url(forResource: "Vectors", withExtension: nil) else {
            throw VectorError("the Vectors resource directory is missing from the test bundle")
        }
        return url
    }

    /// Every `*.txt` file in the shipped `Vectors/` directory, sorted by name.
    static func all() throws -> [Vector] {
        let dir = try directory()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { name in
            try Vector(file: name, text: String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8))
        }
    }

    /// For `@Test(arguments:)`: a load failure gives no arguments, which `vectorDirectoryHoldsAtLeastTenScenarios` reports.
    static var loaded: [Vector] { (try? all()) ?? [] }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Performs a vector's operation and returns what a success vector compares: the plaintext of
/// the body or note (`plaintext`), or the secret inside a sealed key file (`secret_key`).
private func perform(_ v: Vector) throws -> [UInt8] {
    switch v["operation"] {
    case "verify-key-pair":
        return try verifyKeyPair(v)
    case "verify-key-manifest":
        // SECURITY.md §3.18: canonical decoding, then the signature under the audit key.
        let manifest = try KeyManifest.verify(try v.bytes("manifest"), auditKey: try Ed25519PublicKey(bytes: try v.bytes("audit_public_key")))
        #expect(manifest.body + Array(try v.bytes("manifest").suffix(64)) == (try v.bytes("manifest")), "re-encodes byte for byte")
        return Array(manifest.primarySummary.utf8)
    case "open-with-receipt", "open-with-scope-key", "open-note":
        return try openRecord(v)
    case "open-backup":
        return try openBackup(v)
    case "open-conversation-with-receipt", "open-conversation-with-scope-key":
        return try openConversation(v)
    case "open-interview":
        return try openInterview(v)
    default:
        throw VectorError("\(v.file): unknown operation '\(v["operation"] ?? "")'")
    }
}

/// SECURITY.md §3.13: the conversation key from the receipt, or from the conversation wrap with
/// the scope's secret key; then the message of that conversation.
private func openConversation(_ v: Vector) throws -> [UInt8] {
    guard let id = RecordID(bytes: try v.bytes("record_id")) else { throw VectorError("\(v.file): record_id is not 10 bytes") }
    guard let scopeName = v["scope"], let scope = Scope(rawValue: scopeName) else { throw VectorError("\(v.file): bad scope") }
    guard let author = v["author"], author == "survivor" || author == "staff" else { throw VectorError("\(v.file): bad author") }
    let key: ConversationKey
    if v["operation"] == "open-conversation-with-receipt" {
        guard let text = v["receipt"], let receipt = Receipt(parsing: text) else { throw VectorError("\(v.file): bad receipt") }
        key = try receipt.conversationKey(recordID: id, scope: scope)
    } else {
        guard let versionText = v["key_version"], let version = UInt32(versionText) else { throw VectorError("\(v.file): bad key_version") }
        key = try Envelope.openConversationWrap(
            try v.bytes("conversation_wrap"), with: try X25519PrivateKey(secret: SecretBytes(copying: try v.bytes("scope_secret_key"))),
            recordID: id, scope: scope, keyVersion: version)
    }
    return try Envelope.openMessage(
        try v.bytes("message"), fromSurvivor: author == "survivor", with: key, recordID: id, scope: scope, noteID: try v.bytes("note_id")
    ).unsafeExportedBytes()
}

/// SECURITY.md §3.13: one part of an invitation to an interview, opened with the conversation key
/// the receipt derives for `key_scope` (`scope` when absent), bound to `scope`, the interview id,
/// the part and the revision. An opened part must also decode and re-encode (sorted keys) to
/// exactly its bytes, as Hearth seals it.
private func openInterview(_ v: Vector) throws -> [UInt8] {
    guard let id = RecordID(bytes: try v.bytes("record_id")) else { throw VectorError("\(v.file): record_id is not 10 bytes") }
    guard let scopeName = v["scope"], let scope = Scope(rawValue: scopeName),
        let keyScope = Scope(rawValue: v["key_scope"] ?? scopeName)
    else { throw VectorError("\(v.file): bad scope") }
    guard let text = v["receipt"], let receipt = Receipt(parsing: text) else { throw VectorError("\(v.file): bad receipt") }
    guard let partName = v["part"], let part = ["invitation": Envelope.InterviewPart.invitation, "answer": .answer][partName] else {
        throw VectorError("\(v.file): bad part")
    }
    guard let revisionText = v["revision"], let revision = UInt32(revisionText) else { throw VectorError("\(v.file): bad revision") }
    let plaintext = try Envelope.openInterview(
        try v.bytes("interview"), part: part, revision: revision, with: try receipt.conversationKey(recordID: id, scope: keyScope), recordID: id,
        scope: scope, interviewID: try v.bytes("interview_id"))
    let reencoded: [UInt8] =
        switch part {
        case .invitation: Array(try Interview.encoder.encode(try JSONDecoder().decode(InterviewInvitation.self, from: Data(plaintext))))
        case .answer: Array(try Interview.encoder.encode(try JSONDecoder().decode(InterviewAnswer.self, from: Data(plaintext))))
        }
    #expect(reencoded == plaintext, "\(v.file): the JSON is not as Hearth encodes it")
    return plaintext
}

/// SECURITY.md §3.20: reads the whole backup with the backup secret key, returns the data stream;
/// a success vector's manifest must decode and re-encode to exactly its `manifest` bytes.
private func openBackup(_ v: Vector) throws -> [UInt8] {
    let key = try X25519PrivateKey(secret: SecretBytes(copying: try v.bytes("backup_secret_key")))
    var remaining = try v.bytes("backup")[...]
    let reader = try BackupStreamReader(privateKey: key) { count in
        let part = Array(remaining.prefix(count))
        remaining = remaining.dropFirst(part.count)
        return part
    }
    var data: [UInt8] = []
    let manifest = try BackupFile.read(reader) { data += $0 }
    if v["expect"] == "success" { #expect(manifest.encoded() == (try v.bytes("manifest")), "\(v.file): manifest") }
    return data
}

/// Unwraps the DEK (with the receipt or the scope key), checks the commitment, then opens the
/// body or, for `open-note`, the note.
private func openRecord(_ v: Vector) throws -> [UInt8] {
    guard let id = RecordID(bytes: try v.bytes("record_id")) else { throw VectorError("\(v.file): record_id is not 10 bytes") }
    let commitment = try v.bytes("dek_commitment")
    switch v["operation"] {
    case "open-with-receipt":
        guard let text = v["receipt"], let receipt = Receipt(parsing: text) else { throw VectorError("\(v.file): bad receipt") }
        let dek = try Envelope.openSurvivorWrap(try v.bytes("survivor_wrap"), receipt: receipt, recordID: id, commitment: commitment)
        return try Envelope.openBody(try v.bytes("body"), with: dek, recordID: id, commitment: commitment).unsafeExportedBytes()
    case "open-note":
        guard let text = v["receipt"], let receipt = Receipt(parsing: text) else { throw VectorError("\(v.file): bad receipt") }
        let kind: Envelope.NoteKind
        switch v["note_kind"] {
        case "survivor-message": kind = .message(fromSurvivor: true)
        case "staff-message": kind = .message(fromSurvivor: false)
        case "access-reason": kind = .accessReason
        default: throw VectorError("\(v.file): bad note_kind '\(v["note_kind"] ?? "")'")
        }
        let dek = try Envelope.openSurvivorWrap(try v.bytes("survivor_wrap"), receipt: receipt, recordID: id, commitment: commitment)
        return try Envelope.openNote(
            try v.bytes("note"), kind: kind, with: dek, recordID: id, noteID: try v.bytes("note_id"), commitment: commitment
        ).unsafeExportedBytes()
    default:
        guard let scopeName = v["scope"], let scope = Scope(rawValue: scopeName) else { throw VectorError("\(v.file): bad scope") }
        guard let versionText = v["key_version"], let version = UInt32(versionText) else { throw VectorError("\(v.file): bad key_version") }
        let key = try X25519PrivateKey(secret: SecretBytes(copying: try v.bytes("scope_secret_key")))
        let dek = try Envelope.openScopeWrap(
            try v.bytes("consent_wrap"),
            with: key,
            recordID: id,
            scope: scope,
            keyVersion: version,
            commitment: commitment
        )
        return try Envelope.openBody(try v.bytes("body"), with: dek, recordID: id, commitment: commitment).unsafeExportedBytes()
    }
}

/// Puts the vector's `.pub` and `.sealed` files in a fresh key directory beside freshly made v1
/// pairs of every other kind, runs the start-up check `KeyDirectory.verifyPrivateKeys`, and
/// returns the secret the `.sealed` file holds.
private func verifyKeyPair(_ v: Vector) throws -> [UInt8] {
    guard let name = v["key_name"], let kind = KeyKind.all.first(where: { $0.name == name }) else {
        throw VectorError("\(v.file): bad key_name")
    }
    guard let versionText = v["key_version"], let version = UInt32(versionText) else { throw VectorError("\(v.file): bad key_version") }
    let master = try SecretKey(SecretBytes(copying: try v.bytes("master_key")))
    let temporary = try TemporaryDirectory()
    let keys = KeyDirectory(path: temporary.file("keys"))
    try FileManager.default.createDirectory(atPath: keys.path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    for other in KeyKind.all where other != kind {
        try keys.createKeyPair(other, version: 1, master: master)
    }
    let sealed = try v.bytes("sealed_file")
    try SecureFile.createExclusive(keys.publicFile(kind, version: version), contents: try v.bytes("public_file"))
    try SecureFile.createExclusive(keys.sealedFile(kind, version: version), contents: sealed)
    try keys.verifyPrivateKeys(master: master)
    return try KeyFileFormat.decodeSealed(sealed, kind: kind, version: version, master: master).unsafeExportedBytes()
}

/// The vector error code for a key-file refusal, after checking it names the right file: a
/// malformed `.pub` names the `.pub`; a `.sealed` that does not open or does not match names the `.sealed`.
private func keyFileErrorCode(_ error: KeyFileError, _ v: Vector) -> String {
    let stem = "/\(v["key_name"] ?? "").v\(v["key_version"] ?? "")"
    if error.reason.hasPrefix("it does not match"), error.path.hasSuffix(stem + ".sealed") { return "key-pair-mismatch" }
    if error.reason.hasPrefix("it cannot be opened"), error.path.hasSuffix(stem + ".sealed") { return "sealed-key-unopenable" }
    if error.reason.hasPrefix("it is not a valid"), error.path.hasSuffix(stem + ".pub") { return "malformed-public-key-file" }
    return "unexpected key-file error: \(error)"
}

@Suite("Test vectors (Vectors/*.txt)")
struct VectorRunnerTests {
    @Test func vectorDirectoryHoldsAtLeastTenScenarios() throws {
        let directory = try Vector.directory().path
        let vectors = try Vector.all()
        #expect(vectors.count >= 10, "only \(vectors.count) vectors in \(directory)")
        #expect(vectors.contains { $0["expect"] == "success" })
        #expect(vectors.contains { $0["expect"] == "failure" })
    }

    @Test(arguments: Vector.loaded)
    func vectorHasTheExpectedOutcome(_ vector: Vector) throws {
        #expect(vector["scenario"]?.isEmpty == false, "a vector states its scenario")
        switch vector["expect"] {
        case "success":
            let output = try perform(vector)
            switch vector["operation"] {
            case "verify-key-pair": #expect(output == (try vector.bytes("secret_key")))
            case "verify-key-manifest": #expect(String(decoding: output, as: UTF8.self) == vector["primaries"])
            default: #expect(output == (try vector.bytes("plaintext")))
            }
        case "failure":
            let expected = try #require(vector["error"], "a failure vector names its error")
            do {
                let output = try perform(vector)
                Issue.record("\(vector.file) succeeded (\(output.count) bytes) but should fail with \(expected)")
            } catch let error as CryptoError {
                #expect(error.code.description == expected, "\(vector.file): \(error)")
            } catch let error as KeyFileError {
                #expect(keyFileErrorCode(error, vector) == expected, "\(vector.file): \(error)")
            }
        default:
            Issue.record("\(vector.file): 'expect' must be success or failure")
        }
    }

    /// SECURITY.md §3.6: the body is the canonical JSON of the validated request. Here the
    /// request validates to the same `ContactRequest` the plaintext decodes to; that Hearth
    /// writes exactly these bytes is checked by HearthIntakeTests `CanonicalBodyTests`.
    @Test func canonicalBodyVectorIsItsRequest() throws {
        let vector = try #require(try Vector.all().first { $0.file == "body-canonical-json.txt" })
        let request = try #require(vector["request"])
        let plaintext = try vector.bytes("plaintext")
        // The request as the API reads it (its consents are not part of the request itself).
        let object = try #require(try JSONSerialization.jsonObject(with: Data(request.utf8)) as? [String: Any])
        #expect(!((object["consents"] as? [Any]) ?? []).isEmpty, "the request carries consents, which the body leaves out")
        let sent = try JSONDecoder().decode(ContactRequest.self, from: Data(request.utf8))
        #expect(try JSONDecoder().decode(ContactRequest.self, from: Data(plaintext)) == sent)
        let text = String(decoding: plaintext, as: UTF8.self)
        #expect(!text.contains("consents") && !text.contains("region") && !text.contains("null"))
        #expect(text.contains("/ 12 Rue de l\u{2019}\u{C9}glise") && !text.contains("\\/") && !text.contains("\\u"))
        // Compared as bytes: Swift's String comparison would equate the decomposed and composed forms.
        let decomposed = Array("Zoe".utf8) + [0xCC, 0x81]
        #expect((0...(plaintext.count - decomposed.count)).contains { Array(plaintext[$0..<$0 + decomposed.count]) == decomposed })
    }
}

/// Writes `Vectors/*.txt` into the source tree. Disabled unless `HEARTH_WRITE_VECTORS=1`, so the
/// committed vectors are only ever replaced on purpose:
///
///     HEARTH_WRITE_VECTORS=1 swift test --skip-build --filter VectorGenerator
///     swift build --build-tests   # copies the new files into the test bundle
@Suite("Vector generator", .enabled(if: ProcessInfo.processInfo.environment["HEARTH_WRITE_VECTORS"] == "1"))
struct VectorGenerator {
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    static let plaintext = Array(#"{"contact":[{"method":"email","value":"test-vector@example.org"}],"wants":["support"]}"#.utf8)

    /// One file's lines, in order.
    struct File {
        var name: String
        var lines: [(String, String)] = []
        mutating func add(_ key: String, _ value: String) { lines.append((key, value)) }
        mutating func add(_ key: String, hex value: [UInt8]) { lines.append((key, hex(value))) }
        var text: String { lines.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n" }
    }

    /// The fields shared by every vector of a record: header, id, commitment and body.
    static func header(_ name: String, expect: String, scenario: String, operation: String, error: String? = nil) -> File {
        var f = File(name: name)
        f.add("expect", expect)
        f.add("scenario", scenario)
        f.add("operation", operation)
        if let error { f.add("error", error) }
        return f
    }

    @Test func writeVectors() throws {
        var files: [File] = []
        let plaintext = Self.plaintext

        // A record with its keys: id, DEK, commitment, body, a receipt and a scope key pair.
        let id = try RecordID.random()
        let otherID = try RecordID.random()
        let dek = try DataKey.generate()
        let commitment = try Envelope.commitment(to: dek, recordID: id)
        let body = try Envelope.sealBody(SecretBytes(copying: plaintext), with: dek, recordID: id, commitment: commitment)
        let receipt = try Receipt.generate()
        let survivorWrap = try Envelope.wrapForSurvivor(dek, recordID: id, receipt: receipt)
        let scopeKey = try X25519PrivateKey.generate()
        let scopeSecret = scopeKey.secret.unsafeExportedBytes()
        let consentWrap = try Envelope.wrapForScope(dek, recordID: id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)

        func withReceipt(
            _ name: String,
            expect: String,
            scenario: String,
            error: String? = nil,
            recordID: RecordID? = nil,
            commitment c: [UInt8]? = nil,
            body b: [UInt8]? = nil,
            wrap: [UInt8]? = nil,
            receipt r: String? = nil
        ) -> File {
            var f = Self.header(name, expect: expect, scenario: scenario, operation: "open-with-receipt", error: error)
            f.add("record_id", hex: (recordID ?? id).bytes)
            f.add("receipt", r ?? receipt.displayed)
            f.add("dek_commitment", hex: c ?? commitment)
            f.add("survivor_wrap", hex: wrap ?? survivorWrap)
            f.add("body", hex: b ?? body)
            if expect == "success" { f.add("plaintext", hex: plaintext) }
            return f
        }

        func withScopeKey(
            _ name: String,
            expect: String,
            scenario: String,
            error: String? = nil,
            recordID: RecordID? = nil,
            scope: Scope = .support,
            keyVersion: UInt32 = 1,
            commitment c: [UInt8]? = nil,
            body b: [UInt8]? = nil,
            wrap: [UInt8]? = nil
        ) -> File {
            var f = Self.header(name, expect: expect, scenario: scenario, operation: "open-with-scope-key", error: error)
            f.add("record_id", hex: (recordID ?? id).bytes)
            f.add("scope", scope.rawValue)
            f.add("key_version", "\(keyVersion)")
            f.add("scope_secret_key", hex: scopeSecret)
            f.add("dek_commitment", hex: c ?? commitment)
            f.add("consent_wrap", hex: wrap ?? consentWrap)
            f.add("body", hex: b ?? body)
            if expect == "success" { f.add("plaintext", hex: plaintext) }
            return f
        }

        files.append(
            withReceipt(
                "valid-survivor-wrap-and-body.txt",
                expect: "success",
                scenario: "a valid survivor wrap opened with the receipt, then the body opened with the DEK"
            )
        )
        files.append(
            withScopeKey(
                "valid-consent-wrap-and-body.txt",
                expect: "success",
                scenario: "a valid support v1 consent wrap opened with the scope private key, then the body"
            )
        )
        files.append(
            withReceipt(
                "body-flipped-nonce-byte.txt",
                expect: "failure",
                scenario: "the body with one flipped bit in its nonce (offset 6)",
                error: "authentication-failed",
                body: flipping(body, at: 6)
            )
        )
        files.append(
            withReceipt(
                "body-flipped-ciphertext-byte.txt",
                expect: "failure",
                scenario: "the body with one flipped bit in its ciphertext (offset 125)",
                error: "authentication-failed",
                body: flipping(body, at: 125)
            )
        )
        files.append(
            withReceipt(
                "body-flipped-tag-byte.txt",
                expect: "failure",
                scenario: "the body with one flipped bit in its tag (last byte)",
                error: "authentication-failed",
                body: flipping(body, at: body.count - 1, mask: 0x80)
            )
        )
        files.append(
            withReceipt(
                "body-unknown-version.txt",
                expect: "failure",
                scenario: "the body with format version byte 0x02 instead of 0x01",
                error: "malformed-input",
                body: [2] + body.dropFirst()
            )
        )
        files.append(
            withReceipt(
                "body-not-a-bucket-length.txt",
                expect: "failure",
                scenario: "the body with its last byte cut off, so its length is not a bucket plus 41",
                error: "malformed-input",
                body: Array(body.dropLast())
            )
        )

        // Another record sealed under the same DEK, so only the wrap's record binding is wrong.
        let otherCommitment = try Envelope.commitment(to: dek, recordID: otherID)
        let otherBody = try Envelope.sealBody(SecretBytes(copying: plaintext), with: dek, recordID: otherID, commitment: otherCommitment)
        files.append(
            withScopeKey(
                "consent-wrap-other-record.txt",
                expect: "failure",
                scenario: "a consent wrap made for another record id, transplanted to this record (same DEK, same scope key)",
                error: "authentication-failed",
                recordID: otherID,
                commitment: otherCommitment,
                body: otherBody
            )
        )
        files.append(
            withScopeKey(
                "consent-wrap-other-scope.txt",
                expect: "failure",
                scenario: "a support consent wrap presented as a police wrap (same private key, so only the scope id differs)",
                error: "authentication-failed",
                scope: .police
            )
        )
        files.append(
            withScopeKey(
                "consent-wrap-other-key-version.txt",
                expect: "failure",
                scenario: "a v1 consent wrap presented as key version 2 (same private key, so only the version differs)",
                error: "authentication-failed",
                keyVersion: 2
            )
        )
        files.append(
            withReceipt(
                "survivor-wrap-other-record.txt",
                expect: "failure",
                scenario: "a survivor wrap made for another record id, transplanted to this record (same DEK, same receipt)",
                error: "authentication-failed",
                recordID: otherID,
                commitment: otherCommitment,
                body: otherBody
            )
        )
        files.append(
            withReceipt(
                "survivor-wrap-wrong-receipt.txt",
                expect: "failure",
                scenario: "the survivor wrap presented with another valid receipt",
                error: "authentication-failed",
                receipt: try Receipt.generate().displayed
            )
        )

        // Substituted DEK: wraps made correctly for this record id, but around another key.
        let substitute = try DataKey.generate()
        files.append(
            withReceipt(
                "survivor-wrap-substituted-dek.txt",
                expect: "failure",
                scenario: "a survivor wrap made correctly for this record id around a different DEK; the commitment check refuses it",
                error: "commitment-mismatch",
                wrap: try Envelope.wrapForSurvivor(substitute, recordID: id, receipt: receipt)
            )
        )
        files.append(
            withScopeKey(
                "consent-wrap-substituted-dek.txt",
                expect: "failure",
                scenario: "a consent wrap made correctly for this record, scope and version around a different DEK",
                error: "commitment-mismatch",
                wrap: try Envelope.wrapForScope(substitute, recordID: id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
            )
        )

        files.append(
            withScopeKey(
                "consent-wrap-unknown-version.txt",
                expect: "failure",
                scenario: "the consent wrap with format version byte 0x02 instead of 0x01",
                error: "malformed-input",
                wrap: [2] + consentWrap.dropFirst()
            )
        )
        files.append(
            withReceipt(
                "survivor-wrap-unknown-version.txt",
                expect: "failure",
                scenario: "the survivor wrap with format version byte 0x00 instead of 0x01",
                error: "malformed-input",
                wrap: [0] + survivorWrap.dropFirst()
            )
        )
        files.append(
            withReceipt(
                "survivor-wrap-truncated.txt",
                expect: "failure",
                scenario: "the survivor wrap cut to 72 of its 73 bytes",
                error: "malformed-input",
                wrap: Array(survivorWrap.dropLast())
            )
        )
        files.append(
            withScopeKey(
                "consent-wrap-truncated.txt",
                expect: "failure",
                scenario: "the consent wrap cut to 104 of its 105 bytes",
                error: "malformed-input",
                wrap: Array(consentWrap.dropLast())
            )
        )
        var lowOrder = consentWrap
        lowOrder.replaceSubrange(1..<33, with: [UInt8](repeating: 0, count: 32))
        files.append(
            withScopeKey(
                "consent-wrap-low-order-ephemeral-key.txt",
                expect: "failure",
                scenario: "the consent wrap with its ephemeral public key replaced by the all-zero (low-order) point",
                error: "weak-public-key",
                wrap: lowOrder
            )
        )

        try FileManager.default.createDirectory(at: Self.sourceDirectory, withIntermediateDirectories: true)
        for f in files {
            try f.text.write(to: Self.sourceDirectory.appendingPathComponent(f.name), atomically: true, encoding: .utf8)
        }
    }
}
