using System.Net;
using LoxiLb.Edge5G.Pfcp;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Messages;
using LoxiLb.Edge5G.Pfcp.Rules;
using LoxiLb.Edge5G.Tests.Pfcp.Interop;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp.Replay;

/// <summary>
/// The session requests real SMFs sent (Open5GS, OAI, an unknown SMF against BISDN's UPF),
/// replayed into our node: each must be accepted and install the PDRs, FARs, QERs and URRs
/// the SMF meant, or be refused for a reason we can name (the expected cause is derived
/// from the request, not from our answer). The summary per capture pins the outcome.
/// </summary>
public class RealCaptureReplayTests(ITestOutputHelper output)
{
    /// <summary>The captures with Session Establishment Requests, and what replaying them gives.</summary>
    public static TheoryData<string, string> Captures => new()
    {
        { "AdrianDonohoe__5G_PCAP/n4_upf_timeout_n4.pcap", "establishment 5 [accepted 5]; retransmissions 25 answered from the cache" },
        { "bisdn__pfcpcore/tc1__tc1.pcap", "establishment 1 [accepted 1]; modification 1 [accepted 1]; deletion 1 [accepted 1]" },
        { "open5gs__open5gs/5g-roaming-hr.pcapng", "establishment 2 [accepted 2]; modification 4 [accepted 4]; deletion 2 [accepted 2]; retransmissions 2 answered from the cache" },
        { "open5gs__open5gs/5g-roaming-lbo.pcapng", "establishment 1 [accepted 1]; modification 2 [accepted 2]; deletion 1 [accepted 1]" },
        { "open5gs__open5gs/srsenb.pcapng", "establishment 2 [accepted 2]; modification 2 [accepted 2]; deletion 2 [accepted 2]" },
        { "open5gs__open5gs/testattach.pcapng", "establishment 20 [accepted 20]; modification 23 [accepted 23]; deletion 20 [accepted 20]" },
        { "open5gs__open5gs/testregistration.pcapng", "establishment 23 [accepted 23]; modification 29 [accepted 29]; deletion 20 [accepted 20]" },
        { "zitouni__oai-cn5g-fed/My5g-RANTester__5gcn-deployment-my5grantester.pcap", "establishment 1 [accepted 1]; modification 1 [accepted 1]" },
        { "zitouni__oai-cn5g-fed/gnbSIM__pcap__5gcn-deployment-vpp.pcap", "establishment 1 [accepted 1]; modification 1 [accepted 1]; retransmissions 11 answered from the cache" },
        { "zitouni__oai-cn5g-fed/omec-gnbsim__pcap__5gcn-deployment-omec-gnbsim.pcapng", "establishment 7 [accepted 7]; modification 7 [accepted 7]; deletion 2 [accepted 2]" },
        { "zitouni__oai-cn5g-fed/redirect__control_plane.pcap", "establishment 1 [refused 73 x1]; modification 1 [refused 65 x1]" },
    };

