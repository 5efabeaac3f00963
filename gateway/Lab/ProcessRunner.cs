using System.Diagnostics;

namespace LoxiLb.Edge5G.Lab;

/// <summary>Result of a command the lab ran.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>A lab command failed or timed out.</summary>
public sealed class LabException(string message) : Exception(message);

/// <summary>Runs external tools (ip, nsenter, ping...) with a time bound and captured output.</summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static CommandResult Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null, bool check = true)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        var commandLine = string.Join(' ', psi.ArgumentList.Prepend(file));
        using var process = Process.Start(psi) ?? throw new LabException($"could not start '{commandLine}'");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? DefaultTimeout;
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new LabException($"'{commandLine}' did not finish within {limit.TotalSeconds:0.#} s");
        }
        var result = new CommandResult(commandLine, process.ExitCode, stdout.Result, stderr.Result);
        if (check && !result.Succeeded)
            throw new LabException($"'{commandLine}' exited with {result.ExitCode}: {result.StandardError.Trim()}{result.StandardOutput.Trim()}");
        return result;
    }

    public static CommandResult Run(string file, params string[] arguments) => Run(file, arguments, null, true);

    /// <summary>Starts a long-running process (a server, a capture); the caller stops it.</summary>
    public static Process Start(string file, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new LabException($"could not start '{file}'");
    }
}
