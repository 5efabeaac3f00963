using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Ies;

/// <summary>A typed IE value that can write its own octets (the part after the IE type and length).</summary>
public interface IIeValue
{
    void WriteValue(PfcpWriter writer);
}
