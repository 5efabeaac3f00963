using LoxiLb.Edge5G.Pfcp.Ies;

namespace LoxiLb.Edge5G.Pfcp;

/// <summary>
/// A PFCP IE or message that cannot be decoded, with the cause a receiver answers with and the
/// offending IE. Thrown by the IE-level <c>Decode</c> methods; message decoding
/// (<see cref="PfcpCodec"/>) catches it and returns a <see cref="PfcpRejected"/> outcome instead.
/// </summary>
public sealed class PfcpFormatException : Exception
{
    public PfcpFormatException(PfcpCause cause, string detail, ushort? offendingIe = null, string? path = null)
        : base(Describe(cause, detail, offendingIe, path))
    {
        Cause = cause;
        Detail = detail;
        OffendingIe = offendingIe;
        Path = path ?? "";
    }

    public PfcpCause Cause { get; }

    /// <summary>What was wrong, without the IE path.</summary>
    public string Detail { get; }

    /// <summary>Type of the IE to report in the Offending IE, when known.</summary>
    public ushort? OffendingIe { get; }

    /// <summary>Where in the message, e.g. "Create PDR[1]/PDI/F-TEID".</summary>
    public string Path { get; }

    /// <summary>
    /// Re-raises this error one IE level up: the innermost IE stays the offending IE, and the
    /// enclosing IE's name is prefixed to the path.
    /// </summary>
    internal PfcpFormatException In(ushort ieType, string segment) =>
        new(Cause, Detail, OffendingIe ?? ieType, Path.Length == 0 ? segment : segment + "/" + Path);

    private static string Describe(PfcpCause cause, string detail, ushort? ie, string? path)
    {
        var where = string.IsNullOrEmpty(path) ? (ie is { } t ? IeTypes.Name(t) : null) : path;
        return where is null ? $"{cause}: {detail}" : $"{cause} in {where}: {detail}";
    }
}
