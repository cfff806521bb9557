public import FluxAPI

/// A finished task's timeline as the transition script packs it into the record's `timeline`
/// field when the task ends (issue 16): one line per entry,
/// `id|at|from|to|reason|shard|epoch|node|attempt`, oldest first. A stream costs Redis about
/// 4.5 KB for five entries; these lines cost about 60 bytes each and live with the record.
/// None of the fields can hold `|` or a newline (states, reason codes, names and numbers).
public enum PackedTimeline {
    /// The entries of a packed timeline; a line that does not have the nine fields is skipped.
    public static func unpack(_ text: String) -> [TimelineEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false)
            guard f.count == 9 else { return nil }
            return TimelineEntry(
                id: String(f[0]), atMs: Int64(f[1]) ?? 0, from: String(f[2]), to: String(f[3]), reason: String(f[4]),
                shard: String(f[5]), epoch: Int64(f[6]) ?? 0, node: f[7].isEmpty ? nil : String(f[7]), attempt: Int(f[8]) ?? 0)
        }
    }

    /// Whether stream id `a` comes after `b` (`<ms>-<seq>`, compared as numbers).
    public static func isAfter(_ a: String, _ b: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let pieces = id.split(separator: "-")
            return (UInt64(pieces.first ?? "") ?? 0, pieces.count > 1 ? UInt64(pieces[1]) ?? 0 : 0)
        }
        return parts(a) > parts(b)
    }
}
