/// Every limit on a submission, in one place, so docs/api and the validator cannot disagree.
public enum TaskLimits {
    public static let maxBodyBytes = 64 * 1024
    public static let maxBatchBodyBytes = 4 * 1024 * 1024
    public static let maxBatchSize = 1_000
    public static let maxArguments = 256
    public static let maxArgumentBytes = 8 * 1024
    public static let maxCommandBytes = 32 * 1024
    public static let maxEnvEntries = 64
    public static let maxEnvValueBytes = 4 * 1024
    public static let maxSelectorEntries = 16
    public static let priorityRange = 0...10
    public static let defaultPriority = 5
    public static let cpuCostRange = 0...1_024
    public static let defaultTimeoutMs = 60_000
    public static let timeoutRange = 100...86_400_000
    public static let deadlineRange = 100...(7 * 86_400_000)
    public static let maxAttemptsRange = 1...20
    public static let delayRange = 0...3_600_000
    public static let backoffKinds: Set<String> = ["none", "linear", "exponential"]
    public static let maxIdempotencyKeyBytes = 128
}
