using System.CommandLine;
using LoxiLb.Edge5G.Host;

namespace LoxiLb.Edge5G.Cli;

/// <summary>edge5g run: the daemon. Options override the configuration file and the environment.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "configuration file (YAML or JSON; keys documented in deploy/edge5g.yaml)" };
        var access = new Option<string?>("--access") { Description = "N3 interface (GTP-U from gNBs)" };
        var core = new Option<string?>("--core") { Description = "N6 interface (data network)" };
        var n9 = new Option<string?>("--n9") { Description = "N9 interface (other UPFs)" };
        var gtp = new Option<string[]>("--gtp-address") { Description = "our GTP-U address on N3 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var pfcp = new Option<string?>("--pfcp") { Description = "N4 address to listen on (UDP 8805)" };
        var peers = new Option<string[]>("--pfcp-peer") { Description = "prefix (CIDR) allowed to associate (repeatable)" };
        var pools = new Option<string[]>("--ue-pool") { Description = "UE address pool for CHV4/CHV6 (repeatable)" };
        var api = new Option<string?>("--api") { Description = "REST API and /metrics address:port (default 127.0.0.1:11111)" };
        var mode = new Option<string?>("--xdp-mode") { Description = "native or generic" };
        var command = new Command("run", "Run the gateway: datapath, PFCP node, REST API and metrics")
        {
            config, access, core, n9, gtp, pfcp, peers, pools, api, mode,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                    overrides[key] = value;
            }
            void SetList(string key, string[]? values)
            {
                for (int i = 0; i < (values?.Length ?? 0); i++)
                    overrides[$"{key}:{i}"] = values![i];
            }
            Set("Interfaces:Access", parse.GetValue(access));
            Set("Interfaces:Core", parse.GetValue(core));
            Set("Interfaces:N9", parse.GetValue(n9));
            Set("Interfaces:XdpMode", parse.GetValue(mode));
            SetList("Gtp:AccessAddresses", parse.GetValue(gtp));
            Set("Pfcp:Address", parse.GetValue(pfcp));
            SetList("Pfcp:Peers", parse.GetValue(peers));
            SetList("Pfcp:UePools", parse.GetValue(pools));
            Set("Api:Listen", parse.GetValue(api));
            return Daemon.RunAsync(parse.GetValue(config)?.FullName, overrides, cancellationToken);
        });
        return command;
    }
}
