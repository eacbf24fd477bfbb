import ArgumentParser
import TallyRoutes

struct ReasonsCommand: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "reasons", abstract: "The reason codes refusals and returns take.")
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        if json { try Console.json(ReasonCode.all); return }
        var t = TextTable(["code", "原因", "reason", "refusal", "return", "note needed"])
        for r in ReasonCode.all {
            t.add([r.code, r.chinese, r.english, r.refusal ? "yes" : "", r.return ? "yes" : "", r.needsNote ? "yes" : ""])
        }
        Console.out(t.render())
    }
}
