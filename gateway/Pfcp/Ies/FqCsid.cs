using System.Net;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>
/// The node part of an FQ-CSID (clause 8.2.43): a global IPv4 or IPv6 address (Node-ID types 0
/// and 1), or a 32-bit value of MCC * 1000 + MNC (20 bits) and an operator-assigned node number
/// (12 bits) (type 2). Equal when the type and the value are.
/// </summary>
public readonly record struct CsidNode
{
    public const byte Ipv4Type = 0, Ipv6Type = 1, PlmnType = 2;

    private CsidNode(byte type, IPAddress? address, uint plmnValue) => (Type, Address, PlmnValue) = (type, address, plmnValue);

    public byte Type { get; }
    /// <summary>The node's address (types 0 and 1).</summary>
    public IPAddress? Address { get; }
    /// <summary>MCC * 1000 + MNC in the top 20 bits, the node number in the low 12 (type 2).</summary>
    public uint PlmnValue { get; }

    public static CsidNode Of(IPAddress address) =>
        new(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? Ipv6Type : Ipv4Type, address, 0);

    public static CsidNode OfPlmn(uint value) => new(PlmnType, null, value);

    public override string ToString() => Type == PlmnType ? $"plmn:{PlmnValue >> 12}/{PlmnValue & 0xFFF}" : Address!.ToString();
}

/// <summary>
/// Fully qualified PDN Connection Set Identifier, FQ-CSID (clause 8.2.43; TS 23.527 4.6 for N4):
/// a node and the connection sets (CSIDs, 2 octets each) of that node a session belongs to, or,
/// in a Session Set Deletion Request, that failed. Octet 5 holds the Node-ID type (high nibble)
/// and the number of CSIDs (low nibble); the Node Type octet after the CSIDs (Rel-17: which role
/// the node plays) is optional and kept when present.
/// </summary>
public sealed record FqCsid(CsidNode Node, ValueList<ushort> Csids, byte? NodeType = null) : IIeValue
{
    public static FqCsid Decode(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        byte first = r.U8("Node-ID type and number of CSIDs");
        int type = first >> 4, count = first & 0x0F;
        var node = type switch
        {
            CsidNode.Ipv4Type => CsidNode.Of(r.Ipv4("node address")),
            CsidNode.Ipv6Type => CsidNode.Of(r.Ipv6("node address")),
            CsidNode.PlmnType => CsidNode.OfPlmn(r.U32("node address")),
            _ => throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, $"Node-ID type {type} is reserved (0 IPv4, 1 IPv6, 2 MCC/MNC)"),
        };
        var csids = new ushort[count];
        for (int i = 0; i < count; i++)
            csids[i] = r.U16($"CSID {i + 1} of {count}");
        byte? nodeType = r.Remaining > 0 ? (byte)(r.U8("node type") & 0x0F) : null;
        return new FqCsid(node, ValueList.Create<ushort>(csids), nodeType);
    }

    public void WriteValue(PfcpWriter writer)
    {
        if (Csids.Count > 15)
            throw new InvalidOperationException($"an FQ-CSID holds at most 15 CSIDs, not {Csids.Count}");
        writer.U8((byte)(Node.Type << 4 | Csids.Count));
        if (Node.Type == CsidNode.PlmnType)
            writer.U32(Node.PlmnValue);
        else if (Node.Type == CsidNode.Ipv6Type)
            writer.Ipv6(Node.Address!);
        else
            writer.Ipv4(Node.Address!);
        foreach (var csid in Csids)
            writer.U16(csid);
        if (NodeType is { } t)
            writer.U8(t);
    }

    /// <summary>Does this FQ-CSID name the set <paramref name="csid"/> of <paramref name="node"/>?</summary>
    public bool Names(CsidNode node, ushort csid) => Node == node && Csids.Contains(csid);

    public override string ToString() => $"{Node} [{string.Join(',', Csids)}]" + (NodeType is { } t ? $" type {t}" : "");
}
