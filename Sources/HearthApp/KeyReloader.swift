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
    let caseworkKeys: CaseworkKeys?

    /// Names, sizes and times of the key files: changes when a version is added, retired or re-sealed.
    func fingerprint() -> String {
        SecureFile.list(keys.path).filter { $0.hasSuffix(".pub") || $0.hasSuffix(".sealed") || $0.hasSuffix(".retired") || $0.hasPrefix("master.") }
            .map { name -> String in
                var st = stat()
                _ = stat(keys.file(name), &st)
                return "\(name):\(st.st_size):\(st.st_mtim.tv_sec):\(st.st_mtim.tv_nsec)"
            }.joined(separator: "|")
    }

    func reload() throws {
        try keys.recoverInterruptedRotation()
        try keys.checkPermissions()
        let ring = try keys.loadPublicKeyRing()
        if let caseworkKeys {
            let master = try keys.loadMasterKey(passphrase: try passphrase.passphrase(for: keys))
            try caseworkKeys.reloadScopeKeys(from: keys, master: master)
        }
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
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                let now = self.fingerprint()
                guard now != seen else { continue }
                do {
                    try self.reload()
                    seen = now
                } catch {
                    // Half-way through a rotation, or a bad file: keep the keys in use, try again.
                    self.logger.error("key reload failed; keeping the keys in use", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
