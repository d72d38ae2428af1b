import Crypto
import Foundation
import HearthCore
public import HearthKeys
public import NIOSSL
import SwiftASN1
import X509

/// TLS for Hearth's listeners: TLS 1.2 and 1.3 only, Mozilla "intermediate" cipher suites.
public enum HearthTLS {
    /// Mozilla intermediate TLS 1.2 suites that BoringSSL offers (TLS 1.3 suites are fixed and all allowed).
    public static let intermediateCipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// Builds the server configuration from the key directory's `tls.crt` and `tls.key`,
    /// refusing a missing, unreadable or group/other-readable key.
    public static func serverConfiguration(keys: KeyDirectory) throws -> TLSConfiguration {
        try serverConfiguration(certificateFile: keys.tlsCertificateFile, keyFile: keys.tlsKeyFile)
    }

    /// Builds the server configuration from a PEM certificate chain and key (the key file must be 0600).
    public static func serverConfiguration(certificateFile: String, keyFile: String) throws -> TLSConfiguration {
        let certBytes = try SecureFile.readKeyFile(certificateFile)
        let keyBytes = try SecureFile.readKeyFile(keyFile)
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certBytes)
            guard !chain.isEmpty else { throw KeyFileError(path: certificateFile, reason: "", hint: "") }
        } catch {
            throw KeyFileError(
                path: certificateFile, reason: "it is not a PEM certificate",
                hint: "replace it, or delete both tls files and run `hearth serve --dev`")
        }
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw KeyFileError(
                path: keyFile, reason: "it is not a PEM private key", hint: "replace it, or delete both tls files and run `hearth serve --dev`")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.cipherSuites = intermediateCipherSuites
        tls.applicationProtocols = ["http/1.1"]
        return tls
    }

    /// Creates a self-signed development certificate (ECDSA P-256, 90 days, for localhost,
    /// 127.0.0.1 and ::1) as `tls.crt` and `tls.key`, both exclusive and 0600.
    public static func createDevelopmentCertificate(keys: KeyDirectory, extraHostnames: [String] = []) throws {
        try createDevelopmentCertificate(certificateFile: keys.tlsCertificateFile, keyFile: keys.tlsKeyFile, extraHostnames: extraHostnames)
    }

    /// Creates a self-signed development certificate at the given paths (exclusive, 0600).
    public static func createDevelopmentCertificate(certificateFile: String, keyFile: String, extraHostnames: [String] = []) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Hearth development")
            CommonName("localhost")
        }
        let now = Date()
        var names: [GeneralName] = [
            .dnsName("localhost"),
            .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
        ]
        names += extraHostnames.map { .dnsName($0) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(90 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                // CA:TRUE so that BoringSSL accepts this self-signed certificate as its own trust anchor;
                // its key signs nothing else and stays in tls.key (0600).
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key))
        let certPEM = try certificate.serializeAsPEM().pemString + "\n"
        try SecureFile.createExclusive(keyFile, contents: Array((key.pemRepresentation + "\n").utf8))
        try SecureFile.createExclusive(certificateFile, contents: Array(certPEM.utf8))
    }
}

/// What `hearth doctor` reads from a listener's certificate and key files.
public struct CertificateInspection: Sendable {
    /// The start of the first certificate's validity (seconds since 1970).
    public let notBefore: Int64
    /// The end of the first certificate's validity (seconds since 1970).
    public let notAfter: Int64
    /// The certificate names itself as its issuer (a development or private certificate that
    /// browsers warn about unless it is trusted by hand).
    public let isSelfIssued: Bool
    /// The key file holds the private key of the certificate's public key.
    public let keyMatches: Bool
    /// The DNS names and IP addresses the certificate is for.
    public let names: [String]
}

extension HearthTLS {
    /// Reads the first certificate of a PEM chain and its key file; throws ``KeyFileError`` naming
    /// the file when either cannot be read or parsed (or the key file is open to others).
    public static func inspect(certificateFile: String, keyFile: String) throws -> CertificateInspection {
        let certificate: Certificate
        do {
            let pem = String(decoding: try SecureFile.readKeyFile(certificateFile), as: UTF8.self)
            certificate = try Certificate(pemEncoded: pem)
        } catch let e as KeyFileError {
            throw e
        } catch {
            throw KeyFileError(path: certificateFile, reason: "it is not a PEM certificate", hint: "replace it with the certificate for this host")
        }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: String(decoding: try SecureFile.readKeyFile(keyFile), as: UTF8.self))
        } catch let e as KeyFileError {
            throw e
        } catch {
            throw KeyFileError(path: keyFile, reason: "it is not a PEM private key", hint: "replace it with the key of \(certificateFile)")
        }
        var names: [String] = []
        if let alternatives = try? certificate.extensions.subjectAlternativeNames {
            for name in alternatives {
                switch name {
                case .dnsName(let dns): names.append(dns)
                case .ipAddress(let octets): names.append(Self.address(Array(octets.bytes)))
                default: continue
                }
            }
        }
        return CertificateInspection(
            notBefore: Int64(certificate.notValidBefore.timeIntervalSince1970),
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970),
            isSelfIssued: certificate.issuer == certificate.subject,
            keyMatches: key.publicKey == certificate.publicKey, names: names)
    }

    private static func address(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
