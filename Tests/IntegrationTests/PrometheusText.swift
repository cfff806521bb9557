import Foundation

/// A small parser of the Prometheus text exposition format (0.0.4), strict enough to fail on
/// anything a scraper would reject: every line is blank, `# HELP name text`, `# TYPE name kind`
/// or `name{label="value",…} number`, and every sample belongs to a family whose TYPE came first.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var samples: [Sample] = []

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    init(_ text: String) throws {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                try comment(line)
            } else {
                samples.append(try Self.sample(line))
            }
        }
        for sample in samples where family(of: sample.name) == nil {
            throw ParseError(description: "sample \(sample.name) has no # TYPE")
        }
    }

    private mutating func comment(_ line: String) throws {
        let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
        guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]), Self.isName(parts[2]) else {
            throw ParseError(description: "bad comment line: \(line)")
        }
        if parts[1] == "TYPE" {
            guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                throw ParseError(description: "bad TYPE line: \(line)")
            }
            types[parts[2]] = parts[3]
        }
    }

    static func sample(_ line: String) throws -> Sample {
        var rest = Substring(line)
        let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        guard isName(name) else { throw ParseError(description: "bad metric name: \(line)") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            guard let close = rest.firstIndex(of: "}") else { throw ParseError(description: "unclosed labels: \(line)") }
            let body = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
            for pair in body.split(separator: ",") where !pair.isEmpty {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, isName(String(kv[0])), kv[1].count >= 2, kv[1].first == "\"", kv[1].last == "\"" else {
                    throw ParseError(description: "bad label \(pair) in: \(line)")
                }
                labels[String(kv[0])] = String(kv[1].dropFirst().dropLast())
            }
        }
        guard rest.first == " " else { throw ParseError(description: "no value separator: \(line)") }
        let fields = rest.split(separator: " ")
        guard (1...2).contains(fields.count), let value = parseValue(String(fields[0])) else {
            throw ParseError(description: "bad value: \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" || first == ":" else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }

    /// The declared family of a sample (histograms' `_bucket`, `_sum`, `_count` included).
    func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    /// The value of the sample with exactly these labels, if present.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
