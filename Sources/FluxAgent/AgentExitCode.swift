/// Exit codes the agent reports in `finished` when the command did not simply exit by itself.
/// They follow the shell's and coreutils' conventions, so operators read them without a table.
public enum AgentExitCode {
    /// Killed by the agent because `timeoutMs` passed (as `timeout(1)`); `timedOut` is true.
    public static let timedOut = 124
    /// The program exists but could not be executed (permission, not an executable, spawn error).
    public static let cannotExecute = 126
    /// The program was not found (as the shell's "command not found").
    public static let notFound = 127
    /// A command ended by signal N reports `signalBase + N` (SIGKILL → 137, SIGTERM → 143).
    public static let signalBase = 128
    /// Killed by the agent on `cancel`: SIGKILL, hence 128 + 9.
    public static let cancelled = 137
}
