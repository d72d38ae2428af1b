/// A problem with what someone sent, explained in plain words.
///
/// `message` may quote the name of a field but never its value, a receipt or any other secret.
public struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem it is; the HTTP layer maps each to a status code. Problems of the
    /// transport (too large, wrong content type, too many attempts) are the HTTP layer's own.
    public enum Kind: Sendable, Hashable {
        case badRequest, unauthorised, notFound, conflict, forbidden
    }

    /// The kind of answer.
    public let kind: Kind
    /// A stable machine-readable code, e.g. `unknown-field`.
    public let code: String
    /// A plain, lowercase message that says what to do next where it can.
    public let message: String

    /// Creates a problem.
    public init(_ kind: Kind, code: String, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The one answer for a missing, malformed or unknown receipt.
    public static let receiptNotRecognised = Problem(
        .unauthorised, code: "receipt-not-recognised",
        "that receipt was not recognised; check it and try again, it has 28 letters and numbers in groups of four")

    /// A reply or invitation while the survivor has paused all contact.
    public static func contactPaused(_ pause: ContactPause) -> Problem {
        Problem(
            .conflict, code: "contact-paused",
            "the survivor has paused all contact " + (pause.until.map { "until the end of \($0)" } ?? "until they resume it")
                + "; nothing was sent, and the case stays open to read")
    }

    /// An answer to an invitation from a group the survivor does not share their request with just now.
    public static func answerNotShared(_ scope: Scope) -> Problem {
        Problem(
            .conflict, code: "consent-not-live",
            "you are not sharing your request with '\(scope.rawValue)' just now, so no one there can read an answer; share it with them again first if you would like to answer"
        )
    }

    /// A message to a group the survivor does not share their request with just now.
    public static func groupNotShared(_ scope: Scope) -> Problem {
        Problem(
            .conflict, code: "consent-not-live",
            "you are not sharing your request with '\(scope.rawValue)' just now, so no one there can read a message; share it with them first, or write to a group you share it with"
        )
    }
}
