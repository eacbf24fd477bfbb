import TallyProtocol

extension DepotClient {
    /// `GET /v1/hello`: what the depot holds of this device; nil from a depot older than it.
    func hello(meter: Meter) async throws(SyncError) -> HelloResponse? {
        let bytes: [UInt8]
        do {
            bytes = try await get("/v1/hello", meter: meter)
        } catch .refused(let e) where e.status == 404 {
            return nil
        }
        return try decode(HelloResponse.self, Self.inflateIfNeeded(bytes))
    }
}
