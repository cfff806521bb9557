#if canImport(Glibc)
import Glibc
#endif

/// Finds the file a dispatched `argv[0]` would execute, the way the agent runs it: a name with a
/// slash is that path, a bare name is looked up in the agent's fixed search path (never one the
/// dispatch supplied). Both sides of the `--allow` check go through it, so an allowed `echo`
/// cannot be satisfied by a `/tmp/evil/echo` and a symlink cannot smuggle another binary in.
public enum ProgramResolver {
    /// The `PATH` every task starts with (docs/agent-protocol.md).
    public static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The canonical absolute path of the executable, or nil when there is none.
    public static func resolve(_ program: String, searchPath: String = defaultSearchPath) -> String? {
        guard !program.isEmpty else { return nil }
        if program.contains("/") { return canonical(program) }
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            if let found = canonical("\(directory)/\(program)") { return found }
        }
        return nil
    }

    /// `realpath` of an executable regular file, or nil.
    static func canonical(_ path: String) -> String? {
        guard access(path, X_OK) == 0, let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return String(cString: resolved)
    }
}
