using System.Runtime.CompilerServices;
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

    /// <summary>
    /// Throws when a libbpf int result is negative (libbpf returns -errno). The texts are
    /// formatted only then: map writes call this per rule per request, and building the
    /// operation and the key's hex up front was most of what they allocated.
    /// </summary>
    internal static int ThrowIfNegative(int result,
        [InterpolatedStringHandlerArgument(nameof(result))] FailureText operation,
        [InterpolatedStringHandlerArgument(nameof(result))] FailureText detail)
    {
        if (result < 0)
            throw new BpfException(operation.ToStringAndClear(), -result, detail.ToStringAndClear());
        return result;
    }

    /// <summary>errno of the last P/Invoke marked SetLastError.</summary>
    internal static int LastErrno()
    {
        var e = Marshal.GetLastPInvokeError();
        return e == 0 ? 5 /* EIO: libbpf failed without setting errno */ : e;
    }
}

/// <summary>
/// The text of a failure, formatted only when the call failed: an interpolated string passed
/// with the call's result is not built at all for a result of zero or more.
/// </summary>
[InterpolatedStringHandler]
internal ref struct FailureText
{
    private DefaultInterpolatedStringHandler _text;
    private readonly string? _plain;

    public FailureText(int literalLength, int formattedCount, int result, out bool shouldAppend)
    {
        shouldAppend = result < 0;
        _text = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        _plain = shouldAppend ? null : "";
    }

    private FailureText(string plain)
    {
        _text = default;
        _plain = plain;
    }

    /// <summary>A text that needs no formatting (a constant or a string at hand).</summary>
    public static implicit operator FailureText(string plain) => new(plain);

    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

    public string ToStringAndClear() => _plain ?? _text.ToStringAndClear();
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
