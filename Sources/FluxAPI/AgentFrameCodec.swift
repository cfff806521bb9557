#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON text frames of the agent protocol, one `AgentMessage` per frame: the one codec the
/// agent, the shard, the router's relay and the load generator's simulated agents share.
public enum AgentFrameCodec {
    /// Encodes a message as the JSON text of one frame.
    public static func encode(_ message: AgentMessage) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(message), as: UTF8.self)
    }

    /// Decodes one frame's JSON text.
    public static func decode(_ text: String) throws -> AgentMessage {
        try JSONDecoder().decode(AgentMessage.self, from: Data(text.utf8))
    }
}
