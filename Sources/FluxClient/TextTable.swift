import Foundation

/// Columns aligned for a terminal, like `kubectl get`: a header row, then one row per item,
/// each column as wide as its widest cell. Colour is added by a `Painter` after alignment, so
/// escape codes never throw the columns off.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    /// The table as lines, cells separated by two spaces; `paint(column, cell)` may colour a
    /// cell (already padded) of a data row.
    public func render(paint: (Int, String) -> String = { $1 }) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String], painted: Bool) -> String {
            var parts: [String] = []
            for (column, cell) in cells.enumerated() {
                let isLast = column == cells.count - 1
                let padded = isLast ? cell : cell + String(repeating: " ", count: max(0, widths[column] - cell.count))
                parts.append(painted ? paint(column, padded) : padded)
            }
            return parts.joined(separator: "  ")
        }
        return ([line(headers, painted: false)] + rows.map { line($0, painted: true) }).joined(separator: "\n")
    }
}

/// ANSI colours for states and verdicts, only when writing to a terminal (and `NO_COLOR` is
/// not set): piped output stays plain text.
public struct Painter: Sendable {
    public var enabled: Bool

    public init(enabled: Bool) {
        self.enabled = enabled
    }

    /// Colours when `descriptor` is a terminal and `NO_COLOR` is not set.
    public static func forTerminal(_ descriptor: Int32) -> Painter {
        Painter(enabled: isatty(descriptor) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
    }

    /// Green for success, red for failure, yellow for waiting or degraded, as a person scans.
    public func state(_ text: String) -> String {
        let trimmed = String(String(text.reversed().drop { $0 == " " }).reversed())
        switch trimmed {
        case "SUCCEEDED", "VERIFIED", "NORMAL", "IN_SYNC", "yes", "connected": return color(32, text)
        case "FAILED", "REJECTED", "SHED", "DEADLINE_EXCEEDED", "READ_ONLY", "QUARANTINED", "DRIFTED", "HALTED_DOMAIN", "unreachable":
            return color(31, text)
        case "CANCELLED", "SUSPENDED", "DEGRADED", "RETRY_WAIT", "DEFERRED", "REMEDIATING", "THROTTLED": return color(33, text)
        case "RUNNING", "DISPATCHED", "VERIFYING", "CHECKING": return color(36, text)
        default: return text
        }
    }

    public func bold(_ text: String) -> String { color(1, text) }

    private func color(_ code: Int, _ text: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
