public import HearthCore
public import Hummingbird
public import NIOCore

/// The request context of both Hearth listeners.
///
/// It keeps the connecting address in memory only, for the failure rate limiter; it is never
/// logged or stored. Once a listener's authenticating middleware has checked a request it also
/// carries who sent it (``identity``), which the signed-in route groups' child contexts require.
public struct HearthRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer address (memory only; never logged, never stored).
    public let peerAddress: SocketAddress?
    /// Who sent the request, as checked by the listener's authenticating middleware; `nil` on
    /// public routes. The values are made only by ``StaffService`` and ``SurvivorService``.
    public var identity: RequestIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress
    }

    /// Hearth reads bodies itself (strictly, with its own size limit).
    public var maxUploadSize: Int { Self.uploadLimit }

    /// The upload limit of this context and of every child context made from it.
    public static let uploadLimit = 64 * 1024
}

/// Who a request comes from, once an authenticating middleware has checked its credentials.
public enum RequestIdentity: Sendable {
    /// A signed-in member of staff (casework listener).
    case staff(AuthenticatedStaff)
    /// A survivor who presented their receipt, by header or through a page session (intake listener).
    case survivor(AuthenticatedSurvivor)
}
