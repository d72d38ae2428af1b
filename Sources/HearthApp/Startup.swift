import Foundation
import HearthCore
public import HearthCrypto
import HearthHTTP
public import HearthKeys

extension PassphraseSource {
    /// The passphrase for `keys`, or nil when the keys do not use one. Fails closed, naming the
    /// file, when they do and none was given.
    public func passphrase(for keys: KeyDirectory) throws -> SecretBytes? {
        guard keys.usesPassphrase else { return nil }
        guard case .environment(let name) = self, let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw KeyFileError(
                path: keys.masterKDFFile, reason: "the master key is passphrase-protected and no passphrase was given",
                hint: "pass --passphrase-env VAR with the passphrase in that environment variable")
        }
        return SecretBytes(copying: Array(value.utf8))
    }
}

/// Development keys: made on first run of `serve --dev`, never for real people.
public enum DevelopmentKeys {
    /// Creates development keys and a self-signed certificate where none exist yet.
    public static func ensure(_ keys: KeyDirectory) throws {
        if keys.isEmpty {
            try keys.initialise(passphrase: nil)
            FileHandle.standardError.write(Data("hearth: created development keys in \(keys.path)/ (never use them in production)\n".utf8))
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: keys.tlsCertificateFile) && !fm.fileExists(atPath: keys.tlsKeyFile) {
            try HearthTLS.createDevelopmentCertificate(keys: keys)
            FileHandle.standardError.write(Data("hearth: created a self-signed development certificate\n".utf8))
        }
    }
}

/// The data directory: created 0700, refused when group or others can read it.
public enum DataDirectory {
    /// Creates the data directory (0700) and refuses one that group or others can read.
    public static func prepare(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw KeyFileError(path: path, reason: "cannot create the data directory", hint: "check the parent directory")
        }
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & 0o077 == 0 else {
            throw KeyFileError(path: path, reason: "the data directory is open to group or others", hint: "run `chmod 700 \(path)`")
        }
    }
}
