/// Just enough PromQL reading for tests to check that alert rules and dashboards only name
/// metrics the processes export: the metric names an expression selects.
public enum PromQL {
    /// Keywords and binary operators that read like identifiers.
    static let keywords: Set<String> = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]
    /// Followed by a parenthesized list of label names, not of expressions.
    static let labelLists: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]
    /// Aggregation operators, which may be followed by `by (…)` before their `(`.
    static let aggregations: Set<String> = [
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    ]

    /// The metric names `expression` selects. String literals, label matchers (`{…}`), ranges
    /// (`[…]`), label lists (`by (…)`), Grafana variables (`$x`, `${x}`), numbers and durations,
    /// function and aggregation names are skipped.
    public static func metricNames(in expression: String) -> Set<String> {
        let characters = Array(expression)
        var names: Set<String> = []
        var index = 0
        var nesting = 0  // inside `{…}` or `[…]`
        while index < characters.count {
            let character = characters[index]
            if character == "\"" || character == "'" || character == "`" {
                index = endOfString(characters, from: index)
            } else if character == "{" || character == "[" {
                nesting += 1
                index += 1
            } else if character == "}" || character == "]" {
                nesting -= 1
                index += 1
            } else if nesting > 0 {
                index += 1
            } else if character == "$" || character.isNumber {
                index = endOfWord(characters, from: index + 1)
            } else if isIdentifierStart(character) {
                let end = endOfWord(characters, from: index)
                let word = String(characters[index..<end])
                let next = characters[end...].first { !$0.isWhitespace }
                if labelLists.contains(word.lowercased()), next == "(" {
                    index = characters[end...].firstIndex(of: ")").map { $0 + 1 } ?? characters.count
                    continue
                }
                if !keywords.contains(word.lowercased()), !aggregations.contains(word), next != "(" { names.insert(word) }
                index = end
            } else {
                index += 1
            }
        }
        return names
    }

    static func isIdentifierStart(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character == "_" || character == ":")
    }

    /// The index after a run of identifier characters (letters, digits, `_`, `:`, `.`, and `{…}`
    /// right after a `$`).
    static func endOfWord(_ characters: [Character], from start: Int) -> Int {
        var index = start
        if index < characters.count, characters[index] == "{" {
            return (characters[index...].firstIndex(of: "}") ?? characters.count - 1) + 1
        }
        while index < characters.count, characters[index].isASCII,
              characters[index].isLetter || characters[index].isNumber || "_:.".contains(characters[index]) {
            index += 1
        }
        return index
    }

    /// The index after the string literal opening at `start` (backslash escapes honoured).
    static func endOfString(_ characters: [Character], from start: Int) -> Int {
        let quote = characters[start]
        var index = start + 1
        while index < characters.count, characters[index] != quote {
            index += characters[index] == "\\" && quote != "`" ? 2 : 1
        }
        return index + 1
    }
}
