/// Where a survivor lives, at the coarse grain needed to route a case; a fixed list so that
/// nothing free-text is ever stored in clear.
public enum Region: String, CaseIterable, Codable, Sendable {
    case northEast = "north-east"
    case northWest = "north-west"
    case yorkshireHumber = "yorkshire-humber"
    case eastMidlands = "east-midlands"
    case westMidlands = "west-midlands"
    case east = "east"
    case london = "london"
    case southEast = "south-east"
    case southWest = "south-west"
    case wales = "wales"
    case scotland = "scotland"
    case northernIreland = "northern-ireland"

    /// Its plain name, the same on every page: `North West England`.
    public var name: String {
        switch self {
        case .northEast: "North East England"
        case .northWest: "North West England"
        case .yorkshireHumber: "Yorkshire and the Humber"
        case .eastMidlands: "East Midlands"
        case .westMidlands: "West Midlands"
        case .east: "East of England"
        case .london: "London"
        case .southEast: "South East England"
        case .southWest: "South West England"
        case .wales: "Wales"
        case .scotland: "Scotland"
        case .northernIreland: "Northern Ireland"
        }
    }
}
