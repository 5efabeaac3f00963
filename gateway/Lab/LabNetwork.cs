using System.Diagnostics;
using LoxiLb.Edge5G.Bpf;

namespace LoxiLb.Edge5G.Lab;

/// <summary>
/// A set of namespaces and veth pairs built for one test or one demo run. Names carry the
/// project prefix and the creating process id, so a later run can remove what a crashed run
/// left behind. Disposing tears everything down: links, pins, processes, namespaces.
/// </summary>
public sealed class LabNetwork : IDisposable
{
    /// <summary>Every namespace the lab creates is named "e5g-PID-N-ROLE".</summary>
    public const string Prefix = "e5g-";

    private static int s_counter;
    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly List<IDisposable> _resources = [];
    private readonly List<string> _pinRoots = [];
    private bool _disposed;

    public LabNetwork()
    {
        RemoveStale();
        Id = $"{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}";
    }

    /// <summary>Unique part of this lab's names.</summary>
    public string Id { get; }

    public IReadOnlyList<NetworkNamespace> Namespaces => _namespaces;

    /// <summary>Creates namespace "e5g-ID-ROLE".</summary>
    public NetworkNamespace AddNamespace(string role)
    {
        var ns = NetworkNamespace.Create($"{Prefix}{Id}-{role}");
        _namespaces.Add(ns);
        return ns;
    }

    /// <summary>
    /// A veth pair with one end in each namespace, both up, each given its addresses
    /// (CIDR notation, IPv4 or IPv6). Interface names must be at most 15 characters.
    /// </summary>
    public void AddVeth(NetworkNamespace a, string nameA, NetworkNamespace b, string nameB,
        IEnumerable<string>? addressesA = null, IEnumerable<string>? addressesB = null)
    {
        ProcessRunner.Run("ip", "link", "add", nameA, "netns", a.Name, "type", "veth", "peer", "name", nameB, "netns", b.Name);
        Configure(a, nameA, addressesA);
        Configure(b, nameB, addressesB);
    }

    private static void Configure(NetworkNamespace ns, string name, IEnumerable<string>? addresses)
    {
        foreach (var address in addresses ?? [])
            ns.Run("ip", address.Contains(':') ? "-6" : "-4", "addr", "add", address, "dev", name, "nodad");
        ns.Run("ip", "link", "set", name, "up");
    }

    /// <summary>Attaches an XDP program to an interface of a namespace; detached when the lab is disposed.</summary>
    public BpfLink AttachXdp(NetworkNamespace ns, string interfaceName, BpfProgram program, XdpMode mode = XdpMode.Native)
    {
        BpfLink link;
        using (ns.Enter())
            link = BpfLink.AttachXdp(program, interfaceName, mode);
        _resources.Add(link);
        return link;
    }

    /// <summary>Disposes <paramref name="resource"/> (a loaded object, a map, a link) with the lab.</summary>
    public T Own<T>(T resource) where T : IDisposable
    {
        _resources.Add(resource);
        return resource;
    }

    /// <summary>A pin directory private to this lab (removed with it), below <paramref name="bpffsRoot"/>.</summary>
    public string PinRoot(string bpffsRoot = "/sys/fs/bpf")
    {
        var root = System.IO.Path.Combine(bpffsRoot, $"{Prefix}{Id}");
        _pinRoots.Add(root);
        return root;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        var errors = new List<Exception>();
        foreach (var r in Enumerable.Reverse(_resources))
            Try(r.Dispose, errors);
        foreach (var root in _pinRoots)
            Try(() => BpfPins.RemoveTree(root), errors);
        foreach (var ns in Enumerable.Reverse(_namespaces))
            Try(ns.Dispose, errors);
        if (errors.Count > 0)
            throw new AggregateException("lab teardown failed", errors);
    }

    private static void Try(Action action, List<Exception> errors)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
    }

    /// <summary>
    /// Deletes namespaces and pin directories with the project prefix whose creating process
    /// no longer runs. Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveStale()
    {
        var removed = new List<string>();
        var list = ProcessRunner.Run("ip", ["netns", "list"], check: false).StandardOutput;
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (IsStale(name))
            {
                ProcessRunner.Run("ip", ["netns", "del", name], check: false);
                removed.Add(name);
            }
        }
        if (Directory.Exists("/sys/fs/bpf"))
        {
            foreach (var dir in Directory.EnumerateDirectories("/sys/fs/bpf", Prefix + "*"))
            {
                if (IsStale(System.IO.Path.GetFileName(dir)))
                {
                    BpfPins.RemoveTree(dir);
                    removed.Add(dir);
                }
            }
        }
        return removed;
    }

    private static bool IsStale(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        var pidText = name[Prefix.Length..].Split('-')[0];
        if (!int.TryParse(pidText, out var pid))
            return true; // carries our prefix but not our naming: left by an older version
        return pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}");
    }
}
