import Foundation
import HearthCore
import HearthCrypto
import HearthKeys

/// Where the intake's public key ring comes from, and the manifest in use (SECURITY.md §3.18, §9).
///
/// With `requirePublished` (`hearth intake`), the key directory must hold a valid `keys.manifest`
/// and no private key; the ring is the primaries the manifest names. Otherwise (`hearth serve`
/// over the casework directory) a manifest is used when present, else the highest `.pub` of each
/// scope. Once a manifest is in use, a reload accepts only a newer one (or the same one), signed
/// by an audit key trusted at start.
final class IntakeKeys: @unchecked Sendable {  // `inUse` is only touched under `lock`.
    /// A ring ready to be put in use by ``commit(_:)``.
    struct Loaded: Sendable {
        let ring: PublicKeyRing
        let published: PublishedKeys?
    }

    let directory: KeyDirectory
    let requirePublished: Bool
    private let lock = NSLock()
    private var inUse: (published: PublishedKeys, trusted: [UInt32: Ed25519PublicKey])?

    init(directory: KeyDirectory, requirePublished: Bool) {
        self.directory = directory
        self.requirePublished = requirePublished
    }

    /// Reads and checks the keys without putting them in use; throws ``KeyFileError`` naming the file.
    func load() throws -> Loaded {
        if requirePublished { try directory.refusePrivateKeys() }
        let current = lock.withLock { inUse }
        guard requirePublished || current != nil || directory.hasManifest else {
            return Loaded(ring: try directory.loadPublicKeyRing(), published: nil)
        }
        let published = try directory.loadPublishedKeys(trusting: current?.trusted)
        if let current {
            let old = current.published.manifest.created
            let new = published.manifest.created
            if new < old || (new == old && published.bytes != current.published.bytes) {
                throw KeyFileError(
                    path: directory.manifestFile,
                    reason: "it is stale: created at \(new), not after the manifest in use (created at \(old))",
                    hint: "run `hearth keys publish --to \(directory.path)` on the casework host again; the intake keeps the keys in use")
            }
        }
        return Loaded(ring: published.ring, published: published)
    }

    /// Puts a loaded manifest in use; the audit keys trusted are those of the first one.
    func commit(_ loaded: Loaded) {
        guard let published = loaded.published else { return }
        lock.withLock {
            inUse = (published, inUse?.trusted ?? [published.manifest.auditVersion: published.auditKey])
        }
    }
}
