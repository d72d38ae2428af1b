import Crypto

/// Time-based one-time passwords (RFC 6238): HMAC-SHA-1, 30-second steps, 6 digits.
///
/// SHA-1 is what authenticator apps implement; as an HMAC it remains sound. It comes from
/// swift-crypto because libsodium has no SHA-1.
public enum TOTP {
    /// Seconds per step.
    public static let period: Int64 = 30
    /// Digits per code.
    public static let digits = 6
    /// Secret length in bytes (160 bits, RFC 4226's recommendation).
    public static let secretByteCount = 20

    /// The step containing a Unix time.
    public static func step(at unixSeconds: Int64) -> UInt64 { UInt64(max(0, unixSeconds) / period) }

    /// The code for one step (RFC 4226 dynamic truncation), zero-padded.
    public static func code(secret: borrowing SecretBytes, step: UInt64) -> String {
        var counter = step.bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac: [UInt8] = secret.withUnsafeBytes { key in
            Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: Crypto.SymmetricKey(data: key)))
        }
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let value = binary % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step (within ±`window` of now) whose code equals `candidate`, compared in constant time;
    /// nil if none. Callers must refuse a step at or before the last one accepted (no replay).
    public static func matchingStep(_ candidate: String, secret: borrowing SecretBytes, at unixSeconds: Int64, window: Int = 1) -> UInt64? {
        let given = Array(candidate.utf8)
        guard given.count == digits, given.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let now = step(at: unixSeconds)
        var found: UInt64?
        for delta in -window...window {
            let s = Int64(now) + Int64(delta)
            guard s >= 0 else { continue }
            // Check every step in the window, so timing does not say which one matched.
            if Sodium.constantTimeEqual(Array(code(secret: secret, step: UInt64(s)).utf8), given) && found == nil {
                found = UInt64(s)
            }
        }
        return found
    }

    /// RFC 4648 base32 without padding, as authenticator apps expect.
    public static func base32(_ bytes: [UInt8]) -> String {
        Base32.encode(bytes, alphabet: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
    }

    /// An `otpauth://` URI for enrolment in an authenticator app.
    public static func provisioningURI(secretBase32: String, account: String, issuer: String = "Hearth") -> String {
        func escape(_ s: String) -> String {
            s.unicodeScalars.map { u in
                (u.isASCII && (u.properties.isAlphabetic || ("0"..."9").contains(u) || "-._~".unicodeScalars.contains(u)))
                    ? String(u)
                    : u.utf8.map { "%" + String($0 >> 4, radix: 16, uppercase: true) + String($0 & 15, radix: 16, uppercase: true) }.joined()
            }.joined()
        }
        return "otpauth://totp/\(escape(issuer)):\(escape(account))?secret=\(secretBase32)&issuer=\(escape(issuer))&algorithm=SHA1&digits=6&period=30"
    }
}
