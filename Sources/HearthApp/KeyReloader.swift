import HearthCore
import HearthKeys
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Watches the key directory (every two seconds) and reloads keys after a rotation or
/// retirement, so running listeners use a new primary version without a restart.
struct KeyReloader: Service {
    let keys: KeyDirectory
    let passphrase: PassphraseSource
    let logger: Logger
    let rings: [PublicKeyRingHolder]
    /// The intake's public keys (nil without an intake listener).
    let intakeKeys: IntakeKeys?
    let caseworkKeys: CaseworkKeys?

    /// Names, sizes and times of the key files: changes when a version is added, retired or re-sealed.
    func fingerprint() -> String {
        SecureFile.list(keys.path).filter {
            $0.hasSuffix(".pub") || $0.hasSuffix(".sealed") || $0.hasSuffix(".retired") || $0.hasPrefix("master.")
                || $0 == KeyManifest.fileName
        }
        .map { name -> String in
            var st = stat()
            _ = stat(keys.file(name), &st)
            return "\(name):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec):\(st.st_mtim.tv_nsec)"
        }.joined(separator: "|")
    }

    func reload() throws {
        // A published (intake-only) directory holds no master key: there is no rotation to finish,
        // and a stray `.next` file must be refused, not deleted.
        if intakeKeys?.requirePublished != true { try keys.recoverInterruptedRotation() }
        try keys.checkPermissions()
        let loaded = try intakeKeys?.load()
        let ring = try loaded?.ring ?? keys.loadPublicKeyRing()
        if let caseworkKeys {
            let master = try keys.loadMasterKey(passphrase: try passphrase.passphrase(for: keys))
            // As at start: every .pub must match its sealed private key, or the intake side would
            // seal new consents to a key no one can open.
            try keys.verifyPrivateKeys(master: master)
            try caseworkKeys.reloadScopeKeys(from: keys, master: master)
        }
        if let loaded { intakeKeys?.commit(loaded) }
        for holder in rings { holder.replace(with: ring) }
        logger.notice(
            "keys reloaded",
            metadata: [
                "keys.primary": "\(ring.primary.sorted { $0.key < $1.key }.map { "\($0.key.rawValue).v\($0.value.version)" }.joined(separator: ","))"
            ])
    }

    func run() async throws {
        let initial = fingerprint()
        await cancelWhenGracefulShutdown {
            var seen = initial
            var refused = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                let now = self.fingerprint()
                guard now != seen else { continue }
                do {
                    try self.reload()
                    seen = now
                } catch {
                    // Half-way through a rotation or a publication, or a bad, forged or stale file:
                    // keep the keys in use and try again, logging once per state of the directory.
                    // The error names the file and the reason; it never holds key material.
                    if refused != now {
                        self.logger.error("key reload refused; keeping the keys in use", metadata: ["error": "\(error)"])
                    }
                    refused = now
                }
            }
        }
    }
}
