using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>
/// A libbpf or kernel call failed. Carries the operation, the errno (number and name) and,
/// for program loads, the verifier log libbpf printed while loading.
/// </summary>
public sealed class BpfException : Exception
{
    public BpfException(string operation, int errno, string detail, string? verifierLog = null)
        : base(Format(operation, errno, detail, verifierLog))
    {
        Operation = operation;
        Errno = errno;
        VerifierLog = verifierLog;
    }

    /// <summary>What was being done, e.g. "load object gtp.bpf.o".</summary>
    public string Operation { get; }

    /// <summary>Positive errno value; 0 when the failure was detected before any syscall.</summary>
    public int Errno { get; }

    public string ErrnoName => Errno == 0 ? "" : ErrnoNames.Name(Errno);

    /// <summary>libbpf's output during the load, including the kernel verifier log, if any.</summary>
    public string? VerifierLog { get; }

    private static string Format(string operation, int errno, string detail, string? log)
    {
        var text = errno == 0
            ? $"{operation}: {detail}"
            : $"{operation}: {detail} ({ErrnoNames.Name(errno)}: {ErrnoNames.Describe(errno)})";
        return string.IsNullOrWhiteSpace(log) ? text : $"{text}\n--- libbpf/verifier log ---\n{log.TrimEnd()}";
    }

    /// <summary>Throws when a libbpf int result is negative (libbpf returns -errno).</summary>
    internal static int ThrowIfNegative(int result, string operation, string detail)
    {
        if (result < 0)
            throw new BpfException(operation, -result, detail);
        return result;
    }

    /// <summary>errno of the last P/Invoke marked SetLastError.</summary>
    internal static int LastErrno()
    {
        var e = Marshal.GetLastPInvokeError();
        return e == 0 ? 5 /* EIO: libbpf failed without setting errno */ : e;
    }
}

internal static unsafe class ErrnoNames
{
    public static string Name(int errno)
    {
        var p = LibC.strerrorname_np(errno);
        return p == null ? $"errno {errno}" : Marshal.PtrToStringUTF8((nint)p)!;
    }

    public static string Describe(int errno) => Marshal.PtrToStringUTF8((nint)LibC.strerror(errno)) ?? "";
}
