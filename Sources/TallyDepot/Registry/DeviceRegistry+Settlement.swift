import TallyReconcile

extension DeviceRegistry {
    /// The devices as settlement sees them (role, scope, last sync, clock skew).
    public func settlementDevices() throws -> [DeviceInfo] {
        let recoveries = Dictionary(grouping: try auditLog(actions: [AuditAction.recovered]), by: \.device)
        return try devices().map {
            DeviceInfo(name: $0.name, role: $0.role.rawValue, scope: $0.scope, lastSyncAt: $0.lastSyncAt, lastSkewMs: $0.lastSkewMs,
                       recoveries: (recoveries[$0.name] ?? []).map { ($0.at, $0.detail) })
        }
    }
}
