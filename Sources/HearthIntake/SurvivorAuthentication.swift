public import HearthCore
public import HearthHTTP
public import Hummingbird
import NIOCore

/// The context of a route that needs a survivor who presented their receipt (``SurvivorAuthenticator``'s groups).
public typealias SurvivorContext = SignedInContext<AuthenticatedSurvivor>

extension SignedInContext where Identity == AuthenticatedSurvivor {
    /// The survivor, as the service saw them on this request.
    public var survivor: AuthenticatedSurvivor { identity }
}

/// What the survivor API and the survivor pages share: checking a receipt, however it was sent,
/// with failed look-ups rate limited per source (``HearthRequestContext/limiterSource``) in one limiter for both.
public struct ReceiptCheck: Sendable {
    let service: SurvivorService
    let limiter: FailureRateLimiter

    /// Receipt checks over `service`, with failed look-ups counted in `limiter`.
    public init(service: SurvivorService, limiter: FailureRateLimiter) {
        self.service = service
        self.limiter = limiter
    }

    /// The receipt in `Authorization: Receipt …`, if the request has one.
    static func receipt(in request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        return parts.count == 2 && parts[0].lowercased() == "receipt" ? String(parts[1]) : nil
    }

    /// Checks a receipt (API header or the pages' form): 429 with `Retry-After` while `peer` has
    /// used up its failures, else the survivor or ``Problem/receiptNotRecognised`` (counted).
    func authenticate(receipt: String?, from peer: PeerIdentity) async throws -> AuthenticatedSurvivor {
        if let wait = limiter.retryAfter(peer) {
            throw ProblemResponse.rateLimited("too many receipts were not recognised; please wait \(wait) seconds and try again", retryAfter: wait)
        }
        do {
            return try await service.authenticate(receipt: receipt)
        } catch let p as Problem where p == .receiptNotRecognised {
            limiter.recordFailure(peer)
            throw p
        }
    }
}

/// The intake listener's one authenticating middleware: the API's `Authorization: Receipt …`
/// (401 `receipt-not-recognised`, 429 when an address guesses too often), or the pages' in-memory
/// session from `POST /return`, checked afresh by the service on every request (without a live
/// one, or once the record is gone, 303 to `/return`).
public struct SurvivorAuthenticator: RouterMiddleware {
    /// The listener's base context; the signed-in routes' context is ``SurvivorContext``.
    public typealias Context = HearthRequestContext

    /// Which credential the routes behind this authenticator take.
    public enum Credential: Sendable {
        /// The API: the receipt in the `Authorization` header.
        case receipt(ReceiptCheck)
        /// The pages: the session cookie, and the session table it names.
        case pageSession(SurvivorService, EphemeralSessions<SurvivorSession>)
    }

    let credential: Credential

    /// An authenticator for `credential`.
    public init(_ credential: Credential) {
        self.credential = credential
    }

    /// Checks the request's credential and either refuses it or passes it on with the identity set.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let survivor: AuthenticatedSurvivor
        switch credential {
        case .receipt(let check):
            survivor = try await check.authenticate(receipt: ReceiptCheck.receipt(in: request), from: context.limiterSource)
        case .pageSession(let service, let sessions):
            let ended = SurvivorPages.endedCookie(SurvivorPages.sessionCookie)
            let token = FormGuard.cookie(SurvivorPages.sessionCookie, in: request)
            guard let token, let held = sessions.lookup(token) else {
                return seeOther("/return", headers: token == nil ? [:] : [.setCookie: ended])
            }
            do {
                survivor = try await service.resume(held)
            } catch let p as Problem where p == .receiptNotRecognised {
                sessions.remove(token)
                return seeOther("/return", headers: [.setCookie: ended])
            }
        }
        var context = context
        context.identity = .survivor(survivor)
        return try await next(request, context)
    }
}

extension RouterMethods where Context == HearthRequestContext {
    /// A group whose routes run only behind `authenticator`, with the survivor in their ``SurvivorContext``.
    func signedInSurvivor(_ authenticator: SurvivorAuthenticator) -> RouterGroup<SurvivorContext> {
        group().add(middleware: authenticator).group(context: SurvivorContext.self)
    }
}
