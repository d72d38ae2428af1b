public import HearthCore

/// Per key and version: its state, how many consent wraps use it, and whether it can be retired.
///
/// Shared by `hearth keys status` and the privacy officers' key page. Building it reads key file
/// names and public files and checks sealed files' sizes; it never opens a private key and needs
/// no master key.
public struct KeyStatusReport: Sendable, Encodable, Equatable {
    /// One key, or one version of a versioned key.
    public struct Line: Sendable, Encodable, Equatable {
        /// `master`, `support`, `review`, `police`, `prosecution`, `audit`, `casework` or `tls`.
        public let key: String
        /// The version, for versioned keys.
        public let version: UInt32?
        /// `primary`, `decrypt-only`, `retired`, `present` or `missing`.
        public let state: String
        /// Consent wraps using this scope key version (scope keys only).
        public let wraps: Int?
        /// Whether `hearth keys retire` would accept it now: a decrypt-only scope key version with
        /// no wraps and no problems.
        public let canRetire: Bool
        /// The files involved.
        public let files: [String]
        /// Problems found (missing, permissions, malformed); empty when fine.
        public let problems: [String]
    }

    /// Every line, in a fixed order: master, the scopes, audit, casework, TLS; versions ascending.
    public let keys: [Line]

    /// Whether any line has a problem.
    public var hasProblems: Bool { keys.contains { !$0.problems.isEmpty } }

    /// Merges the directory's own status with retired versions and the wrap counts per scope and version.
    public init(directory: KeyDirectory, wrapCounts counts: [Scope: [UInt32: Int]]) {
        var lines: [Line] = directory.status().map { e in
            let scope = Scope(rawValue: e.key)
            let wraps = scope.flatMap { s in e.version.map { counts[s]?[$0] ?? 0 } }
            return Line(
                key: e.key, version: e.version, state: e.state, wraps: wraps,
                canRetire: scope != nil && e.problems.isEmpty
                    && KeyLifecycleService.mayRetire(isDecryptOnly: e.state == "decrypt-only", wraps: wraps ?? 0), files: e.files,
                problems: e.problems)
        }
        for scope in Scope.allCases {
            for v in directory.retiredVersions(of: .scope(scope)) {
                lines.append(
                    Line(
                        key: scope.rawValue, version: v, state: "retired", wraps: counts[scope]?[v] ?? 0, canRetire: false,
                        files: [directory.retiredFile(.scope(scope), version: v)], problems: []))
            }
        }
        let order = ["master"] + KeyKind.all.map(\.name) + ["tls"]
        lines.sort { (order.firstIndex(of: $0.key) ?? 99, $0.version ?? 0) < (order.firstIndex(of: $1.key) ?? 99, $1.version ?? 0) }
        keys = lines
    }
}

/// Where a running casework listener gets its key status: the key directory and the wrap counts.
public struct KeyStatusSource: Sendable {
    let directory: KeyDirectory
    let wrapCounts: @Sendable () async throws -> [Scope: [UInt32: Int]]

    /// A source over `directory`, counting wraps with `wrapCounts` (e.g. `SQLiteStore.wrapCounts`).
    public init(directory: KeyDirectory, wrapCounts: @escaping @Sendable () async throws -> [Scope: [UInt32: Int]]) {
        self.directory = directory
        self.wrapCounts = wrapCounts
    }

    /// The report as of now. Opens no private key.
    public func report() async throws -> KeyStatusReport {
        KeyStatusReport(directory: directory, wrapCounts: try await wrapCounts())
    }
}
