// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "casekb",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CaseKB", targets: ["CaseKB"]),
        .executable(name: "casekb", targets: ["casekb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // libxml2's HTML parser, imported through a shim that hides its ICU headers (see Sources/CLibXML2/shim.h).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // The pipeline: mail sources → messages → extraction → (signatures → store → reports in later stages).
        .target(
            name: "CaseKB",
            dependencies: ["CLibXML2", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Resources"), .copy("Schema")]
        ),
        // Thin command-line front end.
        .executableTarget(
            name: "casekb",
            dependencies: ["CaseKB", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Benchmarks that print figures (never timed unit tests).
        .executableTarget(
            name: "casekb-bench",
            dependencies: ["CaseKB"]
        ),
        .testTarget(
            name: "CaseKBTests",
            dependencies: ["CaseKB"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
