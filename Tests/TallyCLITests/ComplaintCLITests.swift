import Foundation
import Testing
import TallyReplica

/// `tally complaint`, end to end: one line per step, tables and JSON, refusals on stderr.
@Suite struct ComplaintCLITests {
    /// A device's replica as `tally join` leaves it, without a depot.
    func device(_ dir: TempDir, _ device: String, role: String = "window", scope: String) throws -> String {
        let path = dir.path("\(device).sqlite")
        let made = try CLI.run("replica", "init", path)
        #expect(made.status == 0, "\(made.stderr)")
        let r = try Replica.open(at: path, options: .quiet())
        try r.setSettings(["sync.device": device, "sync.scope": scope, "sync.role": role])
        try r.close()
        return path
    }

    /// The complaints a replica lists, as JSON.
    func listed(_ args: String...) throws -> [[String: Any]] {
        let r = try run(["complaint", "list", "--json"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    }

    /// `CLI.run` with the arguments in an array.
    func run(_ args: [String]) throws -> CLI.Result {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func aComplaintFromOpeningToArchive() throws {
        let dir = try TempDir()
        let w1 = try device(dir, "W1", scope: "complaints")
        let open = try CLI.run("complaint", "open", "--about", "van-07", "--by", "王先生", "--phone", "13800000000", "--text", "司机态度不好",
                               "--wants", "道歉", "--staff", "王芳", "--replica", w1)
        #expect(open.status == 0, "\(open.stderr)")
        #expect(open.stdout.hasPrefix("recorded complaint C-W1-") && open.stdout.contains("about device van-07 from 王先生 (13800000000)"))
        #expect(open.stdout.contains("at window complaints (W1) by 王芳; investigate by "))
        let id = try #require(try listed("--replica", w1).first?["complaint"] as? [String: Any])["id"] as? String ?? ""

        let steps: [([String], String)] = [
            (["judge", id, "valid"], "\(id) judged valid by 王芳 at window complaints (W1)"),
            (["assign", id, "grants"], "\(id) assigned to grants by 王芳"),
            (["investigate", id, "--findings", "查明属实"], "\(id) investigated by 王芳"),
            (["reply", id, "--told", "已道歉"], "\(id) replied to by 王芳"),
            (["follow-up", id, "satisfied", "--note", "满意"], "\(id) followed up (satisfied) by 王芳"),
            (["archive", id], "\(id) archived by 王芳"),
        ]
        for (args, expected) in steps {
            let r = try run(["complaint"] + args + ["--staff", "王芳", "--replica", w1])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stdout.contains(expected), "\(r.stdout)")
            #expect(r.stdout.split(separator: "\n").count == 1, "one line: \(r.stdout)")
        }

        let table = try CLI.run("complaint", "list", "--replica", w1)
        #expect(table.status == 0)
        #expect(table.stdout.contains("due next") && table.stdout.contains(id) && table.stdout.contains("archived") && table.stdout.contains("王先生"))
        let show = try CLI.run("complaint", "show", id, "--replica", w1)
        #expect(show.status == 0 && show.stdout.contains("follow_up") && show.stdout.contains("满意") && show.stdout.contains("司机态度不好"))
        let json = try listed("--replica", w1)
        #expect(json.count == 1 && json.first?["stage"] as? String == "archived" && json.first?["follow_up"] as? String == "satisfied")
        #expect(json.first?.keys.contains("answer") == true, "null fields are present")
        #expect(try listed("--overdue", "--replica", w1).isEmpty)
    }

    @Test func refusalsAreOneLineAndChangeNothing() throws {
        let dir = try TempDir()
        let w1 = try device(dir, "W1", scope: "complaints")
        #expect(try CLI.run("complaint", "open", "--about", "van-07", "--by", "王先生", "--text", "rude", "--replica", w1).status == 0)
        let id = try #require(try listed("--replica", w1).first?["complaint"] as? [String: Any])["id"] as? String ?? ""
        let before = try CLI.run("replica", "status", "--json", w1).stdout

        for (args, fragment) in [(["assign", id, "grants"], "has not been judged yet"),
                                 (["judge", id, "invalid"], "--answer TEXT"),
                                 (["judge", "C-W1-19990101-1", "valid"], "tally complaint list"),
                                 (["open", "--about", "x", "--by", "y", "--text", " "], "--text TEXT")] {
            let r = try run(["complaint"] + args + ["--replica", w1])
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(fragment), "\(args): \(r.stderr)")
        }
        #expect(try CLI.run("replica", "status", "--json", w1).stdout == before)

        // A van records complaints only.
        let van = try device(dir, "van-07", role: "van", scope: "R07")
        #expect(try CLI.run("complaint", "open", "--about", "T0001", "--by", "张老板", "--text", "少一箱", "--major", "--replica", van).status == 0)
        let vid = try #require(try listed("--replica", van).first?["complaint"] as? [String: Any])["id"] as? String ?? ""
        let r = try CLI.run("complaint", "judge", vid, "valid", "--replica", van)
        #expect(r.status == 1 && r.stderr.contains("taken at a service window"))
    }

    @Test func theDepotListsEveryDevicesComplaintsWithTheirConflicts() throws {
        let dir = try TempDir()
        let w1 = try device(dir, "W1", scope: "complaints")
        let w2 = try device(dir, "W2", scope: "grants")
        #expect(try CLI.run("depot", "init", "--data", dir.path("depot")).status == 0)
        #expect(try CLI.run("complaint", "open", "--about", "van-07", "--by", "王先生", "--text", "rude", "--replica", w1).status == 0)
        let id = try #require(try listed("--replica", w1).first?["complaint"] as? [String: Any])["id"] as? String ?? ""
        #expect(try CLI.run("replica", "merge", w1, w2).status == 0)
        #expect(try CLI.run("complaint", "judge", id, "valid", "--staff", "张三", "--replica", w1).status == 0)
        #expect(try CLI.run("complaint", "judge", id, "invalid", "--answer", "no", "--staff", "李四", "--replica", w2).status == 0)
        for w in [w1, w2] { #expect(try CLI.run("replica", "merge", w, dir.path("depot/depot.sqlite")).status == 0) }

        let list = try CLI.run("complaint", "list", "--data", dir.path("depot"))
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains(id) && list.stdout.contains("judge: valid|invalid"))
        #expect(list.stdout.contains("\(id): judged valid on W1 (张三, ") && list.stdout.contains("settle it by hand"))
        let json = try listed("--data", dir.path("depot"))
        #expect((json.first?["conflicts"] as? [Any])?.count == 1)
    }
}
