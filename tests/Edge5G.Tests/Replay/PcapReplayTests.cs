using System.Text.Json;
using LoxiLb.Edge5G.Cli;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Replay;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Replay;

/// <summary>Every case of pcaps/ replayed through the real program against its golden output.</summary>
public class PcapReplayTests
{
    public static TheoryData<string> Cases() => new(PcapCases.All().Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void CommittedCase_IsWhatTheGeneratorBuilds(string name)
    {
        var c = PcapCases.All().Single(x => x.Name == name);
        if (Environment.GetEnvironmentVariable("EDGE5G_REGENERATE_PCAPS") == "1")
            PcapCases.Write(c);
        Assert.Equal(c.Input.Select(Convert.ToHexString), PcapFile.Read(Path.Combine(c.Directory, "in.pcap")).Select(f => Convert.ToHexString(f.Data)));
        Assert.Equal(c.Golden.Select(Convert.ToHexString), PcapFile.Read(Path.Combine(c.Directory, "golden.pcap")).Select(f => Convert.ToHexString(f.Data)));
        var committed = RulesDocument.Load(Path.Combine(c.Directory, "rules.json"));
        Assert.Equal(JsonSerializer.Serialize(c.Rules, RulesDocument.JsonOptions), JsonSerializer.Serialize(committed, RulesDocument.JsonOptions));
        Assert.Contains($"| {c.Name} |", File.ReadAllText(Path.Combine(RepoPaths.Pcaps, "README.md")));
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Replay_MatchesTheGoldenOutput(string name)
    {
        Privileged.Require();
        var dir = Path.Combine(RepoPaths.Pcaps, name);
        var result = ReplayRunner.Run(RulesDocument.Load(Path.Combine(dir, "rules.json")), PcapFile.Read(Path.Combine(dir, "in.pcap")));
        var problems = ReplayRunner.Compare(result, PcapFile.Read(Path.Combine(dir, "golden.pcap")));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.All(result.Frames, f => Assert.NotEmpty(f.Reasons)); // every frame is counted by a reason
    }

    [SkippableFact]
    public void ReplayCommand_ExitsOneAndNamesTheFrame_WhenTheGoldenDiffers()
    {
        Privileged.Require();
        var dir = Path.Combine(RepoPaths.Pcaps, "uplink-psc");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var wrongGolden = new FileInfo(Path.Combine(RepoPaths.Pcaps, "downlink-ipv4", "golden.pcap"));

        var rc = ReplayCommand.Run(new FileInfo(Path.Combine(dir, "in.pcap")), new FileInfo(Path.Combine(dir, "rules.json")), null, wrongGolden,
            quiet: false, stdout, stderr);

        Assert.Equal(1, rc);
        Assert.Contains("#1", stdout.ToString());
        Assert.Contains("TX", stdout.ToString());
        Assert.Contains("forward-uplink", stdout.ToString());
        Assert.Contains("output frame 1: frames differ", stderr.ToString());
    }

    [SkippableFact]
    public void ReplayCommand_WritesTheTransmittedFrames_AndExitsZeroOnAMatch()
    {
        Privileged.Require();
        var dir = Path.Combine(RepoPaths.Pcaps, "ulcl-split");
        var output = Path.Combine(Path.GetTempPath(), $"edge5g-replay-{Guid.NewGuid():N}.pcap");
        try
        {
            var rc = ReplayCommand.Run(new FileInfo(Path.Combine(dir, "in.pcap")), new FileInfo(Path.Combine(dir, "rules.json")),
                new FileInfo(output), new FileInfo(Path.Combine(dir, "golden.pcap")), quiet: true, new StringWriter(), new StringWriter());
            Assert.Equal(0, rc);
            Assert.Equal(
                PcapFile.Read(Path.Combine(dir, "golden.pcap")).Select(f => Convert.ToHexString(f.Data)),
                PcapFile.Read(output).Select(f => Convert.ToHexString(f.Data)));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void ReplayCommand_WithABadRulesFile_ExitsTwoNamingTheField()
    {
        var rules = Path.Combine(Path.GetTempPath(), $"edge5g-rules-{Guid.NewGuid():N}.json");
        File.WriteAllText(rules, """{ "sessions": [ { "seid": 1, "pdrs": [ { "id": 1, "precedence": 1, "sourceInterface": "acess", "farId": 1 } ], "fars": [] } ] }""");
        var stderr = new StringWriter();
        try
        {
            var rc = ReplayCommand.Run(new FileInfo(Path.Combine(RepoPaths.Pcaps, "echo", "in.pcap")), new FileInfo(rules), null, null, true, new StringWriter(), stderr);
            Assert.Equal(2, rc);
            Assert.Contains("sessions[0].pdrs[0].sourceInterface: 'acess' is not one of access, core", stderr.ToString());
        }
        finally
        {
            File.Delete(rules);
        }
    }
}
