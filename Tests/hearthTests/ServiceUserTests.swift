import Foundation
import HearthApp
import HearthCore
import HearthTestSupport
import Testing

/// The casework passphrase is read once and never stays in the environment; the data directory
/// is shared with the process's own group only when `--shared-data-group` says so
/// (deploy/systemd: separate intake and casework users).
@Suite("service users: passphrase read once, shared data group", .timeLimit(.minutes(2)))
struct ServiceUserTests {
    static let passphrase = "correct horse battery staple \(UInt32.random(in: 0...UInt32.max))"

    /// `hearth keys init --passphrase-env` into `<work>/keys`; returns the directory.
    static func makePassphraseKeySet(in work: TemporaryDirectory) async throws -> String {
        let dir = work.file("keys")
        let variable = "HEARTH_TEST_INIT_\(UInt32.random(in: 0...UInt32.max))"
        let outcome = try await ChildProcess.run(
            ["keys", "init", "--dir", dir, "--passphrase-env", variable], in: work.path, environment: [variable: passphrase],
            timeout: .seconds(45))
        guard outcome.succeeded else { throw ChildProcessError(description: "keys init failed: \(outcome)") }
        return dir
    }

    /// The child's environment as the kernel shows it (`/proc/PID/environ`): the original block.
    static func environ(of pid: pid_t) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")))
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard n.count <= haystack.count else { return false }
        return (0...(haystack.count - n.count)).contains { haystack[$0..<($0 + n.count)].elementsEqual(n) }
    }

    @Test("--passphrase-env: the variable is wiped from the running process's environment, and key reload after `keys rotate` still works")
    func passphraseEnvIsWipedAndReloadStillWorks() async throws {
        let work = try TemporaryDirectory("hearth-passphrase-env")
        let keys = try await Self.makePassphraseKeySet(in: work)
        let variable = "HEARTH_TEST_PASSPHRASE_\(UInt32.random(in: 0...UInt32.max))"
        try await withHearth(
            ["serve", "--keys", keys, "--data", work.file("data"), "--intake-port", "0", "--casework-port", "0", "--passphrase-env", variable],
            in: work.path, environment: [variable: Self.passphrase]
        ) { server, _ in
            let environment = try Self.environ(of: server.pid)
            #expect(Self.contains(environment, "PATH="), "the block is readable and holds the other variables")
            #expect(!Self.contains(environment, "\(variable)="), "the variable is gone from /proc/PID/environ")
            #expect(!Self.contains(environment, Self.passphrase), "the passphrase bytes are gone from /proc/PID/environ")

            // Rotate: the casework side re-opens every key with the held passphrase (the
            // environment no longer has it) and loads support v2's private key.
            let rotate = try await ChildProcess.run(
                ["keys", "rotate", "--dir", keys, "--data", work.file("data"), "--scope", "support", "--passphrase-env", variable],
                in: work.path, environment: [variable: Self.passphrase], timeout: .seconds(45))
            #expect(rotate.succeeded && rotate.stdout.contains("support v2 is now primary"), "\(rotate)")
            _ = try await KeyLifecycleTests.waitForReload(server, after: 0, primary: "support.v2", timeout: .seconds(30))
            #expect(!server.stderr.text.contains("key reload failed"), "\(server.stderr.text)")
            #expect(!server.stderr.text.contains(Self.passphrase), "the passphrase is never logged")
        }
    }

    @Test("--passphrase-credential reads $CREDENTIALS_DIRECTORY/NAME (one trailing newline dropped) and starts")
    func passphraseCredentialStarts() async throws {
        let work = try TemporaryDirectory("hearth-passphrase-credential")
        let keys = try await Self.makePassphraseKeySet(in: work)
        let credentials = work.file("credentials")
        #expect(mkdir(credentials, 0o700) == 0)
        #expect(
            FileManager.default.createFile(
                atPath: "\(credentials)/hearth-master-passphrase", contents: Data("\(Self.passphrase)\n".utf8), attributes: [.posixPermissions: 0o400]
            ))
        try await withHearth(
            [
                "serve", "--keys", keys, "--data", work.file("data"), "--intake-port", "0", "--casework-port", "0",
                "--passphrase-credential", "hearth-master-passphrase",
            ],
            in: work.path, environment: ["CREDENTIALS_DIRECTORY": credentials]
        ) { server, listener in
            #expect(server.stdoutLines.contains { $0.hasPrefix("casework: https://") }, "\(server.stdout.text)")
            try await withClient(listener) { client in
                let reply = try await client.send(.GET, "/healthz")
                #expect(reply.status == 200)
            }
        }
    }

    @Test("a missing passphrase credential refuses to start with exit 78, naming the file")
    func missingCredentialRefuses() async throws {
        let work = try TemporaryDirectory("hearth-passphrase-credential")
        let keys = try await Self.makePassphraseKeySet(in: work)
        let credentials = work.file("credentials")
        #expect(mkdir(credentials, 0o700) == 0)
        let outcome = try await ChildProcess.run(
            [
                "casework", "--keys", keys, "--data", work.file("data"), "--casework-port", "0", "--passphrase-credential",
                "hearth-master-passphrase",
            ],
            in: work.path, environment: ["CREDENTIALS_DIRECTORY": credentials], timeout: .seconds(30))
        #expect(outcome.exitedNormally && outcome.status == 78, "\(outcome)")
        #expect(outcome.stderr.contains("'\(credentials)/hearth-master-passphrase'"), "names the file: \(outcome.stderr)")
        #expect(outcome.stderr.contains("the passphrase credential is missing"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("casework:"), "it never listens: \(outcome.stdout)")
    }

    @Test("a group-shared data directory (0770) is refused without --shared-data-group")
    func sharedDataDirectoryRefusedWithoutOption() throws {
        let work = try TemporaryDirectory()
        let data = work.file("data")
        #expect(mkdir(data, 0o700) == 0 && chmod(data, 0o770) == 0)
        #expect(throws: KeyFileError.self) { try DataDirectory.prepare(data) }
        do {
            try DataDirectory.prepare(data)
        } catch {
            #expect("\(error)".contains("open to group or others") && "\(error)".contains("--shared-data-group"), "\(error)")
        }
    }

    @Test("with --shared-data-group: a directory open to others, or a database file open to others, is still refused")
    func sharedDataDirectoryStillRefusesOthers() throws {
        let work = try TemporaryDirectory()
        let data = work.file("data")
        #expect(mkdir(data, 0o700) == 0 && chmod(data, 0o775) == 0)
        #expect(throws: KeyFileError.self) { try DataDirectory.prepare(data, sharedGroup: true) }
        #expect(chmod(data, 0o2770) == 0)
        let database = "\(data)/hearth.sqlite"
        #expect(FileManager.default.createFile(atPath: database, contents: Data()) && chmod(database, 0o664) == 0)
        do {
            try DataDirectory.prepare(data, sharedGroup: true)
            Issue.record("a database file open to others was accepted")
        } catch {
            #expect("\(error)".contains("'\(database)'") && "\(error)".contains("open to others"), "\(error)")
        }
    }

    @Test("with --shared-data-group: a directory shared with another group than the process's is refused")
    func sharedDataDirectoryOfAnotherGroupRefused() throws {
        let work = try TemporaryDirectory()
        let data = work.file("data")
        #expect(mkdir(data, 0o700) == 0 && chmod(data, 0o770) == 0)
        // Only root may give a directory to a group it is not in.
        guard geteuid() == 0 else { return }
        #expect(chown(data, geteuid(), getegid() &+ 4242) == 0)
        do {
            try DataDirectory.prepare(data, sharedGroup: true)
            Issue.record("a directory shared with another group was accepted")
        } catch {
            #expect("\(error)".contains("not this process's group"), "\(error)")
        }
    }

    @Test("`serve --dev --shared-data-group`: the data directory is made 2770 and the database files 0660; key files stay 0600")
    func sharedDataGroupStartsAndSharesTheDatabase() async throws {
        let work = try TemporaryDirectory("hearth-shared-data")
        let data = work.file("data")
        try await withHearth(
            ["serve", "--dev", "--data", data, "--shared-data-group", "--intake-port", "0", "--casework-port", "0"], in: work.path
        ) { _, listener in
            try await withClient(listener) { client in
                let reply = try await client.send(
                    .POST, "/api/v1/contact-requests", json: sampleRequest(canary: "shared", consents: [["scope": "support"]]))
                #expect(reply.status == 201, "\(reply.text)")
            }
            #expect(mode(data) == 0o2770)
            #expect(mode("\(data)/hearth.sqlite") == 0o660)
            if mode("\(data)/hearth.sqlite-wal") != nil { #expect(mode("\(data)/hearth.sqlite-wal") == 0o660) }
            for name in try FileManager.default.contentsOfDirectory(atPath: work.file("keys")) {
                #expect(mode(work.file("keys/\(name)")) == 0o600, "\(name)")
            }
        }
    }
}
