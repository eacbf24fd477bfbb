import Foundation
import Testing
import TallyReplica

/// End-to-end tests of the `tally` binary.
@Suite struct CLITests {
    @Test func versionAndHelp() throws {
        let v = try CLI.run("--version")
        #expect(v.status == 0)
        #expect(v.stdout.hasPrefix("tally "))
        let h = try CLI.run("--help")
        #expect(h.status == 0)
        #expect(h.stdout.contains("replica"))
        #expect(h.stdout.contains("demo"))
    }

    /// The main job: a whole route day through a real depot on a loopback port.
    @Test func demoRunsAWholeDayThatReconciles() throws {
        let dir = try TempDir()
        let demo = try CLI.run("demo", "--keep", dir.path("day"))
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("Day complete"))
        #expect(demo.stdout.contains("Every fen accounted for"))
        #expect(demo.stdout.contains("owed by shops") && demo.stdout.contains("declared missing by van-03"))
        // The accountant's settlement ends the day: one van balanced, one short with its cause.
        let lines = demo.stdout.split(separator: "\n").map(String.init)
        func settled(_ device: String, _ status: String) -> Bool {
            lines.contains { $0.hasPrefix("    \(device) ") && $0.split(separator: " ").contains { $0 == status } }
        }
        #expect(settled("van-01", "balanced"))
        #expect(settled("van-03", "short"))
        // The service hall's day: fees settled with the vans' cash, a joint request signed on two
        // windows, one complaint answered in time and one overdue.
        #expect(settled("W3", "balanced"))
        #expect(demo.stdout.contains("has both sign-offs"))
        #expect(demo.stdout.contains("archived"))
        #expect(demo.stdout.contains("OVERDUE"))
        #expect(demo.stdout.contains("the hall's fees 203.40, paid in 203.40"))
        #expect(demo.stdout.contains("50.00 not paid in"))
        #expect(demo.stdout.contains("approved van-01"))
        #expect(demo.stdout.contains("depot unreachable"))
        #expect(demo.stdout.contains("do not hand it over here"))
        #expect(demo.stdout.contains("89 of 89 signature images held"))
        // The kept files are real: a van's replica reads with the van commands.
        let tickets = try CLI.run("van", "tickets", "--json", "--replica", dir.path("day/van-01.sqlite"))
        #expect(tickets.status == 0, "\(tickets.stderr)")
        #expect(tickets.stdout.contains("T11280001"))
    }

    @Test func mergeDemoConvergesAndLeavesFilesThatStatusAndMergeRead() throws {
        let dir = try TempDir()
        let demo = try CLI.run("demo", "merge", "--keep", dir.path("day"))
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("Converged"))
        #expect(demo.stdout.contains("570.50"))
        #expect(demo.stdout.contains("delivered and refused"))

        var digests = Set<String>()
        for name in ["depot", "van-07", "van-08"] {
            let s = try CLI.run("replica", "status", "--json", dir.path("day/\(name).sqlite"))
            #expect(s.status == 0, "\(s.stderr)")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase  // the CLI's one JSON style
            let status = try decoder.decode(ReplicaStatus.self, from: Data(s.stdout.utf8))
            digests.insert(status.digest)
            #expect(status.conflicts == 1)
            #expect(status.tables.first { $0.table == "events" }?.live == 3)
        }
        #expect(digests.count == 1)

        // A fresh replica merged from one van's file reaches the same digest; merging again adds nothing.
        #expect(try CLI.run("replica", "init", dir.path("copy.sqlite")).status == 0)
        let m1 = try CLI.run("replica", "merge", "--json", dir.path("day/van-08.sqlite"), dir.path("copy.sqlite"))
        #expect(m1.status == 0, "\(m1.stderr)")
        let first = try JSONSerialization.jsonObject(with: Data(m1.stdout.utf8)) as? [String: Any]
        #expect(first?["digest"] as? String == digests.first)
        #expect((first?["applied"] as? Int ?? 0) > 0)
        let m2 = try CLI.run("replica", "merge", "--json", dir.path("day/van-08.sqlite"), dir.path("copy.sqlite"))
        let second = try JSONSerialization.jsonObject(with: Data(m2.stdout.utf8)) as? [String: Any]
        #expect(second?["applied"] as? Int == 0)
        #expect(second?["digest"] as? String == digests.first)
    }

    @Test func humanStatusAlignsChineseFreeTable() throws {
        let dir = try TempDir()
        #expect(try CLI.run("replica", "init", dir.path("a.sqlite"), "--site", "000000000000000000000000000000aa").status == 0)
        let s = try CLI.run("replica", "status", dir.path("a.sqlite"))
        #expect(s.status == 0)
        #expect(s.stdout.contains("000000000000000000000000000000aa"))
        #expect(s.stdout.contains("tickets"))
    }

    @Test func errorsAreOneLineAndNonZero() throws {
        let dir = try TempDir()
        let missing = try CLI.run("replica", "status", dir.path("nope.sqlite"))
        #expect(missing.status == 1)
        #expect(missing.stderr.split(separator: "\n").count == 1)
        #expect(missing.stderr.contains("not a Tally replica"))

        #expect(try CLI.run("replica", "init", dir.path("a.sqlite")).status == 0)
        let again = try CLI.run("replica", "init", dir.path("a.sqlite"))
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))

        let notReplica = dir.path("plain.txt")
        try "hello".write(toFile: notReplica, atomically: true, encoding: .utf8)
        let bad = try CLI.run("replica", "status", notReplica)
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1)

        let badSite = try CLI.run("replica", "init", dir.path("b.sqlite"), "--site", "xyz")
        #expect(badSite.status != 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path("b.sqlite")))
    }
}
