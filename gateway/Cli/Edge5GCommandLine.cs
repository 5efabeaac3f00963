using System.CommandLine;
using LoxiLb.Edge5G.Demo;

namespace LoxiLb.Edge5G.Cli;

/// <summary>The edge5g command line: one verb per job, in loxicmd's style.</summary>
public static class Edge5GCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("LoxiLb.Edge5G: a 5G edge protocol gateway (GTP-U, SCTP, SRv6) on XDP/TC with PFCP control");
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(PfcpBenchCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        foreach (var verb in ClientCommands.Create())
            root.Subcommands.Add(verb);
        var parsed = root.Parse(args);
        var exitCode = await parsed.InvokeAsync();
        // Usage errors exit 2 (like configuration errors of `edge5g run`); System.CommandLine says 1.
        return parsed.Action is System.CommandLine.Invocation.ParseErrorAction ? 2 : exitCode;
    }

    private static Command DemoCommand()
    {
        var command = new Command("demo", "Build a namespace lab, push real traffic through the XDP programs and show the counters");
        command.SetAction((_, cancellationToken) => Task.FromResult(new GatewayDemo(Console.Out).Run()));
        return command;
    }
}
