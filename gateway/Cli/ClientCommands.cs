using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text.Json;
using LoxiLb.Edge5G.Api;
using LoxiLb.Edge5G.Cli.Client;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.LoxiLb;

namespace LoxiLb.Edge5G.Cli;

/// <summary>
/// loxicmd-style client verbs over the REST API of a running `edge5g run`:
/// <code>
/// edge5g create session IDENT UE_IP --accessNetworkTunnel=TEID:IP --coreNetworkTunnel=TEID:IP
/// edge5g create sessionulcl IDENT --ulclArgs=QFI:IP[,QFI:IP...]
/// edge5g get session|sessionulcl|pfcp|counters|status|interfaces
/// edge5g delete session IDENT
/// edge5g delete sessionulcl IDENT --ulclArgs=IP[,IP...]
/// </code>
/// Every verb takes --api ADDR:PORT (env EDGE5G_API, default 127.0.0.1:11111), --token
/// (env EDGE5G_TOKEN, sent as a bearer token) and -o table|json. A refusal prints the
/// server's problem title and detail on stderr and exits 1; so does an unreachable daemon.
/// Usage errors exit 2.
/// </summary>
public static class ClientCommands
{
    public const string ApiEnvironment = "EDGE5G_API";
    public const string TokenEnvironment = "EDGE5G_TOKEN";

    // Relaxed escaping: a terminal shows "1.0.0+abc", not "1.0.0\u002Babc"; nothing here is embedded in HTML.
    private static readonly JsonSerializerOptions Pretty = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The top-level verbs: create, get, delete.</summary>
    public static IReadOnlyList<Command> Create() => [CreateVerb(), GetVerb(), DeleteVerb()];

    /// <summary>--api, --token and -o, on one verb and all its subcommands.</summary>
    private sealed class Globals
    {
        public readonly Option<string> Api = new("--api")
        {
            Description = $"address:port of the edge5g REST API (env {ApiEnvironment}; default {ApiClient.DefaultAddress})",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ApiEnvironment) is { Length: > 0 } v ? v : ApiClient.DefaultAddress,
            Recursive = true,
        };

