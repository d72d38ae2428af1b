import ArgumentParser
import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthKeys
import HearthStore
import Logging

extension HearthMaintenance {
    /// Opens keys and store for a maintenance command; a key problem exits 78 naming the file.
    static func open(_ locations: Locations, passphrase: PassphraseOption) async throws -> HearthMaintenance {
        do {
            return try await HearthMaintenance.open(try locations.settings(passphrase: passphrase))
        } catch let e as KeyFileError {
            FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
            throw ExitCode(78)
        }
    }
}

/// Runs `body`, turning a ``Problem`` into a plain message and exit status 1.
func reportingProblems(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let p as Problem {
        FileHandle.standardError.write(Data("hearth: \(p.message)\n".utf8))
        throw ExitCode(1)
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct Staff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, disable and reset staff accounts.", subcommands: [Add.self, List.self, Disable.self, Reset.self])

    struct Common: ParsableArguments {
        @OptionGroup var locations: Locations
        @OptionGroup var passphrase: PassphraseOption
    }

    static func show(_ c: NewCredentials, json: Bool) throws {
        if json {
            try printJSON(c)
        } else {
            print("username:     \(c.username)")
            print("role:         \(c.role)")
            print("password:     \(c.password)   (one-time: it must be changed at first sign-in)")
            print("TOTP secret:  \(c.totpSecret)")
            print("TOTP URI:     \(c.otpauthURI)")
            print("These are shown once. Hand them over in person or through a channel you trust.")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account; prints a one-time password and a TOTP secret once.")
        @OptionGroup var common: Common
        @Option var username: String
        @Option(help: "caseworker, reviewer, police-liaison, prosecution-liaison, supervisor, privacy-officer or admin.")
        var role: String
        @Flag var json = false

        func validate() throws {
            guard Role(rawValue: role) != nil else {
                throw ValidationError("--role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let role = Role(rawValue: role)!
            let m = try await HearthMaintenance.open(common.locations, passphrase: common.passphrase)
            try await reportingProblems {
                try Staff.show(try await m.staffService().add(username: username, role: role, actor: "cli"), json: json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts (never credentials).")
        @OptionGroup var common: Common
        @Flag var json = false

        struct Line: Encodable {
            let username: String
            let role: String
            let pseudonym: String
            let disabled: Bool
            let mustChangePassword: Bool
            let locked: Bool
        }

        func run() async throws {
            let m = try await HearthMaintenance.open(common.locations, passphrase: common.passphrase)
            let now = m.clock.unixSeconds()
            let lines = try await m.store.allStaff().map {
                Line(
                    username: $0.identity.username, role: $0.identity.role.rawValue, pseudonym: $0.identity.pseudonym, disabled: $0.disabled,
                    mustChangePassword: $0.mustChangePassword, locked: $0.lockedUntil > now)
            }
            if json {
                try printJSON(["staff": lines])
            } else {
                for l in lines {
                    let flags = [l.disabled ? "disabled" : nil, l.locked ? "locked" : nil, l.mustChangePassword ? "must change password" : nil]
                        .compactMap { $0 }
                    print("\(l.username)\t\(l.role)\t\(l.pseudonym)\t\(flags.joined(separator: ", "))")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account; its sessions end at once.")
        @OptionGroup var common: Common
        @Argument var username: String

        func run() async throws {
            let m = try await HearthMaintenance.open(common.locations, passphrase: common.passphrase)
            try await reportingProblems {
                try await m.staffService().disable(username: username, actor: "cli")
                print("disabled \(username); their sessions have ended")
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a new one-time password and TOTP secret; ends the account's sessions.")
        @OptionGroup var common: Common
        @Argument var username: String
        @Flag var json = false

        func run() async throws {
            let m = try await HearthMaintenance.open(common.locations, passphrase: common.passphrase)
            try await reportingProblems {
                try Staff.show(try await m.staffService().reset(username: username, actor: "cli"), json: json)
            }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify the audit trail and sign checkpoints.", subcommands: [Verify.self, Checkpoint.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain and signed checkpoints; exits non-zero naming the first altered, missing or re-ordered entry.")
        @OptionGroup var common: Staff.Common

        func run() async throws {
            let settings = try common.locations.settings()
            guard let store = try await HearthMaintenance.openStore(settings, create: false) else {
                FileHandle.standardError.write(
                    Data(
                        "hearth: there is no database at '\(settings.databasePath)'\nhint: pass --data with the data directory of the service\n".utf8)
                )
                throw ExitCode(1)
            }
            let keys = KeyDirectory(path: settings.keys)
            var publicKeys: [UInt32: Ed25519PublicKey] = [:]
            for v in keys.versions(of: .audit) { publicKeys[v] = try keys.loadAuditPublicKey(version: v) }
            // Read a page at a time: memory stays flat however long the trail is.
            let verification = try await AuditChain.verify(store, publicKeys: publicKeys)
            if let problem = verification.problem {
                FileHandle.standardError.write(Data("hearth: audit trail FAILED verification: \(problem.description)\n".utf8))
                print("FAILED at entry \(problem.seq): \(problem.kind)")
                throw ExitCode(1)
            }
            print(
                "ok: \(verification.entries) entries, \(verification.checkpoints) signed checkpoints, last checkpoint at entry \(verification.lastCheckpoint)"
            )
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a checkpoint of the current head and print it, to keep elsewhere.")
        @OptionGroup var common: Staff.Common
        @Flag var json = false

        func run() async throws {
            let m = try await HearthMaintenance.open(common.locations, passphrase: common.passphrase)
            let casework = m.caseworkService()
            try await casework.checkpointAudit(minimumNewEntries: 1)
            guard let c = try await m.store.lastAuditCheckpoint() else {
                print("the audit trail is empty")
                return
            }
            if json {
                try printJSON(c)
            } else {
                let hash = AuditCheckpoint.hex(c.hash)
                let signed = rfc3339(unixSeconds: c.at)
                print("entry \(c.seq) hash \(hash)\nsigned \(signed) with audit key v\(c.keyVersion): \(AuditCheckpoint.hex(c.signature))")
            }
        }
    }
}

struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retention: withdraw expired consents, then crypto-shred records with no live consent for the retention period.",
        subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run retention now (the service also runs it every minute).")
        @OptionGroup var locations: Locations
        @OptionGroup var retention: RetentionOption

        func run() async throws {
            var settings = try locations.settings()
            settings.retentionDays = try retention.days(locations)
            let retentionDays = settings.retentionDays
            guard let service = try await HearthMaintenance.retention(settings) else {
                FileHandle.standardError.write(Data("hearth: there is no database at '\(settings.databasePath)'\n".utf8))
                throw ExitCode(1)
            }
            let expired = try await service.sweepExpiredConsents()
            let shredded = try await service.applyRetention()
            print("\(expired) expired consents withdrawn; \(shredded) records with no live consent for \(retentionDays) days crypto-shredded")
        }
    }
}
