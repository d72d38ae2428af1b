import Foundation
import HearthCore
import HearthCrypto
import HearthKeys
import HearthTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private (0700) temporary directory, removed when released.
private final class RotationScratch {
    let path: String

    init() throws {
        var template = Array("\(NSTemporaryDirectory())/hearth-master-rotation.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw KeyFileError(path: NSTemporaryDirectory(), reason: "mkdtemp failed", hint: "check the temp dir")
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Which master a key directory should open with: the raw 32 bytes, and where they come from.
private struct ExpectedMaster: CustomStringConvertible {
    enum Source {
        case keyFile
        case passphrase(String)
    }

    let bytes: [UInt8]
    let source: Source
    let name: String

    var description: String { name }
}

/// `KeyDirectory.rotateMaster` crash safety, step by step: a crash after any step (a copy of the
/// directory at that moment) recovers to a directory that opens completely with exactly one of the
/// old and new master keys, with no `.next` file or commit marker left behind.
@Suite("Master-key rotation: crash at every step", .timeLimit(.minutes(1)))
struct MasterRotationTests {
    static let cheap = Argon2id.Cost.insecureMinimumForTests

    /// One crash point: the step just finished and a full copy of the key directory at that moment.
    struct Snapshot {
        let step: String
        let directory: String
        let names: [String]
    }

    /// A complete copy of `source` (every file, mode 0600) in a fresh 0700 directory inside `scratch`.
    static func copyDirectory(_ source: String, into scratch: String, as name: String) throws -> String {
        let target = "\(scratch)/\(name)"
        guard mkdir(target, 0o700) == 0 else { throw KeyFileError(path: target, reason: "mkdir failed", hint: "") }
        for file in SecureFile.list(source) {
            try SecureFile.createExclusive("\(target)/\(file)", contents: fileContents("\(source)/\(file)"))
        }
        return target
    }

    static func fileContents(_ path: String) -> [UInt8] {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map(Array.init) ?? []
    }

    /// Every file name and its bytes.
    static func contents(of dir: String) -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: SecureFile.list(dir).map { ($0, fileContents("\(dir)/\($0)")) })
    }

    /// Runs `rotateMaster` on `keys`, copying the whole directory after every step.
    static func rotateTakingSnapshots(
        _ keys: KeyDirectory,
        old: borrowing SecretKey,
        newPassphrase: String?,
        scratch: String
    ) throws -> [Snapshot] {
        var snapshots: [Snapshot] = []
        try keys.rotateMaster(
            from: old,
            newPassphrase: newPassphrase.map { SecretBytes(copying: Array($0.utf8)) },
            cost: cheap,
            afterStep: { step in
                do {
                    let copy = try copyDirectory(keys.path, into: scratch, as: "step\(snapshots.count)")
                    snapshots.append(Snapshot(step: step, directory: copy, names: SecureFile.list(copy)))
                } catch {
                    Issue.record("cannot copy the key directory after \(step): \(error)")
                }
            }
        )
        return snapshots
    }

    /// A key set with more than one version of a scope (support v1, v2) and of the audit key.
    static func makeKeySet(in scratch: String, passphrase: String?) throws -> KeyDirectory {
        let keys = KeyDirectory(path: "\(scratch)/keys")
        try keys.initialise(passphrase: passphrase.map { SecretBytes(copying: Array($0.utf8)) }, cost: cheap)
        let master = try keys.loadMasterKey(passphrase: passphrase.map { SecretBytes(copying: Array($0.utf8)) })
        try keys.rotate(.support, master: master)
        try keys.createKeyPair(.audit, version: 2, master: master)
        return keys
    }

    static func sealedNames(_ keys: KeyDirectory) -> [String] {
        SecureFile.list(keys.path).filter { $0.hasSuffix(".sealed") }
    }

    /// Opens the directory with `expected` (and checks it does not open with `other`): the master
    /// file or passphrase gives exactly `expected`'s bytes, and every private key file opens and
    /// matches its public half.
    fileprivate static func expectOpens(
        _ dir: String,
        with expected: ExpectedMaster,
        not other: ExpectedMaster,
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let keys = KeyDirectory(path: dir)
        let names = SecureFile.list(dir)
        do {
            switch expected.source {
            case .keyFile:
                #expect(names.contains("master.key") && !names.contains("master.kdf"), "\(what): \(names)", sourceLocation: sourceLocation)
                #expect(
                    fileContents(keys.masterKeyFile) == expected.bytes,
                    "\(what): master.key is not the \(expected)",
                    sourceLocation: sourceLocation
                )
                let master = try keys.loadMasterKey(passphrase: nil)
                try keys.verifyPrivateKeys(master: master)
            case .passphrase(let p):
                #expect(names.contains("master.kdf") && !names.contains("master.key"), "\(what): \(names)", sourceLocation: sourceLocation)
                let master = try keys.loadMasterKey(passphrase: SecretBytes(copying: Array(p.utf8)))
                #expect(
                    master.secret.unsafeExportedBytes() == expected.bytes,
                    "\(what): the passphrase gives another key",
                    sourceLocation: sourceLocation
                )
                try keys.verifyPrivateKeys(master: master)
            }
        } catch {
            Issue.record("\(what): the directory does not open with the \(expected): \(error)", sourceLocation: sourceLocation)
        }
        do {
            let wrong = try SecretKey(SecretBytes(copying: other.bytes))
            try keys.verifyPrivateKeys(master: wrong)
            Issue.record("\(what): the directory also opens with the \(other)", sourceLocation: sourceLocation)
        } catch {}
        #expect(!names.contains { $0.hasSuffix(".next") }, "\(what): .next files left: \(names)", sourceLocation: sourceLocation)
        #expect(!names.contains("rotate-master.commit"), "\(what): the commit marker is left", sourceLocation: sourceLocation)
    }

    /// For every snapshot: recovery leaves exactly the old master before "committed" and exactly the
    /// new one from "committed" on; running recovery again changes nothing.
    fileprivate static func expectEverySnapshotRecovers(_ snapshots: [Snapshot], old: ExpectedMaster, new: ExpectedMaster) throws {
        let committed = try #require(snapshots.firstIndex { $0.step == "committed" })
        for (i, s) in snapshots.enumerated() {
            let keys = KeyDirectory(path: s.directory)
            try keys.recoverInterruptedRotation()
            let (expected, other) = i < committed ? (old, new) : (new, old)
            expectOpens(s.directory, with: expected, not: other, "crash after '\(s.step)'")
            let recovered = contents(of: s.directory)
            try keys.recoverInterruptedRotation()
            #expect(contents(of: s.directory) == recovered, "recovery after '\(s.step)' is not idempotent")
        }
    }

    @Test("random → random: a crash after any step recovers to exactly one master (old before the commit marker, new from it on)")
    func randomToRandomCrashAtEveryStep() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let sealed = Self.sealedNames(keys)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)

        let snapshots = try Self.rotateTakingSnapshots(keys, old: old, newPassphrase: nil, scratch: scratch.path)

        let newBytes = Self.fileContents(keys.masterKeyFile)
        #expect(newBytes.count == 32 && newBytes != oldBytes)
        let sealedInOrder = KeyKind.all.flatMap { kind in keys.versions(of: kind).map { "sealed \(kind.name).v\($0).sealed" } }
        #expect(Set(sealedInOrder) == Set(sealed.map { "sealed \($0)" }))
        #expect(snapshots.map(\.step) == ["master written"] + sealedInOrder + ["committed", "done"], "\(snapshots.map(\.step))")
        // The crash points really are half-way states: .next files before the commit, the marker at it.
        for s in snapshots.dropLast() {
            #expect(s.names.contains { $0.hasSuffix(".next") }, "after '\(s.step)': \(s.names)")
        }
        #expect(snapshots.first { $0.step == "committed" }?.names.contains("rotate-master.commit") == true)
        #expect(snapshots.last?.names.contains { $0.hasSuffix(".next") || $0 == "rotate-master.commit" } == false)

        let oldM = ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old master")
        let newM = ExpectedMaster(bytes: newBytes, source: .keyFile, name: "new master")
        try Self.expectEverySnapshotRecovers(snapshots, old: oldM, new: newM)
        Self.expectOpens(keys.path, with: newM, not: oldM, "the rotated directory")
    }

    @Test("a crash half-way through rolling forward (some .next files already renamed) still recovers to the new master")
    func crashDuringRollForwardRecovers() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)
        let snapshots = try Self.rotateTakingSnapshots(keys, old: old, newPassphrase: nil, scratch: scratch.path)
        let newBytes = Self.fileContents(keys.masterKeyFile)
        let committed = try #require(snapshots.first { $0.step == "committed" })
        let marker = String(decoding: Self.fileContents("\(committed.directory)/rotate-master.commit"), as: UTF8.self)
        let moves = marker.split(separator: "\n").filter { $0.hasPrefix("move ") }.map { String($0.dropFirst(5)) }
        #expect(moves.first == "master.key" && moves.count == Self.sealedNames(keys).count + 1, "\(moves)")

        for done in 0...moves.count {
            let copy = try Self.copyDirectory(committed.directory, into: scratch.path, as: "rolled\(done)")
            for name in moves.prefix(done) {
                #expect(rename("\(copy)/\(name).next", "\(copy)/\(name)") == 0)
            }
            try KeyDirectory(path: copy).recoverInterruptedRotation()
            Self.expectOpens(
                copy,
                with: ExpectedMaster(bytes: newBytes, source: .keyFile, name: "new master"),
                not: ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old master"),
                "crash after \(done) of \(moves.count) renames"
            )
        }
    }

    @Test("passphrase → random: master.kdf until the commit, then master.key and no master.kdf; every step recovers")
    func passphraseToRandomCrashAtEveryStep() throws {
        let scratch = try RotationScratch()
        let passphrase = "correct horse battery staple"
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: passphrase)
        #expect(keys.usesPassphrase)
        let old = try keys.loadMasterKey(passphrase: SecretBytes(copying: Array(passphrase.utf8)))
        let oldBytes = old.secret.unsafeExportedBytes()

        let snapshots = try Self.rotateTakingSnapshots(keys, old: old, newPassphrase: nil, scratch: scratch.path)

        #expect(!keys.usesPassphrase)
        let newBytes = Self.fileContents(keys.masterKeyFile)
        #expect(newBytes.count == 32 && newBytes != oldBytes)
        let committed = try #require(snapshots.first { $0.step == "committed" })
        let marker = String(decoding: Self.fileContents("\(committed.directory)/rotate-master.commit"), as: UTF8.self)
        #expect(marker.contains("move master.key\n") && marker.contains("remove master.kdf\n"), "\(marker)")
        let oldM = ExpectedMaster(bytes: oldBytes, source: .passphrase(passphrase), name: "old passphrase master")
        let newM = ExpectedMaster(bytes: newBytes, source: .keyFile, name: "new random master")
        try Self.expectEverySnapshotRecovers(snapshots, old: oldM, new: newM)
        Self.expectOpens(keys.path, with: newM, not: oldM, "the rotated directory")
    }

    @Test("random → passphrase: master.key until the commit, then master.kdf (new passphrase) and no master.key; every step recovers")
    func randomToPassphraseCrashAtEveryStep() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)
        let passphrase = "a brand new master passphrase"

        let snapshots = try Self.rotateTakingSnapshots(keys, old: old, newPassphrase: passphrase, scratch: scratch.path)

        #expect(keys.usesPassphrase)
        #expect(!SecureFile.list(keys.path).contains("master.key"))
        let new = try keys.loadMasterKey(passphrase: SecretBytes(copying: Array(passphrase.utf8)))
        let newBytes = new.secret.unsafeExportedBytes()
        #expect(newBytes != oldBytes)
        // The wrong passphrase is refused, naming master.kdf.
        #expect(throws: KeyFileError.self) {
            _ = try keys.loadMasterKey(passphrase: SecretBytes(copying: Array("not the passphrase".utf8)))
        }
        let oldM = ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old random master")
        let newM = ExpectedMaster(bytes: newBytes, source: .passphrase(passphrase), name: "new passphrase master")
        try Self.expectEverySnapshotRecovers(snapshots, old: oldM, new: newM)
        Self.expectOpens(keys.path, with: newM, not: oldM, "the rotated directory")
    }

    @Test("rotateMaster run again on a directory left by a crash before the commit (.next files, no marker) completes with a fresh master")
    func rotateAgainAfterCrashBeforeCommit() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)
        let snapshots = try Self.rotateTakingSnapshots(keys, old: old, newPassphrase: nil, scratch: scratch.path)
        let firstNewBytes = Self.fileContents(keys.masterKeyFile)
        let crashed = try #require(snapshots.filter { $0.step.hasPrefix("sealed ") }.dropFirst(2).first)
        #expect(crashed.names.contains { $0.hasSuffix(".next") } && !crashed.names.contains("rotate-master.commit"), "\(crashed.names)")

        let again = KeyDirectory(path: crashed.directory)
        let stillOld = try again.loadMasterKey(passphrase: nil)
        try again.rotateMaster(from: stillOld, newPassphrase: nil, cost: Self.cheap)

        let secondNewBytes = Self.fileContents(again.masterKeyFile)
        #expect(secondNewBytes != oldBytes && secondNewBytes != firstNewBytes)
        Self.expectOpens(
            crashed.directory,
            with: ExpectedMaster(bytes: secondNewBytes, source: .keyFile, name: "second new master"),
            not: ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old master"),
            "rotated again after '\(crashed.step)'"
        )
    }

    @Test("rotateMaster on a directory with a commit marker rolls forward first; the stale old master then fails without breaking anything")
    func rotateWithStaleMasterAfterCommittedCrashBreaksNothing() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)
        let snapshots = try Self.rotateTakingSnapshots(keys, old: old, newPassphrase: nil, scratch: scratch.path)
        let newBytes = Self.fileContents(keys.masterKeyFile)
        let committed = try #require(snapshots.first { $0.step == "committed" })

        // master.key still holds the old master until recovery runs: a caller that loads it first holds a stale key.
        let dir = KeyDirectory(path: committed.directory)
        let stale = try dir.loadMasterKey(passphrase: nil)
        #expect(throws: (any Error).self) { try dir.rotateMaster(from: stale, newPassphrase: nil, cost: Self.cheap) }
        try dir.recoverInterruptedRotation()
        Self.expectOpens(
            committed.directory,
            with: ExpectedMaster(bytes: newBytes, source: .keyFile, name: "new master"),
            not: ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old master"),
            "after the refused second rotation"
        )
    }

    @Test("recovery run by someone else while a rotation is in progress (the service's key reloader, `keys status`) does not undo it")
    func recoveryDuringRotationLeavesItAlone() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)
        var interfered: [String] = []
        try keys.rotateMaster(
            from: old,
            newPassphrase: nil,
            cost: Self.cheap,
            afterStep: { step in
                // Half-way: the master and some private keys are re-sealed (.next), the rest not yet.
                guard step == "sealed review.v1.sealed" else { return }
                // Another process's view of the same directory, e.g. `hearth serve`'s KeyReloader
                // (it runs recovery whenever the directory changes) or `hearth keys status`.
                do {
                    try KeyDirectory(path: keys.path).recoverInterruptedRotation()
                } catch {
                    Issue.record("recovery during the rotation threw: \(error)")
                }
                interfered.append(step)
            }
        )
        #expect(interfered == ["sealed review.v1.sealed"])
        let newBytes = Self.fileContents(keys.masterKeyFile)
        #expect(newBytes != oldBytes)
        Self.expectOpens(
            keys.path,
            with: ExpectedMaster(bytes: newBytes, source: .keyFile, name: "new master"),
            not: ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old master"),
            "rotation with concurrent recovery"
        )
    }

    @Test("a second rotateMaster while one is running is refused, naming the key directory, and the first completes")
    func concurrentRotationIsRefused() throws {
        let scratch = try RotationScratch()
        let keys = try Self.makeKeySet(in: scratch.path, passphrase: nil)
        let oldBytes = Self.fileContents(keys.masterKeyFile)
        let old = try keys.loadMasterKey(passphrase: nil)
        var refusal: KeyFileError?
        try keys.rotateMaster(
            from: old,
            newPassphrase: nil,
            cost: Self.cheap,
            afterStep: { step in
                guard step == "master written" else { return }
                do {
                    let other = KeyDirectory(path: keys.path)
                    let again = try other.loadMasterKey(passphrase: nil)
                    try other.rotateMaster(from: again, newPassphrase: nil, cost: Self.cheap)
                } catch let e as KeyFileError {
                    refusal = e
                } catch {
                    Issue.record("unexpected error: \(error)")
                }
            }
        )
        #expect(refusal?.path == keys.path, "\(String(describing: refusal))")
        let newBytes = Self.fileContents(keys.masterKeyFile)
        Self.expectOpens(
            keys.path,
            with: ExpectedMaster(bytes: newBytes, source: .keyFile, name: "new master"),
            not: ExpectedMaster(bytes: oldBytes, source: .keyFile, name: "old master"),
            "after the refused concurrent rotation"
        )
    }
}
