namespace LoxiLb.Edge5G.Api;

// Request and response bodies of the REST API (camelCase JSON). The session and sessionulcl
// resources follow LoxiLB's API shapes; rule-model sessions use Datapath.Json.SessionJson.

public sealed record TunnelJson(uint TeId, string TunnelIp);

/// <summary>LoxiLB "session": user ident, UE address, access (gNB) and core (local) tunnels.</summary>
public sealed record SessionModJson(string Ident, string SessionIp, TunnelJson AccessNetworkTunnel, TunnelJson CoreNetworkTunnel);

public sealed record UlclArgumentJson(byte Qfi, string UlclIp);

/// <summary>LoxiLB "sessionulcl": one classifier of a session.</summary>
public sealed record SessionUlclModJson(string UlclIdent, UlclArgumentJson UlclArgument);

public sealed record CreatedJson(string Result, ulong? Seid = null);

public sealed record CounterJson(string Name, ulong Packets, ulong Bytes);

public sealed record PdrCounterJson(ushort Pdr, ulong Packets, ulong Bytes);

public sealed record SessionCountersJson(ulong Seid, string? Name, IReadOnlyList<PdrCounterJson> Pdrs);

/// <summary>
/// Datapath reasons (totals), interface verdicts ("n3/tx"), interface reasons ("n3/drop-malformed":
/// the totals per interface) and each session's PDR counters.
/// </summary>
public sealed record CountersJson(IReadOnlyList<CounterJson> Datapath, IReadOnlyList<CounterJson> Interfaces, IReadOnlyList<SessionCountersJson> Sessions,
    IReadOnlyList<CounterJson> InterfaceReasons);

/// <summary>A GTP-U peer watched with Echo Requests: failed when its last requests went unanswered.</summary>
public sealed record GtpuPathJson(string Peer, bool Failed, DateTimeOffset? LastAnswer);

/// <summary>A framed route (a network behind a UE) and the session and downlink PDR it leads to.</summary>
public sealed record FramedRouteJson(string Route, ulong Seid, ushort Pdr);
