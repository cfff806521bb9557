/// How many frames an agent session may send: at most `perSecond` within any one-second window
/// (counted per window starting at the first frame after the last one ended). A session over it
/// is flooding — a real agent sends a handful per task and per heartbeat — and is closed rather
/// than allowed to fill the driver's queue.
struct FrameBudget {
    let perSecond: Int
    private var windowStartMs: Int64?
    private var count = 0

    init(perSecond: Int) {
        self.perSecond = max(1, perSecond)
    }

    /// Counts one frame at `nowMs`; false when the window's budget is spent.
    mutating func admit(nowMs: Int64) -> Bool {
        if windowStartMs.map({ nowMs - $0 >= 1_000 }) ?? true {
            windowStartMs = nowMs
            count = 0
        }
        count += 1
        return count <= perSecond
    }
}
