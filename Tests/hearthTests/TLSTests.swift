import Foundation
import HearthTestSupport
import NIOSSL
import Testing

/// The intake listener speaks only TLS 1.2/1.3 with Mozilla-intermediate ciphers.
@Suite("hearth TLS", .timeLimit(.minutes(1)))
struct TLSTests {
    @Test("a verified connection negotiates TLS 1.2 or 1.3 even when the client offers older versions")
    func verifiedConnectionNegotiatesModernTLS() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { _, listener in
            let version = try await negotiatedTLSVersion(host: listener.host, port: listener.port, certificatePath: listener.certificatePath)
            #expect(version == .tlsv12 || version == .tlsv13, "negotiated \(String(describing: version))")
        }
    }

    @Test("TLS 1.1 is refused by the server (openssl s_client -tls1_1)")
    func tls11IsRefused() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { _, listener in
            // SECLEVEL=0 so the client really offers TLS 1.1 and the refusal is the server's.
            let outcome = try await opensslClient(
                port: listener.port, certificatePath: listener.certificatePath, in: work.path,
                ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"])
            let output = outcome.stdout + outcome.stderr
            #expect(outcome.exitedNormally && outcome.status != 0, "\(outcome)")
            #expect(!output.contains("no protocols available"), "the client offered TLS 1.1: \(output)")
            #expect(output.contains("alert protocol version"), "the server answered with a protocol_version alert: \(output)")
            #expect(!output.contains("New, TLSv1.1"), "\(output)")
        }
    }

    @Test("TLS 1.2 and TLS 1.3 are accepted with a verified certificate (openssl s_client)", arguments: ["1.2", "1.3"])
    func modernTLSIsAccepted(version: String) async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { _, listener in
            let flag = "-tls" + version.replacingOccurrences(of: ".", with: "_")
            let outcome = try await opensslClient(port: listener.port, certificatePath: listener.certificatePath, in: work.path, [flag])
            let output = outcome.stdout + outcome.stderr
            #expect(outcome.succeeded, "\(outcome)")
            #expect(output.contains("New, TLSv\(version), Cipher is"), "\(output)")
            #expect(output.contains("Verify return code: 0 (ok)"), "\(output)")
        }
    }

    @Test("with TLS 1.2, a non-intermediate cipher (AES128-SHA) is refused by the server")
    func weakCipherIsRefused() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { _, listener in
            let outcome = try await opensslClient(
                port: listener.port, certificatePath: listener.certificatePath, in: work.path,
                ["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"])
            let output = outcome.stdout + outcome.stderr
            #expect(outcome.exitedNormally && outcome.status != 0, "\(outcome)")
            #expect(!output.contains("no cipher match"), "the client offered AES128-SHA: \(output)")
            #expect(output.contains("alert handshake failure"), "the server refused the handshake: \(output)")
            #expect(!output.contains("Cipher is AES128-SHA"), "\(output)")
        }
    }
}