        public readonly Option<string?> Token = new("--token")
        {
            Description = $"bearer token of the API (env {TokenEnvironment})",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TokenEnvironment) is { Length: > 0 } v ? v : null,
            Recursive = true,
        };

        public readonly Option<string> Output = new Option<string>("--output", "-o")
        {
            Description = "output format: table (default) or json",
            DefaultValueFactory = _ => "table",
            Recursive = true,
        }.AcceptOnlyFromAmong("table", "json");

        public Globals()
        {
            Api.Validators.Add(r =>
            {
                var value = r.GetValueOrDefault<string>();
                if (!ApiClient.TryBaseAddress(value, out _))
                    r.AddError($"--api: '{value}' is not ADDRESS:PORT (e.g. 127.0.0.1:11111)");
            });
        }

        public void AddTo(Command verb)
        {
            verb.Options.Add(Api);
            verb.Options.Add(Token);
            verb.Options.Add(Output);
        }
    }

    /// <summary>What an action gets: the client, where to write, and whether JSON was asked for.</summary>
    private sealed record Context(ApiClient Api, TextWriter Out, bool Json, CancellationToken Cancellation)
    {
        public void WriteJson(JsonElement element) => Out.WriteLine(JsonSerializer.Serialize(element, Pretty));

        public void WriteJson(object value) => Out.WriteLine(JsonSerializer.Serialize(value, Pretty));
    }

    private static void SetAction(Command command, Globals g, Func<ParseResult, Context, Task> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                using var client = new ApiClient(parse.GetValue(g.Api)!, parse.GetValue(g.Token));
                await action(parse, new Context(client, stdout, parse.GetValue(g.Output) == "json", cancellationToken));
                return 0;
            }
            catch (ApiProblemException e)
            {
                stderr.WriteLine($"edge5g {command.Parents.OfType<Command>().FirstOrDefault()?.Name} {command.Name}: {e.Message}");
                return 1;
            }
            catch (ApiUnreachableException e)
            {
                stderr.WriteLine($"edge5g: {e.Message}");
                return 1;
            }
        });

    // ----- create -----

    private static Command CreateVerb()
    {
        var g = new Globals();
        var verb = new Command("create", "Create a LoxiLB-style session or session classifier in the running gateway");
        g.AddTo(verb);

        var ident = new Argument<string>("ident") { Description = "user identifier of the session" };
        var ue = IpArgument("ueIP", "the UE's IPv4 address");
        var access = TunnelOption("--accessNetworkTunnel", "the gNB end: TEID:IP downlink G-PDUs are sent to");
        var core = TunnelOption("--coreNetworkTunnel", "our end: TEID:IP uplink G-PDUs arrive on (one of the gateway's GTP-U addresses)");
        var session = new Command("session", "Create a session: IDENT UE_IP --accessNetworkTunnel=TEID:IP --coreNetworkTunnel=TEID:IP") { ident, ue, access, core };
        SetAction(session, g, async (parse, c) =>
        {
            var a = parse.GetValue(access)!;
            var n = parse.GetValue(core)!;
            var body = new SessionModJson(parse.GetValue(ident)!, parse.GetValue(ue)!.ToString(),
                new TunnelJson(a.Teid, a.Address.ToString()), new TunnelJson(n.Teid, n.Address.ToString()));
            var created = await c.Api.PostAsync("/api/v1/config/session", body, c.Cancellation);
            if (c.Json)
                c.WriteJson(created);
            else
                c.Out.WriteLine($"session {body.Ident} created (SEID {Seid(created)})");
        });

        var ulclIdent = new Argument<string>("ident") { Description = "user identifier of the session" };
        var ulclArgs = new Option<LoxiUlcl[]>("--ulclArgs")
        {
            Description = "classifiers: QFI:IP[,QFI:IP...] (traffic between the UE and IP with that QFI breaks out here)",
            Required = true,
            CustomParser = r => ParseList(r, "--ulclArgs", t => LoxiUlcl.Parse(t, "--ulclArgs")),
        };
        var ulcl = new Command("sessionulcl", "Add classifiers to a session: IDENT --ulclArgs=QFI:IP[,QFI:IP...]") { ulclIdent, ulclArgs };
        SetAction(ulcl, g, async (parse, c) =>
        {
            var who = parse.GetValue(ulclIdent)!;
            var results = new List<JsonElement>();
            foreach (var u in parse.GetValue(ulclArgs)!)
            {
                results.Add(await c.Api.PostAsync("/api/v1/config/sessionulcl",
                    new SessionUlclModJson(who, new UlclArgumentJson(u.Qfi, u.Address.ToString())), c.Cancellation));
                if (!c.Json)
                    c.Out.WriteLine($"sessionulcl {who} {u} created");
            }
            if (c.Json)
                c.WriteJson(results);
        });

        verb.Subcommands.Add(session);
        verb.Subcommands.Add(ulcl);
        return verb;
    }

    // ----- delete -----

    private static Command DeleteVerb()
    {
        var g = new Globals();
        var verb = new Command("delete", "Delete a LoxiLB-style session or session classifier from the running gateway");
        g.AddTo(verb);

        var ident = new Argument<string>("ident") { Description = "user identifier of the session" };
        var session = new Command("session", "Delete a session and its classifiers: IDENT") { ident };
        SetAction(session, g, async (parse, c) =>
        {
            var who = parse.GetValue(ident)!;
            var result = await c.Api.DeleteAsync($"/api/v1/config/session/ident/{Uri.EscapeDataString(who)}", c.Cancellation);
            if (c.Json)
                c.WriteJson(result);
            else
                c.Out.WriteLine($"session {who} deleted");
        });

        var ulclIdent = new Argument<string>("ident") { Description = "user identifier of the session" };
        var ulclArgs = new Option<IPAddress[]>("--ulclArgs")
        {
            Description = "classifier addresses: IP[,IP...]",
            Required = true,
            CustomParser = r => ParseList(r, "--ulclArgs",
                t => TryParseAddress(t, out var a) ? a : throw new RuleException(RuleError.Invalid, $"--ulclArgs: '{t}' is not an IP address")),
        };
        var ulcl = new Command("sessionulcl", "Remove classifiers from a session: IDENT --ulclArgs=IP[,IP...]") { ulclIdent, ulclArgs };
        SetAction(ulcl, g, async (parse, c) =>
        {
            var who = parse.GetValue(ulclIdent)!;
            var results = new List<JsonElement>();
            foreach (var address in parse.GetValue(ulclArgs)!)
            {
                results.Add(await c.Api.DeleteAsync(
                    $"/api/v1/config/sessionulcl/ident/{Uri.EscapeDataString(who)}/ulclAddress/{Uri.EscapeDataString(address.ToString())}", c.Cancellation));
                if (!c.Json)
                    c.Out.WriteLine($"sessionulcl {who} {address} deleted");
            }
            if (c.Json)
                c.WriteJson(results);
        });

        verb.Subcommands.Add(session);
        verb.Subcommands.Add(ulcl);
        return verb;
    }

    // ----- get -----

    private static Command GetVerb()
    {
        var g = new Globals();
        var verb = new Command("get", "Show the running gateway's sessions, classifiers, PFCP state, counters, status or interfaces");
        g.AddTo(verb);

        Command Get(string name, string description, Func<Context, Task> show)
        {
            var command = new Command(name, description);
            SetAction(command, g, (_, c) => show(c));
            verb.Subcommands.Add(command);
            return command;
        }

        // A listing: the API's array as JSON with --json, otherwise one table row per item.
        Command List(string name, string description, string path, string[] headers, Func<JsonElement, IReadOnlyList<string>> row) =>
            Get(name, description, async c =>
            {
                var list = await c.Api.GetAsync(path, c.Cancellation);
                if (c.Json)
                {
                    c.WriteJson(list);
                    return;
                }
                c.Out.Write(TextTable.Render(headers, Items(list).Select(row)));
            });

        List("session", "LoxiLB-style sessions", "/api/v1/config/session",
            ["IDENT", "SESSION IP", "ACCESS NETWORK TUNNEL", "CORE NETWORK TUNNEL"],
            s => [Str(s, "ident"), Str(s, "sessionIp"), Tunnel(s.GetProperty("accessNetworkTunnel")), Tunnel(s.GetProperty("coreNetworkTunnel"))]);

        List("sessionulcl", "LoxiLB-style session classifiers", "/api/v1/config/sessionulcl", ["IDENT", "ULCL IP", "QFI"], u =>
        {
            var arg = u.GetProperty("ulclArgument");
            return [Str(u, "ulclIdent"), Str(arg, "ulclIp"), Str(arg, "qfi")];
        });

        List("framedroutes", "Networks behind UEs (framed routes) and the session each leads to", "/api/v1/framedroutes",
            ["ROUTE", "SEID", "PDR"], r => [Str(r, "route"), Str(r, "seid"), Str(r, "pdr")]);

        List("gtpupaths", "GTP-U peers of the sessions watched with Echo Requests, and whether they answer", "/api/v1/gtpu/paths",
            ["PEER", "STATE", "LAST ANSWER"],
            p => [Str(p, "peer"), p.GetProperty("failed").GetBoolean() ? "failed" : "up", Time(p, "lastAnswer")]);

        Get("pfcp", "PFCP associations and sessions", async c =>
        {
            var associations = await c.Api.GetAsync("/api/v1/pfcp/associations", c.Cancellation);
            var sessions = await c.Api.GetAsync("/api/v1/pfcp/sessions", c.Cancellation);
            if (c.Json)
            {
                c.WriteJson(new Dictionary<string, JsonElement> { ["associations"] = associations, ["sessions"] = sessions });
                return;
            }
            c.Out.WriteLine("PFCP associations:");
            c.Out.Write(TextTable.Render(["NODE ID", "ENDPOINT", "UP-INITIATED", "SESSIONS", "PEER RECOVERY", "LAST HEARD"],
                Items(associations).Select(a => (IReadOnlyList<string>)[Str(a, "nodeId"), Str(a, "endpoint"), Str(a, "upInitiated"),
                    Str(a, "sessions"), Time(a, "peerRecoveryTimeStamp"), Time(a, "lastHeard")])));
            c.Out.WriteLine();
            c.Out.WriteLine("PFCP sessions:");
            c.Out.Write(TextTable.Render(["UP SEID", "CP SEID", "ASSOCIATION", "PDRS", "FARS", "QERS", "URRS", "CP SETS (FQ-CSID)"],
                Items(sessions).Select(s => (IReadOnlyList<string>)[Hex(s, "localSeid"), Hex(s, "cpSeid"), Str(s, "association"),
                    Str(s, "pdrs"), Str(s, "fars"), Str(s, "qers"), Str(s, "urrs"), Sets(s)])));
            static string Sets(JsonElement s) => s.GetProperty("fqCsids").GetArrayLength() == 0
                ? "-" : string.Join("; ", s.GetProperty("fqCsids").EnumerateArray().Select(f => f.GetString()));
        });

        var seid = new Argument<ulong>("seid")
        {
            Description = "UP SEID of the PFCP session, decimal or 0x hex as `get pfcp` shows it",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
                if (ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                    return value;
                result.AddError($"seid: '{text}' is not a number (decimal or 0x hex)");
                return 0;
            },
        };
        var usage = new Command("pfcpusage", "A PFCP session's URRs: volume since the last report, quotas and what they stop: SEID") { seid };
        SetAction(usage, g, async (parse, c) =>
        {
            var value = parse.GetValue(seid);
            var state = await c.Api.GetAsync($"/api/v1/pfcp/sessions/{value}/usage", c.Cancellation);
            if (c.Json)
            {
                c.WriteJson(state);
                return;
            }
            var timer = state.GetProperty("inactivityTimer").GetUInt32();
            c.Out.WriteLine($"PFCP session {Hex(state, "localSeid")} (CP SEID {Hex(state, "cpSeid")}), inactivity timer: "
                + (timer == 0 ? "none" : $"{timer} s, last traffic {Time(state, "lastTraffic")}{(state.GetProperty("inactivityReported").GetBoolean() ? ", reported" : "")}"));
            c.Out.Write(TextTable.Render(["URR", "NEXT UR-SEQN", "LAST REPORT", "UL SINCE", "DL SINCE", "VOLUME QUOTA", "COUNTED", "QUOTA STOPS", "TIME QUOTA"],
                Items(state.GetProperty("urrs")).Select(u => (IReadOnlyList<string>)[Str(u, "urrId"), Str(u, "nextUrSeqn"), Time(u, "lastReport"),
                    Str(u, "uplinkSinceLastReport"), Str(u, "downlinkSinceLastReport"),
                    string.Join("/", new[] { "volumeQuotaTotal", "volumeQuotaUplink", "volumeQuotaDownlink" }.Select(f => Str(u, f) is { Length: > 0 } v ? v : "-")),
                    $"{Str(u, "quotaCountedTotal")}/{Str(u, "quotaCountedUplink")}/{Str(u, "quotaCountedDownlink")}", Str(u, "volumeQuotaStops"),
                    Str(u, "timeQuota") is { Length: > 0 } t ? $"{t} s from {Time(u, "timeQuotaGranted")}{(u.GetProperty("timeQuotaUsedUp").GetBoolean() ? ", used up" : "")}" : "-"])));
        });
        verb.Subcommands.Add(usage);

        Get("counters", "datapath, interface and per-session PDR counters", async c =>
        {
            var counters = await c.Api.GetAsync("/api/v1/counters", c.Cancellation);
            if (c.Json)
            {
                c.WriteJson(counters);
                return;
            }
            c.Out.WriteLine("Datapath:");
            c.Out.Write(TextTable.Render(["REASON", "PACKETS", "BYTES"],
                Items(counters.GetProperty("datapath")).Select(x => (IReadOnlyList<string>)[Str(x, "name"), Str(x, "packets"), Str(x, "bytes")])));
            c.Out.WriteLine();
            c.Out.WriteLine("Interfaces:");
            c.Out.Write(TextTable.Render(["INTERFACE", "VERDICT", "PACKETS", "BYTES"],
                Items(counters.GetProperty("interfaces")).Select(SplitInterface)));
            c.Out.WriteLine();
            // Per interface, the reasons that counted something (all of them are in --json).
            c.Out.WriteLine("Interfaces by reason:");
            c.Out.Write(TextTable.Render(["INTERFACE", "REASON", "PACKETS", "BYTES"],
                (counters.TryGetProperty("interfaceReasons", out var reasons) ? Items(reasons) : []).Where(x => Str(x, "packets") != "0").Select(SplitInterface)));
            c.Out.WriteLine();
            c.Out.WriteLine("Sessions:");
            c.Out.Write(TextTable.Render(["SEID", "NAME", "PDR", "PACKETS", "BYTES"],
                Items(counters.GetProperty("sessions")).SelectMany(s => Items(s.GetProperty("pdrs")).Select(p =>
                    (IReadOnlyList<string>)[Hex(s, "seid"), Str(s, "name"), Str(p, "pdr"), Str(p, "packets"), Str(p, "bytes")]))));
        });

        Get("status", "version, uptime, datapath and interfaces", async c =>
        {
            var s = await c.Api.GetAsync("/api/v1/status", c.Cancellation);
            if (c.Json)
            {
                c.WriteJson(s);
                return;
            }
            var interfaces = string.Join(", ", Items(s.GetProperty("interfaces")).Select(i =>
                $"{Str(i, "name")} ({Str(i, "role")}, {(i.GetProperty("attached").GetBoolean() ? Str(i, "mode") : "detached")})"));
            c.Out.Write(TextTable.Render(["VERSION", "STARTED", "DATAPATH ADOPTED", "PIN ROOT", "SESSIONS", "GTP-U ADDRESSES", "INTERFACES"],
                [[Str(s, "version"), Time(s, "startedAt"), Str(s, "datapathAdopted"), Str(s, "pinRoot"), Str(s, "sessions"),
                    string.Join(", ", Items(s.GetProperty("gtpAddresses")).Select(a => a.GetString())), interfaces]]));
        });

        List("interfaces", "interfaces the datapath runs on", "/api/v1/interfaces", ["NAME", "ROLE", "IFINDEX", "ATTACHED", "MODE", "PIN"],
            i => [Str(i, "name"), Str(i, "role"), Str(i, "ifindex"), Str(i, "attached"), Str(i, "mode"), Str(i, "pinPath")]);

        return verb;
    }

    // ----- parsing and formatting -----

    private static Argument<IPAddress> IpArgument(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            var text = r.Tokens.Single().Value;
            if (TryParseAddress(text, out var a))
                return a;
            r.AddError($"{name}: '{text}' is not an IP address");
            return null;
        },
    };

    private static Option<LoxiTunnel> TunnelOption(string name, string description) => new(name)
    {
        Description = description,
        Required = true,
        CustomParser = r =>
        {
            try
            {
                return LoxiTunnel.Parse(r.Tokens.Single().Value, name);
            }
            catch (RuleException e)
            {
                r.AddError(e.Message);
                return null;
            }
        },
    };

    /// <summary>Comma-separated values, possibly over repeated options; the first bad one is a usage error.</summary>
    private static T[] ParseList<T>(ArgumentResult r, string name, Func<string, T> parse)
    {
        var values = new List<T>();
        foreach (var item in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries)))
        {
            if (item.Length == 0)
            {
                r.AddError($"{name}: an empty entry in '{string.Join(",", r.Tokens.Select(t => t.Value))}'");
                return [];
            }
            try
            {
                values.Add(parse(item));
            }
            catch (RuleException e)
            {
                r.AddError(e.Message);
                return [];
            }
        }
        return values.ToArray();
    }

    /// <summary>An IPv6 address or a dotted quad (IPAddress.TryParse alone takes "1.2.3" for 1.2.0.3).</summary>
    private static bool TryParseAddress(string text, out IPAddress address) =>
        IPAddress.TryParse(text, out address!) && (text.Contains(':') || text.Count(ch => ch == '.') == 3);

    /// <summary>"n3/tx" as a row: interface, what follows the slash, packets, bytes.</summary>
    private static IReadOnlyList<string> SplitInterface(JsonElement x)
    {
        var name = Str(x, "name");
        var slash = name.LastIndexOf('/');
        return [slash < 0 ? name : name[..slash], slash < 0 ? "" : name[(slash + 1)..], Str(x, "packets"), Str(x, "bytes")];
    }

    private static IEnumerable<JsonElement> Items(JsonElement array) =>
        array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];

    private static string Str(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
            return "";
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null or JsonValueKind.Undefined => "",
            _ => v.GetRawText(),
        };
    }

    private static string Hex(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var n) ? $"0x{n:x16}" : Str(e, name);

    private static string Seid(JsonElement created) =>
        created.ValueKind == JsonValueKind.Object && created.TryGetProperty("seid", out var v) && v.TryGetUInt64(out var n) ? $"0x{n:x16}" : "?";

    private static string Tunnel(JsonElement t) => $"TeID: {Str(t, "teId")}, TunnelIP: {Str(t, "tunnelIp")}";

    private static string Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : Str(e, name);
}
