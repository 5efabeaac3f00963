using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>Apply Action flags (clause 8.2.26): octet 5 bits 1-8, then octet 6 (Rel-16/17) bits 1-5.</summary>
[Flags]
public enum ApplyActionFlags : ushort
{
    None = 0,
    /// <summary>Drop packets.</summary>
    Drop = 1 << 0,
    /// <summary>Forward packets.</summary>
    Forw = 1 << 1,
    /// <summary>Buffer packets.</summary>
    Buff = 1 << 2,
    /// <summary>Notify the CP function on the first buffered downlink packet.</summary>
    Nocp = 1 << 3,
    /// <summary>Duplicate packets.</summary>
    Dupl = 1 << 4,
    /// <summary>Accept IP multicast join.</summary>
    Ipma = 1 << 5,
    /// <summary>Deny IP multicast join.</summary>
    Ipmd = 1 << 6,
    /// <summary>Duplicate for redundant transmission.</summary>
    Dfrt = 1 << 7,
    /// <summary>Eliminate duplicates of redundant transmission.</summary>
    Edrt = 1 << 8,
    /// <summary>Buffered downlink packet notification.</summary>
    Bdpn = 1 << 9,
    /// <summary>Discarded downlink packet notification.</summary>
    Ddpn = 1 << 10,
    /// <summary>Forward and replicate MBS data using shared delivery.</summary>
    Fssm = 1 << 11,
    /// <summary>Forward MBS data using unicast delivery.</summary>
    Mbsu = 1 << 12,
}

/// <summary>
/// Apply Action IE. <see cref="Octets"/> remembers whether the peer used the 1-octet (Rel-15) or
/// 2-octet form so a decoded value re-encodes identically; new values use the shortest form.
/// </summary>
public sealed record ApplyAction(ApplyActionFlags Flags) : IIeValue
{
    public int Octets { get; init; } = FlagOctets.Needed((ulong)Flags);

    public bool Has(ApplyActionFlags flag) => (Flags & flag) == flag;

    public static ApplyAction Decode(ReadOnlySpan<byte> value)
    {
        // The one-octet form is what SMFs send nearly always: one shared instance per value,
        // as every held session keeps its FARs' actions.
        if (value.Length == 1)
            return OneOctet[value[0]] ??= new((ApplyActionFlags)value[0]) { Octets = 1 };
        return new((ApplyActionFlags)(ushort)FlagOctets.Read(value, 1)) { Octets = value.Length };
    }

    private static readonly ApplyAction?[] OneOctet = new ApplyAction?[256];

    public void WriteValue(PfcpWriter writer) => FlagOctets.Write(writer, (ulong)Flags, Octets);

    public static implicit operator ApplyAction(ApplyActionFlags flags) => new(flags);

    public override string ToString() => Flags.ToString();
}
