import Foundation

/// The series names the router and the shards export, as docs/metrics.md lists them in its
/// tables (a histogram as its `_bucket`, `_sum` and `_count` series), plus `up`, which Prometheus
/// adds for every target it scrapes. Alert rules and dashboard panels may read only these.
enum ExportedMetrics {
    static let addedByPrometheus: Set<String> = ["up"]

    static func documented() throws -> Set<String> {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `flux_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            if cells[1] == "histogram" {
                names.formUnion(["_bucket", "_sum", "_count"].map { name + $0 })
            } else {
                names.insert(name)
            }
        }
        return names
    }

    /// What an expression may read: the documented series and `up`.
    static func readable() throws -> Set<String> { try documented().union(addedByPrometheus) }
}

/// The anchors of docs/runbook.md's headings, as GitHub makes them (lower case, spaces to
/// hyphens, punctuation other than `-` and `_` dropped).
enum Runbook {
    static func anchors() throws -> Set<String> {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("docs/runbook.md"), encoding: .utf8)
        var anchors: Set<String> = []
        var inCode = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle() }
            guard !inCode, line.hasPrefix("#") else { continue }
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            let kept = title.filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }
            anchors.insert(kept.replacingOccurrences(of: " ", with: "-"))
        }
        return anchors
    }
}
