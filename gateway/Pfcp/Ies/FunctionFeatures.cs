using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// UP function features (clause 8.2.25), as bit numbers: octet 5 bit 1 is 0, octet 6 bit 1 is 8...
/// The list keeps growing each release; unnamed bits are still carried.
/// </summary>
public enum UpFeature
{
    Bucp = 0, Ddnd, Dlbd, Trst, Ftup, Pfdm, Heeu, Treu,
    Empu = 8, Pdiu, Udbc, Quoac, Trace, Frrt, Pfde, Epfar,
    Dpdra = 16, Adpdp, Ueip, Sset, Mnop, Mte, Bundl, Gcom,
    Mpas = 24, Rttl, Vtime, Norp, Iptv, Ip6pl, Tscu, Mptcp,
    AtsssLl = 32, Qfqm, Gpqm, MtEdt, Ciot, Ethar, Ddds, Rds,
    Rttwp = 40, Quasf, Nspoc, L2tp, Upber, Resps, Iprep, Dnsts,
}

/// <summary>CP function features (clause 8.2.58), numbered like <see cref="UpFeature"/>.</summary>
public enum CpFeature
{
    Load = 0, Ovrl, Epfar, Sset, Bundl, Mpas, Ardr, Uiaur,
    Psucc = 8, Rpgur,
}

/// <summary>UP Function Features IE: feature octets of any length, kept exactly as received.</summary>
public sealed record UpFunctionFeatures(OctetString Octets) : IIeValue
{
    /// <summary>Rel-15 defined two octets; shorter lists confuse some older CP functions.</summary>
    public const int MinimumOctets = 2;

    public bool Has(UpFeature feature) => FeatureBits.Has(Octets, (int)feature);

    public static UpFunctionFeatures With(params UpFeature[] features) =>
        new(FeatureBits.Build(features.Select(f => (int)f), MinimumOctets));

    public static UpFunctionFeatures Decode(ReadOnlySpan<byte> value) => new(FeatureBits.Decode(value));

    public void WriteValue(PfcpWriter writer) => writer.Bytes(Octets.Span);

    public override string ToString() => FeatureBits.Describe<UpFeature>(Octets);
}

/// <summary>CP Function Features IE: feature octets of any length, kept exactly as received.</summary>
public sealed record CpFunctionFeatures(OctetString Octets) : IIeValue
{
    public bool Has(CpFeature feature) => FeatureBits.Has(Octets, (int)feature);

    public static CpFunctionFeatures With(params CpFeature[] features) =>
        new(FeatureBits.Build(features.Select(f => (int)f), 1));

    public static CpFunctionFeatures Decode(ReadOnlySpan<byte> value) => new(FeatureBits.Decode(value));

    public void WriteValue(PfcpWriter writer) => writer.Bytes(Octets.Span);

    public override string ToString() => FeatureBits.Describe<CpFeature>(Octets);
}

internal static class FeatureBits
{
    public static bool Has(OctetString octets, int bit) =>
        bit / 8 < octets.Length && (octets[bit / 8] & (1 << (bit % 8))) != 0;

    public static OctetString Decode(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
            throw new PfcpFormatException(PfcpCause.InvalidLength, "feature list is empty");
        return new OctetString(value);
    }

    public static OctetString Build(IEnumerable<int> bits, int minimumOctets)
    {
        var list = bits.ToList();
        int octets = Math.Max(minimumOctets, list.Count == 0 ? 0 : list.Max() / 8 + 1);
        var bytes = new byte[octets];
        foreach (int bit in list)
            bytes[bit / 8] |= (byte)(1 << (bit % 8));
        return OctetString.Own(bytes);
    }

    public static string Describe<TFeature>(OctetString octets) where TFeature : struct, Enum
    {
        var names = new List<string>();
        for (int bit = 0; bit < octets.Length * 8; bit++)
            if (Has(octets, bit))
                names.Add(Enum.IsDefined(typeof(TFeature), bit) ? Enum.GetName(typeof(TFeature), bit)!.ToUpperInvariant() : $"bit{bit}");
        return names.Count == 0 ? "(none)" : string.Join("|", names);
    }
}
