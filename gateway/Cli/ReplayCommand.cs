using System.CommandLine;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Replay;

namespace LoxiLb.Edge5G.Cli;

/// <summary>edge5g replay IN.pcap --rules RULES.json [--out OUT.pcap] [--expect GOLDEN.pcap]</summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("capture") { Description = "pcap or pcapng file of Ethernet frames" };
        var rules = new Option<FileInfo>("--rules") { Description = "rules file (JSON: addresses, interfaces, routes, sessions)", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "write the frames the datapath transmitted to this pcap" };
        var expect = new Option<FileInfo?>("--expect") { Description = "golden pcap: exit 1 on any difference from it" };
        var quiet = new Option<bool>("--quiet") { Description = "only the summary" };
        var command = new Command("replay", "Run a capture through the real GTP-U XDP program with the sessions of a rules file")
        {
            input, rules, output, expect, quiet,
        };
        command.SetAction(parse => Run(parse.GetValue(input)!, parse.GetValue(rules)!, parse.GetValue(output), parse.GetValue(expect),
            parse.GetValue(quiet), Console.Out, Console.Error));
        return command;
    }

    public static int Run(FileInfo input, FileInfo rulesFile, FileInfo? output, FileInfo? expect, bool quiet, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var rules = RulesDocument.Load(rulesFile.FullName);
            var frames = PcapFile.Read(input.FullName);
            var result = ReplayRunner.Run(rules, frames);
            if (!quiet)
                foreach (var f in result.Frames)
                    stdout.WriteLine(ReplayRunner.Describe(f));
            stdout.WriteLine($"{result.Frames.Count} frames: " + string.Join(", ",
                result.Frames.GroupBy(f => f.Verdict).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToUpperInvariant()}")));
            foreach (var reason in result.Frames.SelectMany(f => f.Reasons).GroupBy(r => r).OrderBy(g => g.Key))
                stdout.WriteLine($"  {ReplayRunner.Kebab(reason.Key),-20} {reason.Count()}");
            if (output is not null)
                PcapFile.Write(output.FullName, result.OutputFrames);
            if (expect is null)
                return 0;
            var problems = ReplayRunner.Compare(result, PcapFile.Read(expect.FullName));
            foreach (var p in problems)
                stderr.WriteLine(p);
            stdout.WriteLine(problems.Count == 0 ? $"output matches {expect.Name}" : $"output differs from {expect.Name} ({problems.Count} problems)");
            return problems.Count == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is RulesFormatException or RuleException or BpfException or FileNotFoundException)
        {
            stderr.WriteLine($"edge5g replay: {e.Message}");
            return 2;
        }
    }
}
