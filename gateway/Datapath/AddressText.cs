using System.Net;

namespace LoxiLb.Edge5G.Datapath;

/// <summary>
/// Address parsing for operator input: IPAddress.TryParse also takes legacy forms ("1.2.3"
/// is 1.2.0.3, "10" is 0.0.0.10) that are almost always typos in a configuration or an API
/// call; here IPv4 must be a dotted quad and IPv6 contain a colon.
/// </summary>
public static class AddressText
{
    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        if (!text.Contains(':') && text.Split('.').Length != 4)
            return false;
        if (!IPAddress.TryParse(text, out var parsed))
            return false;
        address = parsed;
        return true;
    }
}
