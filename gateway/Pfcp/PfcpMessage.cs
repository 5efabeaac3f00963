using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp;

/// <summary>
/// A PFCP message in generic form: header and top-level IEs in wire order. Encoding a decoded
/// message gives back exactly the received octets.
/// </summary>
public sealed record PfcpMessage(PfcpHeader Header, ValueList<PfcpIe> Ies)
{
    public void WriteTo(PfcpWriter writer)
    {
        int start = writer.Length;
        Header.WriteTo(writer);
        writer.Verbatim(Ies);
        PfcpHeader.PatchLength(writer, start);
    }

    public byte[] Encode()
    {
        var writer = new PfcpWriter(Header.Length + Ies.Sum(ie => ie.EncodedLength));
        WriteTo(writer);
        return writer.ToArray();
    }

    /// <summary>First top-level IE of a type, if any.</summary>
    public PfcpIe? Find(IeType type) => Ies.FirstOrDefault(ie => ie.Type == (ushort)type);
}
