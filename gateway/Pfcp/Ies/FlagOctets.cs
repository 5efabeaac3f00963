namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// Flag IEs that grow by whole octets across releases (Apply Action, Reporting Triggers, feature
/// lists...). Octet 5 maps to flag bits 0-7 (its bit 1 is bit 0), octet 6 to bits 8-15, and so on.
/// </summary>
internal static class FlagOctets
{
    public static ulong Read(ReadOnlySpan<byte> value, int minOctets)
    {
        if (value.Length < minOctets)
            throw new PfcpFormatException(PfcpCause.InvalidLength, $"needs at least {minOctets} octet(s), has {value.Length}");
        ulong flags = 0;
        for (int i = 0; i < Math.Min(value.Length, 8); i++)
            flags |= (ulong)value[i] << (8 * i);
        return flags;
    }

    /// <summary>Octets needed to carry the highest set bit (at least one).</summary>
    public static int Needed(ulong flags)
    {
        int n = 1;
        while (n < 8 && flags >> (8 * n) != 0)
            n++;
        return n;
    }

    public static void Write(Wire.PfcpWriter writer, ulong flags, int octets)
    {
        octets = Math.Max(octets, Needed(flags));
        for (int i = 0; i < octets; i++)
            writer.U8(i < 8 ? (byte)(flags >> (8 * i)) : (byte)0);
    }
}
