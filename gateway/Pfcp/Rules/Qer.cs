using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>Create QER (Table 7.5.2.5-1): gate, bit rates and QoS flow marking.</summary>
public sealed record CreateQer(uint QerId, GateStatus GateStatus) : IIeValue
{
    public uint? QerCorrelationId { get; init; }
    public BitRate? Mbr { get; init; }
    public BitRate? Gbr { get; init; }
    public byte? Qfi { get; init; }
    /// <summary>Reflective QoS indication (RQI bit).</summary>
    public byte? Rqi { get; init; }
    public byte? PagingPolicyIndicator { get; init; }
    public uint? AveragingWindow { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    private static readonly RecentDecodes<CreateQer> Recent = new(64);

    /// <summary>
    /// A Create QER as an SMF repeats it from session to session (the same template per DNN and
    /// profile): identical octets decode to one shared instance (<see cref="RecentDecodes{T}"/>).
    /// </summary>
    public static readonly IeDecoder<CreateQer> DecodeShared = ie => Recent.Get(ie.Value.Span, ie, static ie => Decode(ie)); // a static lambda: one delegate, not one per call

    public static CreateQer Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new CreateQer(s.Mandatory(IeType.QerId, IeDecoders.U32), s.Mandatory(IeType.GateStatus, IeDecoders.GateStatus))
        {
            QerCorrelationId = s.OptionalValue(IeType.QerCorrelationId, IeDecoders.U32),
            Mbr = s.Optional(IeType.Mbr, IeDecoders.BitRate),
            Gbr = s.Optional(IeType.Gbr, IeDecoders.BitRate),
            Qfi = s.OptionalValue(IeType.Qfi, IeDecoders.Qfi),
            Rqi = s.OptionalValue(IeType.Rqi, IeDecoders.U8),
            PagingPolicyIndicator = s.OptionalValue(IeType.PagingPolicyIndicator, IeDecoders.U8),
            AveragingWindow = s.OptionalValue(IeType.AveragingWindow, IeDecoders.U32),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.QerId, QerId);
        w.OptU32(IeType.QerCorrelationId, QerCorrelationId);
        w.Ie(IeType.GateStatus, GateStatus);
        w.Opt(IeType.Mbr, Mbr);
        w.Opt(IeType.Gbr, Gbr);
        w.OptU8(IeType.Qfi, Qfi);
        w.OptU8(IeType.Rqi, Rqi);
        w.OptU8(IeType.PagingPolicyIndicator, PagingPolicyIndicator);
        w.OptU32(IeType.AveragingWindow, AveragingWindow);
        w.Verbatim(Other);
    }
}

/// <summary>Update QER (Table 7.5.4.5-1): the QER ID and whatever changes.</summary>
public sealed record UpdateQer(uint QerId) : IIeValue
{
    public uint? QerCorrelationId { get; init; }
    public GateStatus? GateStatus { get; init; }
    public BitRate? Mbr { get; init; }
    public BitRate? Gbr { get; init; }
    public byte? Qfi { get; init; }
    public byte? Rqi { get; init; }
    public byte? PagingPolicyIndicator { get; init; }
    public uint? AveragingWindow { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static UpdateQer Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UpdateQer(s.Mandatory(IeType.QerId, IeDecoders.U32))
        {
            QerCorrelationId = s.OptionalValue(IeType.QerCorrelationId, IeDecoders.U32),
            GateStatus = s.Optional(IeType.GateStatus, IeDecoders.GateStatus),
            Mbr = s.Optional(IeType.Mbr, IeDecoders.BitRate),
            Gbr = s.Optional(IeType.Gbr, IeDecoders.BitRate),
            Qfi = s.OptionalValue(IeType.Qfi, IeDecoders.Qfi),
            Rqi = s.OptionalValue(IeType.Rqi, IeDecoders.U8),
            PagingPolicyIndicator = s.OptionalValue(IeType.PagingPolicyIndicator, IeDecoders.U8),
            AveragingWindow = s.OptionalValue(IeType.AveragingWindow, IeDecoders.U32),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU32(IeType.QerId, QerId);
        w.OptU32(IeType.QerCorrelationId, QerCorrelationId);
        w.Opt(IeType.GateStatus, GateStatus);
        w.Opt(IeType.Mbr, Mbr);
        w.Opt(IeType.Gbr, Gbr);
        w.OptU8(IeType.Qfi, Qfi);
        w.OptU8(IeType.Rqi, Rqi);
        w.OptU8(IeType.PagingPolicyIndicator, PagingPolicyIndicator);
        w.OptU32(IeType.AveragingWindow, AveragingWindow);
        w.Verbatim(Other);
    }
}
