using System.Text;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// A name carried as octets that are usually DNS labels (length-prefixed, TS 23.003 clause 9.1)
/// but sometimes plain text: Network Instance, APN/DNN, FQDN Node ID. The received octets are
/// kept as they are, so re-encoding is exact whichever form the peer used.
/// </summary>
public sealed record DnsName(OctetString Raw)
{
    private const int MaxLabel = 63;

    /// <summary>
    /// Names decoded recently. An SMF repeats the same few network instances in every PDR and
    /// FAR of every session, so sessions share one instance (and its text) per name instead of
    /// holding copies; a small direct-mapped cache is enough, and a miss only costs a copy.
    /// </summary>
    private static readonly RecentDecodes<DnsName> Recent = new(64);

    private string? _text;

    // A copy made with `with { Raw = ... }` must not keep the old text.
    public OctetString Raw { get; init { field = value; _text = null; } } = Raw;

    /// <summary>The shared instance for these octets (a new one when none is cached).</summary>
    public static DnsName Intern(OctetString raw) =>
        Recent.Get(raw.Span, raw, static r => new DnsName(r.Compact())); // kept past the message it came in

    // Equality is the octets' alone: the cached text is derived from them.
    public bool Equals(DnsName? other) => other is not null && Raw.Equals(other.Raw);
    public override int GetHashCode() => Raw.GetHashCode();

    /// <summary>Label-encodes a dotted name: "internet.mnc001" → 08 internet 06 mnc001.</summary>
    public static DnsName FromLabels(string dotted)
    {
        ArgumentException.ThrowIfNullOrEmpty(dotted);
        var writer = new PfcpWriter(dotted.Length + 2);
        foreach (var label in dotted.Split('.'))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > MaxLabel)
                throw new ArgumentException($"label '{label}' of '{dotted}' must be 1..{MaxLabel} octets", nameof(dotted));
            writer.U8((byte)bytes.Length);
            writer.Bytes(bytes);
        }
        return new DnsName(OctetString.Own(writer.ToArray()));
    }

    /// <summary>Carries the text octets as they are, without label encoding.</summary>
    public static DnsName FromText(string text) => new(OctetString.FromAscii(text));

    /// <summary>Whether <see cref="Raw"/> parses as a complete sequence of DNS labels.</summary>
    public bool IsLabelEncoded => TryReadLabels(Raw.Span, out _);

    /// <summary>Dotted form when label-encoded, otherwise the octets as text.</summary>
    public string Text => _text ??= TryReadLabels(Raw.Span, out var dotted) ? dotted : Raw.ToLatin1();

    public override string ToString() => Text;

    private static bool TryReadLabels(ReadOnlySpan<byte> raw, out string dotted)
    {
        dotted = "";
        if (raw.IsEmpty)
            return false;
        var text = new StringBuilder(raw.Length);
        int at = 0;
        while (at < raw.Length)
        {
            int length = raw[at];
            if (length == 0)
            {
                // A root label is tolerated only as the final octet.
                if (at != raw.Length - 1 || at == 0)
                    return false;
                break;
            }
            if (length > MaxLabel || at + 1 + length > raw.Length)
                return false;
            if (text.Length > 0)
                text.Append('.');
            text.Append(Encoding.Latin1.GetString(raw.Slice(at + 1, length)));
            at += 1 + length;
        }
        dotted = text.ToString();
        return true;
    }
}
