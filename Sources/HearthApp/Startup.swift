import Foundation
import HearthCore
public import HearthCrypto
import HearthHTTP
public import HearthKeys
public import Logging

#if canImport(Glibc)
import Glibc
#endif

extension PassphraseSource {
    /// The passphrase for `keys`, or nil when the keys do not use one. Fails closed, naming the
    /// file, when they do and none was given. A source not yet read is read now (see ``readOnce()``).
    public func passphrase(for keys: KeyDirectory) throws -> SecretBytes? {
        guard keys.usesPassphrase else { return nil }
        guard case .held(let held) = try readOnce() else {
            throw KeyFileError(
                path: keys.masterKDFFile, reason: "the master key is passphrase-protected and no passphrase was given",
                hint: "pass --passphrase-credential NAME (a systemd credential) or --passphrase-env VAR")
        }
        return held.copy()
    }

    /// Reads the passphrase once and returns it ``held(_:)`` in zeroizing memory; call it at start
    /// and keep the result. An environment variable's bytes are overwritten with zeros and the
    /// variable is removed from the environment, so neither `/proc/PID/environ` nor a later
    /// reader finds it. An unset or empty variable is left as it is (a key file needs no
    /// passphrase). A credential file that is missing, unreadable or empty throws
    /// ``KeyFileError`` naming the file.
    public func readOnce() throws -> PassphraseSource {
        switch self {
        case .none, .held: return self
        case .environment(let name): return PassphraseReader.takeEnvironment(name).map { PassphraseSource.held($0) } ?? self
        case .credential(let name): return .held(try PassphraseReader.readCredential(name))
        }
    }
}

/// Reads a passphrase from the environment (wiping it) or from a systemd credential file.
enum PassphraseReader {
    /// The variable's value in zeroizing memory, after which the `NAME=value` bytes are zeroed
    /// and the variable unset; nil when it is unset or empty.
    static func takeEnvironment(_ name: String) -> HeldPassphrase? {
        guard !name.isEmpty, !name.contains("="), let value = getenv(name) else { return nil }
        let length = strlen(value)
        defer {
            // The entry `NAME=value` is one string in the environment block; zero all of it
            // (the original block is what /proc/PID/environ shows), after unsetting the name.
            let entry = value - (name.utf8.count + 1)
            unsetenv(name)
            memset(entry, 0, name.utf8.count + 1 + length)
        }
        guard length > 0 else { return nil }
        let secret = SecretBytes(zeroedCount: length)
        secret.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: value, count: length)) }
        return HeldPassphrase(secret, origin: "environment variable \(name)")
    }

    /// `$CREDENTIALS_DIRECTORY/NAME`, without one trailing newline; `what` names it in errors.
    static func readCredential(_ name: String, what: String = "passphrase") throws -> HeldPassphrase {
        guard let directory = getenv("CREDENTIALS_DIRECTORY").map({ String(cString: $0) }), !directory.isEmpty else {
            throw KeyFileError(
                path: "$CREDENTIALS_DIRECTORY/\(name)", reason: "no credentials directory (CREDENTIALS_DIRECTORY is not set)",
                hint: "start the service with LoadCredentialEncrypted=\(name):… (or LoadCredential=) in its systemd unit")
        }
        let path = "\(directory)/\(name)"
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw KeyFileError(path: path, reason: "not a credential name", hint: "pass the name given to LoadCredentialEncrypted=")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            throw KeyFileError(
                path: path, reason: errno == ENOENT ? "the \(what) credential is missing" : "cannot read the \(what) credential",
                hint: "check LoadCredentialEncrypted=\(name):… in the unit and that the file was made with `systemd-creds encrypt`")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size > 0, st.st_size <= 4096 else {
            throw KeyFileError(path: path, reason: "the \(what) credential is empty, too long or not a file", hint: "re-create the credential")
        }
        let buffer = SecretBytes(zeroedCount: Int(st.st_size))
        let got = buffer.withUnsafeMutableBytes { out -> Int in
            var done = 0
            while done < out.count {
                let n = read(fd, out.baseAddress! + done, out.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        let newline = buffer.withUnsafeBytes { got > 0 && $0[got - 1] == 0x0A ? 1 : 0 }
        guard got == buffer.count, got - newline > 0 else {
            throw KeyFileError(path: path, reason: "the \(what) credential is empty or could not be read", hint: "re-create the credential")
        }
        guard newline == 1 else { return HeldPassphrase(buffer, origin: "credential file \(path)") }
        let trimmed = SecretBytes(zeroedCount: got - 1)
        buffer.withUnsafeBytes { source in
            trimmed.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<(got - 1)])) }
        }
        return HeldPassphrase(trimmed, origin: "credential file \(path)")
    }
}

