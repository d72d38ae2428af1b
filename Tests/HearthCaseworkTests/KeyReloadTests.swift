import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthKeys
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

@Suite("Key reload: a new version is taken only when its public half matches its private key")
struct KeyReloadTests {
    /// The key versions of the support wraps stored so far.
    func supportVersions(_ h: CaseworkHarness) async throws -> [Int64] {
        try await h.store.inspect { db in
            try Int64.fetchAll(db, sql: "SELECT key_version FROM consent_wraps WHERE scope = 'support' ORDER BY record_rid")
        }
    }

    @Test("a rotation whose .pub matches is taken: new consents are sealed to v2 and staff open them")
    func matchingRotationIsTaken() async throws {
        try await CaseworkHarness.with { h in
            _ = try h.keys.rotate(.support, master: try h.keys.loadMasterKey(passphrase: nil))
            try h.assembly.reloadKeys()
            let (reference, _) = try await h.submit(consents: ["support"])
            #expect(try await supportVersions(h) == [2])
            let sue = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            let opened = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact"])
            #expect(opened.status == 200, "\(opened.text)")
        }
    }

    @Test("a v2 .pub that does not match v2.sealed is refused on reload: the intake keeps sealing to v1")
    func mismatchedPublicHalfIsRefused() async throws {
        try await CaseworkHarness.with { h in
            _ = try h.keys.rotate(.support, master: try h.keys.loadMasterKey(passphrase: nil))
            // Someone swaps support.v2.pub for another key's public half.
            let stranger = try X25519PrivateKey.generate()
            let file = h.keys.publicFile(.scope(.support), version: 2)
            #expect(unlink(file) == 0)
            try SecureFile.createExclusive(
                file, contents: KeyFileFormat.encodePublic(kind: .scope(.support), version: 2, key: stranger.publicKey.bytes))
            #expect(throws: KeyFileError.self) { try h.assembly.reloadKeys() }
            _ = try await h.submit(consents: ["support"])
            #expect(try await supportVersions(h) == [1], "nothing was sealed to the key no one holds")
        }
    }
}
