using System.Diagnostics;
using LoxiLb.Edge5G.Bpf;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Lab;

/// <summary>
/// A named network namespace (ip netns) created by the lab. Commands run inside it through
/// nsenter on the network namespace only, so bpffs pins stay visible (ip netns exec would
/// remount /sys). Disposing kills the processes started in it and deletes it, which also
/// removes its veths and the XDP programs attached to them.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private readonly List<Process> _processes = [];
    private bool _disposed;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }
    public string Path => $"/var/run/netns/{Name}";

    public static NetworkNamespace Create(string name)
    {
        ProcessRunner.Run("ip", "netns", "add", name);
        var ns = new NetworkNamespace(name);
        try
        {
            ns.Run("ip", "link", "set", "lo", "up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Runs a command inside the namespace and waits for it; throws when it fails (unless check is false).</summary>
    public CommandResult Run(IEnumerable<string> command, TimeSpan? timeout = null, bool check = true) =>
        ProcessRunner.Run("nsenter", NsenterArguments(command), timeout, check);

    public CommandResult Run(params string[] command) => Run(command, null, true);

    /// <summary>Starts a background process inside the namespace; it is killed when the namespace is disposed.</summary>
    public Process Start(params string[] command)
    {
        var process = ProcessRunner.Start("nsenter", NsenterArguments(command));
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    private IEnumerable<string> NsenterArguments(IEnumerable<string> command) =>
        new[] { $"--net={Path}", "--" }.Concat(command);

    /// <summary>MAC address of an interface in this namespace, as "aa:bb:cc:dd:ee:ff".</summary>
    public string MacAddress(string interfaceName)
    {
        // /sys/class/net would show the caller's namespace (sysfs is not remounted): ask ip.
        var json = Run("ip", "-j", "link", "show", "dev", interfaceName).StandardOutput;
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement[0].GetProperty("address").GetString()
            ?? throw new LabException($"{interfaceName} in {Name} has no link-layer address");
    }

    /// <summary>Interface index of <paramref name="interfaceName"/> inside this namespace.</summary>
    public int InterfaceIndex(string interfaceName)
    {
        using (Enter())
            return BpfLink.InterfaceIndex(interfaceName, $"find interface '{interfaceName}' in namespace {Name}");
    }

    /// <summary>
    /// Moves the calling thread into this namespace until the scope is disposed (on the same
    /// thread, with no await in between): BPF attach and test runs by ifindex need it.
    /// </summary>
    public NamespaceScope Enter() => NamespaceScope.Enter(Path, Name);

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill(entireProcessTree: true);
                        p.WaitForExit(5000);
                    }
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
                p.Dispose();
            }
            _processes.Clear();
        }
        ProcessRunner.Run("ip", ["netns", "del", Name], check: false);
    }
}

/// <summary>The calling thread inside another network namespace; disposing returns it.</summary>
public sealed class NamespaceScope : IDisposable
{
    private readonly int _originalFd;
    private readonly int _threadId;
    private bool _disposed;

    private NamespaceScope(int originalFd)
    {
        _originalFd = originalFd;
        _threadId = Environment.CurrentManagedThreadId;
    }

    internal static NamespaceScope Enter(string path, string name)
    {
        // The thread's current namespace, to come back to.
        var original = LibC.open($"/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (original < 0)
            throw new LabException($"cannot open the current network namespace: errno {BpfException.LastErrno()}");
        var target = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (target < 0)
        {
            LibC.close(original);
            throw new LabException($"network namespace {name} does not exist ({path})");
        }
        try
        {
            if (LibC.setns(target, LibC.CLONE_NEWNET) != 0)
            {
                LibC.close(original);
                throw new LabException($"setns into {name} failed: errno {BpfException.LastErrno()}");
            }
        }
        finally
        {
            LibC.close(target);
        }
        return new NamespaceScope(original);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException("a namespace scope must be left on the thread that entered it");
        var rc = LibC.setns(_originalFd, LibC.CLONE_NEWNET);
        LibC.close(_originalFd);
        if (rc != 0)
            Environment.FailFast("could not return the thread to its network namespace");
    }
}
