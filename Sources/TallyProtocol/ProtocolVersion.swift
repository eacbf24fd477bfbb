/// Versions a device and the depot exchange on every request.
public enum ProtocolVersion {
    /// The wire protocol this build speaks. A request with another version is refused with
    /// `unsupported_protocol`, saying which side to update.
    public static let current = 1
}

/// Limits that protect the depot and keep a batch's memory bounded.
public enum WireLimits {
    /// Largest request body accepted, compressed or not (bytes).
    public static let maxBody = 16 * 1024 * 1024
    /// Largest body once decompressed (bytes).
    public static let maxInflated = 64 * 1024 * 1024
    /// Most changes in one push or pull page.
    public static let maxChanges = 20_000
    /// Largest snapshot file once inflated (bytes).
    public static let maxSnapshot = 4 * 1024 * 1024 * 1024
    /// Largest blob (bytes).
    public static let maxBlob = 8 * 1024 * 1024
}