    [SkippableTheory]
    [MemberData(nameof(Captures))]
    public void CapturedSessionRequests_AreAcceptedWithTheRulesTheSmfMeant_OrRefusedForANamedReason(string file, string expectedSummary)
    {
        RealCaptures.RequireOrSkip();
        using var replay = new CaptureReplay(file, new TestOutputLogger(output, Microsoft.Extensions.Logging.LogLevel.Warning));
        replay.Run();
        foreach (var note in replay.Notes)
            output.WriteLine("replay: " + note);

        var problems = new List<string>();
        var outcomes = new Dictionary<string, List<string>>();
        var answered = new Dictionary<(IPEndPoint, IPEndPoint, uint), byte[]>();
        var retransmissions = 0;
        // Per UPF: our SEID -> the /64s of its UE IPv6 addresses (the datapath keys downlink IPv6 by /64).
        var prefixes = new Dictionary<IPAddress, Dictionary<ulong, HashSet<string>>>();

        foreach (var r in replay.Replayed)
        {
            var upf = replay.Upfs[r.Captured.Destination.Address];
            var where = $"#{r.Captured.Index} {r.Type} (seq {r.Request.Header.SequenceNumber})";
            var key = (r.Captured.Source, r.Captured.Destination, r.Request.Header.SequenceNumber);
            var bytes = r.Response.Message.Encode();
            if (r.Retransmission)
            {
                retransmissions++;
                if (!answered.TryGetValue(key, out var first) || !first.AsSpan().SequenceEqual(bytes))
                    problems.Add($"{where}: a retransmission was not answered with the first answer's octets");
                continue;
            }
            answered[key] = bytes;
            var live = prefixes.TryGetValue(upf.Captured, out var l) ? l : prefixes[upf.Captured] = [];

            switch (r.Request.Body)
            {
                case SessionEstablishmentRequest est:
                {
                    var response = (SessionEstablishmentResponse)r.Response.Body;
                    Tally(outcomes, "establishment", response.Cause);
                    if (r.Response.Header.Seid != est.CpFSeid.Seid)
                        problems.Add($"{where}: answered to SEID {r.Response.Header.Seid}, the SMF's is {est.CpFSeid.Seid}");
                    var expected = ExpectedRefusal(est, live.Values.SelectMany(p => p).ToHashSet());
                    if (expected is { } refusal)
                    {
                        if (response.Cause != refusal.Cause || response.FailedRuleId != refusal.Rule)
                            problems.Add($"{where}: expected {refusal.Cause} ({refusal.Why}, failed rule {refusal.Rule}), got {response.Cause} (failed rule {response.FailedRuleId})");
                        if (r.After is not null)
                            problems.Add($"{where}: refused, yet a session was installed");
                        output.WriteLine($"{where}: refused as expected: {refusal.Cause}, {refusal.Why}");
                        break;
                    }
                    if (response.Cause != PfcpCause.RequestAccepted || r.After is null)
                    {
                        problems.Add($"{where}: {response.Cause} (failed rule {response.FailedRuleId}, offending IE {response.OffendingIe})");
                        break;
                    }
                    problems.AddRange(RuleCheck.Establishment(est, response, r.After.Session, upf.Addresses).Select(p => $"{where}: {p}"));
                    problems.AddRange(SameChosenAddressesAsTheCapturedUpf(replay, r, response).Select(p => $"{where}: {p}"));
                    live[r.OurSeid!.Value] = UeIpv6Prefixes(est.CreatePdrs);
                    break;
                }
                case SessionModificationRequest mod:
                {
                    var response = (SessionModificationResponse)r.Response.Body;
                    Tally(outcomes, "modification", response.Cause);
                    if (r.OurSeid is null)
                    {
                        // Its establishment was refused above: the SMF's SEID for it maps to nothing.
                        if (response.Cause != PfcpCause.SessionContextNotFound || r.Response.Header.Seid != 0)
                            problems.Add($"{where}: for a session we refused, expected Session context not found to SEID 0, got {response.Cause} to {r.Response.Header.Seid}");
                        break;
                    }
                    if (response.Cause != PfcpCause.RequestAccepted || r.Before is null || r.After is null)
                    {
                        problems.Add($"{where}: {response.Cause} (failed rule {response.FailedRuleId}, offending IE {response.OffendingIe})");
                        break;
                    }
                    if (r.Response.Header.Seid != r.Before.Session.PeerSeid)
                        problems.Add($"{where}: answered to SEID {r.Response.Header.Seid}, the SMF's is {r.Before.Session.PeerSeid}");
                    problems.AddRange(RuleCheck.Modification(mod, response, r.Before.Session, r.After.Session, upf.Addresses).Select(p => $"{where}: {p}"));
                    break;
                }
                case SessionDeletionRequest:
                {
                    var response = (SessionDeletionResponse)r.Response.Body;
                    Tally(outcomes, "deletion", response.Cause);
                    if (r.OurSeid is null)
                    {
                        if (response.Cause != PfcpCause.SessionContextNotFound)
                            problems.Add($"{where}: for a session we refused, expected Session context not found, got {response.Cause}");
                        break;
                    }
                    if (response.Cause != PfcpCause.RequestAccepted)
                        problems.Add($"{where}: {response.Cause}");
                    if (upf.Table.TryGet(r.OurSeid.Value, out _))
                        problems.Add($"{where}: the session is still installed after its deletion");
                    live.Remove(r.OurSeid.Value);
                    break;
                }
                case AssociationSetupRequest:
                    if (r.Response.Body is not AssociationSetupResponse { Cause: PfcpCause.RequestAccepted })
                        problems.Add($"{where}: association refused: {r.Response.Body}");
                    break;
                case HeartbeatRequest:
                    if (r.Response.Body is not HeartbeatResponse)
                        problems.Add($"{where}: heartbeat answered with {r.Response.Body}");
                    break;
            }
        }

        var summary = string.Join("; ", new[] { "establishment", "modification", "deletion" }.Where(outcomes.ContainsKey)
            .Select(t => $"{t} {outcomes[t].Count} [{Describe(outcomes[t])}]"));
        if (retransmissions > 0)
            summary += $"; retransmissions {retransmissions} answered from the cache";
        output.WriteLine($"{file}: {summary}");
        foreach (var upf in replay.Upfs.Values)
            output.WriteLine($"  UPF {upf.Captured}: {upf.Table.Count} sessions left installed");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(60)));
        Assert.Equal(expectedSummary, summary);
    }

    [SkippableFact]
    public void EveryCaptureWithSessionEstablishments_IsReplayed()
    {
        RealCaptures.RequireOrSkip();
        var listed = Captures.Select(row => (string)row[0]).ToHashSet();
        var withSessions = RealCaptures.WithPfcp().Where(c => c.MessageCounts.ContainsKey((byte)PfcpMessageType.SessionEstablishmentRequest)).Select(c => c.File);
        var missing = withSessions.Where(f => !listed.Contains(f)).ToArray();
        Assert.True(missing.Length == 0, $"captures with session establishments not in the replay list: {string.Join(", ", missing)}");
    }

    [SkippableFact]
    public void TheRuleCheck_SeesADifferenceFromTheRequest()
    {
        RealCaptures.RequireOrSkip();
        using var replay = new CaptureReplay("bisdn__pfcpcore/tc1__tc1.pcap", new TestOutputLogger(output, Microsoft.Extensions.Logging.LogLevel.Warning));
        replay.Run();
        var r = replay.Replayed.Single(x => x.Type == PfcpMessageType.SessionEstablishmentRequest);
        var request = (SessionEstablishmentRequest)r.Request.Body;
        var response = (SessionEstablishmentResponse)r.Response.Body;
        var addresses = replay.Upfs.Values.Single().Addresses;
        var installed = r.After!.Session;
        Assert.Empty(RuleCheck.Establishment(request, response, installed, addresses));

        var far = installed.Fars[0];
        var otherAction = installed with
        {
            Fars = [.. installed.Fars.Select(f => f.Id == far.Id ? f with { Action = LoxiLb.Edge5G.Datapath.Model.ApplyAction.Buffer } : f)],
        };
        Assert.Contains(RuleCheck.Establishment(request, response, otherAction, addresses), p => p.StartsWith($"FAR {far.Id}: action", StringComparison.Ordinal));
        var pdr = installed.Pdrs.First(p => p.Pdi.LocalFTeid is not null);
        var otherTeid = installed with
        {
            Pdrs = [.. installed.Pdrs.Select(p => p.Id == pdr.Id ? p with { Pdi = p.Pdi with { LocalFTeid = p.Pdi.LocalFTeid! with { Teid = 0xbad } } } : p)],
        };
        Assert.Contains(RuleCheck.Establishment(request, response, otherTeid, addresses), p => p.StartsWith($"PDR {pdr.Id}: F-TEID", StringComparison.Ordinal));
        var lostQer = installed with { Qers = [.. installed.QerList.Skip(1)] };
        Assert.Contains(RuleCheck.Establishment(request, response, lostQer, addresses), p => p.StartsWith("QERs installed", StringComparison.Ordinal));
        var otherPrecedence = installed with { Pdrs = [.. installed.Pdrs.Select(p => p with { Precedence = p.Precedence + 1 })] };
        Assert.Contains(RuleCheck.Establishment(request, response, otherPrecedence, addresses), p => p.Contains("precedence", StringComparison.Ordinal));
    }

    private sealed record Refusal(PfcpCause Cause, FailedRuleId Rule, string Why);

    /// <summary>
    /// Why our node must refuse an establishment, from the request alone: a FAR asking for
    /// redirection, steering or header enrichment (the datapath forwards only), or a UE IPv6
    /// /64 (interface identifier zero) another live session holds. An address with its own
    /// interface identifier inside a shared /64 (Open5GS) is matched exactly and accepted.
    /// </summary>
    private static Refusal? ExpectedRefusal(SessionEstablishmentRequest est, HashSet<string> livePrefixes)
    {
        foreach (var far in est.CreateFars)
            if (far.ForwardingParameters?.Other.FirstOrDefault(ie => ie.Type is 38 or 41 or 98) is { } ie)
                return new Refusal(PfcpCause.RuleCreationModificationFailure, new FailedRuleId(RuleKind.Far, far.FarId), $"FAR {far.FarId} carries {ie.Name}");
        foreach (var pdr in est.CreatePdrs.Where(p => p.Pdi.SourceInterface != SourceInterface.Access && p.Pdi.LocalFTeid is null))
            foreach (var ue in pdr.Pdi.UeIpAddresses.Where(u => u.Ipv6 is not null))
                if (ue.Ipv6!.GetAddressBytes().AsSpan(8).IndexOfAnyExcept((byte)0) < 0 && livePrefixes.Contains(RuleCheck.Prefix64(ue.Ipv6!)))
                    return new Refusal(PfcpCause.RuleCreationModificationFailure, new FailedRuleId(RuleKind.Pdr, pdr.PdrId),
                        $"UE IPv6 /64 {ue.Ipv6} is held by a live session");
        return null;
    }

    private static HashSet<string> UeIpv6Prefixes(IEnumerable<CreatePdr> pdrs) =>
        pdrs.Where(p => p.Pdi.SourceInterface != SourceInterface.Access && p.Pdi.LocalFTeid is null)
            .SelectMany(p => p.Pdi.UeIpAddresses).Where(u => u.Ipv6 is not null).Select(u => RuleCheck.Prefix64(u.Ipv6!)).ToHashSet();

    /// <summary>Where the captured UPF reported a CHOOSE F-TEID, ours is on the same address (its TEID is its own business).</summary>
    private static IEnumerable<string> SameChosenAddressesAsTheCapturedUpf(CaptureReplay replay, ReplayedRequest r, SessionEstablishmentResponse ours)
    {
        if (replay.CapturedResponse(r.Captured)?.Body is not SessionEstablishmentResponse theirs)
            yield break;
        foreach (var c in theirs.CreatedPdrs.Where(c => c.LocalFTeid is not null))
        {
            var mine = ours.CreatedPdrs.FirstOrDefault(o => o.PdrId == c.PdrId)?.LocalFTeid;
            if (mine is null)
                yield return $"the captured UPF reported an F-TEID for PDR {c.PdrId}, we did not";
            else if (!Equals(mine.Ipv4, c.LocalFTeid!.Ipv4) && c.LocalFTeid.Ipv4 is not null)
                yield return $"PDR {c.PdrId}: our F-TEID is on {mine.Ipv4}, the captured UPF's on {c.LocalFTeid.Ipv4}";
        }
    }

    private static void Tally(Dictionary<string, List<string>> outcomes, string type, PfcpCause cause)
    {
        if (!outcomes.TryGetValue(type, out var list))
            outcomes[type] = list = [];
        list.Add(cause == PfcpCause.RequestAccepted ? "accepted" : $"refused {(byte)cause}");
    }

    private static string Describe(List<string> outcomes) => string.Join(", ", outcomes.GroupBy(o => o).OrderBy(g => g.Key != "accepted").ThenBy(g => g.Key)
        .Select(g => g.Key == "accepted" ? $"accepted {g.Count()}" : $"{g.Key} x{g.Count()}"));
}
