// swift-tools-version:6.2
import PackageDescription

/// Strict builds for Hearth's own targets: Swift 6 language mode, warnings are errors.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "hearth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hearth", targets: ["hearth"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The only C boundary: libsodium through pkg-config (Debian: libsodium-dev).
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "HearthCrypto",
            dependencies: ["CSodium", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "HearthCore",
            dependencies: [
                "HearthCrypto",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The figures operators scrape (swift-metrics, made through an explicit factory): names,
        // labels from closed sets, and per-route request handles. Prometheus is the composition
        // root's business; this knows only CoreMetrics.
        .target(
            name: "HearthMetrics",
            dependencies: ["HearthCore", .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: strict
        ),
        // Key files on disk: formats, the key directory and its lock, rotation and retirement.
        .target(name: "HearthKeys", dependencies: ["HearthCore", "HearthCrypto"], swiftSettings: strict),
        .target(
            name: "HearthStore",
            dependencies: [
                "HearthCore", "HearthMetrics",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The PostgreSQL store (postgres-nio): the same contracts, with the database roles as the
        // boundary between intake and casework.
        .target(
            name: "HearthPostgres",
            dependencies: [
                "HearthCore", "HearthMetrics",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HearthHTTP",
            dependencies: [
                "HearthCore", "HearthCrypto", "HearthKeys", "HearthMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Templates"), .copy("Assets"), .copy("Locales")],
            swiftSettings: strict
        ),
        .target(
            name: "HearthIntake",
            dependencies: [
                "HearthCore", "HearthHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            resources: [.copy("openapi.json")],
            swiftSettings: strict
        ),
        .target(
            name: "HearthCasework",
            dependencies: [
                "HearthCore", "HearthKeys", "HearthHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        // The composition root: the one place services, TLS contexts, listeners and the service
        // group are built. The CLI and every test harness go through it.
        .target(
            name: "HearthApp",
            dependencies: [
                "HearthCrypto", "HearthCore", "HearthKeys", "HearthStore", "HearthPostgres", "HearthHTTP", "HearthIntake", "HearthCasework",
                "HearthMetrics",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "hearth",
            dependencies: [
                "HearthApp", "HearthCrypto", "HearthCore", "HearthKeys", "HearthStore", "HearthPostgres", "HearthHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Shared helpers for tests only: a verifying HTTPS client, temp dirs, log capture.
        .target(
            name: "HearthTestSupport",
            dependencies: [
                "HearthCore", "HearthCrypto", "HearthPostgres",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/HearthTestSupport",
            swiftSettings: strict
        ),
        // posix_spawn with close-from and chdir for the CLI tests' child processes.
        .target(name: "CSpawn", path: "Tests/CSpawn"),
        .testTarget(name: "HearthCryptoTests", dependencies: ["HearthCrypto", "HearthTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HearthCoreTests",
            dependencies: ["HearthCore", "HearthKeys", "HearthCrypto", "HearthTestSupport"],
            resources: [.copy("Vectors")],
            swiftSettings: strict
        ),
        .testTarget(name: "HearthKeysTests", dependencies: ["HearthKeys", "HearthCore", "HearthCrypto", "HearthTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HearthStoreTests",
            dependencies: [
                "HearthStore", "HearthPostgres", "HearthCore", "HearthKeys", "HearthCrypto", "HearthTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HearthHTTPTests",
            dependencies: [
                "HearthHTTP", "HearthCore", "HearthKeys", "HearthTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HearthAppTests",
            dependencies: [
                "HearthApp", "HearthStore", "HearthPostgres", "HearthHTTP", "HearthCore", "HearthKeys", "HearthCrypto", "HearthTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HearthIntakeTests",
            dependencies: [
                "HearthApp", "HearthIntake", "HearthStore", "HearthHTTP", "HearthCore", "HearthKeys", "HearthCrypto", "HearthTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HearthCaseworkTests",
            dependencies: [
                "HearthApp", "HearthCasework", "HearthIntake", "HearthStore", "HearthHTTP", "HearthCore", "HearthKeys", "HearthCrypto",
                "HearthTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "hearthTests",
            dependencies: [
                "hearth", "HearthApp", "HearthCore", "HearthCrypto", "HearthHTTP", "HearthIntake", "HearthKeys", "HearthStore", "HearthPostgres",
                "HearthTestSupport", "CSpawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
    ]
)

// Fuzzing (issue 11): one libFuzzer executable per reader of untrusted bytes, declared only when
// HEARTH_FUZZ is set, so the ordinary build and `swift build --build-tests` never compile them.
// Only Hearth's own modules get libFuzzer's coverage instrumentation (`-sanitize=fuzzer` per
// target, not `swift build --sanitize=fuzzer`), so the dependencies build exactly as usual and
// CI reuses them from .build; Tests/Fuzz/run.sh sets HEARTH_FUZZ and builds. With it set, build
// only the Fuzz* products: `hearth` and the tests would not link against instrumented modules.
// Each target's main.swift hands its callback to libFuzzer's driver (CLibFuzzer declares it).
if Context.environment["HEARTH_FUZZ"] != nil {
    let fuzzer = SwiftSetting.unsafeFlags(["-sanitize=fuzzer"])
    for target in package.targets where ["HearthCrypto", "HearthCore", "HearthKeys", "HearthHTTP", "HearthIntake"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [fuzzer]
    }
    package.targets.append(.target(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"))
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzJSON", ["HearthCore", "HearthHTTP", "HearthIntake"]),
        ("FuzzForm", ["HearthCore", "HearthHTTP"]),
        ("FuzzReference", ["HearthCore"]),
        ("FuzzKeyFile", ["HearthCore", "HearthCrypto", "HearthKeys"]),
        ("FuzzEnvelope", ["HearthCore", "HearthCrypto"]),
        ("FuzzProxyHeader", ["HearthHTTP"]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: name, dependencies: ["CLibFuzzer"] + dependencies, path: "Tests/Fuzz/\(name.dropFirst("Fuzz".count))",
                swiftSettings: strict,
                linkerSettings: [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
