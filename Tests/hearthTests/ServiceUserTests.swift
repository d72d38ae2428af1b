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
}
