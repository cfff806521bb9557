/// A priority class, P0 (most urgent) ... P10 (best effort).
///
/// Lower numbers are served first. Aging lowers a waiting task's *effective* class by one per
/// aging interval, never below P0, so a P10 task reaches P0 after ten intervals.
public struct PriorityClass: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Number of classes (P0...P10).
    public static let count = 11
    /// The most urgent class.
    public static let highest = PriorityClass(unchecked: 0)
    /// The best-effort class.
    public static let lowest = PriorityClass(unchecked: 10)
    /// P0 … P10 by name.
    public static let p0 = PriorityClass(unchecked: 0), p1 = PriorityClass(unchecked: 1)
    /// See `p0`.
    public static let p2 = PriorityClass(unchecked: 2), p3 = PriorityClass(unchecked: 3)
    /// See `p0`.
    public static let p4 = PriorityClass(unchecked: 4), p5 = PriorityClass(unchecked: 5)
    /// See `p0`.
    public static let p6 = PriorityClass(unchecked: 6), p7 = PriorityClass(unchecked: 7)
    /// See `p0`.
    public static let p8 = PriorityClass(unchecked: 8), p9 = PriorityClass(unchecked: 9)
    /// See `p0`.
    public static let p10 = PriorityClass(unchecked: 10)

    /// 0...10.
    public let rawValue: UInt8

    /// Validates `0...10`; throws `FluxCoreError.invalidPriorityClass` otherwise.
    public init(_ value: Int) throws(FluxCoreError) {
        guard (0...10).contains(value) else { throw .invalidPriorityClass(value) }
        rawValue = UInt8(value)
    }

    init(unchecked value: UInt8) {
        rawValue = value
    }

    /// The class as an `Int`, convenient for indexing and reports.
    public var index: Int { Int(rawValue) }

    /// `P0`...`P10`.
    public var description: String { "P\(rawValue)" }

    /// Orders by urgency value: P0 < P1 < ... < P10 (P0 is served first).
    public static func < (lhs: PriorityClass, rhs: PriorityClass) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Every class from P0 to P10.
    public static let all: [PriorityClass] = (0...10).map { PriorityClass(unchecked: UInt8($0)) }
}
