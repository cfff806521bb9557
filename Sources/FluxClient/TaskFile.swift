public import FluxAPI
import Foundation

/// A file of submissions for `fluxforge tasks submit --file`: one JSON object per line (JSON
/// Lines), each exactly the body of `POST …/tasks`. Blank lines and lines starting with `#` are
/// skipped. Every line is decoded and validated before anything is sent, so a bad line 9,000
/// is found before line 1 is submitted.
public enum TaskFile {
    /// The submissions of `text`; the first bad line throws, naming its number and field.
    public static func parse(_ text: String) throws -> [TaskSubmission] {
        var tasks: [TaskSubmission] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed == "\r" { continue }
            do {
                let task = try JSONDecoder().decode(TaskSubmission.self, from: Data(line.utf8))
                try task.validate()
                tasks.append(task)
            } catch let problem as APIProblem {
                throw ClientConfigError("line \(index + 1): \(problem.message)" + (problem.field.map { " (field \($0))" } ?? ""))
            } catch {
                throw ClientConfigError("line \(index + 1): not a task submission: \(Self.describe(error))")
            }
        }
        guard !tasks.isEmpty else { throw ClientConfigError("the file holds no task") }
        return tasks
    }

    static func describe(_ error: any Error) -> String {
        if let problem = error as? APIProblem { return problem.message }
        switch error as? DecodingError {
        case .keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default: return "\(error)"
        }
    }
}

/// The one-line progress of a long submission: count, rate and time left.
public struct Progress: Sendable {
    public var total: Int
    public var done: Int
    public var elapsedSeconds: Double

    public init(total: Int, done: Int, elapsedSeconds: Double) {
        self.total = total
        self.done = done
        self.elapsedSeconds = elapsedSeconds
    }

    public var ratePerSecond: Double { elapsedSeconds > 0 ? Double(done) / elapsedSeconds : 0 }

    /// e.g. `[#########...........]  4,500/10,000  1,502/s  ETA 4s`.
    public var line: String {
        let width = 20
        let filled = total == 0 ? width : min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let eta: String
        if done >= total {
            eta = "done in \(Self.duration(elapsedSeconds))"
        } else if ratePerSecond > 0 {
            eta = "ETA \(Self.duration(Double(total - done) / ratePerSecond))"
        } else {
            eta = "ETA -"
        }
        return "[\(bar)]  \(Self.grouped(done))/\(Self.grouped(total))  \(Self.grouped(Int(ratePerSecond.rounded())))/s  \(eta)"
    }

    /// 12345 → "12,345".
    public static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return String(format: "%.1fs", seconds) }
        if seconds < 120 { return "\(Int(seconds.rounded()))s" }
        return "\(Int(seconds) / 60)m\(Int(seconds) % 60)s"
    }
}
