using System.Net;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Json;
using LoxiLb.Edge5G.Datapath.LoxiLb;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Replay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LoxiLb.Edge5G.Api;

/// <summary>
/// The REST API: status, interfaces, counters, LoxiLB-style session and sessionulcl resources,
/// rule-model sessions, PFCP associations and sessions (read). Every refusal is an RFC 7807
/// problem details body and changes nothing.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix);

        api.MapGet("/version", () => Results.Ok(new { version = GatewayRuntime.Version })).WithName("GetVersion");
        api.MapGet("/status", (GatewayRuntime rt) => Results.Ok(rt.Status())).WithName("GetStatus");
        api.MapGet("/interfaces", (GatewayRuntime rt) => Results.Ok(rt.Status().Interfaces)).WithName("GetInterfaces");
        api.MapGet("/counters", (GatewayRuntime rt) => Results.Ok(Counters(rt))).WithName("GetCounters");

        // LoxiLB session / sessionulcl
        api.MapGet("/config/session", (GatewayRuntime rt) => Results.Ok(rt.LoxiLb.List().Select(s => new SessionModJson(
            s.Session.Ident, s.Session.UeAddress.ToString(),
            new TunnelJson(s.Session.AccessTunnel.Teid, s.Session.AccessTunnel.Address.ToString()),
            new TunnelJson(s.Session.CoreTunnel.Teid, s.Session.CoreTunnel.Address.ToString()))))).WithName("GetSessions");
        api.MapPost("/config/session", (SessionModJson body, GatewayRuntime rt) => Guard(() =>
        {
            var session = new LoxiSession(Required(body.Ident, "ident"), Address(body.SessionIp, "sessionIp"),
                new LoxiTunnel(Required(body.AccessNetworkTunnel, "accessNetworkTunnel").TeId, Address(body.AccessNetworkTunnel.TunnelIp, "accessNetworkTunnel.tunnelIp")),
                new LoxiTunnel(Required(body.CoreNetworkTunnel, "coreNetworkTunnel").TeId, Address(body.CoreNetworkTunnel.TunnelIp, "coreNetworkTunnel.tunnelIp")));
            var seid = rt.LoxiLb.CreateSession(session);
            return Results.Created($"{Prefix}/config/session/ident/{Uri.EscapeDataString(session.Ident)}", new CreatedJson("Success", seid));
        })).WithName("CreateSession");
        api.MapDelete("/config/session/ident/{ident}", (string ident, GatewayRuntime rt) => Guard(() =>
        {
            rt.LoxiLb.DeleteSession(ident);
            return Results.Ok(new CreatedJson("Success"));
        })).WithName("DeleteSession");
        api.MapGet("/config/sessionulcl", (GatewayRuntime rt) => Results.Ok(rt.LoxiLb.List().SelectMany(s => s.Ulcls.Select(u =>
            new SessionUlclModJson(s.Session.Ident, new UlclArgumentJson(u.Qfi, u.Address.ToString())))))).WithName("GetSessionUlcls");
        api.MapPost("/config/sessionulcl", (SessionUlclModJson body, GatewayRuntime rt) => Guard(() =>
        {
            var arg = Required(body.UlclArgument, "ulclArgument");
            if (arg.Qfi > 63)
                throw new RuleException(RuleError.Invalid, $"ulclArgument.qfi: {arg.Qfi} is out of range 0-63");
            rt.LoxiLb.AddUlcl(Required(body.UlclIdent, "ulclIdent"), new LoxiUlcl(arg.Qfi, Address(arg.UlclIp, "ulclArgument.ulclIp")));
            return Results.Created($"{Prefix}/config/sessionulcl/ident/{Uri.EscapeDataString(body.UlclIdent)}", new CreatedJson("Success"));
        })).WithName("CreateSessionUlcl");
        api.MapDelete("/config/sessionulcl/ident/{ident}/ulclAddress/{address}", (string ident, string address, GatewayRuntime rt) => Guard(() =>
        {
            rt.LoxiLb.DeleteUlcl(ident, Address(address, "ulclAddress"));
            return Results.Ok(new CreatedJson("Success"));
        })).WithName("DeleteSessionUlcl");

        // Rule-model sessions (the rules-file schema).
        api.MapGet("/rules/sessions", (GatewayRuntime rt) => Results.Ok(rt.Sessions.Sessions.Select(s => RulesJson.FromModel(s.Session)))).WithName("GetRuleSessions");
        api.MapGet("/rules/sessions/{seid}", (ulong seid, GatewayRuntime rt) =>
            rt.Sessions.TryGet(seid, out var s) ? Results.Ok(RulesJson.FromModel(s.Session))
                : Problem(404, "no such session", $"no session with SEID {seid}")).WithName("GetRuleSession");
        api.MapPost("/rules/sessions", (SessionJson body, GatewayRuntime rt) => Guard(() =>
        {
            var compiled = rt.Sessions.Establish(RulesJson.ToModel(body, "session"));
            return Results.Created($"{Prefix}/rules/sessions/{compiled.Seid}", new CreatedJson("Success", compiled.Seid));
        })).WithName("CreateRuleSession");
        api.MapPut("/rules/sessions/{seid}", (ulong seid, SessionJson body, GatewayRuntime rt) => Guard(() =>
        {
            var model = RulesJson.ToModel(body, "session");
            if (model.Seid != seid)
                throw new RulesFormatException("seid", $"session.seid: {model.Seid} differs from the SEID {seid} in the path");
            rt.Sessions.Modify(model);
            return Results.Ok(new CreatedJson("Success", seid));
        })).WithName("ModifyRuleSession");
        api.MapDelete("/rules/sessions/{seid}", (ulong seid, GatewayRuntime rt) => Guard(() =>
        {
            rt.Sessions.Delete(seid);
            return Results.Ok(new CreatedJson("Success", seid));
        })).WithName("DeleteRuleSession");

        // GTP-U path management (read)
        api.MapGet("/gtpu/paths", (GtpuPathService paths) =>
            Results.Ok((paths.Monitor?.Paths() ?? []).Select(p => new GtpuPathJson(p.Peer.ToString(), p.Failed, p.LastAnswer)).ToArray()))
            .WithName("GetGtpuPaths");
        api.MapGet("/framedroutes", (GatewayRuntime rt) =>
            Results.Ok(rt.Sessions.FramedRoutes().Select(r => new FramedRouteJson(r.Route.ToString(), r.Seid, r.Pdr)).ToArray()))
            .WithName("GetFramedRoutes");

        // PFCP (read)
        api.MapGet("/pfcp/associations", (PfcpService pfcp) => Results.Ok(pfcp.Node?.Associations() ?? [])).WithName("GetPfcpAssociations");
        api.MapGet("/pfcp/sessions", (PfcpService pfcp) => Results.Ok(pfcp.Node?.Sessions() ?? [])).WithName("GetPfcpSessions");
        api.MapGet("/pfcp/sessions/{seid}/usage", (ulong seid, PfcpService pfcp) =>
            pfcp.Node?.Usage(seid) is { } usage ? Results.Ok(usage)
                : Problem(404, "no such session", $"no PFCP session with UP SEID {seid}")).WithName("GetPfcpSessionUsage");
    }

    private static CountersJson Counters(GatewayRuntime rt)
    {
        var datapath = rt.Datapath.Stats().Where(kv => kv.Key != DatapathStat.Count)
            .Select(kv => new CounterJson(ReplayRunner.Kebab(kv.Key), kv.Value.Packets, kv.Value.Bytes)).ToArray();
        var interfaces = rt.Status().Interfaces.SelectMany(i => Enum.GetValues<XdpAction>().Select(a =>
        {
            var c = rt.Datapath.InterfaceStat(i.Ifindex, a);
            return new CounterJson($"{i.Name}/{a.ToString().ToLowerInvariant()}", c.Packets, c.Bytes);
        })).ToArray();
        var interfaceReasons = rt.Status().Interfaces.SelectMany(i =>
        {
            var reasons = rt.Datapath.InterfaceReasons(i.Ifindex);
            return reasons.Select((c, r) => new CounterJson($"{i.Name}/{ReplayRunner.Kebab((DatapathStat)r)}", c.Packets, c.Bytes));
        }).ToArray();
        var sessions = rt.Sessions.Sessions.Select(s => new SessionCountersJson(s.Seid, s.Session.Name,
            s.PdrStats.OrderBy(p => p.Key).Select(p =>
            {
                var c = Counter.Sum(rt.Datapath.Tables.PdrStats.Read(p.Value));
                return new PdrCounterJson(p.Key, c.Packets, c.Bytes);
            }).ToArray())).ToArray();
        return new CountersJson(datapath, interfaces, sessions, interfaceReasons);
    }

    /// <summary>Runs a change; refusals become problem details and nothing is changed (the layers below guarantee it).</summary>
    private static IResult Guard(Func<IResult> change)
    {
        try
        {
            return change();
        }
        catch (RuleException e)
        {
            return e.Error switch
            {
                RuleError.UnknownSession => Problem(404, "no such session", e.Message),
                RuleError.Conflict => Problem(409, "conflict", e.Message),
                RuleError.NoResources => Problem(507, "table full", e.Message),
                _ => Problem(400, "invalid rules", e.Message),
            };
        }
        catch (RulesFormatException e)
        {
            return Problem(400, "invalid request", e.Message);
        }
        catch (BpfException e)
        {
            return Problem(500, "datapath error", e.Message);
        }
    }

    private static IResult Problem(int status, string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: status, type: $"https://loxilb-edge5g.invalid/problems/{title.Replace(' ', '-')}");

    private static T Required<T>(T? value, string field) where T : class =>
        value ?? throw new RulesFormatException(field, $"{field}: required");

    private static IPAddress Address(string? text, string field) =>
        Datapath.AddressText.TryParse(text, out var a) ? a : throw new RulesFormatException(field, $"{field}: '{text}' is not an IP address");
}
