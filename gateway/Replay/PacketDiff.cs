using System.Text;
using PacketDotNet;

namespace LoxiLb.Edge5G.Replay;

/// <summary>
/// Human-readable comparison of two frames: where they first differ, a hex dump with the
/// differing bytes marked, and what each decodes to.
/// </summary>
public static class PacketDiff
{
    /// <summary>Null when the frames are byte-identical, else a description of the difference.</summary>
    public static string? Describe(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        if (expected.SequenceEqual(actual))
            return null;
        int common = Math.Min(expected.Length, actual.Length);
        int first = 0;
        while (first < common && expected[first] == actual[first])
            first++;
        var sb = new StringBuilder();
        sb.Append($"frames differ: expected {expected.Length} bytes, got {actual.Length}; ");
        sb.AppendLine(first < common ? $"first difference at byte {first} (0x{first:x})" : $"identical for the first {common} bytes");
        sb.AppendLine("offset  expected                                          | actual");
        int length = Math.Max(expected.Length, actual.Length);
        for (int row = 0; row < length; row += 16)
        {
            sb.Append($"{row:x4}    ");
            sb.Append(HexRow(expected, actual, row));
            sb.Append(" | ");
            sb.AppendLine(HexRow(actual, expected, row));
        }
        sb.AppendLine("expected: " + Summary(expected));
        sb.AppendLine("actual:   " + Summary(actual));
        return sb.ToString();
    }

    // 16 bytes of 'bytes' from 'offset'; a byte that differs from 'other' is marked with '*'.
    private static string HexRow(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> other, int offset)
    {
        var sb = new StringBuilder(48);
        for (int i = offset; i < offset + 16; i++)
        {
            if (i >= bytes.Length)
                sb.Append("   ");
            else
                sb.Append(bytes[i].ToString("x2")).Append(i < other.Length && other[i] == bytes[i] ? ' ' : '*');
        }
        return sb.ToString();
    }

    /// <summary>One line: what PacketDotNet decodes the Ethernet frame to.</summary>
    public static string Summary(ReadOnlySpan<byte> frame)
    {
        try
        {
            var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame.ToArray());
            var parts = new List<string>();
            for (var p = packet; p is not null; p = p.PayloadPacket)
                parts.Add(p.ToString(StringOutputType.Normal).Trim().Replace('\n', ' '));
            return string.Join(" / ", parts);
        }
        catch (Exception e)
        {
            return $"(undecodable: {e.Message})";
        }
    }
}
