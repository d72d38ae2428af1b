public import HearthCore
public import Hummingbird
import NIOCore

/// The request context of both Hearth listeners.
///
/// It keeps who connected (``peer``: the address, or the Tor circuit on the onion listener) in
/// memory only, for the rate limiters; it is never logged or stored. Once a listener's authenticating middleware has checked a request it also
/// carries who sent it (``identity``), which the signed-in route groups' child contexts require.
public struct HearthRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Whom limits count this request against: the connecting address, or the Tor circuit on the
    /// onion listener (memory only; never logged, never stored).
    public let peer: PeerIdentity
    /// Who sent the request, as checked by the listener's authenticating middleware; `nil` on
    /// public routes. The values are made only by ``StaffService`` and ``SurvivorService``.
    public var identity: RequestIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = PeerIdentity.current ?? .of(source.channel.remoteAddress)
    }

    /// The one source every per-source limit counts this request against (failed look-ups,
    /// sign-ins, new submissions): ``peer``. Memory only.
    public var limiterSource: LimiterSource { peer }

    /// Hearth reads bodies itself (strictly, with its route's limit, ``RequestLimits/bodyBytes``);
    /// Hummingbird's own body helpers would get the same limit.
    public var maxUploadSize: Int { RequestLimits.bodyBytes }
}

/// Who a request comes from, once an authenticating middleware has checked its credentials.
public enum RequestIdentity: Sendable {
    /// A signed-in member of staff (casework listener).
    case staff(AuthenticatedStaff)
    /// A survivor who presented their receipt, by header or through a page session (intake listener).
    case survivor(AuthenticatedSurvivor)
}

/// An identity a signed-in route group can require: how to find it on a checked request, and
/// what to throw when it is not there.
public protocol CheckedIdentity: Sendable {
    /// The identity on `identity`, or nil when the request carries another kind or none.
    static func from(_ identity: RequestIdentity?) -> Self?
    /// The refusal when it is missing (a route registered outside its authenticator's group).
    static var missing: any Error { get }
}

extension AuthenticatedStaff: CheckedIdentity {
    public static func from(_ identity: RequestIdentity?) -> AuthenticatedStaff? {
        if case .staff(let s) = identity { s } else { nil }
    }
    public static var missing: any Error { StaffService.notSignedIn }
}

extension AuthenticatedSurvivor: CheckedIdentity {
    public static func from(_ identity: RequestIdentity?) -> AuthenticatedSurvivor? {
        if case .survivor(let s) = identity { s } else { nil }
    }
    public static var missing: any Error { Problem.receiptNotRecognised }
}

/// The context of a route that needs `Identity`: it can only be made from a request the
/// listener's authenticator let through, so a handler registered on a signed-in group cannot run
/// without one (Hummingbird's child request contexts).
public struct SignedInContext<Identity: CheckedIdentity>: ChildRequestContext {
    /// Hummingbird's per-request storage, taken over from the listener's context.
    public var coreContext: CoreRequestContextStorage
    /// Who sent the request.
    public let identity: Identity

    /// Takes the identity the authenticator put on `context`; without one, `Identity.missing`.
    public init(context: HearthRequestContext) throws {
        guard let identity = Identity.from(context.identity) else { throw Identity.missing }
        coreContext = context.coreContext
        self.identity = identity
    }

    /// The same upload limit as the listener's own context: the route's.
    public var maxUploadSize: Int { RequestLimits.bodyBytes }
}
