using System.Net.Sockets;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Bpf.Interop;
using LoxiLb.Edge5G.Datapath;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Json;

namespace LoxiLb.Edge5G.Replay;

/// <summary>What happened to one frame of a replayed capture.</summary>
public sealed record ReplayedFrame(int Number, PcapFrame Input, XdpAction Verdict, byte[]? Output, IReadOnlyList<DatapathStat> Reasons)
{
    /// <summary>TX and REDIRECT frames leave the datapath; they make up the output capture.</summary>
    public bool Transmitted => Verdict is XdpAction.Tx or XdpAction.Redirect;
}

public sealed record ReplayResult(IReadOnlyList<ReplayedFrame> Frames)
{
    public IEnumerable<PcapFrame> OutputFrames =>
        Frames.Where(f => f.Transmitted).Select(f => new PcapFrame(f.Output!, f.Input.Timestamp, f.Input.LinkType));
}

/// <summary>
/// Runs every frame of a capture through the real GTP-U program (BPF_PROG_TEST_RUN, one
/// frame at a time, in order) with the session state of a rules file, on the loopback
/// interface as ingress: all interfaces of the rules file map onto it.
/// </summary>
public static class ReplayRunner
{
    public const int Ingress = 1; // lo: exists in every network namespace

    public static ReplayResult Run(RulesDocument rules, IReadOnlyList<PcapFrame> frames)
    {
        var sessions = rules.ToSessions();
        var addresses = rules.GtpAddresses();
        var options = new GtpDatapathOptions
        {
            Sessions = (uint)Math.Max(16, sessions.Count * 2),
            RuleLists = 64,
            SdfFilters = 256,
            NextHops = (uint)Math.Max(16, (rules.Routes?.Length ?? 0) + 1),
            Recovery = rules.Recovery,
        };
        using var datapath = GtpDatapath.Load(options);
        datapath.SetInterface(Ingress, Roles(rules));
        foreach (var a in addresses.All)
            datapath.AddLocalAddress(a);
        var (icmp4, icmp6) = rules.DataNetworkAddresses();
        datapath.SetIcmpSources(icmp4, icmp6);
        var nextHops = new StaticNextHops(datapath.Tables.Nexthops, rules.StaticRoutes(InterfaceIndex));
        var table = new SessionTable(datapath.Tables, addresses, nextHops);
        foreach (var s in sessions)
            table.Establish(s);

        var results = new List<ReplayedFrame>();
        var before = datapath.Stats();
        for (int i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (frame.LinkType != PacketDotNet.LinkLayers.Ethernet || frame.Data.Length < 14)
            {
                results.Add(new ReplayedFrame(i + 1, frame, XdpAction.Aborted, null, []));
                continue;
            }
            var run = ProgramTestRun.RunXdp(datapath.Program, frame.Data, Ingress);
            var after = datapath.Stats();
            var reasons = after.Where(kv => kv.Value.Packets != before[kv.Key].Packets).Select(kv => kv.Key).ToArray();
            before = after;
            results.Add(new ReplayedFrame(i + 1, frame, run.Verdict, run.Output, reasons));
        }
        return new ReplayResult(results);
    }

    private static InterfaceRoles Roles(RulesDocument rules)
    {
        var roles = (rules.Interfaces ?? []).SelectMany(i => i.Roles).Select((r, n) => r.ToLowerInvariant() switch
        {
            "access" or "n3" => InterfaceRoles.Access,
            "core" or "n6" => InterfaceRoles.Core,
            "n9" => InterfaceRoles.N9,
            _ => throw new RulesFormatException("interfaces", $"interfaces: role '{r}' is not one of access, core, n9"),
        }).Aggregate((InterfaceRoles)0, (a, b) => a | b);
        return roles == 0 ? InterfaceRoles.Access | InterfaceRoles.Core | InterfaceRoles.N9 : roles;
    }

    // Routes name interfaces of the machine they were written for; in a replay every frame
    // leaves through the ingress unless the named interface exists here.
    private static int InterfaceIndex(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return Ingress;
        var index = LibC.if_nametoindex(name);
        return index == 0 ? Ingress : (int)index;
    }

    /// <summary>One line per frame: number, sizes, verdict and the datapath's reason.</summary>
    public static string Describe(ReplayedFrame f) =>
        $"#{f.Number,-5} {f.Input.Data.Length,5} B  {f.Verdict.ToString().ToUpperInvariant(),-8} " +
        (f.Transmitted ? $"{f.Output!.Length,5} B" : "      -") +
        $"  {string.Join(",", f.Reasons.Select(Kebab))}";

    public static string Kebab(DatapathStat s) =>
        string.Concat(s.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Differences between the transmitted frames and a golden capture; empty when identical.</summary>
    public static IReadOnlyList<string> Compare(ReplayResult result, IReadOnlyList<PcapFrame> golden)
    {
        var actual = result.OutputFrames.ToArray();
        var problems = new List<string>();
        if (actual.Length != golden.Count)
            problems.Add($"the datapath transmitted {actual.Length} frames; the golden capture has {golden.Count}");
        for (int i = 0; i < Math.Min(actual.Length, golden.Count); i++)
            if (PacketDiff.Describe(golden[i].Data, actual[i].Data) is { } diff)
                problems.Add($"output frame {i + 1}: {diff}");
        return problems;
    }

    internal static bool IsIpv4(System.Net.IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork;
}
