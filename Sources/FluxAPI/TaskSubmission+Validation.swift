extension TaskSubmission {
    /// Checks every field against `TaskLimits`; the first problem found is thrown, naming its field.
    public func validate() throws(APIProblem) {
        try validateCommand()
        try validateEnvironment()
        try Self.check(priority, in: TaskLimits.priorityRange, field: "priority")
        try Self.check(cpuCost, in: TaskLimits.cpuCostRange, field: "cpuCost")
        try Self.check(timeoutMs, in: TaskLimits.timeoutRange, field: "timeoutMs")
        if let deadlineAfterMs {
            try Self.check(deadlineAfterMs, in: TaskLimits.deadlineRange, field: "deadlineAfterMs")
        }
        try validatePlacement()
        try retry?.validate()
    }

    private func validateCommand() throws(APIProblem) {
        guard !command.isEmpty else { throw .invalid("command", "must hold at least the program name") }
        guard command.count <= TaskLimits.maxArguments else {
            throw .invalid("command", "at most \(TaskLimits.maxArguments) arguments")
        }
        guard !command[0].isEmpty else { throw .invalid("command[0]", "program name must not be empty") }
        var total = 0
        for (index, argument) in command.enumerated() {
            let size = argument.utf8.count
            guard size <= TaskLimits.maxArgumentBytes else {
                throw .invalid("command[\(index)]", "longer than \(TaskLimits.maxArgumentBytes) bytes")
            }
            guard !argument.utf8.contains(0) else { throw .invalid("command[\(index)]", "contains a NUL byte") }
            total += size
        }
        guard total <= TaskLimits.maxCommandBytes else {
            throw .invalid("command", "longer than \(TaskLimits.maxCommandBytes) bytes in all")
        }
    }

    private func validateEnvironment() throws(APIProblem) {
        guard env.count <= TaskLimits.maxEnvEntries else {
            throw .invalid("env", "at most \(TaskLimits.maxEnvEntries) variables")
        }
        for (name, value) in env {
            guard Self.isEnvironmentName(name) else { throw .invalid("env.\(name)", "name must match [A-Za-z_][A-Za-z0-9_]{0,127}") }
            guard value.utf8.count <= TaskLimits.maxEnvValueBytes, !value.utf8.contains(0) else {
                throw .invalid("env.\(name)", "value longer than \(TaskLimits.maxEnvValueBytes) bytes or holds NUL")
            }
        }
    }

    private func validatePlacement() throws(APIProblem) {
        if let node {
            try NameRules.validate(node, field: "node")
            guard selector.isEmpty else { throw .invalid("selector", "give either node or selector, not both") }
        }
        guard selector.count <= TaskLimits.maxSelectorEntries else {
            throw .invalid("selector", "at most \(TaskLimits.maxSelectorEntries) labels")
        }
        for (key, value) in selector {
            guard NameRules.isValidLabel(key), NameRules.isValidLabel(value) else {
                throw .invalid("selector.\(key)", "labels must match [A-Za-z0-9._-]{1,63}")
            }
        }
    }

    static func check(_ value: Int, in range: ClosedRange<Int>, field: String) throws(APIProblem) {
        guard range.contains(value) else {
            throw .invalid(field, "must be within \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 128 else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
        return isLetter(first) && bytes.dropFirst().allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}

extension RetrySpec {
    /// Checks the retry policy's ranges and backoff kind.
    public func validate() throws(APIProblem) {
        try TaskSubmission.check(maxAttempts, in: TaskLimits.maxAttemptsRange, field: "retry.maxAttempts")
        guard TaskLimits.backoffKinds.contains(backoff) else {
            throw .invalid("retry.backoff", "must be one of none, linear, exponential")
        }
        try TaskSubmission.check(baseDelayMs, in: TaskLimits.delayRange, field: "retry.baseDelayMs")
        try TaskSubmission.check(maxDelayMs, in: TaskLimits.delayRange, field: "retry.maxDelayMs")
        guard maxDelayMs >= baseDelayMs else { throw .invalid("retry.maxDelayMs", "must be ≥ retry.baseDelayMs") }
    }
}
