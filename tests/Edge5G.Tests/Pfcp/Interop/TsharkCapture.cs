using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using LoxiLb.Edge5G.Lab;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>One PFCP message as tshark dissected it: who sent it, its type, and any expert findings.</summary>
public sealed record DissectedPfcp(int Frame, string Source, string Destination, int MessageType, string MessageName, bool Malformed,
    IReadOnlyList<string> ExpertSeverities, IReadOnlyList<string> ExpertMessages);

/// <summary>
/// A tshark capture of PFCP (udp port 8805) on an interface of a lab namespace, stopped with
/// SIGINT so everything captured is written; then dissected again from the file with
/// Wireshark's PFCP dissector (session tracking on) to find malformed packets and expert
/// errors or warnings.
/// </summary>
public sealed partial class TsharkCapture : IDisposable
{
    public const string Tshark = "/usr/bin/tshark";
    private const int Sigint = 2;

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private bool _stopped;

    private TsharkCapture(Process process, string file)
    {
        _process = process;
        File = file;
    }

    public string File { get; }

    public static void RequireTshark()
    {
        var available = System.IO.File.Exists(Tshark);
        if (!available && Support.Privileged.InCi)
            Assert.Fail($"CI=true and {Tshark} is missing (apt-get install tshark)");
        Skip.IfNot(available, $"{Tshark} is missing (apt-get install tshark)");
    }

    public static TsharkCapture Start(NetworkNamespace ns, string device, string file)
    {
        var psi = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--net={ns.Path}", "--", Tshark, "-n", "-i", device, "-f", "udp port 8805", "-w", file })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new LabException("could not start tshark");
        var capture = new TsharkCapture(process, file);
        var started = new ManualResetEventSlim();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (capture._stderr)
                capture._stderr.AppendLine(e.Data);
            if (e.Data.Contains("Capturing on", StringComparison.Ordinal))
                started.Set();
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (!started.Wait(TimeSpan.FromSeconds(20)))
        {
            capture.Dispose();
            throw new LabException($"tshark did not start capturing on {device} in {ns.Name}: {capture.StandardError}");
        }
        return capture;
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>Stops the capture (SIGINT: tshark writes what it has and exits).</summary>
    public void Stop()
    {
        if (_stopped)
            return;
        _stopped = true;
        if (_process.HasExited)
            return;
        // Let the last packets reach the capture before asking it to stop.
        Thread.Sleep(300);
        _ = Kill(_process.Id, Sigint);
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    /// <summary>Every PFCP message in the capture, dissected from the file.</summary>
    public IReadOnlyList<DissectedPfcp> Dissect()
    {
        Stop();
        var fields = new[] { "frame.number", "ip.src", "ip.dst", "pfcp.msg_type", "_ws.malformed", "_ws.expert.severity", "_ws.expert.message" };
        var arguments = new List<string> { "-n", "-r", File, "-o", "pfcp.track_pfcp_session:TRUE", "-Y", "pfcp || _ws.malformed", "-T", "fields",
            "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\u001f" };
        foreach (var f in fields)
            arguments.AddRange(["-e", f]);
        var result = ProcessRunner.Run(Tshark, arguments, TimeSpan.FromSeconds(60));
        var messages = new List<DissectedPfcp>();
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var c = line.Split('\t');
            string Col(int i) => i < c.Length ? c[i] : "";
            var type = int.TryParse(Col(3).Split('\u001f')[0], out var t) ? t : -1;
            messages.Add(new DissectedPfcp(int.Parse(Col(0)), Col(1), Col(2), type, PfcpMessageName(type), Col(4).Length > 0,
                Col(5).Split('\u001f', StringSplitOptions.RemoveEmptyEntries), Col(6).Split('\u001f', StringSplitOptions.RemoveEmptyEntries)));
        }
        return messages;
    }

    /// <summary>tshark's full dissection (-V) of the capture, for the test log.</summary>
    public string Verbose() =>
        ProcessRunner.Run(Tshark, ["-n", "-r", File, "-o", "pfcp.track_pfcp_session:TRUE", "-V"], TimeSpan.FromSeconds(60)).StandardOutput;

    private static string PfcpMessageName(int type) => Enum.IsDefined(typeof(LoxiLb.Edge5G.Pfcp.PfcpMessageType), (byte)type) && type is >= 0 and <= 255
        ? ((LoxiLb.Edge5G.Pfcp.PfcpMessageType)(byte)type).ToString() : $"type {type}";

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
