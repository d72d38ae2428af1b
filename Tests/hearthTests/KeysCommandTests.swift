import Foundation
import HearthTestSupport
import Testing

/// `hearth keys init` and `hearth keys status`, run as the real executable.
@Suite("hearth keys", .timeLimit(.minutes(1)))
struct KeysCommandTests {
    static let keyNames = ["support", "review", "police", "prosecution", "audit", "casework"]
    static let keyFilesWithoutMaster =
        keyNames.flatMap { ["\($0).v1.pub", "\($0).v1.sealed"] } + ["tls.crt", "tls.key"]

    /// Name → (bytes, mode) of every entry in a directory.
    static func snapshot(_ dir: String) throws -> [String: ([UInt8], mode_t?)] {
        var out: [String: ([UInt8], mode_t?)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            out[name] = (fileBytes("\(dir)/\(name)"), mode("\(dir)/\(name)"))
        }
        return out
    }

    @Test("keys init creates every key file owner-only (0600) in a 0700 directory")
    func initCreatesEveryKeyFileOwnerOnly() async throws {
        let work = try TemporaryDirectory()
        let dir = work.file("keys")
        let outcome = try await ChildProcess.run(["keys", "init", "--dir", dir], in: work.path)
        #expect(outcome.succeeded, "\(outcome)")

        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == (["master.key"] + Self.keyFilesWithoutMaster).sorted())
        #expect(mode(dir) == 0o700)
        for name in names {
            #expect(mode("\(dir)/\(name)") == 0o600, "\(name) has mode \(String(mode("\(dir)/\(name)") ?? 0, radix: 8))")
        }
        #expect(fileBytes("\(dir)/master.key").count == 32)
        #expect(Array(fileBytes("\(dir)/police.v1.pub").prefix(8)) == Array("HRTHPUB1".utf8))
        #expect(Array(fileBytes("\(dir)/police.v1.sealed").prefix(8)) == Array("HRTHSEC1".utf8))
        #expect(String(decoding: fileBytes("\(dir)/tls.crt"), as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    @Test("keys init refuses a directory that already holds keys and changes no file")
    func initRefusesExistingKeysAndChangesNothing() async throws {
        let work = try TemporaryDirectory()
        let dir = try await makeKeySet(in: work)
        let before = try Self.snapshot(dir)

        let again = try await ChildProcess.run(["keys", "init", "--dir", dir], in: work.path)

        #expect(again.exitedNormally && again.status != 0, "\(again)")
        #expect(again.stderr.contains(dir), "the refusal names the directory: \(again.stderr)")
        let after = try Self.snapshot(dir)
        #expect(Set(after.keys) == Set(before.keys))
        for (name, (bytes, fileMode)) in before {
            #expect(after[name]?.0 == bytes, "\(name) changed")
            #expect(after[name]?.1 == fileMode, "\(name) changed mode")
        }
    }

    @Test("keys init --passphrase-env writes master.kdf (Argon2id) instead of master.key")
    func initWithPassphraseWritesKDFInsteadOfMasterKey() async throws {
        let work = try TemporaryDirectory()
        let dir = work.file("keys")
        let variable = "HEARTH_TEST_PASSPHRASE_\(UInt32.random(in: 0...UInt32.max))"
        let outcome = try await ChildProcess.run(
            ["keys", "init", "--dir", dir, "--passphrase-env", variable], in: work.path,
            environment: [variable: "correct horse battery staple"], timeout: .seconds(45))
        #expect(outcome.succeeded, "\(outcome)")

        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == (["master.kdf"] + Self.keyFilesWithoutMaster).sorted())
        #expect(!names.contains("master.key"))
        let kdf = fileBytes("\(dir)/master.kdf")
        #expect(kdf.count == 72)
        #expect(Array(kdf.prefix(8)) == Array("HRTHKDF1".utf8))
        #expect(!bytes(kdf, contain: Array("correct horse battery staple".utf8)))
        #expect(mode(dir) == 0o700)
        for name in names {
            #expect(mode("\(dir)/\(name)") == 0o600, "\(name)")
        }
    }

    @Test("keys status --json lists every key with no problems and exits 0")
    func statusListsEveryKeyWithoutProblems() async throws {
        let work = try TemporaryDirectory()
        let dir = try await makeKeySet(in: work)

        let outcome = try await ChildProcess.run(["keys", "status", "--dir", dir, "--json"], in: work.path)

        #expect(outcome.succeeded, "\(outcome)")
        let entries = try Self.statusEntries(outcome.stdout)
        #expect(Set(entries.compactMap { $0["key"] as? String }) == Set(["master", "tls"] + Self.keyNames))
        for entry in entries {
            #expect((entry["problems"] as? [Any])?.isEmpty == true, "\(entry)")
        }
        for name in Self.keyNames {
            let entry = entries.first { $0["key"] as? String == name }
            #expect(entry?["version"] as? Int == 1)
            #expect(entry?["state"] as? String == "primary")
        }
    }

    @Test("keys status reports a key file open to group or others and exits non-zero")
    func statusReportsGroupReadableFile() async throws {
        let work = try TemporaryDirectory()
        let dir = try await makeKeySet(in: work)
        let exposed = "\(dir)/police.v1.sealed"
        #expect(chmod(exposed, 0o644) == 0)

        let outcome = try await ChildProcess.run(["keys", "status", "--dir", dir, "--json"], in: work.path)

        #expect(outcome.exitedNormally && outcome.status != 0, "\(outcome)")
        let entries = try Self.statusEntries(outcome.stdout)
        let police = try #require(entries.first { $0["key"] as? String == "police" })
        let problems = police["problems"] as? [String] ?? []
        #expect(problems.contains { $0.contains(exposed) && $0.contains("group or others") }, "\(problems)")
        for entry in entries where entry["key"] as? String != "police" {
            #expect((entry["problems"] as? [Any])?.isEmpty == true, "\(entry)")
        }
    }

    static func statusEntries(_ stdout: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        return try #require(object?["keys"] as? [[String: Any]], "status JSON: \(stdout)")
    }
}
