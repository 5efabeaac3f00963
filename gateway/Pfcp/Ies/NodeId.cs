using System.Net;
using System.Net.Sockets;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

public enum NodeIdType : byte
{
    Ipv4 = 0,
    Ipv6 = 1,
    Fqdn = 2,
}

/// <summary>
/// Node ID (clause 8.2.38): octet 5 bits 4-1 give the type, then a 4-octet IPv4 address,
/// a 16-octet IPv6 address, or an FQDN (DNS labels).
/// </summary>
public sealed record NodeId : IIeValue
{
    private NodeId(NodeIdType type, IPAddress? address, DnsName? fqdn)
    {
        Type = type;
        Address = address;
        Fqdn = fqdn;
    }

    public NodeIdType Type { get; }

    /// <summary>The address for IPv4/IPv6 node IDs.</summary>
    public IPAddress? Address { get; }

    /// <summary>The name for FQDN node IDs.</summary>
    public DnsName? Fqdn { get; }

    public static NodeId FromAddress(IPAddress address) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => new NodeId(NodeIdType.Ipv4, address, null),
        AddressFamily.InterNetworkV6 => new NodeId(NodeIdType.Ipv6, address, null),
        _ => throw new ArgumentException($"{address} is neither IPv4 nor IPv6", nameof(address)),
    };

    public static NodeId FromAddress(string address) => FromAddress(IPAddress.Parse(address));

    /// <summary>An FQDN node ID, label-encoded.</summary>
    public static NodeId FromFqdn(string fqdn) => new(NodeIdType.Fqdn, null, DnsName.FromLabels(fqdn));

    public static NodeId FromFqdn(DnsName fqdn) => new(NodeIdType.Fqdn, null, fqdn);

    /// <summary>
    /// A peer sends the same Node ID in every request, and the node looks its association up by
    /// the ID's text: recently decoded IDs are shared, so that text (the address's, or the name's)
    /// is formatted once per peer instead of once per request. A miss decodes as before.
    /// </summary>
    public static NodeId Decode(ReadOnlySpan<byte> value) => Recent.Get(value, value, static v => DecodeNew(v));

    private static readonly RecentDecodes<NodeId> Recent = new(16);

    private static NodeId DecodeNew(ReadOnlySpan<byte> value)
    {
        var r = new PfcpReader(value);
        var type = (NodeIdType)(r.U8("Node ID type") & 0x0F);
        switch (type)
        {
            case NodeIdType.Ipv4: return new NodeId(type, r.Ipv4("IPv4 address"), null);
            case NodeIdType.Ipv6: return new NodeId(type, r.Ipv6("IPv6 address"), null);
            case NodeIdType.Fqdn:
                if (r.AtEnd)
                    throw new PfcpFormatException(PfcpCause.InvalidLength, "FQDN node ID without a name");
                return new NodeId(type, null, DnsName.Intern(new OctetString(r.Rest())));
            default:
                throw new PfcpFormatException(PfcpCause.MandatoryIeIncorrect, $"unknown Node ID type {(int)type}");
        }
    }

    public void WriteValue(PfcpWriter writer)
    {
        writer.U8((byte)Type);
        if (Type == NodeIdType.Fqdn)
            writer.Bytes(Fqdn!.Raw.Span);
        else if (Type == NodeIdType.Ipv4)
            writer.Ipv4(Address!);
        else
            writer.Ipv6(Address!);
    }

    public override string ToString() => Address?.ToString() ?? Fqdn!.Text;
}
