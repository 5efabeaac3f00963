using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LoxiLb.Edge5G.Lab;

namespace LoxiLb.Edge5G.Tests.Api;

/// <summary>Exit code and output of a finished command.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>
/// The built `edge5g run` as a child process in a lab: namespace "gw" with n3 (198.51.100.1/24)
/// and n6 (203.0.113.1/24), their veth peers gnb0 (198.51.100.2) and dn0 (203.0.113.2) in
/// namespace "peer". The daemon gets a configuration file of its own (JSON) with a pin root
/// under the lab's bpffs directory, a temporary state directory and a unique API port.
/// Disposing stops the daemon (SIGTERM, then SIGKILL), deletes the namespaces, pins and
/// state, whatever state the test left them in.
/// </summary>
public sealed class LabDaemon : IDisposable
{
    public static readonly string Executable = Path.Combine(AppContext.BaseDirectory, "edge5g");
    public const string N3 = "198.51.100.1", Gnb = "198.51.100.2", N6 = "203.0.113.1", DataNetwork = "203.0.113.2";
    public const string UePool = "192.0.2.0/24";

    private static int s_port = 21000 + Random.Shared.Next(0, 20000);
    private readonly StringBuilder _log = new();
    private Process? _process;
    private bool _disposed;

    private static readonly Lazy<int> s_staleRemoved = new(RemoveStale);

