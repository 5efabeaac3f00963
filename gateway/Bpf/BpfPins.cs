using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>
/// Pinning on bpffs. Pins keep maps and links alive when the gateway process exits, so a
/// restarted daemon can adopt the running datapath.
/// </summary>
public static class BpfPins
{
    /// <summary>The default pin root (ARCHITECTURE.md).</summary>
    public const string DefaultRoot = "/sys/fs/bpf/edge5g";

    internal static void Pin(BpfFdHandle fd, string path, string operation)
    {
        operation = $"{operation} at '{path}'";
        if (File.Exists(path) || Directory.Exists(path))
            throw new BpfException(operation, 17 /* EEXIST */, "the pin path already exists; unpin it or adopt it instead");
        var dir = Path.GetDirectoryName(path);
        if (dir is not null && !Directory.Exists(dir))
        {
            if (!IsOnBpffs(dir))
                throw new BpfException(operation, 22 /* EINVAL */, $"'{dir}' is not below a mounted bpffs (expected e.g. {DefaultRoot})");
            Directory.CreateDirectory(dir);
        }
        BpfException.ThrowIfNegative(LibBpf.bpf_obj_pin(fd.Fd, path), operation, "BPF_OBJ_PIN failed");
    }

    internal static BpfFdHandle Open(string path, string what)
    {
        var fd = LibBpf.bpf_obj_get(path);
        if (fd < 0)
            throw new BpfException($"open pinned {what} '{path}'", -fd,
                File.Exists(path) ? "the pin exists but cannot be opened" : "nothing is pinned there");
        return new BpfFdHandle(fd);
    }

    /// <summary>Removes a pin. Returns false when nothing was pinned there.</summary>
    public static bool Unpin(string path)
    {
        if (LibC.unlink(path) == 0)
            return true;
        var errno = BpfException.LastErrno();
        if (errno == 2 /* ENOENT */)
            return false;
        throw new BpfException($"unpin '{path}'", errno, "unlink failed");
    }

    /// <summary>Removes every pin below <paramref name="root"/> and the directories themselves.</summary>
    public static void RemoveTree(string root)
    {
        if (!Directory.Exists(root))
            return;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            Unpin(file);
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
            Directory.Delete(dir);
        Directory.Delete(root);
    }

    /// <summary>True when <paramref name="path"/> (or its nearest existing parent) is on a bpffs mount.</summary>
    public static bool IsOnBpffs(string path)
    {
        var full = Path.GetFullPath(path);
        string? best = null, bestType = null;
        foreach (var line in File.ReadLines("/proc/self/mounts"))
        {
            var parts = line.Split(' ');
            if (parts.Length < 3)
                continue;
            var mountPoint = parts[1];
            var isPrefix = full == mountPoint || full.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (isPrefix && (best is null || mountPoint.Length >= best.Length))
                (best, bestType) = (mountPoint, parts[2]);
        }
        return bestType == "bpf";
    }
}
