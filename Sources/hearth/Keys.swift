import ArgumentParser
import Foundation
import HearthCore
import HearthCrypto
import HearthHTTP

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and inspect Hearth's keys.", subcommands: [Init.self, Status.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the master key, every scope key pair, the audit key and a development TLS certificate.")

        @Option(help: "Key directory to create (0700).")
        var dir: String = "keys"

        @Option(name: .customLong("passphrase-env"), help: "Derive the master key from the passphrase in this environment variable (Argon2id) instead of writing master.key.")
        var passphraseEnv: String?

        @Flag(name: .customLong("no-tls"), help: "Do not create a development TLS certificate (bring your own tls.crt and tls.key).")
        var noTLS = false

        func run() async throws {
            umask(0o077)
            let keys = KeyDirectory(path: dir)
            var passphrase: SecretBytes?
            if let passphraseEnv {
                guard let value = ProcessInfo.processInfo.environment[passphraseEnv], value.utf8.count >= 12 else {
                    throw ValidationError("the environment variable \(passphraseEnv) must hold a passphrase of at least 12 characters")
                }
                passphrase = SecretBytes(copying: Array(value.utf8))
            }
            do {
                guard keys.isEmpty else {
                    throw KeyFileError(path: dir, reason: "it already holds keys", hint: "keys are never overwritten; choose an empty directory")
                }
                try keys.initialise(passphrase: passphrase)
                if !noTLS { try HearthTLS.createDevelopmentCertificate(keys: keys) }
            } catch let e as KeyFileError {
                FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
                throw ExitCode(78)
            }
            print("created keys in \(dir)/")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, versions and problems without opening any private key.")

        @Option(help: "Key directory.")
        var dir: String = "keys"

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let entries = KeyDirectory(path: dir).status()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(["keys": entries]), as: UTF8.self))
            } else {
                for e in entries {
                    let version = e.version.map { "v\($0)" } ?? "-"
                    let state = e.problems.isEmpty ? e.state : "PROBLEM"
                    print("\(e.key.padding(toLength: 12, withPad: " ", startingAt: 0)) \(version.padding(toLength: 5, withPad: " ", startingAt: 0)) \(state)")
                    for p in e.problems { print("    \(p)") }
                }
            }
            if entries.contains(where: { !$0.problems.isEmpty }) { throw ExitCode(1) }
        }
    }
}
