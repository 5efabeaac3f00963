using LoxiLb.Edge5G.Bpf;

namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>
/// Gate for tests that need root, BPF, bpffs and network namespaces. Outside CI such a test
/// is skipped with the reason; with CI=true it fails, so a CI run can never pass by skipping.
/// </summary>
public static class Privileged
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Require()
    {
        var missing = Missing();
        if (missing is null)
            return;
        if (InCi)
            throw new InvalidOperationException($"CI=true and this test needs {missing}; failing instead of skipping");
        Skip.If(true, $"needs {missing}");
    }

    private static string? Missing()
    {
        if (!IsRoot())
            return "root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)";
        if (!BpfPins.IsOnBpffs("/sys/fs/bpf"))
            return "bpffs mounted on /sys/fs/bpf (scripts/setup.sh mounts it)";
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/sbin/ip"))
            return "iproute2";
        return null;
    }

    private static bool IsRoot()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
                return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0";
        return false;
    }
}