    private LabDaemon(IReadOnlyDictionary<string, string?> overrides)
    {
        _ = s_staleRemoved.Value;
        Lab = new LabNetwork();
        try
        {
            Gateway = Lab.AddNamespace("gw");
            Peer = Lab.AddNamespace("peer");
            Lab.AddVeth(Peer, "gnb0", Gateway, "n3", [Gnb + "/24"], [N3 + "/24"]);
            Lab.AddVeth(Gateway, "n6", Peer, "dn0", [N6 + "/24"], [DataNetwork + "/24"]);
            PinRoot = Lab.PinRoot();
            StateDirectory = Directory.CreateTempSubdirectory($"e5g-{Lab.Id}-").FullName;
            Port = Interlocked.Increment(ref s_port);
            Config = new Dictionary<string, string?>
            {
                ["Interfaces:Access"] = "n3",
                ["Interfaces:Core"] = "n6",
                ["Interfaces:XdpMode"] = "native",
                ["Gtp:AccessAddresses:0"] = N3,
                ["Pfcp:Address"] = N3,
                ["Pfcp:Peers:0"] = "198.51.100.0/24",
                ["Pfcp:UePools:0"] = UePool,
                ["Api:Listen"] = $"127.0.0.1:{Port}",
                ["Datapath:Sessions"] = "1024",
                ["Datapath:PinRoot"] = PinRoot,
                ["Datapath:StateDirectory"] = StateDirectory,
                ["Datapath:KeepOnStop"] = "false",
            };
            // "{port}" in an override stands for the API port chosen here.
            foreach (var (key, value) in overrides)
                Config[key] = value?.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            ConfigFile = Path.Combine(StateDirectory, "edge5g.json");
            File.WriteAllText(ConfigFile, ToJson(Config));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public LabNetwork Lab { get; }
    public NetworkNamespace Gateway { get; } = null!;
    public NetworkNamespace Peer { get; } = null!;
    public string PinRoot { get; } = null!;
    public string StateDirectory { get; } = null!;
    public int Port { get; }
    public string ConfigFile { get; } = null!;
    public Dictionary<string, string?> Config { get; } = null!;

    /// <summary>Api.Listen as configured: "address:port".</summary>
    public string ApiAddress => Config["Api:Listen"]!;

    public bool Running => _process is { HasExited: false };

    /// <summary>Everything the daemon printed so far (all runs).</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Builds the lab and writes the configuration; nothing runs yet.</summary>
    public static LabDaemon Create(IReadOnlyDictionary<string, string?>? overrides = null) => new(overrides ?? new Dictionary<string, string?>());

    /// <summary>
    /// An SMF on the peer namespace, associated, with the demo's plain PDU session established
    /// (its downlink FAR buffers until the gNB's tunnel is given: <see cref="Demo.DemoSmf.GnbKnown"/>),
    /// and the peer's route to the UE pool through the gateway's N6 address.
    /// </summary>
    public (LoxiLb.Edge5G.Demo.DemoSmf Smf, LoxiLb.Edge5G.Pfcp.Messages.SessionEstablishmentResponse Established, IPAddress Ue) PlainSession(bool routeFromDataNetwork = true)
    {
        var smf = new LoxiLb.Edge5G.Demo.DemoSmf(Peer, IPAddress.Parse(Gnb), new IPEndPoint(IPAddress.Parse(N3), 8805));
        try
        {
            smf.Associate();
            var est = (LoxiLb.Edge5G.Pfcp.Messages.SessionEstablishmentResponse)smf.Request(smf.Plain(1)).Body;
            if (est.Cause != LoxiLb.Edge5G.Pfcp.Ies.PfcpCause.RequestAccepted)
                throw new LabException($"the plain session was refused: {est.Cause}\n{Log}");
            if (routeFromDataNetwork)
                Peer.Run("ip", "route", "add", UePool, "via", N6);
            return (smf, est, est.CreatedPdrs.First(c => c.PdrId == 1).UeIpAddresses[0].Ipv4!);
        }
        catch
        {
            smf.Dispose();
            throw;
        }
    }

    /// <summary>Runs `edge5g run --config FILE` in the gateway namespace to its end (for starts that must fail).</summary>
    public CliResult RunToExit(TimeSpan? timeout = null) =>
        RunToCompletion("nsenter", [$"--net={Gateway.Path}", "--", Executable, "run", "--config", ConfigFile], timeout: timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>Builds the lab and starts the daemon, waiting until its API answers.</summary>
    public static LabDaemon Start(IReadOnlyDictionary<string, string?>? overrides = null, string? token = null)
    {
        var daemon = new LabDaemon(overrides ?? new Dictionary<string, string?>());
        try
        {
            daemon.StartProcess(token);
            return daemon;
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    /// <summary>(Re)starts `edge5g run --config FILE` in the gateway namespace and waits for the API (bounded).</summary>
    public void StartProcess(string? token = null, TimeSpan? timeout = null)
    {
        if (Running)
            throw new InvalidOperationException("the daemon is already running");
        _process?.Dispose();
        var psi = Psi("nsenter", [$"--net={Gateway.Path}", "--", Executable, "run", "--config", ConfigFile]);
        var process = Process.Start(psi) ?? throw new LabException("could not start edge5g run");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var client = Client(token);
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        string last = "no answer yet";
        while (deadline.Elapsed < limit)
        {
            if (process.HasExited)
                throw new LabException($"edge5g run exited with {process.ExitCode} while starting:\n{Log}");
            try
            {
                // Sessions answer once the datapath runtime has started (the LoxiLB front end exists).
                using var response = client.GetAsync("api/v1/config/session").GetAwaiter().GetResult();
                if (response.IsSuccessStatusCode)
                    return;
                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            Thread.Sleep(100);
        }
        throw new LabException($"edge5g run did not answer on {ApiAddress} within {limit.TotalSeconds:0} s ({last}):\n{Log}");
    }

    /// <summary>SIGTERM and wait (bounded); returns the exit code.</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        var process = _process ?? throw new InvalidOperationException("the daemon was never started");
        if (process.HasExited)
            return process.ExitCode;
        ProcessRunner.Run("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(15)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new LabException($"edge5g run did not stop within the time after SIGTERM:\n{Log}");
        }
        process.WaitForExit(); // flush the asynchronous readers
        return process.ExitCode;
    }

    /// <summary>An HTTP client whose connections are made from inside <paramref name="from"/> (default: the gateway namespace).</summary>
    public HttpClient Client(string? token = null, NetworkNamespace? from = null, string? address = null)
    {
        var ns = from ?? Gateway;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var ip = IPAddress.Parse(context.DnsEndPoint.Host.Trim('[', ']'));
                Socket socket;
                // A socket belongs to the namespace of the thread that creates it.
                using (ns.Enter())
                    socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(ip, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri($"http://{address ?? ApiAddress}/"), Timeout = TimeSpan.FromSeconds(15) };
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// Runs the built `edge5g ARGS` inside the gateway namespace (bounded) with EDGE5G_API set
    /// to this daemon unless <paramref name="environment"/> says otherwise (null removes a variable).
    /// </summary>
    public CliResult Cli(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var env = new Dictionary<string, string?> { ["EDGE5G_API"] = ApiAddress };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
            env[k] = v;
        return RunToCompletion("nsenter", [$"--net={Gateway.Path}", "--", Executable, .. args], env);
    }

    public CliResult Cli(params string[] args) => Cli(null, args);

    /// <summary>Runs a program to completion (bounded), with EDGE5G_* cleared and <paramref name="environment"/> set.</summary>
    public static CliResult RunToCompletion(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var psi = Psi(file, args);
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null)
                psi.Environment.Remove(k);
            else
                psi.Environment[k] = v;
        }
        using var process = Process.Start(psi) ?? throw new LabException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new LabException($"'{file} {string.Join(' ', psi.ArgumentList)}' did not finish within {limit.TotalSeconds:0} s");
        }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static ProcessStartInfo Psi(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        // The test's own environment must not configure the daemon or the client.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EDGE5G_", StringComparison.OrdinalIgnoreCase)).ToArray())
            psi.Environment.Remove(key);
        return psi;
    }

    /// <summary>`ip -j -d link show dev NAME` in the gateway namespace: the attached XDP program id, or null.</summary>
    public long? XdpProgramId(string interfaceName)
    {
        var json = Gateway.Run("ip", "-j", "-d", "link", "show", "dev", interfaceName).StandardOutput;
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement[0].TryGetProperty("xdp", out var xdp) && xdp.TryGetProperty("prog", out var prog)
            ? prog.GetProperty("id").GetInt64() : null;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    /// <summary>Flat configuration keys ("Api:Listen", "Gtp:AccessAddresses:0") as nested JSON; the binder reads "0", "1"... as list items.</summary>
    private static string ToJson(IReadOnlyDictionary<string, string?> flat)
    {
        var root = new JsonObject();
        foreach (var (key, value) in flat)
        {
            var parts = key.Split(':');
            var node = root;
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject child)
                    node[part] = child = new JsonObject();
                node = child;
            }
            node[parts[^1]] = value;
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// A test host that died (killed, crashed) cannot stop its daemons: they outlive their deleted
    /// namespace. Their configuration lives in /tmp/e5g-PID-N-*/ with the dead host's PID, so
    /// exactly those processes are killed (by process id) and their directories removed.
    /// </summary>
    private static int RemoveStale()
    {
        var removed = 0;
        var stale = new Regex(@"/e5g-(\d+)-\d+-[^/]*/edge5g\.json$");
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            string[] argv;
            try
            {
                argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            var config = Array.IndexOf(argv, "--config");
            if (config < 0 || config + 1 >= argv.Length || !argv.Contains("run") || !argv.Any(a => a.EndsWith("/edge5g", StringComparison.Ordinal) || a.EndsWith("edge5g.dll", StringComparison.Ordinal)))
                continue;
            var m = stale.Match(argv[config + 1]);
            if (!m.Success || int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is var owner && (owner == Environment.ProcessId || Directory.Exists($"/proc/{owner}")))
                continue;
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
                removed++;
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), "e5g-*"))
        {
            var m = Regex.Match(Path.GetFileName(dir), @"^e5g-(\d+)-\d+-");
            if (m.Success && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is var owner && owner != Environment.ProcessId && !Directory.Exists($"/proc/{owner}"))
            {
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                    // in use or vanished: the next run tries again
                }
            }
        }
        return removed;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        var errors = new List<Exception>();
        try
        {
            if (Running)
                Stop(TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
        finally
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            _process?.Dispose();
        }
        try
        {
            Lab.Dispose();
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
        if (StateDirectory is not null && Directory.Exists(StateDirectory))
            Directory.Delete(StateDirectory, recursive: true);
        if (errors.Count > 0)
            throw new AggregateException("lab daemon teardown failed", errors);
    }
}

/// <summary>
/// One daemon shared by the tests of a class, started on first use (after the test checked
/// it may run privileged) and stopped with the class.
/// </summary>
public abstract class DaemonFixture : IDisposable
{
    private readonly object _gate = new();
    private LabDaemon? _daemon;
    private Exception? _failed;

    protected virtual IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>();
    protected virtual string? Token => null;

    public LabDaemon Daemon
    {
        get
        {
            lock (_gate)
            {
                if (_failed is not null)
                    throw new InvalidOperationException("the shared daemon failed to start", _failed);
                try
                {
                    return _daemon ??= LabDaemon.Start(Overrides, Token);
                }
                catch (Exception e)
                {
                    _failed = e;
                    throw;
                }
            }
        }
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        lock (_gate)
            _daemon?.Dispose();
    }
}

public sealed class LoopbackDaemonFixture : DaemonFixture;
