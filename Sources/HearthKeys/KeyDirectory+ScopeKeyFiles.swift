public import HearthCore
public import HearthCrypto

/// The key directory is where Core's key lifecycle reads and changes scope keys.
extension KeyDirectory: ScopeKeyFiles {
    public func publicKeyRing() throws -> PublicKeyRing { try loadPublicKeyRing() }

    public func scopePrivateKey(_ scope: Scope, version: UInt32, master: borrowing SecretKey) throws -> X25519PrivateKey {
        try loadScopePrivateKey(scope, version: version, master: master)
    }

    public func createNextVersion(of scope: Scope, master: borrowing SecretKey) throws -> UInt32 { try rotate(scope, master: master) }

    public func destroyPrivateKey(_ scope: Scope, version: UInt32) throws { try retire(scope, version: version) }
}