/// Development keys: made on first run of `serve --dev`, never for real people.
public enum DevelopmentKeys {
    /// Creates development keys and a self-signed certificate where none exist yet, and says so
    /// through `logger` (so `--log-format json` stays one object per line).
    public static func ensure(_ keys: KeyDirectory, logger: Logger? = nil) throws {
        if keys.isEmpty {
            try keys.initialise(passphrase: nil)
            logger?.notice("created development keys (never use them in production)", metadata: ["keys.path": "\(keys.path)"])
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: keys.tlsCertificateFile) && !fm.fileExists(atPath: keys.tlsKeyFile) {
            try HearthTLS.createDevelopmentCertificate(keys: keys)
            logger?.notice("created a self-signed development certificate", metadata: ["tls.certificate": "\(keys.tlsCertificateFile)"])
        }
    }
}

/// The data directory: created 0700, refused when group or others can reach it — unless it is
/// shared with this process's own group on purpose (`--shared-data-group`).
public enum DataDirectory {
    /// The database files a shared data directory holds (the WAL and shared-memory files take the
    /// database file's mode when SQLite creates them).
    static let databaseFiles = ["hearth.sqlite", "hearth.sqlite-wal", "hearth.sqlite-shm"]

    /// Creates the data directory (0700) and refuses one, or a database file in it, that group or
    /// others can reach. With `sharedGroup`, group access is allowed when the group is this
    /// process's own (effective) group: a new directory is made 2770 and a new database file
    /// 0660, so the intake and casework users of that group both open it. Others are always
    /// refused. Key files are not affected: they stay 0600.
    public static func prepare(_ path: String, sharedGroup: Bool = false) throws {
        if mkdir(path, sharedGroup ? 0o770 : 0o700) == 0 {
            if sharedGroup && chmod(path, 0o2770) != 0 {
                throw KeyFileError(path: path, reason: "cannot make the data directory group-shared", hint: "run `chmod 2770 \(path)`")
            }
        } else if errno != EEXIST {
            throw KeyFileError(path: path, reason: "cannot create the data directory", hint: "check the parent directory")
        }
        try check(path, what: "the data directory", sharedGroup: sharedGroup, fix: sharedGroup ? "chmod 2770" : "chmod 700")
        // Without sharing, the 0700 directory alone keeps the files private (as before).
        guard sharedGroup else { return }
        for name in databaseFiles {
            let file = "\(path)/\(name)"
            var st = stat()
            guard lstat(file, &st) == 0 else { continue }
            try check(file, what: "the database file", sharedGroup: true, fix: "chmod 660")
        }
        try createSharedDatabase("\(path)/\(databaseFiles[0])")
    }

    /// Refuses `path` when others can reach it, or group can without `sharedGroup`, or its group is
    /// not this process's group.
    static func check(_ path: String, what: String, sharedGroup: Bool, fix: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw KeyFileError(path: path, reason: "cannot read \(what)", hint: "check the parent directory") }
        guard st.st_mode & 0o007 == 0 else {
            throw KeyFileError(path: path, reason: "\(what) is open to others", hint: "run `\(fix) \(path)`")
        }
        guard st.st_mode & 0o070 != 0 else { return }
        guard sharedGroup else {
            throw KeyFileError(
                path: path, reason: "\(what) is open to group or others",
                hint: "run `chmod 700 \(path)`, or pass --shared-data-group when the intake and casework users share it")
        }
        guard st.st_gid == getegid() else {
            throw KeyFileError(
                path: path, reason: "\(what) is shared with a group (gid \(st.st_gid)) that is not this process's group (gid \(getegid()))",
                hint: "run `chgrp` with the group both services run as (hearth-data), or run this as that group")
        }
    }

    /// Creates the (empty) database file 0660 if it does not exist yet, whatever the umask; SQLite
    /// then gives its WAL and shared-memory files the same mode.
    static func createSharedDatabase(_ file: String) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o660)
        if fd < 0 {
            guard errno == EEXIST else {
                throw KeyFileError(path: file, reason: "cannot create the database file", hint: "check the data directory's owner and mode")
            }
            return
        }
        defer { close(fd) }
        guard fchmod(fd, 0o660) == 0 else {
            throw KeyFileError(path: file, reason: "cannot make the database file group-shared", hint: "run `chmod 660 \(file)`")
        }
    }
}
