/// A purpose a survivor may agree to, purpose by purpose. None is ever assumed.
public enum Scope: String, CaseIterable, Codable, Sendable, Comparable {
    /// A support caseworker may contact me.
    case support
    /// The review team may read my account to re-examine my old case.
    case review
    /// Police may contact me about a reopened investigation.
    case police
    /// Prosecutors' witness care may contact me.
    case prosecution

    /// The one-byte id used in associated data and key-file headers (SECURITY.md).
    public var id: UInt8 {
        switch self {
        case .support: 1
        case .review: 2
        case .police: 3
        case .prosecution: 4
        }
    }

    /// The scope with this one-byte id, if any.
    public init?(id: UInt8) {
        guard let s = Scope.allCases.first(where: { $0.id == id }) else { return nil }
        self = s
    }

    /// Orders scopes as they are listed in the design (support first).
    public static func < (a: Scope, b: Scope) -> Bool { a.id < b.id }
}
