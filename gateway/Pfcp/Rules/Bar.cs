using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Wire;

namespace LoxiLb.Edge5G.Pfcp.Rules;

/// <summary>Create BAR (Table 7.5.2.6-1): downlink buffering behaviour.</summary>
public sealed record CreateBar(byte BarId) : IIeValue
{
    /// <summary>Delay before notifying the CP function, in units of 50 ms.</summary>
    public byte? DownlinkDataNotificationDelay { get; init; }
    public byte? SuggestedBufferingPacketsCount { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static CreateBar Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new CreateBar(s.Mandatory(IeType.BarId, IeDecoders.U8))
        {
            DownlinkDataNotificationDelay = s.OptionalValue(IeType.DownlinkDataNotificationDelay, IeDecoders.U8),
            SuggestedBufferingPacketsCount = s.OptionalValue(IeType.SuggestedBufferingPacketsCount, IeDecoders.U8),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU8(IeType.BarId, BarId);
        w.OptU8(IeType.DownlinkDataNotificationDelay, DownlinkDataNotificationDelay);
        w.OptU8(IeType.SuggestedBufferingPacketsCount, SuggestedBufferingPacketsCount);
        w.Verbatim(Other);
    }
}

/// <summary>
/// Update BAR, in a Session Modification Request (IE type 86, Table 7.5.4.11-1) or a Session
/// Report Response (IE type 12, Table 7.5.9.2-1, which adds DL Buffering Duration).
/// </summary>
public sealed record UpdateBar(byte BarId) : IIeValue
{
    public byte? DownlinkDataNotificationDelay { get; init; }
    public byte? SuggestedBufferingPacketsCount { get; init; }
    public TimerValue? DlBufferingDuration { get; init; }
    public ValueList<PfcpIe> Other { get; init; } = [];

    public static UpdateBar Decode(PfcpIe ie)
    {
        var s = IeSet.Of(ie);
        return new UpdateBar(s.Mandatory(IeType.BarId, IeDecoders.U8))
        {
            DownlinkDataNotificationDelay = s.OptionalValue(IeType.DownlinkDataNotificationDelay, IeDecoders.U8),
            SuggestedBufferingPacketsCount = s.OptionalValue(IeType.SuggestedBufferingPacketsCount, IeDecoders.U8),
            DlBufferingDuration = s.Optional(IeType.DlBufferingDuration, IeDecoders.Timer),
            Other = s.Rest(),
        };
    }

    public void WriteValue(PfcpWriter w)
    {
        w.IeU8(IeType.BarId, BarId);
        w.OptU8(IeType.DownlinkDataNotificationDelay, DownlinkDataNotificationDelay);
        w.OptU8(IeType.SuggestedBufferingPacketsCount, SuggestedBufferingPacketsCount);
        w.Opt(IeType.DlBufferingDuration, DlBufferingDuration);
        w.Verbatim(Other);
    }
}
