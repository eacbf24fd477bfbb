// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Tally",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tally", targets: ["tally"]),
        .library(name: "TallyReplica", targets: ["TallyReplica"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // TLS: the depot serves HTTPS (HummingbirdTLS over NIOSSL), makes its own certificates
        // (X509), and devices verify it against the depot's CA (AsyncHTTPClient: URLSession on
        // Linux cannot be given a CA of its own).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The depot's GET /metrics: counted through swift-metrics, shown by swift-prometheus.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // zlib through the system library, with the init macros wrapped for Swift.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Domain-agnostic CRDT replica over SQLite.
        .target(
            name: "TallyReplica",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Wire encoding and compression (grows into the sync protocol).
        .target(
            name: "TallyProtocol",
            dependencies: ["CZlib", "TallyReplica"],
            swiftSettings: strict),

        // The domain: what a van, a window and the depot record.
        .target(
            name: "TallyRoutes",
            dependencies: ["TallyReplica", "TallyProtocol", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),

        // Settlement: each van's day reconciled (cash due, collected, deposited, bank lines),
        // exceptions, approvals.
        .target(
            name: "TallyReconcile",
            dependencies: ["TallyReplica", "TallyRoutes", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),

        // The depot: device registry, scope, the sync protocol, and its HTTP server.
        .target(
            name: "TallyDepot",
            dependencies: [
                "TallyReplica", "TallyProtocol", "TallyRoutes", "TallyReconcile",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict),

        // The device side of sync: push, pull, blobs, over HTTP(S) with AsyncHTTPClient.
        .target(
            name: "TallySync",
            dependencies: [
                "TallyReplica", "TallyProtocol", "TallyReconcile",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),

        .executableTarget(
            name: "tally",
            dependencies: [
                "TallyReplica", "TallyProtocol", "TallyRoutes", "TallyDepot", "TallySync", "TallyReconcile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),

        // Tools: benchmarks and test helpers.
        .executableTarget(
            name: "tally-bench",
            dependencies: [
                "TallyReplica", "TallyToolSupport",
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Tools/bench",
            exclude: ["scripts"],
            swiftSettings: strict),
        // What the benchmarks and the simulator share: a real depot process to start, kill and measure.
        .target(
            name: "TallyToolSupport",
            path: "Tools/support",
            swiftSettings: strict),
        .executableTarget(
            name: "tally-sync-bench",
            dependencies: ["TallyReplica", "TallyProtocol", "TallyRoutes", "TallyDepot", "TallySync", "TallyToolSupport",
                           .product(name: "Logging", package: "swift-log"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            path: "Tools/sync-bench",
            swiftSettings: strict),
        .executableTarget(
            name: "tally-route-bench",
            dependencies: ["TallyReplica", "TallyRoutes", "TallyToolSupport", .product(name: "GRDBSQLite", package: "GRDB.swift")],
            path: "Tools/route-bench",
            swiftSettings: strict),
        .executableTarget(
            name: "tally-reconcile-bench",
            dependencies: ["TallyReplica", "TallyRoutes", "TallyReconcile", "TallyToolSupport"],
            path: "Tools/reconcile-bench",
            swiftSettings: strict),
        // libFuzzer targets: built only by Tools/fuzz.sh with -sanitize=fuzzer (libFuzzer
        // supplies main), never by the normal build.
        .executableTarget(
            name: "tally-fuzz",
            dependencies: ["TallyReplica", "TallyProtocol", "TallyRoutes", "TallyReconcile"],
            path: "Tools/fuzz",
            exclude: ["corpus"],
            swiftSettings: strict),
        // The fault-injecting simulator (issue 8): devices against a real depot process.
        .executableTarget(
            name: "tally-sim",
            dependencies: ["TallyProtocol", "TallyReplica", "TallyRoutes", "TallySync", "TallyToolSupport",
                           .product(name: "Logging", package: "swift-log")],
            path: "Tools/simulator",
            swiftSettings: strict),
        .executableTarget(
            name: "tally-crash-writer",
            dependencies: ["TallyReplica"],
            path: "Tools/crash-writer",
            swiftSettings: strict),

        .testTarget(
            name: "TallyReplicaTests",
            dependencies: ["TallyReplica", "TallyProtocol", "TallyRoutes", "tally", "tally-crash-writer"],
            swiftSettings: strict),
        .testTarget(
            name: "TallyProtocolTests",
            dependencies: ["TallyProtocol", "TallyReplica", "TallyRoutes"],
            swiftSettings: strict),
        .testTarget(
            name: "TallyRoutesTests",
            dependencies: ["TallyRoutes", "TallyReplica"],
            swiftSettings: strict),
        .testTarget(
            name: "TallyReconcileTests",
            dependencies: ["TallyReconcile", "TallyRoutes", "TallyReplica"],
            swiftSettings: strict),
        .testTarget(
            name: "TallyCLITests",
            dependencies: ["tally", "TallyReplica"],
            swiftSettings: strict),
        .testTarget(
            name: "TallySyncTests",
            dependencies: ["TallyDepot", "TallySync", "TallyProtocol", "TallyReplica", "TallyRoutes", "TallyToolSupport", "tally"],
            swiftSettings: strict),
    ]
)
