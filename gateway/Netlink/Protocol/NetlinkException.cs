using LoxiLb.Edge5G.Bpf;

namespace LoxiLb.Edge5G.Netlink;

/// <summary>
/// A netlink call failed: a socket syscall, or the kernel answered a request with an error.
/// Carries the operation, the errno (number and name) and the kernel's extended-ack text.
/// </summary>
public class NetlinkException : Exception
{
    public NetlinkException(string operation, int errno, string detail, string? kernelMessage = null)
        : base(Format(operation, errno, detail, kernelMessage))
    {
        Operation = operation;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    /// <summary>What was being done, e.g. "RTM_GETROUTE 203.0.113.7".</summary>
    public string Operation { get; }

    /// <summary>Positive errno; 0 when the failure is not a kernel error (malformed input).</summary>
    public int Errno { get; }

    public string ErrnoName => Errno == 0 ? "" : ErrnoNames.Name(Errno);

    /// <summary>The kernel's extended-ack message (NLMSGERR_ATTR_MSG), when it sent one.</summary>
    public string? KernelMessage { get; }

    private static string Format(string operation, int errno, string detail, string? kernelMessage)
    {
        var text = errno == 0
            ? $"{operation}: {detail}"
            : $"{operation}: {detail} ({ErrnoNames.Name(errno)}: {ErrnoNames.Describe(errno)})";
        return string.IsNullOrEmpty(kernelMessage) ? text : $"{text}; kernel says: {kernelMessage}";
    }
}

/// <summary>Netlink bytes that do not parse: a length field that lies, a struct cut short.</summary>
public sealed class NetlinkFormatException(string operation, string detail)
    : NetlinkException(operation, 0, detail);
