using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using LoxiLb.Edge5G.Lab;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>
/// An SMF written with scapy.contrib.pfcp (Debian python3-scapy), an implementation of PFCP
/// independent of the gateway's codec, running in a lab namespace. It takes one command per
/// line on stdin and answers with what scapy decoded, one JSON object per line; requests the
/// node sends meanwhile (Heartbeats, Session Reports) are answered by the script. Disposing
/// kills it.
/// </summary>
public sealed class ScapySmf : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly string _scriptPath;

    private ScapySmf(Process process, string scriptPath)
    {
        _process = process;
        _scriptPath = scriptPath;
        var reader = new Thread(() =>
        {
            try
            {
                while (_process.StandardOutput.ReadLine() is { } line)
                    _lines.Add(line);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the process went away
            }
            _lines.CompleteAdding();
        }) { IsBackground = true, Name = "scapy smf stdout" };
        reader.Start();
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (_stderr)
                    _stderr.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Fails under CI when python3-scapy is missing, skips elsewhere.</summary>
    public static void RequireScapy()
    {
        var available = File.Exists(Python) && ProcessRunner.Run(Python, ["-c", "import scapy.contrib.pfcp"], TimeSpan.FromSeconds(30), check: false).Succeeded;
        if (!available && Support.Privileged.InCi)
            Assert.Fail($"CI=true and {Python} cannot import scapy.contrib.pfcp (apt-get install python3-scapy)");
        Skip.IfNot(available, $"{Python} cannot import scapy.contrib.pfcp (apt-get install python3-scapy)");
    }

    /// <summary>Starts the SMF in <paramref name="ns"/>, bound to <paramref name="local"/>, talking to the node at <paramref name="node"/>.</summary>
    public static ScapySmf Start(NetworkNamespace ns, IPEndPoint node, IPEndPoint local, string nodeId)
    {
        var script = Path.Combine(Path.GetTempPath(), $"edge5g-scapy-smf-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, ScapySmfScript.Text);
        var psi = new ProcessStartInfo("nsenter")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--net={ns.Path}", "--", Python, "-u", script, node.Address.ToString(), node.Port.ToString(),
                     local.Address.ToString(), local.Port.ToString(), nodeId })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new LabException("could not start the scapy SMF");
        var smf = new ScapySmf(process, script);
        try
        {
            var ready = smf.Next(TimeSpan.FromSeconds(30));
            if (!ready.TryGetProperty("ready", out _))
                throw new LabException($"the scapy SMF did not start: {ready}");
            return smf;
        }
        catch
        {
            smf.Dispose();
            throw;
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>Sends one command and returns the JSON answer (an "error" answer fails the test with scapy's message).</summary>
    public JsonElement Command(string command, TimeSpan? timeout = null)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        var answer = Next(timeout ?? TimeSpan.FromSeconds(15));
        if (answer.TryGetProperty("error", out var error))
            throw new Xunit.Sdk.XunitException($"scapy SMF: '{command}' failed: {error.GetString()}\n{StandardError}");
        return answer;
    }

    private JsonElement Next(TimeSpan timeout)
    {
        if (!_lines.TryTake(out var line, timeout))
            throw new TimeoutException($"the scapy SMF did not answer within {timeout.TotalSeconds:0} s (exited: {_process.HasExited})\n{StandardError}");
        try
        {
            return JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"the scapy SMF wrote something that is not JSON: {line} ({e.Message})\n{StandardError}");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    _process.StandardInput.WriteLine("quit");
                    _process.StandardInput.Flush();
                }
                catch (IOException)
                {
                }
                if (!_process.WaitForExit(2000))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5000);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        _process.Dispose();
        File.Delete(_scriptPath);
    }
}
